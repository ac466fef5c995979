/**
 * Strict DER decoding for the verifier's hot path (certificates, CRLs, the PCK SGX extension).
 *
 * The decoder is node-forge's ASN.1 codec (`node-forge/lib/asn1.js`, loaded on its own: the full
 * forge bundle costs ~60 ms to import, the codec ~7 ms). It parses a 2.6 KB Intel PCK CRL in about
 * 40 µs, where asn1js takes ~2 ms and pkijs's schema layer ~7.5 ms more (see docs/guide/verify.md).
 *
 * forge's parser tolerates BER (indefinite and non-minimal lengths, a redundant leading INTEGER
 * byte). `decodeCanonicalDer` therefore re-encodes the tree, which forge always does in DER, and
 * requires the bytes to come back identical: anything not covered by a signature (a certificate's
 * outer SEQUENCE, signature algorithm and signature value) cannot then be altered without the
 * change being caught.
 */
import {createRequire} from 'node:module'
import {ParseError} from '../errors.js'

/** A decoded element: `value` is the raw content octets (a binary string) or the children. */
export interface DerNode {
  tagClass: number
  type: number
  constructed: boolean
  composed: boolean
  value: string | DerNode[]
}

interface ForgeAsn1 {
  fromDer(bytes: string, options: {strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean; maxDepth: number}): DerNode
  toDer(node: DerNode): {getBytes(): string}
  derToOid(bytes: string): string
  oidToDer(oid: string): {getBytes(): string}
}
const forgeAsn1 = createRequire(import.meta.url)('node-forge/lib/asn1.js') as ForgeAsn1

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
export const DER_MAX_DEPTH = 32

/** Bytes that are not a strict DER encoding of what the caller expects (a typed parse error, exit 2). */
export class DerError extends ParseError {
  constructor(message: string) {
    super('DER_MALFORMED', message)
  }
}

const binary = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')

/** Decode exactly one element spanning all of `bytes` (BER tolerated; see decodeCanonicalDer). */
export function decodeDer(bytes: Uint8Array, what: string): DerNode {
  try {
    return forgeAsn1.fromDer(binary(bytes), {strict: true, parseAllBytes: true, decodeBitStrings: false, maxDepth: DER_MAX_DEPTH})
  } catch (e) {
    // forge throws plain Errors; a pathological input may also exhaust the stack (RangeError).
    throw new DerError(`${what}: not a single DER element (${(e as Error).message})`)
  }
}

/** The DER encoding of a decoded tree. */
export function encodeDer(node: DerNode): Buffer {
  return Buffer.from(forgeAsn1.toDer(node).getBytes(), 'latin1')
}

/** Decode and require that the input is the canonical DER encoding of the result. */
export function decodeCanonicalDer(bytes: Uint8Array, what: string): DerNode {
  const node = decodeDer(bytes, what)
  if (!encodeDer(node).equals(bytes)) throw new DerError(`${what}: not canonical DER`)
  return node
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

function primitive(node: DerNode | undefined, tag: number, what: string): string {
  if (!isUniversal(node, tag) || node.constructed || typeof node.value !== 'string') throw new DerError(`${what}: expected universal tag ${tag}`)
  return node.value
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

export function derOid(node: DerNode | undefined, what: string): string {
  const v = primitive(node, DER_TAG.OID, what)
  if (v.length === 0) throw new DerError(`${what}: empty OBJECT IDENTIFIER`)
  return forgeAsn1.derToOid(v)
}

export function derOctets(node: DerNode | undefined, what: string, size?: number): Buffer {
  const b = Buffer.from(primitive(node, DER_TAG.OCTET_STRING, what), 'latin1')
  if (size !== undefined && b.length !== size) throw new DerError(`${what}: ${b.length} bytes, expected ${size}`)
  return b
}

/** BIT STRING contents with no unused bits. */
export function derBitString(node: DerNode | undefined, what: string): Buffer {
  const v = primitive(node, DER_TAG.BIT_STRING, what)
  if (v.length < 1 || v.charCodeAt(0) !== 0) throw new DerError(`${what}: BIT STRING has unused bits`)
  return Buffer.from(v.slice(1), 'latin1')
}

/** INTEGER content octets (two's complement, as encoded). */
export function derIntegerBytes(node: DerNode | undefined, what: string): Buffer {
  const v = primitive(node, DER_TAG.INTEGER, what)
  if (v.length === 0) throw new DerError(`${what}: empty INTEGER`)
  return Buffer.from(v, 'latin1')
}

/** A small non-negative INTEGER (or ENUMERATED) as a number. */
export function derSmallInt(node: DerNode | undefined, what: string): number {
  const tag = isUniversal(node, DER_TAG.ENUMERATED) ? DER_TAG.ENUMERATED : DER_TAG.INTEGER
  const v = primitive(node, tag, what)
  if (v.length === 0 || v.length > 6 || v.charCodeAt(0) & 0x80) throw new DerError(`${what}: not a small non-negative INTEGER`)
  let n = 0
  for (let i = 0; i < v.length; i++) n = n * 256 + v.charCodeAt(i)
  return n
}

/** A DER BOOLEAN: exactly one octet, 0x00 or 0xFF. */
export function derBoolean(node: DerNode | undefined, what: string): boolean {
  const v = primitive(node, DER_TAG.BOOLEAN, what)
  if (v.length !== 1 || (v !== '\x00' && v !== '\xff')) throw new DerError(`${what}: not a DER BOOLEAN`)
  return v === '\xff'
}

/** A directory string (UTF8String, PrintableString, IA5String, T61String, BMPString) as text. */
export function derString(node: DerNode | undefined, what: string): string {
  if (node && node.tagClass === DER_CLASS.UNIVERSAL && typeof node.value === 'string') {
    if (node.type === DER_TAG.UTF8_STRING) return Buffer.from(node.value, 'latin1').toString('utf8')
    // forge decodes BMPString to UTF-16 text; the 8-bit types are single-byte.
    if (node.type === DER_TAG.PRINTABLE_STRING || node.type === DER_TAG.IA5_STRING || node.type === DER_TAG.T61_STRING || node.type === DER_TAG.BMP_STRING) return node.value
  }
  throw new DerError(`${what}: not a directory string`)
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/

/**
 * UTCTime or GeneralizedTime in the forms RFC 5280 §4.1.2.5 requires (seconds present, 'Z', no
 * fraction), as milliseconds since the epoch. UTCTime years 50..99 are 19xx.
 */
export function derTime(node: DerNode | undefined, what: string): number {
  const utc = isUniversal(node, DER_TAG.UTC_TIME)
  const v = primitive(node, utc ? DER_TAG.UTC_TIME : DER_TAG.GENERALIZED_TIME, what)
  const m = (utc ? UTC_TIME : GENERALIZED_TIME).exec(v)
  if (!m) throw new DerError(`${what}: time "${v}" is not in RFC 5280 form`)
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number)
  const year = utc ? (y >= 50 ? 1900 + y : 2000 + y) : y
  const ms = Date.UTC(year, mo - 1, d, h, mi, s)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new DerError(`${what}: time "${v}" is not a valid date`)
  }
  return ms
}

/**
 * Byte span [start, end) of each immediate child of the outermost element of a canonical DER
 * buffer (used to take a certificate's or CRL's to-be-signed bytes as they were received).
 */
export function derChildSpans(der: Uint8Array): Array<[number, number]> {
  const header = (at: number): [number, number] => {
    const first = der[at + 1]
    if (first < 0x80) return [2, first]
    const n = first & 0x7f
    let len = 0
    for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i]
    return [2 + n, len]
  }
  const [h0, len0] = header(0)
  const spans: Array<[number, number]> = []
  for (let at = h0; at < h0 + len0; ) {
    const [h, len] = header(at)
    spans.push([at, at + h + len])
    at += h + len
  }
  return spans
}

// ---- builders: trees for encodeDer (used to emit DER, e.g. the simulator's PCK extension) -------

const universal = (tag: number, value: string | DerNode[]): DerNode => {
  const constructed = Array.isArray(value)
  return {tagClass: DER_CLASS.UNIVERSAL, type: tag, constructed, composed: constructed, value}
}

/** A SEQUENCE of the given elements. */
export const derSequenceNode = (children: DerNode[]): DerNode => universal(DER_TAG.SEQUENCE, children)

/** An OBJECT IDENTIFIER in dotted form. */
export const derOidNode = (oid: string): DerNode => universal(DER_TAG.OID, forgeAsn1.oidToDer(oid).getBytes())

export const derOctetsNode = (bytes: Uint8Array): DerNode => universal(DER_TAG.OCTET_STRING, binary(bytes))

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
