/** EC key pairs derived from the platform seed, and public keys imported from raw coordinates (memoised for the verifier). */
import {createPrivateKey, type KeyObject} from 'node:crypto'
import {deriveScalar} from '../util/seed.js'
import {CURVES, ecPublicKey, publicPoint, signEcdsa, type CurveName} from './ecdsa.js'
import {Lru} from './memo.js'

export interface EcKeyPair {
  curve: CurveName
  /** Private scalar, big-endian, the curve's size. */
  priv: Buffer
  /** Uncompressed public point 0x04 ‖ x ‖ y. */
  pub: Buffer
  /** The public key as a Node key. */
  key: KeyObject
}

/** A key pair derived from the platform seed under `label` (HKDF, src/util/seed.ts): same seed and label, same key. */
export function deriveEcKey(seed: string, label: string, curve: CurveName): EcKeyPair {
  const c = CURVES[curve]
  const priv = deriveScalar(seed, label, c.order, c.size)
  const pub = publicPoint(curve, priv)
  return {curve, priv, pub, key: ecPublicKey(curve, pub)}
}

/** Bytes of a P-256 x ‖ y public key (quotes' attestation keys). */
const P256_RAW_KEY_SIZE = 2 * CURVES['P-256'].size

const rawKeyMemo = new Lru<KeyObject>(1024)

/** A P-256 public key from the 64-byte x ‖ y form used in quotes, memoised. Throws on a point not on the curve. */
export function keyFromRawXY(xy: Uint8Array): KeyObject {
  if (xy.length !== P256_RAW_KEY_SIZE) throw new Error('attestation key must be 64 bytes')
  const id = Buffer.from(xy.buffer, xy.byteOffset, xy.byteLength).toString('latin1')
  const hit = rawKeyMemo.get(id)
  if (hit) return hit
  const key = ecPublicKey('P-256', xy)
  rawKeyMemo.set(id, key)
  return key
}

/** Deterministic (RFC 6979) ECDSA with a key pair, over `msg` hashed with its curve's hash: raw r ‖ s or DER. */
export const ecSign = (k: EcKeyPair, msg: Uint8Array, format: 'raw' | 'der' = 'raw'): Buffer => signEcdsa(k.curve, msg, k.priv, format)

/** The key pair's private key as a Node key, for Node's own (randomised, faster) ECDSA where signatures need not be reproducible. */
export function ecPrivateKey(k: EcKeyPair): KeyObject {
  const n = CURVES[k.curve].size
  return createPrivateKey({key: {kty: 'EC', crv: k.curve, x: k.pub.toString('base64url', 1, 1 + n), y: k.pub.toString('base64url', 1 + n), d: k.priv.toString('base64url')}, format: 'jwk'})
}
