/** EC key pairs derived from the platform seed, and public keys imported from raw coordinates (memoised for the verifier). */
import type {KeyObject} from 'node:crypto'
import {deriveScalar} from '../util/seed.js'
import {CURVES, ecPublicKey, publicPoint, type CurveName} from './ecdsa.js'
import {Lru} from './memo.js'

export interface EcKeyPair {
  curve: CurveName
  /** Private scalar, big-endian, the curve's size. */
  priv: Buffer
  /** Uncompressed public point 0x04 ‖ x ‖ y. */
  pub: Buffer
}

/** A key pair derived from the platform seed under `label` (HKDF, src/util/seed.ts): same seed and label, same key. */
export function deriveEcKey(seed: string, label: string, curve: CurveName): EcKeyPair {
  const c = CURVES[curve]
  const priv = deriveScalar(seed, label, c.order, c.size)
  return {curve, priv, pub: publicPoint(curve, priv)}
}

/** The public half of a key pair as a Node key. */
export const publicKeyObject = (k: Pick<EcKeyPair, 'curve' | 'pub'>): KeyObject => ecPublicKey(k.curve, k.pub)

/** Bytes of a P-256 x ‖ y public key (quotes' attestation keys). */
export const P256_RAW_KEY_SIZE = 2 * CURVES['P-256'].size

const rawKeyMemo = new Lru<KeyObject>(1024)

/** A P-256 public key from the 64-byte x ‖ y form used in quotes, memoised. Throws on a point not on the curve. */
export function keyFromRawXY(xy: Uint8Array): KeyObject {
  if (xy.length !== P256_RAW_KEY_SIZE) throw new Error('attestation key must be 64 bytes')
  const id = Buffer.from(xy).toString('hex')
  const hit = rawKeyMemo.get(id)
  if (hit) return hit
  const key = ecPublicKey('P-256', xy)
  rawKeyMemo.set(id, key)
  return key
}
