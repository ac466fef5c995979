/**
 * CBOR generators and a structure-aware CBOR tree mutator. Values are built with the device layer's
 * own cbor-x configuration (integer-keyed Maps, untagged byte strings), so generated documents
 * look like CoRIM / COSE / evidence bundles and reach deep into their decoders. Byte strings that
 * themselves hold CBOR (CoMIDs inside a CoRIM, the COSE payload and protected header) are mutated
 * recursively.
 */
import fc from 'fast-check'
import {cbor, Tag} from '../../../src/device/cbor.js'
import {treeSlots} from './slots.js'

/** Tags the decoders care about, plus a few they do not. */
const INTERESTING_TAGS = [1, 18, 32, 37, 111, 500, 501, 502, 505, 506, 550, 552, 553, 554, 555, 557, 559, 560, 571, 24, 0, 65535]

const key = fc.oneof(fc.integer({min: -3, max: 12}), fc.constantFrom('format', 'version', 'device', 'pci', 'bars', 'nonce', 'objects', 'tsm', 'digests', 'hash_alg', 'tdi_state', 'size', 'index', 'id'), fc.string({maxLength: 6}))

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({min: -1000, max: 1000}),
  fc.constantFrom(0, 1, 7, 8, 9, 10, 23, 24, 255, 256, 65535, 0xffffffff, -1, -35, -7, Number.MAX_SAFE_INTEGER),
  fc.bigInt({min: -(1n << 64n), max: (1n << 64n) - 1n}),
  fc.uint8Array({maxLength: 64}).map((u) => Buffer.from(u)),
  fc.string({maxLength: 24}),
  fc.constantFrom('tdxkit-device-evidence', 'sha384', 'sha256', 'sha999', 'application/rim+cbor', ''),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.double(),
)

/** A random CBOR value of bounded depth (maps with Map keys, arrays, tags). */
export const cborValue: fc.Arbitrary<unknown> = fc.letrec<{v: unknown}>((tie) => ({
  v: fc.oneof(
    {depthSize: 'small', withCrossShrink: true},
    {weight: 4, arbitrary: leaf},
    {weight: 1, arbitrary: fc.array(tie('v'), {maxLength: 5})},
    {weight: 1, arbitrary: fc.array(fc.tuple(key, tie('v')), {maxLength: 5}).map((es) => new Map(es))},
    {weight: 1, arbitrary: fc.tuple(fc.constantFrom(...INTERESTING_TAGS), tie('v')).map(([t, v]) => new Tag(v, t))},
  ),
})).v

export const encodeCbor = (v: unknown): Buffer => Buffer.from(cbor.encode(v))

/** Tree mutation actions. `at` picks a node (modulo the node count); `value` is the replacement. */
type TreeAction =
  | {k: 'replace'; at: number; value: unknown}
  | {k: 'delete'; at: number}
  | {k: 'wrapTag'; at: number; tag: number}
  | {k: 'wrapArray'; at: number}
  | {k: 'retype'; at: number}
  | {k: 'inner'; at: number; actions: TreeAction[]}

const treeAction: fc.Arbitrary<TreeAction> = fc.letrec<{a: TreeAction}>((tie) => ({
  a: fc.oneof(
    {depthSize: 'small'},
    {weight: 5, arbitrary: fc.record({k: fc.constant('replace' as const), at: fc.nat(), value: cborValue})},
    {weight: 2, arbitrary: fc.record({k: fc.constant('delete' as const), at: fc.nat()})},
    {weight: 1, arbitrary: fc.record({k: fc.constant('wrapTag' as const), at: fc.nat(), tag: fc.constantFrom(...INTERESTING_TAGS)})},
    {weight: 1, arbitrary: fc.record({k: fc.constant('wrapArray' as const), at: fc.nat()})},
    {weight: 2, arbitrary: fc.record({k: fc.constant('retype' as const), at: fc.nat()})},
    {weight: 3, arbitrary: fc.record({k: fc.constant('inner' as const), at: fc.nat(), actions: fc.array(tie('a'), {minLength: 1, maxLength: 3})})},
  ),
})).a

function tryDecode(b: Uint8Array): {ok: true; v: unknown} | {ok: false} {
  try {
    return {ok: true, v: cbor.decode(b)}
  } catch {
    return {ok: false}
  }
}

function retype(v: unknown): unknown {
  if (typeof v === 'number') return String(v)
  if (typeof v === 'string') return Buffer.from(v)
  if (v instanceof Uint8Array) return v.length
  if (Array.isArray(v)) return new Map(v.map((x, i) => [i, x]))
  if (v instanceof Map) return [...v.values()]
  if (typeof v === 'bigint') return Number(v)
  return 0
}

/** Apply actions to a decoded tree in place (the root may be replaced: the new root is returned). */
function mutateTree(root: unknown, actions: readonly TreeAction[]): unknown {
  let r = root
  for (const a of actions) {
    const all = treeSlots(r, (v): v is Tag => v instanceof Tag)
    if (all.length === 0) {
      if (a.k === 'replace') r = a.value
      continue
    }
    const s = all[a.at % all.length]
    switch (a.k) {
      case 'replace':
        s.set(a.value)
        break
      case 'delete':
        s.del()
        break
      case 'wrapTag':
        s.set(new Tag(s.get(), a.tag))
        break
      case 'wrapArray':
        s.set([s.get()])
        break
      case 'retype':
        s.set(retype(s.get()))
        break
      case 'inner': {
        const cur = s.get()
        if (cur instanceof Uint8Array) {
          const d = tryDecode(cur)
          if (d.ok) s.set(encodeCbor(mutateTree(d.v, a.actions)))
        }
        break
      }
    }
  }
  return r
}

/** A tree mutant of one seed document (re-encoded), or the seed re-encoded unchanged. */
export function cborTreeMutant(corpus: readonly Uint8Array[]): fc.Arbitrary<Buffer> {
  return fc.record({i: fc.nat(corpus.length - 1), actions: fc.array(treeAction, {minLength: 1, maxLength: 4})}).map(({i, actions}) => {
    const d = tryDecode(corpus[i])
    if (!d.ok) return Buffer.from(corpus[i])
    return encodeCbor(mutateTree(d.v, actions))
  })
}

/** Hand-built deeply nested CBOR (no recursion in the builder): arrays, maps, tags or indefinite arrays. */
export function deepCbor(depth: number, kind: 'array' | 'map' | 'tag' | 'indef'): Buffer {
  const head = {array: [0x81], map: [0xa1, 0x00], tag: [0xd8, 0x12], indef: [0x9f]}[kind]
  const out = Buffer.alloc(head.length * depth + 1 + (kind === 'indef' ? depth : 0))
  let o = 0
  for (let i = 0; i < depth; i++) for (const h of head) out[o++] = h
  out[o++] = 0x00
  if (kind === 'indef') for (let i = 0; i < depth; i++) out[o++] = 0xff
  return out
}
