/**
 * Structure-aware collateral mutators: QuoteCollateralV3 fields removed or of the wrong type, the
 * signed TCB info / QE identity JSON edited at a random path (and, for the simulated collateral,
 * re-signed with the TCB signing key so the JSON decoder and TCB evaluation see the edit), DER CRLs
 * with flipped / truncated / extended bytes, and PEM issuer chains edited as text.
 */
import fc from 'fast-check'
import {COLLATERAL_FIELDS, type QuoteCollateralV3} from '../../../src/abi/collateral.js'
import {signP256} from '../../../src/x509/ecdsa.js'

export const JSON_FIELDS = ['tcb_info', 'qe_identity'] as const
export const CRL_FIELDS = ['root_ca_crl', 'pck_crl'] as const
export const CHAIN_FIELDS = ['pck_crl_issuer_chain', 'tcb_info_issuer_chain', 'qe_identity_issuer_chain'] as const

/** A JSON edit at the path chosen by `pick` (an index into the list of paths of the document). */
export type JsonEdit =
  | {op: 'delete'; pick: number}
  | {op: 'set'; pick: number; value: unknown}
  | {op: 'dup_array'; pick: number; times: number}
  | {op: 'deep'; pick: number; depth: number}

export type CollateralMutation =
  | {kind: 'json'; field: (typeof JSON_FIELDS)[number]; edits: JsonEdit[]; resign: boolean}
  | {kind: 'json_text'; field: (typeof JSON_FIELDS)[number]; at: number; text: string; resign: boolean}
  | {kind: 'crl_flip'; field: (typeof CRL_FIELDS)[number]; at: number; xor: number}
  | {kind: 'crl_cut'; field: (typeof CRL_FIELDS)[number]; keep: number; extra: string}
  | {kind: 'chain'; field: (typeof CHAIN_FIELDS)[number]; at: number; text: string; del: number}
  | {kind: 'field_type'; field: (typeof COLLATERAL_FIELDS)[number]; value: unknown}
  | {kind: 'drop_field'; field: (typeof COLLATERAL_FIELDS)[number]}
  | {kind: 'signature'; field: 'tcb_info_signature' | 'qe_identity_signature'; value: string}
  | {kind: 'swap'; a: (typeof COLLATERAL_FIELDS)[number]; b: (typeof COLLATERAL_FIELDS)[number]}

const INTERESTING_JSON: unknown[] = [null, true, false, 0, -1, 1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, '', 'x', 'UpToDate', 'Revoked', 'OutOfDate', 'TDX', 'SGX', 'TD_QE', 'QE', '2099-01-01T00:00:00Z', '1970-01-01T00:00:00Z', 'not-a-date', 'ff', '00'.repeat(48), [], {}, [{}], [{svn: 1}], {svn: -1}, '__proto__', 'constructor']

const arbJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  {weight: 3, arbitrary: fc.constantFrom(...INTERESTING_JSON)},
  {weight: 1, arbitrary: fc.jsonValue({maxDepth: 3})},
  {weight: 1, arbitrary: fc.array(fc.record({svn: fc.oneof(fc.nat({max: 300}), fc.constant(-1))}), {minLength: 0, maxLength: 20})},
)
export const arbJsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  fc.record({op: fc.constant('delete' as const), pick: fc.nat()}),
  {weight: 3, arbitrary: fc.record({op: fc.constant('set' as const), pick: fc.nat(), value: arbJsonValue})},
  fc.record({op: fc.constant('dup_array' as const), pick: fc.nat(), times: fc.integer({min: 2, max: 300})}),
  fc.record({op: fc.constant('deep' as const), pick: fc.nat(), depth: fc.integer({min: 10, max: 20000})}),
)
const arbText = fc.oneof(fc.string({maxLength: 8}), fc.constantFrom('"', '{', '}', '[', ']', ',', '\\u0000', '\u0000', '\uffff', '-----BEGIN CERTIFICATE-----', '\n'))
const arbHexish = fc.oneof(fc.constantFrom('', '0', 'zz', '00'.repeat(64), 'ff'.repeat(64), '00'.repeat(63), '00'.repeat(65)), fc.string({maxLength: 140}))

const arbCollateralMutation: fc.Arbitrary<CollateralMutation> = fc.oneof(
  {weight: 5, arbitrary: fc.record({kind: fc.constant('json' as const), field: fc.constantFrom(...JSON_FIELDS), edits: fc.array(arbJsonEdit, {minLength: 1, maxLength: 3}), resign: fc.boolean()})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('json_text' as const), field: fc.constantFrom(...JSON_FIELDS), at: fc.nat(), text: arbText, resign: fc.boolean()})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('crl_flip' as const), field: fc.constantFrom(...CRL_FIELDS), at: fc.nat(), xor: fc.integer({min: 1, max: 255})})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('crl_cut' as const), field: fc.constantFrom(...CRL_FIELDS), keep: fc.nat(), extra: fc.constantFrom('', '00', 'ff', '3000', '30820000', 'zz', '0')})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('chain' as const), field: fc.constantFrom(...CHAIN_FIELDS), at: fc.nat(), text: arbText, del: fc.nat({max: 80})})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('field_type' as const), field: fc.constantFrom(...COLLATERAL_FIELDS), value: fc.constantFrom<unknown>(null, 1, true, [], {}, '', 'x')})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('drop_field' as const), field: fc.constantFrom(...COLLATERAL_FIELDS)})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('signature' as const), field: fc.constantFrom('tcb_info_signature' as const, 'qe_identity_signature' as const), value: arbHexish})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('swap' as const), a: fc.constantFrom(...COLLATERAL_FIELDS), b: fc.constantFrom(...COLLATERAL_FIELDS)})},
)
export const arbCollateralMutations = fc.array(arbCollateralMutation, {minLength: 1, maxLength: 2})

type Json = unknown
const DEEP_MARK = '__fuzz_deep_'
/** Expanded nesting is bounded in total (≈ 8 MB of brackets per document): the point is depth, not size. */
const DEEP_TOTAL_BRACKETS = 4_000_000
const expandDeep = (text: string) => {
  const re = new RegExp(`"${DEEP_MARK}(\\d+)__"`, 'g')
  const marks = text.match(re)?.length ?? 0
  const cap = marks ? Math.floor(DEEP_TOTAL_BRACKETS / marks) : 0
  return text.replace(re, (_m, n: string) => {
    const d = Math.min(Number(n), cap)
    return '['.repeat(d) + '1' + ']'.repeat(d)
  })
}
/** Every path (array of keys) in a JSON document, root first. */
function paths(v: Json, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(at)
  if (at.length > 48 || out.length > 20000) return out // deep / huge documents (from earlier edits): enough paths
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out))
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out)
  return out
}

function editJson(doc: Json, e: JsonEdit): Json {
  const all = paths(doc)
  const path = all[e.pick % all.length]
  // Deep nesting is spliced in as text after serialising (JSON.stringify itself would overflow).
  const deep = (depth: number): Json => `${DEEP_MARK}${depth}__`
  const replace = (v: Json): Json => {
    switch (e.op) {
      case 'set':
        // A copy: fc.constantFrom hands out the same objects on every sample, and later edits in this
        // list change what was inserted, so inserting the shared value made inputs grow from one
        // sample to the next (a 300k-input campaign ran out of memory, and runs were not reproducible).
        return structuredClone(e.value)
      case 'dup_array':
        // Bounded: the point is many entries, not a mutator that exhausts memory.
        if (JSON.stringify(v ?? null).length * e.times > 4_000_000) return v
        return Array.isArray(v) ? Array.from({length: e.times}, (_x, i) => v[i % Math.max(1, v.length)]) : Array.from({length: e.times}, () => v)
      case 'deep':
        return deep(e.depth)
      case 'delete':
        return undefined
    }
  }
  if (path.length === 0) return e.op === 'delete' ? {} : replace(doc)
  const parent = path.slice(0, -1).reduce<Json>((o, k) => (o as Record<string | number, Json>)[k], doc) as Record<string | number, Json> | Json[]
  const key = path[path.length - 1]
  const nv = replace((parent as Record<string | number, Json>)[key])
  if (nv === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1)
    else delete (parent as Record<string | number, Json>)[key]
  } else (parent as Record<string | number, Json>)[key] = nv
  return doc
}

interface CollateralKeys {
  /** TCB signing private key (simulated collateral): re-sign edited TCB info / QE identity. */
  tcbSigningPriv?: Buffer
}

function applyCollateralMutation(c: QuoteCollateralV3, m: CollateralMutation, keys: CollateralKeys = {}): QuoteCollateralV3 {
  const out = {...c} as Record<string, unknown>
  // A previous mutation may have replaced the field with a non-string: nothing to edit then.
  if ('field' in m && (m.kind === 'json' || m.kind === 'json_text' || m.kind === 'crl_flip' || m.kind === 'crl_cut' || m.kind === 'chain') && typeof out[m.field] !== 'string') return c
  const resign = (field: 'tcb_info' | 'qe_identity') => {
    if (keys.tcbSigningPriv && typeof out[field] === 'string') out[`${field}_signature`] = signP256(Buffer.from(out[field] as string, 'utf8'), keys.tcbSigningPriv).toString('hex')
  }
  switch (m.kind) {
    case 'json': {
      try {
        let doc: Json = JSON.parse(c[m.field])
        for (const e of m.edits) doc = editJson(doc, e)
        out[m.field] = expandDeep(JSON.stringify(doc) ?? '')
      } catch {
        return c // not JSON after an earlier edit, or nested too deep for the mutator's own recursion
      }
      if (m.resign) resign(m.field)
      break
    }
    case 'json_text': {
      const s = c[m.field]
      const at = m.at % (s.length + 1)
      out[m.field] = s.slice(0, at) + m.text + s.slice(at + (m.at % 3))
      if (m.resign) resign(m.field)
      break
    }
    case 'crl_flip': {
      const der = Buffer.from(c[m.field], 'hex')
      if (der.length) der[m.at % der.length] ^= m.xor
      out[m.field] = der.toString('hex')
      break
    }
    case 'crl_cut': {
      const h = c[m.field]
      out[m.field] = h.slice(0, 2 * (m.keep % (h.length / 2 + 1))) + m.extra
      break
    }
    case 'chain': {
      const s = c[m.field]
      const at = m.at % (s.length + 1)
      out[m.field] = s.slice(0, at) + m.text + s.slice(at + m.del)
      break
    }
    case 'field_type':
      out[m.field] = m.value
      break
    case 'drop_field':
      delete out[m.field]
      break
    case 'signature':
      out[m.field] = m.value
      break
    case 'swap': {
      const a = out[m.a]
      out[m.a] = out[m.b]
      out[m.b] = a
      break
    }
  }
  return out as unknown as QuoteCollateralV3
}

export function applyCollateralMutations(c: QuoteCollateralV3, ms: CollateralMutation[], keys: CollateralKeys = {}): QuoteCollateralV3 {
  return ms.reduce((x, m) => applyCollateralMutation(x, m, keys), c)
}

/** JSON edits applied to a JSON text (policy files); the text is returned unchanged if it is not JSON. */
export function editJsonText(text: string, edits: JsonEdit[]): string {
  try {
    let doc: Json = JSON.parse(text)
    for (const e of edits) doc = editJson(doc, e)
    return expandDeep(JSON.stringify(doc, null, 2) ?? '')
  } catch {
    return text
  }
}
