/**
 * Appraisal policy: what a relying party accepts beyond authenticity. Defaults are strict (no
 * debug TD, SEPT_VE_DISABLE required, no PERFMON, MR_SERVICETD zero); everything else is opt-in.
 * Policy files are JSON, validated against the schema below with line:column errors (read by
 * src/app/verify-setup.ts).
 */
import {QUOTE_HEADER, TD15_BODY} from '../abi/quote.js'
import {STATUS_RANK, type TcbStatus} from '../abi/tcb-info.js'
import {InputError} from '../errors.js'
import {JsonPosError, parseJsonWithPositions, type JsonLoc} from '../util/json-pos.js'

/** A TD body field's size, from the quote layout (TD15 has every TD10 field plus MR_SERVICETD). */
const tdFieldSize = <F extends keyof typeof TD15_BODY.fields>(f: F): number => TD15_BODY.fields[f].size

/** Measurement fields a policy can pin (TD body field names), with their sizes in bytes. */
export const EXPECTABLE_FIELDS = {
  mrtd: tdFieldSize('mrtd'),
  mrconfigid: tdFieldSize('mrconfigid'),
  mrowner: tdFieldSize('mrowner'),
  mrownerconfig: tdFieldSize('mrownerconfig'),
  mrseam: tdFieldSize('mrseam'),
  rtmr0: tdFieldSize('rtmr0'),
  rtmr1: tdFieldSize('rtmr1'),
  rtmr2: tdFieldSize('rtmr2'),
  rtmr3: tdFieldSize('rtmr3'),
  report_data: tdFieldSize('report_data'),
  xfam: tdFieldSize('xfam'),
  mr_servicetd: tdFieldSize('mr_servicetd'),
  mrsignerseam: tdFieldSize('mrsignerseam'),
  td_attributes: tdFieldSize('td_attributes'),
  /** From the quote header (SGX quotes too). */
  qe_vendor_id: QUOTE_HEADER.fields.qe_vendor_id.size,
} as const
export type ExpectableField = keyof typeof EXPECTABLE_FIELDS

/** Fields an `expected` value may be compared under a mask (`<field>_mask`): only the mask's bits must match. */
export const MASKABLE_FIELDS = ['td_attributes', 'xfam'] as const
export type MaskableField = (typeof MASKABLE_FIELDS)[number]

/** Size of TEE_TCB_SVN (per-component minimum, go-tdx-guest's -minimum_tee_tcb_svn). */
export const TEE_TCB_SVN_SIZE = tdFieldSize('tee_tcb_svn')
/** Largest QE / PCE SVN (a u16 in the quote header). */
export const MAX_SVN = 2 ** (8 * QUOTE_HEADER.fields.qe_svn.size) - 1

export interface Policy {
  allow_debug: boolean
  allow_missing_sept_ve_disable: boolean
  allow_perfmon: boolean
  allow_service_td: boolean
  /** Field → accepted values (lowercase hex); any one must match. */
  expected: Partial<Record<ExpectableField, string[]>>
  /** Worst acceptable TCB status (STATUS_RANK order); undefined = any status the verifier returns. */
  min_tcb_status?: TcbStatus
  /** When set, every advisory ID of the result must be in this list. */
  allowed_advisories?: string[]
  /** Header QE_SVN / PCE_SVN must be at least these (go-tdx-guest -minimum_qe_svn / -minimum_pce_svn). */
  min_qe_svn?: number
  min_pce_svn?: number
  /** TEE_TCB_SVN, lowercase hex: every byte of the quote's must be ≥ the same byte here. */
  min_tee_tcb_svn?: string
  /** Masks (lowercase hex of the field's size) for expected.td_attributes / expected.xfam. */
  masks?: Partial<Record<MaskableField, string>>
}

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  allow_debug: false,
  allow_missing_sept_ve_disable: false,
  allow_perfmon: false,
  allow_service_td: false,
  expected: {},
})

export const POLICY_KEYS = [
  'allow_debug',
  'allow_missing_sept_ve_disable',
  'allow_perfmon',
  'allow_service_td',
  'expected',
  'min_tcb_status',
  'allowed_advisories',
  'min_qe_svn',
  'min_pce_svn',
  'min_tee_tcb_svn',
  'td_attributes_mask',
  'xfam_mask',
  '$schema',
  'comment',
] as const

export function defaultPolicy(): Policy {
  return {...DEFAULT_POLICY, expected: {}}
}

/** Validate one expected value (hex of the field's size) and return it lowercased. */
export function checkExpectedHex(field: ExpectableField, v: string): string | undefined {
  return checkHexOfSize(v, EXPECTABLE_FIELDS[field])
}

/** Hex of exactly `size` bytes (optional 0x), lowercased; undefined if it is not. */
export function checkHexOfSize(v: string, size: number): string | undefined {
  const s = v.replace(/^0x/i, '').toLowerCase()
  return /^[0-9a-f]*$/.test(s) && s.length === size * 2 ? s : undefined
}

/** An SVN given as a number or a string in decimal, 0x hex, 0o octal or 0b binary (go's strconv base 0); undefined if out of range. */
export function parseSvn(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^(0x[0-9a-f]+|0o[0-7]+|0b[01]+|\d+)$/i.test(v.trim()) ? Number(v.trim().toLowerCase()) : NaN
  return Number.isInteger(n) && n >= 0 && n <= MAX_SVN ? n : undefined
}

/** Largest policy file accepted (a policy pins a few dozen values; drafts are about 1 KB). */
export const MAX_POLICY_BYTES = 1 << 20

/** Where a path's value (or its key) is in the policy file. */
type Locate = (path: string, key?: boolean) => JsonLoc

/** The policy file as positioned JSON, bounded in size. */
function readPolicyJson(text: string, file: string): {value: unknown; at: Locate} {
  if (text.length > MAX_POLICY_BYTES) throw new InputError('POLICY_TOO_LARGE', `${file}: ${text.length} bytes, more than the ${MAX_POLICY_BYTES} a policy may have`)
  let doc: ReturnType<typeof parseJsonWithPositions>
  try {
    doc = parseJsonWithPositions(text)
  } catch (e) {
    if (e instanceof JsonPosError) throw policyError(file, e.loc, `invalid JSON: ${e.message}`)
    throw e
  }
  return {value: doc.value, at: (path, key = false) => (key ? doc.keyAt.get(path) : doc.valueAt.get(path)) ?? {line: 1, column: 1}}
}

/** "expected": field → hex value or list of hex values, each of the field's size. */
function parseExpected(val: unknown, path: string, p: Policy, file: string, at: Locate): void {
  if (!val || typeof val !== 'object' || Array.isArray(val)) throw policyError(file, at(path), '"expected" must be an object of field → hex (or array of hex)')
  for (const [f, fv] of Object.entries(val as Record<string, unknown>)) {
    const fp = `${path}/${f}`
    if (!Object.hasOwn(EXPECTABLE_FIELDS, f)) throw policyError(file, at(fp, true), `unknown field "${f}" in "expected" (known: ${Object.keys(EXPECTABLE_FIELDS).join(', ')})`)
    const field = f as ExpectableField
    const list = Array.isArray(fv) ? fv : [fv]
    if (list.length === 0) throw policyError(file, at(fp), `"${f}" must list at least one value`)
    p.expected[field] = list.map((x, i) => {
      const xp = Array.isArray(fv) ? `${fp}/${i}` : fp
      const ok = typeof x === 'string' ? checkExpectedHex(field, x) : undefined
      if (!ok) throw policyError(file, at(xp), `"${f}" must be ${EXPECTABLE_FIELDS[field]} bytes of hex (${EXPECTABLE_FIELDS[field] * 2} digits)`)
      return ok
    })
  }
}

/** Parse and validate a policy document; errors name `file:line:column`. */
export function parsePolicy(text: string, file = 'policy'): Policy {
  const {value: v, at} = readPolicyJson(text, file)
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw policyError(file, at(''), 'policy must be a JSON object')
  const o = v as Record<string, unknown>
  const p = defaultPolicy()
  for (const [k, val] of Object.entries(o)) {
    const path = `/${k}`
    switch (k) {
      case 'allow_debug':
      case 'allow_missing_sept_ve_disable':
      case 'allow_perfmon':
      case 'allow_service_td':
        if (typeof val !== 'boolean') throw policyError(file, at(path), `"${k}" must be true or false`)
        p[k] = val
        break
      case 'min_tcb_status':
        if (!STATUS_RANK.includes(val as TcbStatus)) throw policyError(file, at(path), `"min_tcb_status" must be one of ${STATUS_RANK.join(', ')}`)
        p.min_tcb_status = val as TcbStatus
        break
      case 'allowed_advisories':
        if (!Array.isArray(val)) throw policyError(file, at(path), '"allowed_advisories" must be an array of strings')
        val.forEach((a, i) => {
          if (typeof a !== 'string' || !/^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$/.test(a)) throw policyError(file, at(`${path}/${i}`), 'advisory IDs look like "INTEL-SA-00615"')
        })
        p.allowed_advisories = val as string[]
        break
      case 'expected':
        parseExpected(val, path, p, file, at)
        break
      case 'min_qe_svn':
      case 'min_pce_svn': {
        const n = parseSvn(val)
        if (n === undefined || typeof val !== 'number') throw policyError(file, at(path), `"${k}" must be an integer 0..${MAX_SVN}`)
        p[k] = n
        break
      }
      case 'min_tee_tcb_svn': {
        const hex = typeof val === 'string' ? checkHexOfSize(val, TEE_TCB_SVN_SIZE) : undefined
        if (!hex) throw policyError(file, at(path), `"min_tee_tcb_svn" must be ${TEE_TCB_SVN_SIZE} bytes of hex (${TEE_TCB_SVN_SIZE * 2} digits)`)
        p.min_tee_tcb_svn = hex
        break
      }
      case 'td_attributes_mask':
      case 'xfam_mask': {
        const field = k === 'xfam_mask' ? 'xfam' : 'td_attributes'
        const hex = typeof val === 'string' ? checkHexOfSize(val, EXPECTABLE_FIELDS[field]) : undefined
        if (!hex) throw policyError(file, at(path), `"${k}" must be ${EXPECTABLE_FIELDS[field]} bytes of hex (${EXPECTABLE_FIELDS[field] * 2} digits)`)
        ;(p.masks ??= {})[field] = hex
        break
      }
      case '$schema':
      case 'comment':
        break
      default:
        throw policyError(file, at(path, true), `unknown policy key "${k}" (known: ${POLICY_KEYS.filter((x) => !x.startsWith('$')).join(', ')})`)
    }
  }
  return p
}

function policyError(file: string, loc: JsonLoc, msg: string): InputError {
  return new InputError('POLICY_INVALID', `${file}:${loc.line}:${loc.column}: ${msg}`, {detail: {file, line: loc.line, column: loc.column}})
}

/** The JSON form of a policy (what `policy draft` prints and parsePolicy reads back). */
export function policyToJson(p: Policy, comment?: string): Record<string, unknown> {
  return {
    ...(comment ? {comment} : {}),
    allow_debug: p.allow_debug,
    allow_missing_sept_ve_disable: p.allow_missing_sept_ve_disable,
    allow_perfmon: p.allow_perfmon,
    allow_service_td: p.allow_service_td,
    expected: Object.fromEntries(Object.entries(p.expected).map(([k, v]) => [k, v!.length === 1 ? v![0] : v])),
    ...(p.min_tcb_status ? {min_tcb_status: p.min_tcb_status} : {}),
    ...(p.allowed_advisories ? {allowed_advisories: p.allowed_advisories} : {}),
    ...(p.min_qe_svn !== undefined ? {min_qe_svn: p.min_qe_svn} : {}),
    ...(p.min_pce_svn !== undefined ? {min_pce_svn: p.min_pce_svn} : {}),
    ...(p.min_tee_tcb_svn !== undefined ? {min_tee_tcb_svn: p.min_tee_tcb_svn} : {}),
    ...(p.masks?.td_attributes ? {td_attributes_mask: p.masks.td_attributes} : {}),
    ...(p.masks?.xfam ? {xfam_mask: p.masks.xfam} : {}),
  }
}

/** A mask without the value it masks is a mistake, not a no-op. */
export function checkMasks(p: Policy, where: string): void {
  for (const f of MASKABLE_FIELDS) {
    if (p.masks?.[f] && !p.expected[f]) throw new InputError('POLICY_INVALID', `${where}: ${f}_mask given without an expected ${f} value to compare under it`)
  }
}
