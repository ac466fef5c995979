/** Trust anchors: roots are pinned by the SHA-256 fingerprint of their DER certificate. */
import {hash} from 'node:crypto'
import {InputError} from '../errors.js'

/** SHA-256 of the production Intel SGX Root CA certificate (DER). */
export const INTEL_SGX_ROOT_CA_SHA256 = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3'

/** Normalise a fingerprint written as hex with optional colons / spaces / case. */
export function normalizeFingerprint(fp: string): string {
  const s = fp.replace(/[:\s]/g, '').toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(s)) throw new InputError('BAD_FINGERPRINT', `not a SHA-256 fingerprint: ${fp}`)
  return s
}

export const fingerprintOf = (der: Uint8Array): string => hash('sha256', der, 'hex')
