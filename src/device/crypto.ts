/**
 * Small crypto helpers for the device layer: hashing, deterministic ECDSA keys from the platform
 * seed, RFC 6979 signing (@noble/curves) and verification with Node's crypto (fast, handles the
 * raw r‖s form SPDM and COSE use).
 */
import {createHash, createPublicKey, verify as nodeVerify, type KeyObject} from 'node:crypto'
import {p256, p384} from '@noble/curves/nist.js'
import {deriveScalar} from '../util/seed.js'
import type {HashName} from '../abi/spdm.js'

export type CurveName = 'P-256' | 'P-384'

const CURVES = {
  'P-256': {impl: p256, hash: 'sha256' as HashName, size: 32},
  'P-384': {impl: p384, hash: 'sha384' as HashName, size: 48},
}

export {hash} from './digest.js'

export interface EcKeyPair {
  curve: CurveName
  /** private scalar, big-endian */
  d: Buffer
  /** uncompressed point 04‖x‖y */
  pub: Buffer
  /** public key as a Node KeyObject */
  key: KeyObject
  /** SubjectPublicKeyInfo DER */
  spki: Buffer
}

export function ecPublicKey(curve: CurveName, pub: Uint8Array): KeyObject {
  const n = CURVES[curve].size
  const p = Buffer.from(pub)
  return createPublicKey({
    key: {kty: 'EC', crv: curve, x: p.subarray(1, 1 + n).toString('base64url'), y: p.subarray(1 + n, 1 + 2 * n).toString('base64url')},
    format: 'jwk',
  })
}

/** A key pair derived from the platform seed and a label (same seed+label → same key). */
export function deriveEcKey(seed: string, label: string, curve: CurveName): EcKeyPair {
  const c = CURVES[curve]
  const d = deriveScalar(seed, label, c.impl.Point.CURVE().n, c.size)
  const pub = Buffer.from(c.impl.getPublicKey(d, false))
  const key = ecPublicKey(curve, pub)
  return {curve, d, pub, key, spki: key.export({type: 'spki', format: 'der'}) as Buffer}
}

/** Deterministic (RFC 6979) ECDSA over msg hashed with the curve's hash; raw r‖s or DER. */
export function ecSign(k: EcKeyPair, msg: Uint8Array, format: 'raw' | 'der' = 'raw'): Buffer {
  const c = CURVES[k.curve]
  return Buffer.from(c.impl.sign(msg, k.d, format === 'der' ? {format: 'der'} : {}))
}

/** Verify a raw r‖s (ieee-p1363) or DER ECDSA signature with Node crypto. Never throws. */
export function ecVerify(key: KeyObject, alg: HashName, msg: Uint8Array, sig: Uint8Array, format: 'raw' | 'der' = 'raw'): boolean {
  try {
    return nodeVerify(alg, msg, {key, dsaEncoding: format === 'raw' ? 'ieee-p1363' : 'der'}, sig)
  } catch {
    return false
  }
}

export const curveHash = (c: CurveName): HashName => CURVES[c].hash
