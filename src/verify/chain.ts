/**
 * Certificate checks shared by the PCK chain and the collateral's issuer chains: validity at the
 * verification time, X.509 decoding failures as named verification errors, and a loose PEM issuer
 * chain verified to a pinned root.
 */
import {fail, VerifyError, type VerifyErrorCode} from './errors.js'
import {certSignedBy, parseCert, parsePemChain, X509Error, type Cert} from '../x509/dcap.js'

/** Unix milliseconds as ISO 8601 (for messages and the result object). */
export const iso = (ms: number): string => new Date(ms).toISOString()

/** An X.509 decoding failure as the verification error `code` (an unsupported algorithm in the PCK chain has its own). */
export function x509Fail(e: unknown, code: VerifyErrorCode, what: string): never {
  if (e instanceof VerifyError) throw e
  if (e instanceof X509Error) fail(e.kind === 'algorithm' && code === 'PCK_CHAIN_MALFORMED' ? 'PCK_CERT_BAD_ALGORITHM' : code, `${what}: ${e.message}`)
  throw e
}

/** The certificate must be valid at `nowMs`. */
export function checkValidity(cert: Cert, nowMs: number, code: VerifyErrorCode, what: string): void {
  if (nowMs < cert.notBefore || nowMs > cert.notAfter) {
    fail(code, `${what} "${cert.subjectCN}" is not valid at ${iso(nowMs)} (valid ${iso(cert.notBefore)} .. ${iso(cert.notAfter)})`)
  }
}

/**
 * A loose PEM issuer chain (collateral) verified to a pinned root: each certificate signed by the
 * next, names chained, all valid at `nowMs`, last one self-signed and trusted by fingerprint.
 */
export function verifyIssuerChain(pem: string, roots: ReadonlySet<string>, nowMs: number, code: VerifyErrorCode, what: string): Cert[] {
  let certs: Cert[] = []
  try {
    certs = parsePemChain(pem, false).map((d) => parseCert(d))
  } catch (e) {
    x509Fail(e, code, what)
  }
  if (certs.length < 2) fail(code, `${what}: expected at least 2 certificates, got ${certs.length}`)
  const root = certs[certs.length - 1]
  if (!roots.has(root.fingerprint)) fail(code, `${what}: root "${root.subjectCN}" (sha256 ${root.fingerprint}) is not a trusted root`)
  for (let i = 0; i < certs.length; i++) {
    const c = certs[i]
    const parent = certs[Math.min(i + 1, certs.length - 1)]
    if (!c.issuerName.equals(parent.subjectName)) fail(code, `${what}: "${c.subjectCN}" is not issued by "${parent.subjectCN}"`)
    if (i > 0 && !c.isCA) fail(code, `${what}: "${c.subjectCN}" is not a CA certificate`)
    if (!certSignedBy(c, parent)) fail(code, `${what}: signature of "${c.subjectCN}" does not verify`)
    checkValidity(c, nowMs, code, what)
  }
  return certs
}
