/**
 * The one ECDSA signer: deterministic (RFC 6979) ECDSA over P-256 with SHA-256 and P-384 with
 * SHA-384, at native speed, plus verification and signature-format helpers.
 *
 * @noble/curves' pure-JS scalar multiplication costs 1-3 ms per signature; here the nonce is the
 * RFC 6979 §3.2 HMAC-DRBG value (Node's HMAC with the curve's hash), k·G comes from Node's native
 * EC code (ECDH key derivation computes exactly k·G) and only the final modular arithmetic runs in
 * BigInt. S is normalised to the low half like noble's default, so every signature is byte-identical
 * to noble's `sign(msg, d)` (test/x509/ecdsa.test.ts checks both curves against noble).
 */
import {createECDH, createPublicKey, hash, verify as cryptoVerify, type ECDH, type KeyObject} from 'node:crypto'
import {DER_SEQUENCE, derBitStringNode, derOidNode, derSequenceNode, encodeDer} from '../abi/der.js'
import {OID_CURVE_P256, OID_CURVE_P384, OID_EC_PUBLIC_KEY, OID_ECDSA_SHA256, OID_ECDSA_SHA384} from './oids.js'

export type CurveName = 'P-256' | 'P-384'
type EcdsaHash = 'sha256' | 'sha384'

interface CurveInfo {
  /** Bytes in a scalar or coordinate (qlen = hlen = 8 · size for both curves). */
  size: number
  /** Group order n. */
  order: bigint
  hash: EcdsaHash
  /** OpenSSL's name, for ECDH (k·G). */
  openssl: string
  /** namedCurve OID in a SubjectPublicKeyInfo. */
  oid: string
  /** ecdsa-with-SHAxxx: the certificate signature algorithm of a key on this curve. */
  signatureOid: string
}

/** The curves, with their group orders (SEC 2 / FIPS 186-4 D.1.2). */
export const CURVES: Readonly<Record<CurveName, CurveInfo>> = {
  'P-256': {size: 32, order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, hash: 'sha256', openssl: 'prime256v1', oid: OID_CURVE_P256, signatureOid: OID_ECDSA_SHA256},
  'P-384': {
    size: 48,
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    hash: 'sha384',
    openssl: 'secp384r1',
    oid: OID_CURVE_P384,
    signatureOid: OID_ECDSA_SHA384,
  },
}

/** Order n of the P-256 group. */
export const P256_ORDER = CURVES['P-256'].order
/** An uncompressed SEC1 point: 0x04 ‖ x ‖ y. */
export const EC_POINT_UNCOMPRESSED = 0x04

const toInt = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).toString('hex'))
const toBytes = (v: bigint, size: number): Buffer => Buffer.from(v.toString(16).padStart(size * 2, '0'), 'hex')
const modN = (a: bigint, n: bigint): bigint => {
  const r = a % n
  return r < 0n ? r + n : r
}

/**
 * Bits of the leading part of the remainders that Lehmer's steps work on in doubles: cofactors and
 * their products then stay below 2^50, exact in a double's 53-bit mantissa.
 */
const LEHMER_WINDOW = 48
/** Bits per hex digit (the bit length of a remainder is read, rounded up to a digit, from its hex form). */
const HEX_DIGIT_BITS = 4

/**
 * Modular inverse mod n (n is prime and 0 < a < n): extended Euclid with Lehmer's steps (Handbook
 * of Applied Cryptography, Algorithm 14.57). The quotients are found from the remainders' leading
 * 48 bits in doubles, as long as both bounds agree, and applied to the BigInt remainders and
 * cofactors at once: ~7 µs against ~18 µs for the plain BigInt loop (a quarter of a P-256
 * signature's arithmetic). Invariant: r0 ≡ t0·a and r1 ≡ t1·a (mod n).
 */
function invert(a: bigint, n: bigint): bigint {
  let r0 = n
  let r1 = modN(a, n)
  let t0 = 0n
  let t1 = 1n
  while (r1 !== 0n) {
    const bits = r0.toString(16).length * HEX_DIGIT_BITS
    const shift = BigInt(Math.max(0, bits - LEHMER_WINDOW))
    let x = Number(r0 >> shift)
    let y = Number(r1 >> shift)
    let A = 1
    let B = 0
    let C = 0
    let D = 1
    while (y + C !== 0 && y + D !== 0) {
      const q = Math.floor((x + A) / (y + C))
      if (q !== Math.floor((x + B) / (y + D))) break
      let t = A - q * C
      A = C
      C = t
      t = B - q * D
      B = D
      D = t
      t = x - q * y
      x = y
      y = t
    }
    if (B === 0) {
      // No quotient was certain from the leading bits: one full-precision step.
      const q = r0 / r1
      const r2 = r0 - q * r1
      r0 = r1
      r1 = r2
      const t2 = t0 - q * t1
      t0 = t1
      t1 = t2
    } else {
      const [a1, b1, c1, d1] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)]
      const nr0 = a1 * r0 + b1 * r1
      r1 = c1 * r0 + d1 * r1
      r0 = nr0
      const nt0 = a1 * t0 + b1 * t1
      t1 = c1 * t0 + d1 * t1
      t0 = nt0
    }
  }
  return modN(t0, n)
}

/** Block size of each curve's hash (FIPS 180-4), for HMAC's pads. */
const HASH_BLOCK_SIZE: Readonly<Record<EcdsaHash, number>> = {sha256: 64, sha384: 128}
/** HMAC's inner and outer pad bytes (RFC 2104 §2). */
const HMAC_IPAD = 0x36
const HMAC_OPAD = 0x5c

/**
 * HMAC (RFC 2104) of the concatenated parts with a key no longer than the hash's block, from two
 * one-shot hashes: H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ parts)). The HMAC-DRBG below makes 5-7 of these per
 * signature; a createHmac object each cost ~1.3 µs more (test/x509/ecdsa.test.ts checks every
 * signature against noble's, whose HMAC-DRBG is its own).
 */
function hmacOneShot(alg: EcdsaHash, key: Uint8Array, parts: Uint8Array[]): Buffer {
  const block = HASH_BLOCK_SIZE[alg]
  const ipad = Buffer.alloc(block, HMAC_IPAD)
  const opad = Buffer.alloc(block, HMAC_OPAD)
  for (let i = 0; i < key.length; i++) {
    ipad[i] ^= key[i]
    opad[i] ^= key[i]
  }
  const inner = hash(alg, Buffer.concat([ipad, ...parts]), 'buffer')
  return hash(alg, Buffer.concat([opad, inner]), 'buffer')
}

/** RFC 6979 §3.2 nonce candidates for private key x and message hash h1 (qlen = hlen). */
function* rfc6979Nonces(c: CurveInfo, x: Buffer, h1: Buffer): Generator<bigint> {
  const hmac = (key: Buffer, ...parts: Uint8Array[]): Buffer => hmacOneShot(c.hash, key, parts)
  const h = toBytes(modN(toInt(h1), c.order), c.size)
  let v: Buffer = Buffer.alloc(c.size, 0x01)
  let k: Buffer = Buffer.alloc(c.size, 0x00)
  k = hmac(k, v, Uint8Array.of(0x00), x, h)
  v = hmac(k, v)
  k = hmac(k, v, Uint8Array.of(0x01), x, h)
  v = hmac(k, v)
  for (;;) {
    v = hmac(k, v)
    const candidate = toInt(v)
    if (candidate >= 1n && candidate < c.order) yield candidate
    k = hmac(k, v, Uint8Array.of(0x00))
    v = hmac(k, v)
  }
}

/** A private scalar as an integer, checked to be `size` bytes in [1, n-1]. */
function privateScalar(c: CurveInfo, curve: CurveName, priv: Uint8Array): bigint {
  const d = toInt(priv)
  if (priv.length !== c.size || d <= 0n || d >= c.order) throw new Error(`${curve} private key must be ${c.size} bytes in [1, n-1]`)
  return d
}

/** The public point 0x04 ‖ x ‖ y of a private scalar (Node's native EC code). */
export function publicPoint(curve: CurveName, priv: Uint8Array): Buffer {
  const c = CURVES[curve]
  privateScalar(c, curve, priv)
  const ecdh = createECDH(c.openssl)
  ecdh.setPrivateKey(priv)
  return ecdh.getPublicKey()
}

/** One ECDH object per curve, reused for k·G: creating one cost a fifth of a signature. */
const kTimesG = new Map<CurveName, ECDH>()

/**
 * ECDSA over `msg` hashed with the curve's hash, RFC 6979 nonce, low S: raw r ‖ s, or DER
 * (ECDSA-Sig-Value, RFC 5480 §2.2 / X9.62) for certificates and CRLs.
 */
export function signEcdsa(curve: CurveName, msg: Uint8Array, priv: Uint8Array, format: 'raw' | 'der' = 'raw'): Buffer {
  const c = CURVES[curve]
  const d = privateScalar(c, curve, priv)
  const x = Buffer.from(priv)
  const h1 = hash(c.hash, msg, 'buffer')
  const z = toInt(h1)
  let ecdh = kTimesG.get(curve)
  if (!ecdh) kTimesG.set(curve, (ecdh = createECDH(c.openssl)))
  for (const k of rfc6979Nonces(c, x, h1)) {
    ecdh.setPrivateKey(toBytes(k, c.size))
    const r = modN(toInt(ecdh.getPublicKey().subarray(1, 1 + c.size)), c.order)
    if (r === 0n) continue
    let s = modN(invert(k, c.order) * (z + r * d), c.order)
    if (s === 0n) continue
    if (s > c.order >> 1n) s = c.order - s
    const raw = Buffer.concat([toBytes(r, c.size), toBytes(s, c.size)])
    return format === 'der' ? ecdsaRawToDer(raw) : raw
  }
  throw new Error('unreachable')
}

/** ECDSA-P256-SHA256 with a 32-byte private key: raw r ‖ s (quotes, QE reports, collateral). */
export const signP256 = (msg: Uint8Array, priv: Uint8Array): Buffer => signEcdsa('P-256', msg, priv)

/** A minimal DER INTEGER (tag, length, content) for a non-negative big-endian value. */
function derUnsigned(v: Uint8Array): Buffer {
  let i = 0
  while (i < v.length - 1 && v[i] === 0) i++
  const body = v[i] & 0x80 ? Buffer.concat([Buffer.of(0), v.subarray(i)]) : Buffer.from(v.subarray(i))
  return Buffer.concat([Buffer.of(0x02, body.length), body])
}

/** DER ECDSA-Sig-Value SEQUENCE { r INTEGER, s INTEGER } from raw r ‖ s (P-256 / P-384: short-form lengths). */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2
  const body = Buffer.concat([derUnsigned(raw.subarray(0, half)), derUnsigned(raw.subarray(half))])
  return Buffer.concat([Buffer.of(DER_SEQUENCE, body.length), body])
}

/**
 * The DER SubjectPublicKeyInfo of a curve up to its point: SEQUENCE { SEQUENCE { id-ecPublicKey,
 * namedCurve }, BIT STRING { 0x00 (unused bits), point } }, encoded once per curve.
 */
const spkiPrefix = new Map<CurveName, Buffer>()
function spkiPrefixOf(curve: CurveName): Buffer {
  let prefix = spkiPrefix.get(curve)
  if (!prefix) {
    const point = Buffer.alloc(1 + 2 * CURVES[curve].size)
    const der = encodeDer(derSequenceNode([derSequenceNode([derOidNode(OID_EC_PUBLIC_KEY), derOidNode(CURVES[curve].oid)]), derBitStringNode(point)]))
    spkiPrefix.set(curve, (prefix = der.subarray(0, der.length - point.length)))
  }
  return prefix
}

/**
 * The uncompressed point as a Node public key, through the cheaper import for its curve in Node 20
 * (measured: P-256 from JWK coordinates ~130 µs against ~175 µs from SPKI DER; P-384 from SPKI DER
 * ~140 µs against ~600 µs from JWK, most of a P-384 verification). Both imports reject a point that
 * is not on the curve. Throws for a point that is not uncompressed or not on the curve.
 */
export function ecPublicKey(curve: CurveName, point: Uint8Array): KeyObject {
  const n = CURVES[curve].size
  const p = Buffer.from(point.buffer, point.byteOffset, point.byteLength)
  const xy = p.length === 2 * n ? p : p.subarray(1)
  if (xy.length !== 2 * n || (p.length !== 2 * n && p[0] !== EC_POINT_UNCOMPRESSED)) throw new Error(`${curve} public key must be an uncompressed point`)
  if (curve === 'P-384') return createPublicKey({key: Buffer.concat([spkiPrefixOf(curve), Uint8Array.of(EC_POINT_UNCOMPRESSED), xy]), format: 'der', type: 'spki'})
  return createPublicKey({key: {kty: 'EC', crv: curve, x: xy.toString('base64url', 0, n), y: xy.toString('base64url', n)}, format: 'jwk'})
}

/** The 64/96-byte x ‖ y form quotes carry (the uncompressed point without its 0x04 prefix). */
export const rawPublicKey = (pub: Uint8Array): Buffer => Buffer.from(pub.subarray(1))

/** Verify a raw r ‖ s (IEEE P1363) or DER ECDSA signature with Node's crypto. Never throws. */
export function verifyEcdsa(key: KeyObject, hash: string, msg: Uint8Array, sig: Uint8Array, format: 'raw' | 'der' = 'raw'): boolean {
  try {
    return cryptoVerify(hash, msg, {key, dsaEncoding: format === 'raw' ? 'ieee-p1363' : 'der'}, sig)
  } catch {
    return false
  }
}
