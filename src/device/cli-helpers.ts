/** Input loading and text rendering shared by the `device` commands (thin commands, logic here). */
import {readFileSync} from 'node:fs'
import {X509Certificate} from 'node:crypto'
import {InputError} from '../errors.js'
import {readBinaryInput} from '../app/files.js'
import {check, kv} from '../cli/render.js'
import {splitDerCerts} from '../x509/chain.js'
import type {TrustAnchor} from './chain.js'
import {decodeCorim, loadPublicKey, type CorimDocument} from './corim.js'
import {defaultPolicy, type DevicePolicy, type Verdict} from './verifier.js'

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new InputError('UNREADABLE_INPUT', `${what}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

/** A policy JSON file: any subset of DevicePolicy's keys; unknown keys and wrong types are refused. */
export function loadPolicy(path: string | undefined): Partial<DevicePolicy> | undefined {
  if (!path) return undefined
  let v: unknown
  try {
    v = JSON.parse(readFile(path, 'policy').toString('utf8'))
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

/** Trust anchors from PEM (one or more certificates) or DER files. */
export function loadAnchors(paths: string[] | undefined): TrustAnchor[] | undefined {
  if (!paths || paths.length === 0) return undefined
  const out: TrustAnchor[] = []
  for (const p of paths) {
    const raw = readFile(p, 'trust anchor')
    const text = raw.toString('latin1')
    const ders = text.includes('-----BEGIN CERTIFICATE-----')
      ? [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'))
      : (() => {
          try {
            return splitDerCerts(raw)
          } catch {
            throw new InputError('BAD_TRUST_ANCHOR', `trust anchor ${p} is not a PEM or DER certificate`)
          }
        })()
    for (const der of ders) {
      try {
        new X509Certificate(der)
      } catch {
        throw new InputError('BAD_TRUST_ANCHOR', `trust anchor ${p} holds a certificate that does not parse`)
      }
      out.push({cert: der, source: p})
    }
  }
  return out
}

/** Reference values (CoRIM / signed CoRIM / CoMID), signature checked with the key if given. */
export function loadReference(path: string, keyPath: string | undefined, at: Date): CorimDocument {
  const bytes = readBinaryInput(path, 'reference values')
  const key = keyPath ? loadPublicKey(readFile(keyPath, 'reference key'), `reference key ${keyPath}`) : undefined
  return decodeCorim(bytes, {key, at})
}

export function parseAt(text: string | undefined): Date {
  if (!text) return new Date()
  const d = new Date(text)
  if (Number.isNaN(d.getTime())) throw new InputError('BAD_TIME', `--at: '${text}' is not a date/time (use ISO 8601, e.g. 2026-09-01T00:00:00Z)`)
  return d
}

/** Human lines for a verdict: one line per step, failed checks underneath. */
export function verdictLines(v: Verdict): string[] {
  const lines: string[] = []
  for (const s of v.steps) {
    lines.push(`${s.status === 'skip' ? '-' : check(s.status === 'pass')} ${s.id.padEnd(22)} ${s.detail}`)
  }
  lines.push('')
  lines.push(...kv([
    ['device', `${v.device.id} (${v.device.bdf}, ${v.device.model})`],
    ['verdict', v.ok ? 'VERIFIED' : v.status === 'authenticity_failed' ? 'AUTHENTICITY FAILED' : 'POLICY VIOLATED'],
    ['exit code', String(v.exit_code)],
  ], 0).split('\n'))
  return lines
}
