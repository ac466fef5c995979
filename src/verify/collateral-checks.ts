/**
 * The collateral's own checks, done once per bundle whatever the quote: every field present, both
 * CRLs (decoded, issued and signed by the right certificates, current, their issuer not revoked),
 * then TCB info and QE identity (the same checks on each signed JSON document: signing chain to a
 * pinned root, TCB signing certificate not revoked, signature over the exact JSON bytes, decoded,
 * inside its issueDate..nextUpdate window).
 */
import {COLLATERAL_BYTE_FIELDS, COLLATERAL_FIELDS, type QuoteCollateralV3} from '../abi/collateral.js'
import {CollateralFormatError, parseQeIdentity, parseTcbInfo, type QeIdentity, type TcbInfo} from '../abi/tcb-info.js'
import {iso, verifyIssuerChain, x509Fail} from './chain.js'
import {fail, type VerifyErrorCode} from './errors.js'
import {crlSignedBy, parseCrl, verifyRawSig, type Cert, type Crl} from '../x509/dcap.js'

/** CN phrase Intel's QVL expects of the TCB info / QE identity signer (the simulator's contains it too). */
export const CN_TCB_SIGNING = 'SGX TCB Signing'

/** A bundle that passed its own checks: what the per-quote checks compare against. */
export interface CheckedCollateral {
  root: Cert
  rootCrl: Crl
  pckCrl: Crl
  pckCrlIssuer: Cert
  tcbInfo: TcbInfo
  qeIdentity: QeIdentity
}

/**
 * A byte field: hex text, or (as dcap-qvl's getCollateral returns it) an array of byte values / a
 * Uint8Array. Buffer.from stops at the first pair that is not hex, so a full-length result proves the text is hex.
 */
const hexField = (s: unknown, what: string): Buffer => {
  if (s instanceof Uint8Array) return Buffer.from(s)
  if (Array.isArray(s) && s.every((b) => Number.isInteger(b) && b >= 0 && b <= 0xff)) return Buffer.from(s as number[])
  const b = typeof s === 'string' ? Buffer.from(s, 'hex') : undefined
  if (!b || b.length * 2 !== (s as string).length) fail('COLLATERAL_MALFORMED', `collateral ${what} is neither hex nor bytes`)
  return b!
}

/** Every QuoteCollateralV3 field is present: text fields strings, byte fields strings or byte arrays (checked when decoded). */
export function checkCollateralFields(c: unknown): asserts c is QuoteCollateralV3 {
  if (!c || typeof c !== 'object') fail('COLLATERAL_MALFORMED', 'collateral is not an object')
  const o = c as Record<string, unknown>
  const bytes: readonly string[] = COLLATERAL_BYTE_FIELDS
  for (const f of COLLATERAL_FIELDS) {
    const ok = typeof o[f] === 'string' || (bytes.includes(f) && (Array.isArray(o[f]) || o[f] instanceof Uint8Array))
    if (!ok) fail('COLLATERAL_MALFORMED', `collateral field ${f} is missing or not a string`)
  }
}

/** The CRL must be current at `nowMs` (an open nextUpdate never expires). */
export function checkCrlCurrent(crl: Crl, nowMs: number, what: string): void {
  if (nowMs < crl.thisUpdate || (crl.nextUpdate !== undefined && nowMs > crl.nextUpdate)) {
    fail('CRL_EXPIRED', `${what} is not valid at ${iso(nowMs)} (${iso(crl.thisUpdate)} .. ${crl.nextUpdate ? iso(crl.nextUpdate) : 'open'})`)
  }
}

/** A signed document's issueDate..nextUpdate window must hold `nowMs`. */
export function checkWindow(issue: number, next: number, nowMs: number, code: VerifyErrorCode, what: string): void {
  if (nowMs < issue || nowMs > next) fail(code, `${what} is not valid at ${iso(nowMs)} (issued ${iso(issue)}, next update ${iso(next)})`)
}

/**
 * Both CRLs: decoded; the PCK CRL issuer chain verified to a pinned root; the root CA CRL issued and
 * signed by that root, the PCK CRL by the chain's CA (and not the root CA CRL given twice); both
 * current; the PCK CRL's issuer not revoked by the root CA CRL.
 */
export function checkCrls(c: QuoteCollateralV3, roots: ReadonlySet<string>, nowMs: number): Pick<CheckedCollateral, 'root' | 'rootCrl' | 'pckCrl' | 'pckCrlIssuer'> {
  let rootCrl: Crl, pckCrl: Crl
  try {
    rootCrl = parseCrl(hexField(c.root_ca_crl, 'root_ca_crl'))
    pckCrl = parseCrl(hexField(c.pck_crl, 'pck_crl'))
  } catch (e) {
    x509Fail(e, 'CRL_MALFORMED', 'CRL')
  }
  const pckCrlChain = verifyIssuerChain(c.pck_crl_issuer_chain, roots, nowMs, 'CRL_CHAIN_UNTRUSTED', 'PCK CRL issuer chain')
  const root = pckCrlChain[pckCrlChain.length - 1]
  const pckCrlIssuer = pckCrlChain[0]
  if (!rootCrl!.issuerName.equals(root.subjectName)) fail('CRL_ISSUER_MISMATCH', `root CA CRL issuer "${rootCrl!.issuerCN}" is not the root "${root.subjectCN}"`)
  if (!crlSignedBy(rootCrl!, root)) fail('CRL_BAD_SIGNATURE', 'root CA CRL signature does not verify with the root key')
  if (!pckCrl!.issuerName.equals(pckCrlIssuer.subjectName)) fail('CRL_ISSUER_MISMATCH', `PCK CRL issuer "${pckCrl!.issuerCN}" is not "${pckCrlIssuer.subjectCN}"`)
  if (pckCrl!.issuerName.equals(root.subjectName)) fail('CRL_ISSUER_MISMATCH', 'the root CA CRL was given as the PCK CRL')
  if (!crlSignedBy(pckCrl!, pckCrlIssuer)) fail('CRL_BAD_SIGNATURE', `PCK CRL signature does not verify with "${pckCrlIssuer.subjectCN}"`)
  checkCrlCurrent(rootCrl!, nowMs, 'root CA CRL')
  checkCrlCurrent(pckCrl!, nowMs, 'PCK CRL')
  if (rootCrl!.revoked.has(pckCrlIssuer.serial)) fail('CRL_CHAIN_UNTRUSTED', `PCK CRL issuer "${pckCrlIssuer.subjectCN}" is revoked`)
  return {root, rootCrl: rootCrl!, pckCrl: pckCrl!, pckCrlIssuer}
}

/** One signed collateral JSON document (TCB info or QE identity) and how to check it. */
interface SignedJsonDocument<T> {
  what: string
  /** Error-code prefix: TCB_INFO or QE_IDENTITY. */
  code: 'TCB_INFO' | 'QE_IDENTITY'
  chain: string
  text: string
  signature: string
  signatureField: string
  parse: (text: string) => T
}

/**
 * A signed JSON document: signing chain to a pinned root, a TCB signing certificate not revoked by
 * the root CA CRL, the signature over the exact JSON bytes, then decoded and inside its window.
 */
export function checkSignedJson<T extends {issue_date: number; next_update: number}>(d: SignedJsonDocument<T>, rootCrl: Crl, roots: ReadonlySet<string>, nowMs: number): T {
  const chain = verifyIssuerChain(d.chain, roots, nowMs, `${d.code}_CHAIN_UNTRUSTED`, `${d.what} issuer chain`)
  const signer = chain[0]
  if (!signer.subjectCN.includes(CN_TCB_SIGNING)) fail(`${d.code}_CHAIN_UNTRUSTED`, `${d.what} signer "${signer.subjectCN}" is not a TCB signing certificate`)
  if (rootCrl.revoked.has(signer.serial)) fail(`${d.code}_SIGNER_REVOKED`, `${d.what} signing certificate is revoked`)
  if (!verifyRawSig(Buffer.from(d.text, 'utf8'), hexField(d.signature, d.signatureField), signer.publicKey)) {
    fail(`${d.code}_SIGNATURE_INVALID`, `${d.what} signature does not verify over the signed JSON bytes`)
  }
  let doc: T
  try {
    doc = d.parse(d.text)
  } catch (e) {
    if (e instanceof CollateralFormatError) fail(`${d.code}_MALFORMED`, e.message)
    throw e
  }
  checkWindow(doc!.issue_date, doc!.next_update, nowMs, `${d.code}_EXPIRED`, d.what)
  return doc!
}

/** The TCB info document of a bundle. */
export const tcbInfoDocument = (c: QuoteCollateralV3): SignedJsonDocument<TcbInfo> => ({
  what: 'TCB info',
  code: 'TCB_INFO',
  chain: c.tcb_info_issuer_chain,
  text: c.tcb_info,
  signature: c.tcb_info_signature,
  signatureField: 'tcb_info_signature',
  parse: parseTcbInfo,
})

/** The QE identity document of a bundle. */
export const qeIdentityDocument = (c: QuoteCollateralV3): SignedJsonDocument<QeIdentity> => ({
  what: 'QE identity',
  code: 'QE_IDENTITY',
  chain: c.qe_identity_issuer_chain,
  text: c.qe_identity,
  signature: c.qe_identity_signature,
  signatureField: 'qe_identity_signature',
  parse: parseQeIdentity,
})

/** All of a bundle's own checks, in order: fields, CRLs, TCB info, QE identity. */
export function verifyCollateral(c: QuoteCollateralV3, roots: ReadonlySet<string>, nowMs: number): CheckedCollateral {
  checkCollateralFields(c)
  const crls = checkCrls(c, roots, nowMs)
  const tcbInfo = checkSignedJson(tcbInfoDocument(c), crls.rootCrl, roots, nowMs)
  const qeIdentity = checkSignedJson(qeIdentityDocument(c), crls.rootCrl, roots, nowMs)
  return {...crls, tcbInfo, qeIdentity}
}
