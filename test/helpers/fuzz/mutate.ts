/**
 * Byte-level mutators as fast-check arbitraries. A mutant is a seed (picked from a corpus) plus a
 * short list of edits; positions are drawn as plain naturals and reduced modulo the current length
 * when applied, so any edit list applies to any seed. The edits are the ones that break binary
 * parsers: bit flips, "interesting" integers written over length/offset fields (both endiannesses,
 * 1/2/4/8 bytes, including values derived from the buffer's own length), insertions, deletions,
 * duplications, truncation, and splices from another seed of the same corpus.
 */
import fc from 'fast-check'

type Edit =
  | {k: 'flip'; pos: number; bit: number}
  | {k: 'set'; pos: number; width: 1 | 2 | 4 | 8; be: boolean; value: Interesting}
  | {k: 'insert'; pos: number; bytes: Uint8Array}
  | {k: 'delete'; pos: number; len: number}
  | {k: 'dup'; pos: number; len: number; to: number}
  | {k: 'truncate'; pos: number}
  | {k: 'overwrite'; pos: number; bytes: Uint8Array}
  | {k: 'splice'; other: number; from: number; len: number; pos: number}

/** Either a fixed value or one computed from the buffer length at the write position. */
type Interesting = {fixed: bigint} | {rel: 'len' | 'len+1' | 'len-1' | 'rest' | 'rest+1' | 'rest-1'}

const FIXED = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn, 1024n, 4096n]

const interesting: fc.Arbitrary<Interesting> = fc.oneof(
  {weight: 3, arbitrary: fc.constantFrom(...FIXED).map((v) => ({fixed: v}))},
  {weight: 2, arbitrary: fc.constantFrom('len', 'len+1', 'len-1', 'rest', 'rest+1', 'rest-1' as const).map((rel) => ({rel}))},
  {weight: 1, arbitrary: fc.bigInt({min: 0n, max: 0xffffffffffffffffn}).map((v) => ({fixed: v}))},
)

/** Positions biased towards the start, where headers and length fields live. */
const position = fc.oneof({weight: 2, arbitrary: fc.nat(64)}, {weight: 2, arbitrary: fc.nat()})
const smallBytes = fc.uint8Array({minLength: 1, maxLength: 32})

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  {weight: 5, arbitrary: fc.record({k: fc.constant('flip' as const), pos: position, bit: fc.nat(7)})},
  {weight: 5, arbitrary: fc.record({k: fc.constant('set' as const), pos: position, width: fc.constantFrom(1, 2, 4, 8 as const), be: fc.boolean(), value: interesting})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('insert' as const), pos: position, bytes: smallBytes})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('delete' as const), pos: position, len: fc.integer({min: 1, max: 64})})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('dup' as const), pos: position, len: fc.integer({min: 1, max: 64}), to: position})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('truncate' as const), pos: fc.nat()})},
  {weight: 2, arbitrary: fc.record({k: fc.constant('overwrite' as const), pos: position, bytes: smallBytes})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('splice' as const), other: fc.nat(), from: fc.nat(), len: fc.integer({min: 1, max: 256}), pos: position})},
)

function resolve(v: Interesting, len: number, pos: number): bigint {
  if ('fixed' in v) return v.fixed
  const rest = Math.max(0, len - pos)
  const n = {len, 'len+1': len + 1, 'len-1': len - 1, rest, 'rest+1': rest + 1, 'rest-1': rest - 1}[v.rel]
  return BigInt(Math.max(0, n))
}

function writeInt(buf: Buffer, pos: number, width: number, be: boolean, value: bigint): void {
  const v = BigInt.asUintN(width * 8, value)
  for (let i = 0; i < width && pos + i < buf.length; i++) {
    const byte = Number((v >> BigInt(8 * i)) & 0xffn)
    buf[be ? pos + width - 1 - i : pos + i] = byte
  }
}

/** Apply edits to a copy of `seed` (`corpus` feeds splices). Never grows past `maxLen`. */
export function applyEdits(seed: Uint8Array, edits: readonly Edit[], corpus: readonly Uint8Array[] = [], maxLen = 1 << 20): Buffer {
  let b = Buffer.from(seed)
  for (const e of edits) {
    const at = (p: number, extra = 0) => (b.length + extra === 0 ? 0 : p % (b.length + extra))
    switch (e.k) {
      case 'flip':
        if (b.length) b[at(e.pos)] ^= 1 << e.bit
        break
      case 'set':
        if (b.length) {
          const p = at(e.pos)
          writeInt(b, p, e.width, e.be, resolve(e.value, b.length, p))
        }
        break
      case 'insert': {
        const p = at(e.pos, 1)
        b = Buffer.concat([b.subarray(0, p), e.bytes, b.subarray(p)])
        break
      }
      case 'delete': {
        const p = at(e.pos)
        b = Buffer.concat([b.subarray(0, p), b.subarray(p + e.len)])
        break
      }
      case 'dup': {
        if (!b.length) break
        const p = at(e.pos)
        const chunk = Buffer.from(b.subarray(p, p + e.len))
        const to = at(e.to, 1)
        b = Buffer.concat([b.subarray(0, to), chunk, b.subarray(to)])
        break
      }
      case 'truncate':
        b = b.subarray(0, at(e.pos, 1))
        break
      case 'overwrite': {
        if (!b.length) break
        const p = at(e.pos)
        Buffer.from(e.bytes).copy(b, p)
        break
      }
      case 'splice': {
        if (!corpus.length) break
        const o = corpus[e.other % corpus.length]
        if (!o.length) break
        const from = e.from % o.length
        const chunk = Buffer.from(o.subarray(from, from + e.len))
        const p = at(e.pos, 1)
        b = Buffer.concat([b.subarray(0, p), chunk, b.subarray(p + chunk.length)])
        break
      }
    }
    if (b.length > maxLen) b = b.subarray(0, maxLen)
  }
  return Buffer.from(b)
}

/** A mutant of one seed of `corpus`: 1..maxEdits edits (or the seed itself, 1 time in 20). */
export function mutant(corpus: readonly Uint8Array[], maxEdits = 6): fc.Arbitrary<Buffer> {
  if (corpus.length === 0) throw new Error('empty corpus')
  return fc
    .record({i: fc.nat(corpus.length - 1), edits: fc.oneof({weight: 1, arbitrary: fc.constant([] as Edit[])}, {weight: 19, arbitrary: fc.array(edit, {minLength: 1, maxLength: maxEdits})})})
    .map(({i, edits}) => applyEdits(corpus[i], edits, corpus))
}

/** Fully random bytes, for parsers that must cope with garbage too. */
export const garbage = (maxLength = 512): fc.Arbitrary<Buffer> => fc.uint8Array({maxLength}).map((u) => Buffer.from(u))
