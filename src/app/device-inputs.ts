/**
 * The files `device verify` / `device accept` / `device serve` read: a policy JSON, trust anchors
 * and certificate chains (PEM or DER), CoRIM reference values with the key that signed them, and
 * the --at time. Every read is bounded (src/app/files.ts); bad input is a one-line InputError.
 */
import {existsSync} from 'node:fs'
import {InputError} from '../errors.js'
import {isFingerprint} from '../verify/roots.js'
import {decodeCorim, loadPublicKey, type CorimDocument} from '../device/corim.js'
import type {TrustAnchor} from '../device/chain.js'
import {defaultPolicy, type DevicePolicy} from '../device/verifier.js'
import {parseCert} from '../x509/cert.js'
import {splitDerCerts} from '../x509/chain.js'
import {pemCertificates} from '../x509/pem.js'
import {OPEN_PROFILE} from '../x509/profile.js'
import {MAX_CERT_FILE_BYTES, readBinaryInput, readRawInput, readTextInput} from './files.js'

const PEM_CERT_BEGIN = '-----BEGIN CERTIFICATE-----'

/** The certificates of a file: its PEM CERTIFICATE blocks (x509/pem), else a DER concatenation (throws when that does not split). */
export function certificatesOf(raw: Buffer): Buffer[] {
  const text = raw.toString('latin1')
  return text.includes(PEM_CERT_BEGIN) ? pemCertificates(text) : splitDerCerts(raw)
}

/** A policy JSON file: any subset of DevicePolicy's keys; unknown keys and wrong types are refused. */
export function loadPolicy(path: string | undefined): Partial<DevicePolicy> | undefined {
  if (!path) return undefined
  let v: unknown
  try {
    v = JSON.parse(readTextInput(path, 'policy'))
  } catch (error) {
    if (error instanceof InputError) throw error
    throw new InputError('BAD_POLICY', `policy ${path} is not valid JSON`)
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError('BAD_POLICY', `policy ${path} must be a JSON object`)
  const defaults = defaultPolicy() as unknown as Record<string, unknown>
  for (const [k, val] of Object.entries(v)) {
    if (!(k in defaults)) throw new InputError('BAD_POLICY', `policy ${path}: unknown key '${k}' (known: ${Object.keys(defaults).join(', ')})`)
    const want = Array.isArray(defaults[k]) ? 'array' : typeof defaults[k]
    const got = Array.isArray(val) ? 'array' : typeof val
    if (want !== got) throw new InputError('BAD_POLICY', `policy ${path}: '${k}' must be ${want === 'array' ? 'an array' : `a ${want}`}`)
  }
  return v as Partial<DevicePolicy>
}

/**
 * Trust anchors from PEM (one or more certificates) or DER files, or PEM text given in place of a
 * file name; each certificate must parse. A fingerprint cannot anchor a device chain (the chain is
 * checked against the root certificate itself): a one-line error says so.
 */
export function loadAnchors(paths: string[] | undefined): TrustAnchor[] | undefined {
  if (!paths || paths.length === 0) return undefined
  const out: TrustAnchor[] = []
  for (const p of paths) {
    const pemText = p.includes(PEM_CERT_BEGIN)
    const label = pemText ? '(PEM text)' : p
    let ders: Buffer[]
    try {
      if (pemText) ders = certificatesOf(Buffer.from(p, 'latin1'))
      else if (isFingerprint(p) && !existsSync(p)) {
        throw new InputError('BAD_TRUST_ANCHOR', '--trust-anchor takes a PEM or DER certificate (file or PEM text), not a fingerprint: a device chain is checked against the root certificate itself')
      } else ders = certificatesOf(readRawInput(p, '--trust-anchor', MAX_CERT_FILE_BYTES))
    } catch (error) {
      if (error instanceof InputError) throw error
      throw new InputError('BAD_TRUST_ANCHOR', `trust anchor ${label} is not a PEM or DER certificate`)
    }
    for (const der of ders) {
      try {
        parseCert(der, OPEN_PROFILE)
      } catch {
        throw new InputError('BAD_TRUST_ANCHOR', `trust anchor ${label} holds a certificate that does not parse`)
      }
      out.push({cert: der, source: pemText ? 'PEM text' : p})
    }
  }
  return out
}

/** Reference values (CoRIM / signed CoRIM / CoMID), signature checked with the key if given. */
export function loadReference(path: string, keyPath: string | undefined, at: Date): CorimDocument {
  const bytes = readBinaryInput(path, 'reference values')
  const key = keyPath ? loadPublicKey(readRawInput(keyPath, '--reference-key', MAX_CERT_FILE_BYTES), `reference key ${keyPath}`) : undefined
  return decodeCorim(bytes, {key, at})
}

/** The --at of a device command: an ISO 8601 time, or now. */
export function parseDeviceAt(text: string | undefined): Date {
  if (!text) return new Date()
  const d = new Date(text)
  if (Number.isNaN(d.getTime())) throw new InputError('BAD_TIME', `--at: '${text}' is not a date/time (use ISO 8601, e.g. 2026-09-01T00:00:00Z)`)
  return d
}
