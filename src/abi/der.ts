/**
 * DER (X.690) decoding and encoding for certificates, CRLs and the PCK SGX extension.
 *
 * One decoder, two modes, both reading a Buffer in place (a node records its span; its value is
 * read only when asked for):
 * - `decodeCanonicalDer` (certificates, CRLs, basic constraints): the input must be the canonical
 *   DER encoding of what it decodes to: definite, minimal lengths; minimal tag numbers; INTEGERs
 *   without a redundant leading octet. Anything not covered by a signature (a certificate's outer
 *   SEQUENCE, signature algorithm and signature value) then cannot be altered without the change
 *   being caught. This is exactly what "decode with node-forge, re-encode, compare" accepted (the
 *   reader's previous method; test/abi/der.test.ts holds the two side by side), at a fraction of
 *   the cost: no re-encoding, no binary strings.
 * - `decodeDer` (extension values, the SGX extension, Names): BER lengths tolerated (indefinite
 *   on constructed elements, non-minimal), as OpenSSL reads extension values.
 * Both reject truncation, trailing bytes, primitive elements of indefinite length and nesting
 * deeper than DER_MAX_DEPTH. Node-forge's codec did this work first; it cost ~0.15 ms of a 2 ms
 * cold quote verification (decode plus the re-encoding that proved canonical form) and ~7 ms of
 * start-up, and is kept only as the tests' reference.
 */
import {ParseError} from '../errors.js'

/** A decoded or built element: `value` is the content octets (a binary string; BMPString as text) or the children. */
export interface DerNode {
  tagClass: number
  type: number
  constructed: boolean
  composed: boolean
  value: string | DerNode[]
}

/** Tag classes (the top two bits of the identifier octet). */
export const DER_CLASS = {UNIVERSAL: 0x00, CONTEXT: 0x80} as const

/** Universal tag numbers used by X.509, CRLs and the SGX extension (X.680 §8.4). */
export const DER_TAG = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  ENUMERATED: 10,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  PRINTABLE_STRING: 19,
  T61_STRING: 20,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  BMP_STRING: 30,
} as const

/** Nesting limit: X.509 needs about 8 levels; anything far deeper is hostile input. */
const DER_MAX_DEPTH = 32

/** Identifier octet: class bits, the constructed bit, the low-tag-number bits (31: the number follows, base 128). */
const ID_CLASS_MASK = 0xc0
const ID_CONSTRUCTED = 0x20
const ID_TAG_MASK = 0x1f
const HIGH_TAG = 0x1f
/** The identifier octet of a SEQUENCE (universal, constructed): the first byte of every certificate, CRL and signature value. */
export const DER_SEQUENCE = ID_CONSTRUCTED | DER_TAG.SEQUENCE
/** Length octet: the long-form flag and its count of length octets (0: indefinite, BER only). */
const LENGTH_LONG = 0x80
const LENGTH_COUNT_MASK = 0x7f
/** Longest length field read (4 octets: 4 GiB, far beyond any bounded input). */
const MAX_LENGTH_OCTETS = 4
/** Base-128 continuation bit (tag numbers and OID subidentifiers). */
const BASE128_MORE = 0x80
/** Largest tag number read (X.509 uses 0..30). */
const MAX_TAG_NUMBER = 0xffffff
/** Short-form lengths go up to this; longer ones need the long form. */
const SHORT_LENGTH_MAX = 0x7f

/** Bytes that are not a strict DER encoding of what the caller expects (a typed parse error, exit 2). */
export class DerError extends ParseError {
  constructor(message: string) {
    super('DER_MALFORMED', message)
  }
}

/** A decoding failure inside the tree; decodeDer / decodeCanonicalDer name the element it happened in. */
class Malformed extends Error {
  constructor(
    message: string,
    readonly canonical = false,
  ) {
    super(message)
  }
}

/** An element decoded from a buffer: its span of the input, its children, and its value read on demand. */
class DecodedNode implements DerNode {
  constructor(
    readonly bytes: Buffer,
    readonly tagClass: number,
    readonly type: number,
    readonly constructed: boolean,
    /** Offsets of the identifier octet, of the contents, and of the end of the contents (before a BER end-of-contents). */
    readonly start: number,
    readonly contentStart: number,
    readonly contentEnd: number,
    /** The end of the whole element (after a BER end-of-contents marker). */
    readonly end: number,
    readonly children: DerNode[] | undefined,
    /** Decoded in canonical mode: the span is this element's DER encoding. */
    readonly canonical: boolean,
  ) {}
  get composed(): boolean {
    return this.constructed
  }
  get value(): string | DerNode[] {
    if (this.children) return this.children
    if (this.type === DER_TAG.BMP_STRING) return utf16be(this.bytes, this.contentStart, this.contentEnd)
    return this.bytes.toString('latin1', this.contentStart, this.contentEnd)
  }
}

/** UTF-16BE code units as a string (how BMPString values read; the decoder has checked the length is even). */
function utf16be(b: Buffer, start: number, end: number): string {
  let s = ''
  for (let i = start; i + 1 < end; i += 2) s += String.fromCharCode((b[i] << 8) | b[i + 1])
  return s
}

/** INTEGER contents with a redundant first octet (a leading 00 before a clear top bit, or FF before a set one). */
const redundantIntegerOctet = (b: Buffer, s: number, e: number): boolean => e - s > 1 && ((b[s] === 0x00 && (b[s + 1] & 0x80) === 0) || (b[s] === 0xff && (b[s + 1] & 0x80) !== 0))

/** The element at `at`, which must end by `limit`. */
function decodeAt(b: Buffer, at: number, limit: number, depth: number, canonical: boolean): DecodedNode {
  if (depth >= DER_MAX_DEPTH) throw new Malformed(`nesting deeper than ${DER_MAX_DEPTH} levels`)
  if (limit - at < 2) throw new Malformed(`truncated element at offset ${at}`)
  const id = b[at]
  let p = at + 1
  let type = id & ID_TAG_MASK
  if (type === HIGH_TAG) {
    if (canonical && b[p] === BASE128_MORE) throw new Malformed(`non-minimal tag number at offset ${at}`, true)
    type = 0
    for (;;) {
      if (p >= limit) throw new Malformed(`truncated tag at offset ${at}`)
      const x = b[p++]
      type = type * 128 + (x & ~BASE128_MORE)
      if (type > MAX_TAG_NUMBER) throw new Malformed(`tag number too large at offset ${at}`)
      if (!(x & BASE128_MORE)) break
    }
    if (canonical && type < HIGH_TAG) throw new Malformed(`high-tag form for a low tag number at offset ${at}`, true)
  }
  const tagClass = id & ID_CLASS_MASK
  const constructed = (id & ID_CONSTRUCTED) !== 0
  if (p >= limit) throw new Malformed(`truncated length at offset ${at}`)
  let len = b[p++]
  let indefinite = false
  if (len & LENGTH_LONG) {
    const n = len & LENGTH_COUNT_MASK
    if (n === 0) {
      if (canonical) throw new Malformed(`indefinite length at offset ${at}`, true)
      if (!constructed) throw new Malformed(`primitive element of indefinite length at offset ${at}`)
      indefinite = true
    } else {
      if (n > MAX_LENGTH_OCTETS) throw new Malformed(`length field of ${n} octets at offset ${at}`)
      if (limit - p < n) throw new Malformed(`truncated length at offset ${at}`)
      if (canonical && b[p] === 0) throw new Malformed(`non-minimal length at offset ${at}`, true)
      len = 0
      for (let i = 0; i < n; i++) len = len * 256 + b[p++]
      if (canonical && len <= SHORT_LENGTH_MAX) throw new Malformed(`long-form length ${len} at offset ${at}`, true)
    }
  }
  const contentStart = p
  if (indefinite) {
    const children: DerNode[] = []
    for (;;) {
      if (limit - p < 2) throw new Malformed(`no end-of-contents for the element at offset ${at}`)
      if (b[p] === 0 && b[p + 1] === 0) break
      const child = decodeAt(b, p, limit, depth + 1, canonical)
      children.push(child)
      p = child.end
    }
    return new DecodedNode(b, tagClass, type, true, at, contentStart, p, p + 2, children, canonical)
  }
  if (len > limit - p) throw new Malformed(`element at offset ${at} needs ${len} bytes, ${limit - p} left`)
  const end = p + len
  if (constructed) {
    const children: DerNode[] = []
    while (p < end) {
      const child = decodeAt(b, p, end, depth + 1, canonical)
      children.push(child)
      p = child.end
    }
    return new DecodedNode(b, tagClass, type, true, at, contentStart, end, end, children, canonical)
  }
  // By tag number whatever the class, as node-forge read and wrote them (so e.g. an implicit [2] is held to INTEGER's rule).
  if (type === DER_TAG.BMP_STRING && len % 2) throw new Malformed(`BMPString of odd length at offset ${at}`)
  if (canonical && type === DER_TAG.INTEGER && redundantIntegerOctet(b, contentStart, end)) throw new Malformed(`INTEGER with a redundant leading octet at offset ${at}`, true)
  return new DecodedNode(b, tagClass, type, false, at, contentStart, end, end, undefined, canonical)
}

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength))

function decodeWhole(bytes: Uint8Array, what: string, canonical: boolean): DerNode {
  const b = asBuffer(bytes)
  try {
    const node = decodeAt(b, 0, b.length, 0, canonical)
    if (node.end !== b.length) throw new Malformed(`${b.length - node.end} bytes after the element`)
    return node
  } catch (e) {
    if (!(e instanceof Malformed)) throw e
    throw new DerError(e.canonical ? `${what}: not canonical DER (${e.message})` : `${what}: not a single DER element (${e.message})`)
  }
}

/** Decode exactly one element spanning all of `bytes`, BER lengths tolerated (see the header). */
export function decodeDer(bytes: Uint8Array, what: string): DerNode {
  return decodeWhole(bytes, what, false)
}

/** Decode exactly one element spanning all of `bytes`, which must be its canonical DER encoding. */
export function decodeCanonicalDer(bytes: Uint8Array, what: string): DerNode {
  return decodeWhole(bytes, what, true)
}

// ---- encoding ----------------------------------------------------------------------------------

function lengthOctets(n: number): number[] {
  if (n <= SHORT_LENGTH_MAX) return [n]
  const out: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256)
  return [LENGTH_LONG | out.length, ...out]
}

function identifierOctets(node: DerNode): number[] {
  const head = node.tagClass | (node.constructed ? ID_CONSTRUCTED : 0)
  if (node.type < HIGH_TAG) return [head | node.type]
  const out: number[] = []
  for (let v = node.type, last = true; v > 0 || last; v = Math.floor(v / 128), last = false) out.unshift((v % 128) | (last ? 0 : BASE128_MORE))
  return [head | HIGH_TAG, ...out]
}

function contentOf(node: DerNode): Buffer {
  if (Array.isArray(node.value)) return Buffer.concat(node.value.map(encodeDer))
  const v = node.value
  if (node.type === DER_TAG.BMP_STRING) {
    const out = Buffer.alloc(v.length * 2)
    for (let i = 0; i < v.length; i++) out.writeUInt16BE(v.charCodeAt(i), i * 2)
    return out
  }
  const raw = Buffer.from(v, 'latin1')
  // INTEGERs are written minimally (one redundant leading octet dropped), as the encoders expect.
  return node.type === DER_TAG.INTEGER && redundantIntegerOctet(raw, 0, raw.length) ? raw.subarray(1) : raw
}

/**
 * The DER encoding of a tree. An element decoded in canonical mode is its own encoding, returned as
 * a view of the input (no copy: do not write to it).
 */
export function encodeDer(node: DerNode): Buffer {
  if (node instanceof DecodedNode && node.canonical) return node.bytes.subarray(node.start, node.end)
  const content = contentOf(node)
  return Buffer.concat([Buffer.from([...identifierOctets(node), ...lengthOctets(content.length)]), content])
}

/** Whether two elements have the same DER encoding. */
export function derEqual(a: DerNode, b: DerNode): boolean {
  return encodeDer(a).equals(encodeDer(b))
}

// ---- typed accessors: each throws DerError naming `what` -----------------------------------------

export function isUniversal(node: DerNode | undefined, tag: number): node is DerNode {
  return node !== undefined && node.tagClass === DER_CLASS.UNIVERSAL && node.type === tag
}

export function isContext(node: DerNode | undefined, tag: number): node is DerNode {
  return node !== undefined && node.tagClass === DER_CLASS.CONTEXT && node.type === tag && node.constructed
}

/** A UTCTime or GeneralizedTime element. */
export const isTime = (node: DerNode | undefined): node is DerNode => isUniversal(node, DER_TAG.UTC_TIME) || isUniversal(node, DER_TAG.GENERALIZED_TIME)

/** A primitive universal element with tag `tag` as (bytes, start, end) of its content octets. */
interface Content {
  b: Buffer
  s: number
  e: number
}

/** The content octets of a primitive universal element with tag `tag`, in place for decoded elements. */
function content(node: DerNode | undefined, tag: number, what: string): Content {
  if (!isUniversal(node, tag) || node.constructed) throw new DerError(`${what}: expected universal tag ${tag}`)
  if (node instanceof DecodedNode) return {b: node.bytes, s: node.contentStart, e: node.contentEnd}
  if (typeof node.value !== 'string') throw new DerError(`${what}: expected universal tag ${tag}`)
  const b = Buffer.from(node.value, 'latin1')
  return {b, s: 0, e: b.length}
}

/** Throw unless `node` is a primitive universal element with tag `tag`. */
export function derExpect(node: DerNode | undefined, tag: number, what: string): void {
  content(node, tag, what)
}

/** The content octets of a primitive universal element with tag `tag` (a view for decoded elements). */
function primitive(node: DerNode | undefined, tag: number, what: string): Buffer {
  const c = content(node, tag, what)
  return c.b.subarray(c.s, c.e)
}

/** Children of a SEQUENCE (or SET with `tag`), with optional bounds on their number. */
export function derChildren(node: DerNode | undefined, what: string, min = 0, max = Infinity, tag: number = DER_TAG.SEQUENCE): DerNode[] {
  if (!isUniversal(node, tag) || !node.constructed || !Array.isArray(node.value)) throw new DerError(`${what}: expected a ${tag === DER_TAG.SET ? 'SET' : 'SEQUENCE'}`)
  const n = node.value.length
  if (n < min || n > max) throw new DerError(`${what}: ${n} elements, expected ${min === max ? min : `${min}..${max}`}`)
  return node.value
}

/** The single child of an EXPLICIT context tag [n]. */
export function derExplicit(node: DerNode, what: string): DerNode {
  if (!node.constructed || !Array.isArray(node.value) || node.value.length !== 1) throw new DerError(`${what}: malformed explicit tag`)
  return node.value[0]
}

/**
 * OBJECT IDENTIFIER contents in dotted form, read as node-forge's codec read them (the reader's
 * previous decoder, whose output error messages and comparisons were written against): the first
 * octet is 40·X + Y, then base-128 subidentifiers in 32-bit arithmetic, an unterminated last one
 * ignored.
 */
function oidText(b: Buffer, start: number, end: number): string {
  let oid = `${Math.floor(b[start] / 40)}.${b[start] % 40}`
  let v = 0
  for (let i = start + 1; i < end; i++) {
    const x = b[i]
    v = v << 7
    if (x & BASE128_MORE) v += x & ~BASE128_MORE
    else {
      oid += '.' + (v + x)
      v = 0
    }
  }
  return oid
}

export function derOid(node: DerNode | undefined, what: string): string {
  const {b, s, e} = content(node, DER_TAG.OID, what)
  if (e === s) throw new DerError(`${what}: empty OBJECT IDENTIFIER`)
  return oidText(b, s, e)
}

/** OCTET STRING contents (a view of the input for decoded elements; do not write to it). */
export function derOctets(node: DerNode | undefined, what: string, size?: number): Buffer {
  const b = primitive(node, DER_TAG.OCTET_STRING, what)
  if (size !== undefined && b.length !== size) throw new DerError(`${what}: ${b.length} bytes, expected ${size}`)
  return b
}

/** BIT STRING contents with no unused bits. */
export function derBitString(node: DerNode | undefined, what: string): Buffer {
  const v = primitive(node, DER_TAG.BIT_STRING, what)
  if (v.length < 1 || v[0] !== 0) throw new DerError(`${what}: BIT STRING has unused bits`)
  return v.subarray(1)
}

/** INTEGER content octets (two's complement, as encoded). */
export function derIntegerBytes(node: DerNode | undefined, what: string): Buffer {
  const v = primitive(node, DER_TAG.INTEGER, what)
  if (v.length === 0) throw new DerError(`${what}: empty INTEGER`)
  return v
}

/** Lowercase hex of bytes [start, end) without leading zero bytes (at least one byte kept). */
export function hexWithoutLeadingZeros(b: Uint8Array, start = 0, end = b.length): string {
  let i = start
  while (i < end - 1 && b[i] === 0) i++
  return asBuffer(b).toString('hex', i, end)
}

/** A non-empty INTEGER as lowercase hex without leading zero bytes (how serial numbers are compared). */
export function derIntegerHex(node: DerNode | undefined, what: string): string {
  const {b, s, e} = content(node, DER_TAG.INTEGER, what)
  if (e === s) throw new DerError(`${what}: empty INTEGER`)
  return hexWithoutLeadingZeros(b, s, e)
}

/** Content octets of a small non-negative INTEGER / ENUMERATED (6 at most, sign bit clear). */
const SMALL_INT_MAX_OCTETS = 6

/** A small non-negative INTEGER (or ENUMERATED) as a number. */
export function derSmallInt(node: DerNode | undefined, what: string): number {
  const tag = isUniversal(node, DER_TAG.ENUMERATED) ? DER_TAG.ENUMERATED : DER_TAG.INTEGER
  const {b, s, e} = content(node, tag, what)
  if (e === s || e - s > SMALL_INT_MAX_OCTETS || b[s] & 0x80) throw new DerError(`${what}: not a small non-negative INTEGER`)
  let n = 0
  for (let i = s; i < e; i++) n = n * 256 + b[i]
  return n
}

const DER_TRUE = 0xff

/** A DER BOOLEAN: exactly one octet, 0x00 or 0xFF. */
export function derBoolean(node: DerNode | undefined, what: string): boolean {
  const {b, s, e} = content(node, DER_TAG.BOOLEAN, what)
  if (e - s !== 1 || (b[s] !== 0 && b[s] !== DER_TRUE)) throw new DerError(`${what}: not a DER BOOLEAN`)
  return b[s] === DER_TRUE
}

/** A directory string (UTF8String, PrintableString, IA5String, T61String, BMPString) as text. */
export function derString(node: DerNode | undefined, what: string): string {
  if (node && node.tagClass === DER_CLASS.UNIVERSAL && !node.constructed) {
    if (node.type === DER_TAG.UTF8_STRING) {
      const {b, s, e} = content(node, node.type, what)
      return b.toString('utf8', s, e)
    }
    // A BMPString's value is already UTF-16 text; the 8-bit types are single-byte.
    if (node.type === DER_TAG.PRINTABLE_STRING || node.type === DER_TAG.IA5_STRING || node.type === DER_TAG.T61_STRING || node.type === DER_TAG.BMP_STRING) return node.value as string
  }
  throw new DerError(`${what}: not a directory string`)
}

const UTC_TIME_LENGTH = 13
const GENERALIZED_TIME_LENGTH = 15
const DIGIT_0 = 0x30
const LETTER_Z = 0x5a
/** UTCTime two-digit years from this one on are 19xx (RFC 5280 §4.1.2.5.1). */
const UTC_CENTURY_PIVOT = 50

/** `n` decimal digits at `at` as a number, or -1 when one is not a digit. */
function digits(v: Buffer, at: number, n: number): number {
  let x = 0
  for (let i = at; i < at + n; i++) {
    const d = v[i] - DIGIT_0
    if (d < 0 || d > 9) return -1
    x = x * 10 + d
  }
  return x
}

/**
 * UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 requires (YYMMDDHHMMSSZ /
 * YYYYMMDDHHMMSSZ: seconds present, 'Z', no fraction), as milliseconds since the epoch. UTCTime
 * years 50..99 are 19xx.
 */
export function derTime(node: DerNode | undefined, what: string): number {
  const utc = isUniversal(node, DER_TAG.UTC_TIME)
  const {b, s, e} = content(node, utc ? DER_TAG.UTC_TIME : DER_TAG.GENERALIZED_TIME, what)
  const yl = utc ? 2 : 4
  const formOk = e - s === (utc ? UTC_TIME_LENGTH : GENERALIZED_TIME_LENGTH) && b[e - 1] === LETTER_Z
  const y = formOk ? digits(b, s, yl) : -1
  const mo = digits(b, s + yl, 2)
  const d = digits(b, s + yl + 2, 2)
  const h = digits(b, s + yl + 4, 2)
  const mi = digits(b, s + yl + 6, 2)
  const sec = digits(b, s + yl + 8, 2)
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0) throw new DerError(`${what}: time "${b.toString('latin1', s, e)}" is not in RFC 5280 form`)
  const year = utc ? (y >= UTC_CENTURY_PIVOT ? 1900 + y : 2000 + y) : y
  const ms = Date.UTC(year, mo - 1, d, h, mi, sec)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || sec > 59) {
    throw new DerError(`${what}: time "${b.toString('latin1', s, e)}" is not a valid date`)
  }
  return ms
}

/** An element's encoding exactly as received (decoded elements), else its DER encoding. */
export function derBytesOf(node: DerNode): Buffer {
  return node instanceof DecodedNode ? node.bytes.subarray(node.start, node.end) : encodeDer(node)
}

// ---- builders: trees for encodeDer (used to emit DER, e.g. the simulator's PCK extension) -------

const universal = (tag: number, value: string | DerNode[]): DerNode => {
  const constructed = Array.isArray(value)
  return {tagClass: DER_CLASS.UNIVERSAL, type: tag, constructed, composed: constructed, value}
}

/** A SEQUENCE of the given elements. */
export const derSequenceNode = (children: DerNode[]): DerNode => universal(DER_TAG.SEQUENCE, children)

/** The largest OID subidentifier written (32 bits, as node-forge's encoder allowed). */
const OID_ARC_MAX = 0xffffffff

/** OBJECT IDENTIFIER contents of a dotted OID: 40·X + Y, then each arc in base 128. */
function oidContent(oid: string): string {
  const arcs = oid.split('.').map((a) => parseInt(a, 10))
  let out = String.fromCharCode(40 * arcs[0] + arcs[1])
  for (const arc of arcs.slice(2)) {
    if (arc > OID_ARC_MAX) throw new Error('OID value too large; max is 32-bits.')
    let part = ''
    for (let v = arc, last = true; v > 0 || last; v = Math.floor(v / 128), last = false) part = String.fromCharCode((v % 128) | (last ? 0 : BASE128_MORE)) + part
    out += part
  }
  return out
}

/** An OBJECT IDENTIFIER in dotted form. */
export const derOidNode = (oid: string): DerNode => universal(DER_TAG.OID, oidContent(oid))

export const derOctetsNode = (bytes: Uint8Array): DerNode => universal(DER_TAG.OCTET_STRING, asBuffer(bytes).toString('latin1'))

/** A BIT STRING of whole octets (no unused bits: the leading count octet is 0). */
export const derBitStringNode = (bytes: Uint8Array): DerNode => universal(DER_TAG.BIT_STRING, '\x00' + asBuffer(bytes).toString('latin1'))

export const derBooleanNode = (value: boolean): DerNode => universal(DER_TAG.BOOLEAN, value ? '\xff' : '\x00')

/** The largest value derSmallInt reads and derSmallIntNode writes (6 content octets, sign bit clear). */
export const DER_SMALL_INT_MAX = 2 ** 47 - 1

/**
 * A non-negative INTEGER (or, with `tag`, ENUMERATED) in its minimal two's-complement encoding:
 * big-endian, with a leading 0x00 only when the top bit would otherwise be set (the inverse of
 * derSmallInt).
 */
export function derSmallIntNode(n: number, tag: number = DER_TAG.INTEGER): DerNode {
  if (!Number.isInteger(n) || n < 0 || n > DER_SMALL_INT_MAX) throw new RangeError(`derSmallIntNode: ${n} is not in 0..${DER_SMALL_INT_MAX}`)
  let content = ''
  for (let v = n; v > 0; v = Math.floor(v / 256)) content = String.fromCharCode(v % 256) + content
  if (content === '' || content.charCodeAt(0) & 0x80) content = '\x00' + content
  return universal(tag, content)
}
