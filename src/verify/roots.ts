/**
 * Trust anchors: roots are pinned by the SHA-256 fingerprint of their DER certificate. A root may be
 * given as that fingerprint, as PEM text (one or more certificates) or as DER bytes.
 */
import {hash} from 'node:crypto'
import {DER_SEQUENCE} from '../abi/der.js'
import {InputError} from '../errors.js'
import {pemCertificates} from '../x509/pem.js'

/** SHA-256 of the production Intel SGX Root CA certificate (DER). */
export const INTEL_SGX_ROOT_CA_SHA256 = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3'

const PEM_CERT_BEGIN = '-----BEGIN CERTIFICATE-----'

/** A root as accepted everywhere: fingerprint (hex, colons / spaces / case ignored), PEM text, or DER bytes. */
export type TrustedRoot = string | Uint8Array

/** A SHA-256 fingerprint once colons and spaces are dropped and case is folded. */
const FINGERPRINT = /^[0-9a-f]{64}$/
const compactFingerprint = (fp: string): string => fp.replace(/[:\s]/g, '').toLowerCase()

/** Normalise a fingerprint written as hex with optional colons / spaces / case. */
export function normalizeFingerprint(fp: string): string {
  const s = compactFingerprint(fp)
  if (!FINGERPRINT.test(s)) throw new InputError('BAD_FINGERPRINT', `not a SHA-256 fingerprint (64 hex digits), a PEM certificate or DER bytes: ${oneLine(fp)}`)
  return s
}

export const fingerprintOf = (der: Uint8Array): string => hash('sha256', der, 'hex')

/** True for text that is a SHA-256 fingerprint (64 hex digits, optional colons / spaces). */
export const isFingerprint = (s: string): boolean => FINGERPRINT.test(compactFingerprint(s))

/** The fingerprints a root stands for: a PEM bundle gives one per certificate. One-line BAD_ROOT errors. */
export function rootFingerprints(root: TrustedRoot): string[] {
  if (typeof root !== 'string') {
    if (!(root instanceof Uint8Array) || root.length === 0 || root[0] !== DER_SEQUENCE) throw new InputError('BAD_ROOT', 'a trusted root given as bytes must be a DER certificate')
    return [fingerprintOf(root)]
  }
  if (root.includes('-----BEGIN')) {
    if (!root.includes(PEM_CERT_BEGIN)) throw new InputError('BAD_ROOT', `a trusted root given as PEM must hold a CERTIFICATE block: ${oneLine(root)}`)
    let ders: Buffer[]
    try {
      ders = pemCertificates(root)
    } catch (e) {
      throw new InputError('BAD_ROOT', `a PEM trusted root is malformed: ${(e as Error).message}`)
    }
    if (ders.some((d) => d[0] !== DER_SEQUENCE)) throw new InputError('BAD_ROOT', 'a PEM trusted root holds a block that is not a DER certificate')
    return ders.map(fingerprintOf)
  }
  return [normalizeFingerprint(root)]
}

/** At most 60 characters of an input, on one line (for messages). */
function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim()
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat
}
