/**
 * The cryptography of an SPDM connection, on Node's crypto: hashing, HMAC, HKDF extract/expand,
 * ephemeral ECDH for KEY_EXCHANGE, AES-256-GCM for secured messages, and verification of SPDM
 * signatures (ECDSA raw r‖s, RSASSA, RSA-PSS). No I/O.
 */
import {constants as cryptoConstants, createCipheriv, createDecipheriv, createECDH, createHash, createHmac, timingSafeEqual, verify as nodeVerify, type KeyObject} from 'node:crypto'
import {DHE_PUBLIC_SIZE, HASH_SIZE, SpdmBaseAsym, SpdmDhe, type HashName} from '../abi/spdm.js'
import {AEAD_TAG_SIZE} from '../abi/secured-message.js'

export function hashOf(alg: HashName, ...parts: Uint8Array[]): Buffer {
  const h = createHash(alg)
  for (const p of parts) h.update(p)
  return h.digest()
}

export function hmacOf(alg: HashName, key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac(alg, key)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** HKDF-Extract(salt, IKM) = HMAC(salt, IKM). */
export const hkdfExtract = (alg: HashName, salt: Uint8Array, ikm: Uint8Array): Buffer => hmacOf(alg, salt, ikm)

/** HKDF-Expand(PRK, info, L) (RFC 5869). */
export function hkdfExpand(alg: HashName, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out: Buffer[] = []
  let prev: Buffer = Buffer.alloc(0)
  let total = 0
  for (let i = 1; total < length; i++) {
    prev = hmacOf(alg, prk, prev, info, Buffer.from([i]))
    out.push(prev)
    total += prev.length
  }
  return Buffer.concat(out).subarray(0, length)
}

const DHE_CURVE: Record<number, string> = {[SpdmDhe.SECP256R1]: 'prime256v1', [SpdmDhe.SECP384R1]: 'secp384r1', [SpdmDhe.SECP521R1]: 'secp521r1'}
/** SEC1 uncompressed point prefix Node's ECDH uses; SPDM ExchangeData omits it. */
const EC_POINT_UNCOMPRESSED = 0x04

export interface DheKey {
  /** ExchangeData: X ‖ Y */
  exchange: Buffer
  /** shared secret (X coordinate) with the peer's ExchangeData; throws on a point not on the curve */
  secret(peer: Uint8Array): Buffer
}

/** A fresh ephemeral ECDH key for a DHE group bit (secp256r1/384r1/521r1). */
export function dheGenerate(group: number): DheKey {
  const curve = DHE_CURVE[group]
  if (!curve) throw new Error(`DHE group 0x${group.toString(16)} is not supported`)
  const ecdh = createECDH(curve)
  const pub = ecdh.generateKeys()
  return {
    exchange: pub.subarray(1),
    secret: (peer) => {
      if (peer.length !== DHE_PUBLIC_SIZE[group]) throw new Error(`DHE exchange data is ${peer.length} bytes, expected ${DHE_PUBLIC_SIZE[group]}`)
      return ecdh.computeSecret(Buffer.concat([Buffer.from([EC_POINT_UNCOMPRESSED]), peer]))
    },
  }
}

/** AES-GCM encrypt: returns ciphertext ‖ tag. */
export function aeadSeal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): Buffer {
  const c = createCipheriv(key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv, {authTagLength: AEAD_TAG_SIZE})
  c.setAAD(aad)
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()])
}

/** AES-GCM decrypt of ciphertext ‖ tag; undefined when the tag does not verify. */
export function aeadOpen(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < AEAD_TAG_SIZE) return undefined
  try {
    const d = createDecipheriv(key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv, {authTagLength: AEAD_TAG_SIZE})
    d.setAAD(aad)
    d.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_SIZE))
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - AEAD_TAG_SIZE)), d.final()])
  } catch {
    return undefined
  }
}

const ECDSA_ASYM: readonly number[] = [SpdmBaseAsym.ECDSA_P256, SpdmBaseAsym.ECDSA_P384, SpdmBaseAsym.ECDSA_P521]
const RSASSA_ASYM: readonly number[] = [SpdmBaseAsym.RSASSA_2048, SpdmBaseAsym.RSASSA_3072, SpdmBaseAsym.RSASSA_4096]
const RSAPSS_ASYM: readonly number[] = [SpdmBaseAsym.RSAPSS_2048, SpdmBaseAsym.RSAPSS_3072, SpdmBaseAsym.RSAPSS_4096]

/** Verify an SPDM signature: ECDSA raw r‖s, RSASSA-PKCS1-v1_5 or RSA-PSS (salt = hash length). Never throws. */
export function spdmVerifySignature(asym: number, alg: HashName, key: KeyObject, msg: Buffer, sig: Buffer): boolean {
  try {
    if (ECDSA_ASYM.includes(asym)) return nodeVerify(alg, msg, {key, dsaEncoding: 'ieee-p1363'}, sig)
    if (RSASSA_ASYM.includes(asym)) return nodeVerify(alg, msg, {key, padding: cryptoConstants.RSA_PKCS1_PADDING}, sig)
    if (RSAPSS_ASYM.includes(asym)) return nodeVerify(alg, msg, {key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_SIZE[alg]}, sig)
  } catch {
    return false
  }
  return false
}

/** MAC comparison in constant time (lengths are public). */
export const macEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b)
