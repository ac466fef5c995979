/**
 * The quote verifier: bytes + collateral + options in, one result object out. Pure (no I/O, no
 * clock: `now` is an option). Follows Intel's QVL rules (see docs/guide/verify.md):
 *
 *   parse → header → PCK chain (pinned root) → CRLs → revocation → TCB info → QE identity →
 *   QE report signature → QE report data binding → QE identity match → quote signature →
 *   TDX module identity → TCB level + convergence
 *
 * A QuoteVerifier verifies its collateral once and caches PCK-chain results per distinct chain, so
 * verifying many quotes costs two ECDSA checks and a hash per quote.
 */
import {createHash} from 'node:crypto'
import {
  BODY_TYPE_SGX,
  BODY_TYPE_TD15,
  CERT_DATA_TYPE_PCK_CHAIN,
  INTEL_QE_VENDOR_ID,
  TEE_TYPE_TDX,
  decodeBody,
  parseQuote,
  parseSgxReport,
  type ParsedQuote,
} from '../abi/quote.js'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {COLLATERAL_FIELDS} from '../abi/collateral.js'
import {parsePckExtension, PckExtensionError, sgxExtensionOf, type PckExtension} from '../abi/pck-extension.js'
import {
  CollateralFormatError,
  QE_IDENTITY_ID_SGX,
  QE_IDENTITY_ID_TDX,
  QE_IDENTITY_VERSION,
  TCB_INFO_ID_SGX,
  TCB_INFO_ID_TDX,
  TCB_INFO_VERSION_TDX,
  parseQeIdentity,
  parseTcbInfo,
  tdxModuleIdentityId,
  type QeIdentity,
  type TcbInfo,
  type TcbStatus,
} from '../abi/tcb-info.js'
import {ExitCode, TdxkitError} from '../errors.js'
import {STEPS, STEP_ORDER, VerifyError, fail, type StepId, type VerifyErrorCode} from './errors.js'
import {CN_PCK_LEAF, CN_PCK_PLATFORM_CA, CN_PCK_PROCESSOR_CA} from './pck-info.js'
import {INTEL_SGX_ROOT_CA_SHA256, fingerprintOf, normalizeFingerprint} from './roots.js'
import {evaluateQe, evaluateTcb, findModuleIdentity, type TcbEvaluation} from './tcb.js'
import {X509Error, certSignedBy, crlSignedBy, keyFromRawXY, parseCert, parseCrl, parsePemChain, verifyRawSig, type Cert, type Crl} from './x509.js'

/** CN phrases Intel's QVL expects (the simulator's names contain them too, prefixed SIMULATED). */
export const CN_ROOT_CA = 'SGX Root CA'
export const CN_TCB_SIGNING = 'SGX TCB Signing'

export interface VerifyOptions {
  /** Verification time, unix seconds. */
  now: number
  /** Accepted roots: SHA-256 fingerprints of the root certificate DER (default: Intel SGX Root CA). */
  trustedRoots?: string[]
  /** Collateral; without it only signatures and the PCK chain are checked (mode "signatures-only"). */
  collateral?: QuoteCollateralV3
}

/** Options with Intel's production root pinned, at `now` (unix seconds). */
export function defaultOptions(now: number): VerifyOptions {
  return {now, trustedRoots: [INTEL_SGX_ROOT_CA_SHA256]}
}

export type StepResult = 'pass' | 'fail' | 'skip'
export interface StepRecord {
  id: StepId
  title: string
  result: StepResult
  detail?: string
  code?: string
}

export interface VerifyResult {
  /** Authentic, collateral usable and TCB status not fatal (policy is separate: see appraise). */
  ok: boolean
  mode: 'full' | 'signatures-only'
  status: TcbStatus | null
  advisory_ids: string[]
  exit_code: number
  error: {code: string; message: string; step: string; exit_code: number} | null
  steps: StepRecord[]
  at: string
  at_unix: number
  quote: {
    version: number
    tee_type: 'TDX' | 'SGX'
    body_type: 'TD10' | 'TD15' | 'SGX'
    size: number
    signature_data_len: number
    trailing_bytes: number
    qe_svn: number
    pce_svn: number
    qe_vendor_id: string
    fmspc?: string
    pceid?: string
    pck_issuer?: string
  } | null
  body: Record<string, string> | null
  tcb: TcbEvaluation | null
  collateral: {
    tcb_info_id: string
    tcb_info_version: number
    tcb_info_issue_date: string
    tcb_info_next_update: string
    tcb_evaluation_data_number: number
    qe_identity_id: string
    qe_identity_next_update: string
    pck_crl_next_update?: string
    root_ca_crl_next_update?: string
  } | null
}

interface CollateralState {
  root: Cert
  rootCrl: Crl
  pckCrl: Crl
  pckCrlIssuer: Cert
  tcbInfo: TcbInfo
  qeIdentity: QeIdentity
}

interface ChainState {
  leaf: Cert
  intermediate: Cert
  root: Cert
  ext: PckExtension
  /** (QE report ‖ signature) pairs already verified with this PCK key. */
  verifiedQeReports: Set<string>
}

const iso = (ms: number) => new Date(ms).toISOString()

class StepLog {
  readonly steps: StepRecord[] = []
  pass(id: StepId, detail?: string): void {
    this.steps.push({id, title: STEPS[id], result: 'pass', ...(detail ? {detail} : {})})
  }
  skip(id: StepId, detail: string): void {
    this.steps.push({id, title: STEPS[id], result: 'skip', detail})
  }
}

function x509Fail(e: unknown, code: VerifyErrorCode, what: string): never {
  if (e instanceof VerifyError) throw e
  if (e instanceof X509Error) fail(e.kind === 'algorithm' && code === 'PCK_CHAIN_MALFORMED' ? 'PCK_CERT_BAD_ALGORITHM' : code, `${what}: ${e.message}`)
  throw e
}

function checkValidity(cert: Cert, nowMs: number, code: VerifyErrorCode, what: string): void {
  if (nowMs < cert.notBefore || nowMs > cert.notAfter) {
    fail(code, `${what} "${cert.subjectCN}" is not valid at ${iso(nowMs)} (valid ${iso(cert.notBefore)} .. ${iso(cert.notAfter)})`)
  }
}

/**
 * A loose PEM issuer chain (collateral) verified to a pinned root: each certificate signed by the
 * next, names chained, all valid at `now`, last one self-signed and trusted by fingerprint.
 */
function verifyIssuerChain(pem: string, roots: Set<string>, nowMs: number, code: VerifyErrorCode, what: string): Cert[] {
  let certs: Cert[]
  try {
    certs = parsePemChain(pem, false).map((d) => parseCert(d))
  } catch (e) {
    x509Fail(e, code, what)
  }
  if (certs!.length < 2) fail(code, `${what}: expected at least 2 certificates, got ${certs!.length}`)
  const root = certs![certs!.length - 1]
  if (!roots.has(root.fingerprint)) fail(code, `${what}: root "${root.subjectCN}" (sha256 ${root.fingerprint}) is not a trusted root`)
  for (let i = 0; i < certs!.length; i++) {
    const c = certs![i]
    const parent = certs![Math.min(i + 1, certs!.length - 1)]
    if (!c.issuerName.equals(parent.subjectName)) fail(code, `${what}: "${c.subjectCN}" is not issued by "${parent.subjectCN}"`)
    if (i > 0 && !c.isCA) fail(code, `${what}: "${c.subjectCN}" is not a CA certificate`)
    if (!certSignedBy(c, parent)) fail(code, `${what}: signature of "${c.subjectCN}" does not verify`)
    checkValidity(c, nowMs, code, what)
  }
  return certs!
}

function checkCrlCurrent(crl: Crl, nowMs: number, what: string): void {
  if (nowMs < crl.thisUpdate || (crl.nextUpdate !== undefined && nowMs > crl.nextUpdate)) {
    fail('CRL_EXPIRED', `${what} is not valid at ${iso(nowMs)} (${iso(crl.thisUpdate)} .. ${crl.nextUpdate ? iso(crl.nextUpdate) : 'open'})`)
  }
}

function checkWindow(issue: number, next: number, nowMs: number, code: VerifyErrorCode, what: string): void {
  if (nowMs < issue || nowMs > next) fail(code, `${what} is not valid at ${iso(nowMs)} (issued ${iso(issue)}, next update ${iso(next)})`)
}

const hexField = (s: unknown, what: string): Buffer => {
  if (typeof s !== 'string' || !/^[0-9a-fA-F]*$/.test(s) || s.length % 2) fail('COLLATERAL_MALFORMED', `collateral ${what} is not a hex string`)
  return Buffer.from(s as string, 'hex')
}

/** One signed collateral JSON document (TCB info or QE identity) and how to check it. */
interface SignedJsonCheck<T> {
  what: string
  /** Error-code prefix: TCB_INFO or QE_IDENTITY. */
  code: 'TCB_INFO' | 'QE_IDENTITY'
  chain: string
  text: string
  signature: string
  signatureField: string
  parse: (text: string) => T
}

export class QuoteVerifier {
  readonly now: number
  private readonly nowMs: number
  private readonly roots: Set<string>
  private readonly collateral?: QuoteCollateralV3
  private collateralState?: {state?: CollateralState; error?: VerifyError}
  private readonly chains = new Map<string, {state?: ChainState; error?: VerifyError}>()

  constructor(opts: VerifyOptions) {
    if (!Number.isFinite(opts.now)) throw new TdxkitError('BAD_TIME', 'verification time must be a finite number of unix seconds')
    this.now = opts.now
    this.nowMs = Math.round(opts.now * 1000)
    this.roots = new Set((opts.trustedRoots ?? [INTEL_SGX_ROOT_CA_SHA256]).map(normalizeFingerprint))
    this.collateral = opts.collateral
  }

  /** Verify the collateral now (it is otherwise checked on the first quote): batch workers warm up with this before taking work. */
  prepare(): void {
    if (this.collateral) this.collateralChecks()
  }

  verify(input: Uint8Array): VerifyResult {
    const log = new StepLog()
    const res: VerifyResult = {
      ok: false,
      mode: this.collateral ? 'full' : 'signatures-only',
      status: null,
      advisory_ids: [],
      exit_code: ExitCode.OK,
      error: null,
      steps: log.steps,
      at: iso(this.nowMs),
      at_unix: this.now,
      quote: null,
      body: null,
      tcb: null,
      collateral: null,
    }
    let q: ParsedQuote | undefined
    try {
      q = parseQuote(input)
      log.pass('parse', `v${q.version}, ${q.length} bytes${q.trailing_bytes ? `, ${q.trailing_bytes} trailing bytes ignored` : ''}`)
      res.quote = {
        version: q.version,
        tee_type: q.header.tee_type === TEE_TYPE_TDX ? 'TDX' : 'SGX',
        body_type: q.body_type === BODY_TYPE_SGX ? 'SGX' : q.body_type === BODY_TYPE_TD15 ? 'TD15' : 'TD10',
        size: input.length,
        signature_data_len: q.signature_data_len,
        trailing_bytes: q.trailing_bytes,
        qe_svn: q.header.qe_svn,
        pce_svn: q.header.pce_svn,
        qe_vendor_id: q.header.qe_vendor_id.toString('hex'),
      }
      res.body = decodeBody(q)
      this.run(q, log, res)
      res.ok = true
    } catch (e) {
      if (!(e instanceof TdxkitError)) throw e
      const step = (e.step as StepId | undefined) ?? (q ? 'header' : 'parse')
      const keep = log.steps.filter((s) => s.id !== step)
      log.steps.length = 0
      log.steps.push(...keep, {id: step, title: STEPS[step], result: 'fail', detail: e.message, code: e.code})
      res.error = {code: e.code, message: e.message, step, exit_code: e.exit}
      res.exit_code = e.exit
      if (e.detail?.tcb) res.tcb = e.detail.tcb as TcbEvaluation
      if (res.tcb) res.status = res.tcb.status
    }
    const done = new Set(log.steps.map((s) => s.id))
    for (const id of STEP_ORDER) if (!done.has(id)) log.skip(id, res.ok ? 'not applicable without collateral' : 'not reached')
    log.steps.sort((a, b) => STEP_ORDER.indexOf(a.id) - STEP_ORDER.indexOf(b.id))
    return res
  }

  private run(q: ParsedQuote, log: StepLog, res: VerifyResult): void {
    // header
    if (!q.header.qe_vendor_id.equals(INTEL_QE_VENDOR_ID)) fail('QE_VENDOR_MISMATCH', `QE vendor ID ${q.header.qe_vendor_id.toString('hex')} is not Intel's`)
    log.pass('header', `${res.quote!.tee_type} quote v${q.version}, ${res.quote!.body_type} body, ECDSA P-256, Intel QE`)

    // PCK chain
    const chain = this.chain(q)
    const ext = chain.ext
    res.quote!.fmspc = ext.fmspc.toString('hex')
    res.quote!.pceid = ext.pceid.toString('hex')
    res.quote!.pck_issuer = chain.intermediate.subjectCN
    log.pass('pck_chain', `"${chain.leaf.subjectCN}" ← "${chain.intermediate.subjectCN}" ← "${chain.root.subjectCN}" (pinned sha256 ${chain.root.fingerprint.slice(0, 16)}…)`)

    const isTdx = q.header.tee_type === TEE_TYPE_TDX
    const col = this.collateral ? this.collateralChecks() : undefined
    if (col) {
      if (col.error) throw col.error
      const st = col.state!
      res.collateral = {
        tcb_info_id: st.tcbInfo.id,
        tcb_info_version: st.tcbInfo.version,
        tcb_info_issue_date: iso(st.tcbInfo.issue_date),
        tcb_info_next_update: iso(st.tcbInfo.next_update),
        tcb_evaluation_data_number: st.tcbInfo.tcb_evaluation_data_number,
        qe_identity_id: st.qeIdentity.id,
        qe_identity_next_update: iso(st.qeIdentity.next_update),
        ...(st.pckCrl.nextUpdate ? {pck_crl_next_update: iso(st.pckCrl.nextUpdate)} : {}),
        ...(st.rootCrl.nextUpdate ? {root_ca_crl_next_update: iso(st.rootCrl.nextUpdate)} : {}),
      }
      // Collateral type must fit the TEE (TDX ⇔ TCB info "TDX" v3 + "TD_QE"; SGX ⇔ "SGX" + "QE").
      const ti = st.tcbInfo
      const wantId = isTdx ? TCB_INFO_ID_TDX : TCB_INFO_ID_SGX
      if (ti.id !== wantId || (isTdx && ti.version !== TCB_INFO_VERSION_TDX) || (!isTdx && ti.version < 2)) {
        fail('TCB_INFO_MISMATCH', `TCB info is id "${ti.id}" v${ti.version} but a ${isTdx ? 'TDX quote needs id "TDX" v3' : 'SGX quote needs id "SGX"'}`)
      }
      const qi = st.qeIdentity
      const wantQe = isTdx ? QE_IDENTITY_ID_TDX : QE_IDENTITY_ID_SGX
      if (qi.id !== wantQe || qi.version !== QE_IDENTITY_VERSION) {
        fail('QE_IDENTITY_TYPE_MISMATCH', `QE identity is id "${qi.id}" v${qi.version} but a ${isTdx ? 'TDX' : 'SGX'} quote needs "${wantQe}" v${QE_IDENTITY_VERSION}`)
      }
      // The PCK CRL must come from the PCK's issuer; nothing in the chain may be revoked.
      if (!st.pckCrl.issuerName.equals(chain.leaf.issuerName) || !st.root.subjectName.equals(chain.root.subjectName)) {
        fail('CRL_ISSUER_MISMATCH', `PCK CRL issuer "${st.pckCrl.issuerCN}" is not the PCK issuer "${chain.leaf.issuerCN}"`)
      }
      if (st.pckCrlIssuer.fingerprint !== chain.intermediate.fingerprint && !st.pckCrlIssuer.publicKey.equals(chain.intermediate.publicKey)) {
        fail('CRL_ISSUER_MISMATCH', 'PCK CRL is signed by a different key than the PCK issuer')
      }
      log.pass('crls', `root CA CRL and "${st.pckCrl.issuerCN}" CRL signed and current`)
      if (st.rootCrl.revoked.has(chain.root.serial)) fail('ROOT_REVOKED', 'the root CA is listed in the root CA CRL')
      if (st.rootCrl.revoked.has(chain.intermediate.serial)) fail('PCK_CA_REVOKED', `"${chain.intermediate.subjectCN}" (serial ${chain.intermediate.serial}) is revoked`)
      if (st.pckCrl.revoked.has(chain.leaf.serial)) fail('PCK_REVOKED', `PCK certificate (serial ${chain.leaf.serial}) is revoked`)
      log.pass('pck_revocation', `PCK serial ${chain.leaf.serial.slice(0, 16)}… not in ${st.pckCrl.revoked.size} revoked entries`)

      if (!ti.fmspc.equals(ext.fmspc)) fail('FMSPC_MISMATCH', `TCB info FMSPC ${ti.fmspc.toString('hex')} is not the PCK's ${ext.fmspc.toString('hex')}`)
      if (!ti.pceid.equals(ext.pceid)) fail('PCEID_MISMATCH', `TCB info PCE-ID ${ti.pceid.toString('hex')} is not the PCK's ${ext.pceid.toString('hex')}`)
      log.pass('tcb_info', `${ti.id} v${ti.version}, FMSPC ${ti.fmspc.toString('hex')}, eval #${ti.tcb_evaluation_data_number}, next update ${iso(ti.next_update)}`)

      log.pass('qe_identity', `${qi.id} v${qi.version}, next update ${iso(qi.next_update)}`)
    }

    // QE report signature (PCK key) and binding of the attestation key. A QE signs one report per
    // attestation key, so identical (report, signature) pairs under one PCK are checked once.
    const qeKey = q.qe_report.toString('latin1') + q.qe_report_signature.toString('latin1')
    if (!chain.verifiedQeReports.has(qeKey)) {
      if (!verifyRawSig(q.qe_report, q.qe_report_signature, chain.leaf.publicKey)) fail('QE_REPORT_SIGNATURE_INVALID', 'QE report signature does not verify with the PCK key')
      if (chain.verifiedQeReports.size > 256) chain.verifiedQeReports.clear()
      chain.verifiedQeReports.add(qeKey)
    }
    log.pass('qe_report_signature')
    const qe = parseSgxReport(q.qe_report)
    const binding = createHash('sha256').update(q.attestation_key).update(q.qe_auth_data).digest()
    if (!binding.equals(qe.report_data.subarray(0, 32))) fail('QE_REPORT_DATA_MISMATCH', 'QE report data does not bind SHA-256(attestation key ‖ QE auth data)')
    log.pass('qe_report_data', `sha256 ${binding.toString('hex').slice(0, 16)}…`)

    let qeEval: ReturnType<typeof evaluateQe> | undefined
    if (col) {
      const qi = col.state!.qeIdentity
      const misc = qe.miscselect.readUInt32LE(0)
      const mask = qi.miscselect_mask.readUInt32BE(0)
      if (((misc & mask) >>> 0) !== ((qi.miscselect.readUInt32BE(0) & mask) >>> 0)) fail('QE_IDENTITY_MISMATCH', 'QE MISCSELECT does not match the QE identity')
      for (let i = 0; i < 16; i++) {
        if ((qe.attributes[i] & qi.attributes_mask[i]) !== (qi.attributes[i] & qi.attributes_mask[i])) fail('QE_IDENTITY_MISMATCH', 'QE ATTRIBUTES do not match the QE identity')
      }
      if (!qe.mrsigner.equals(qi.mrsigner)) fail('QE_IDENTITY_MISMATCH', `QE MRSIGNER ${qe.mrsigner.toString('hex')} is not the QE identity's`)
      const prodid = qe.isvprodid.readUInt16LE(0)
      if (prodid !== qi.isvprodid) fail('QE_IDENTITY_MISMATCH', `QE ISVPRODID ${prodid} is not ${qi.isvprodid}`)
      qeEval = evaluateQe(qi, qe.isvsvn.readUInt16LE(0))
      log.pass('qe_identity_match', `${qi.id}, ISVSVN ${qe.isvsvn.readUInt16LE(0)} → ${qeEval.status}`)
    }

    // Quote signature
    let key
    try {
      key = keyFromRawXY(q.attestation_key)
    } catch {
      fail('ATTESTATION_KEY_INVALID', 'attestation key is not a valid P-256 point')
    }
    if (!verifyRawSig(q.signed_region, q.signature, key!)) fail('QUOTE_SIGNATURE_INVALID', 'quote signature does not verify with the attestation key')
    log.pass('quote_signature', `over ${q.signed_region.length} bytes (header${q.version === 5 ? ' ‖ descriptor' : ''} ‖ body)`)

    if (!col) return
    const ti = col.state!.tcbInfo
    if (isTdx) {
      const td = q.td!
      const major = td.tee_tcb_svn[1]
      const ident = major > 0 ? findModuleIdentity(ti, major) : ti.tdx_module
      if (!ident) {
        fail(major > 0 ? 'TDX_MODULE_IDENTITY_NOT_FOUND' : 'TDX_MODULE_MISMATCH', major > 0 ? `TCB info has no TDX module identity ${tdxModuleIdentityId(major)}` : 'TCB info has no tdxModule entry')
      }
      if (!td.mrsignerseam.equals(ident!.mrsigner)) fail('TDX_MODULE_MISMATCH', `MRSIGNERSEAM ${td.mrsignerseam.toString('hex').slice(0, 16)}… is not the TDX module signer`)
      for (let i = 0; i < 8; i++) {
        if ((td.seam_attributes[i] & ident!.attributes_mask[i]) !== (ident!.attributes[i] & ident!.attributes_mask[i])) fail('TDX_MODULE_MISMATCH', 'SEAMATTRIBUTES do not match the TDX module identity')
      }
      log.pass('tdx_module', major > 0 ? `${tdxModuleIdentityId(major)}, ISVSVN ${td.tee_tcb_svn[0]}` : 'module major version 0: base tdxModule')
    } else {
      log.skip('tdx_module', 'not applicable to SGX quotes')
    }
    const tcb = evaluateTcb({
      tcbInfo: ti,
      pckComponents: ext.tcb_components,
      pckPcesvn: ext.pcesvn,
      ...(isTdx ? {teeTcbSvn: q.td!.tee_tcb_svn} : {}),
      ...(q.td?.tee_tcb_svn2 ? {teeTcbSvn2: q.td.tee_tcb_svn2} : {}),
      qe: qeEval!,
    })
    res.tcb = tcb
    res.status = tcb.status
    res.advisory_ids = tcb.advisory_ids
    log.pass('tcb_level', `${tcb.status}${tcb.advisory_ids.length ? ` [${tcb.advisory_ids.join(', ')}]` : ''} (level ${tcb.platform_level.tcb_date.slice(0, 10)})`)
  }

  /** Parse and verify the quote's PCK chain once per distinct chain text. */
  private chain(q: ParsedQuote): ChainState {
    if (q.pck_cert_data_type !== CERT_DATA_TYPE_PCK_CHAIN || q.pck_chain_pem === undefined) {
      fail('PCK_CHAIN_MISSING', `certification data type ${q.pck_cert_data_type} carries no PCK chain (only type 5 is supported)`)
    }
    const key = q.pck_chain_pem!
    let hit = this.chains.get(key)
    if (!hit) {
      try {
        hit = {state: this.verifyPckChain(key)}
      } catch (e) {
        if (!(e instanceof VerifyError)) throw e
        hit = {error: e}
      }
      if (this.chains.size > 1024) this.chains.clear()
      this.chains.set(key, hit)
    }
    if (hit.error) throw hit.error
    return hit.state!
  }

  private verifyPckChain(pem: string): ChainState {
    let ders: Buffer[]
    try {
      ders = parsePemChain(pem, true)
    } catch (e) {
      x509Fail(e, 'PCK_CHAIN_MALFORMED', 'PCK chain')
    }
    if (ders!.length !== 3) fail('PCK_CHAIN_LENGTH', `PCK chain has ${ders!.length} certificates, expected 3 (PCK, CA, root)`)
    // The root is pinned by the digest of its DER, before anything else is trusted.
    const rootFp = fingerprintOf(ders![2])
    if (!this.roots.has(rootFp)) {
      let cn = '(unparsable certificate)'
      try {
        cn = parseCert(ders![2]).subjectCN
      } catch {
        // named by digest only
      }
      fail('PCK_CHAIN_UNTRUSTED_ROOT', `PCK chain ends at "${cn}" (sha256 ${rootFp}), not a trusted root`)
    }
    let certs: Cert[]
    try {
      certs = ders!.map((d) => parseCert(d))
    } catch (e) {
      x509Fail(e, 'PCK_CHAIN_MALFORMED', 'PCK chain')
    }
    const [leaf, inter, root] = certs!
    if (!leaf.subjectCN.includes(CN_PCK_LEAF)) fail('PCK_CHAIN_BAD_NAME', `PCK leaf "${leaf.subjectCN}" is not a PCK certificate`)
    if (!inter.subjectCN.includes(CN_PCK_PLATFORM_CA) && !inter.subjectCN.includes(CN_PCK_PROCESSOR_CA)) fail('PCK_CHAIN_BAD_NAME', `"${inter.subjectCN}" is not a PCK Platform/Processor CA`)
    if (!this.roots.has(root.fingerprint)) fail('PCK_CHAIN_UNTRUSTED_ROOT', `PCK chain ends at "${root.subjectCN}" (sha256 ${root.fingerprint}), not a trusted root`)
    if (!leaf.issuerName.equals(inter.subjectName) || !inter.issuerName.equals(root.subjectName) || !root.issuerName.equals(root.subjectName)) {
      fail('PCK_CHAIN_ISSUER_MISMATCH', 'PCK chain issuer names do not chain')
    }
    if (!inter.isCA || !root.isCA) fail('PCK_CHAIN_ISSUER_MISMATCH', 'PCK chain issuers are not CA certificates')
    if (!certSignedBy(root, root)) fail('PCK_CHAIN_BAD_SIGNATURE', 'root certificate self-signature does not verify')
    if (!certSignedBy(inter, root)) fail('PCK_CHAIN_BAD_SIGNATURE', `"${inter.subjectCN}" signature does not verify with the root key`)
    if (!certSignedBy(leaf, inter)) fail('PCK_CHAIN_BAD_SIGNATURE', `PCK certificate signature does not verify with "${inter.subjectCN}"`)
    for (const c of certs!) checkValidity(c, this.nowMs, 'PCK_CERT_EXPIRED', 'certificate')
    let ext: PckExtension
    try {
      ext = parsePckExtension(sgxExtensionOf(leaf.extensions))
    } catch (e) {
      if (e instanceof PckExtensionError) fail('PCK_EXTENSION_MALFORMED', `PCK SGX extension: ${e.message}`)
      throw e
    }
    return {leaf, intermediate: inter, root, ext: ext!, verifiedQeReports: new Set()}
  }

  /** Collateral-only checks (CRLs, TCB info, QE identity), computed once per verifier. */
  private collateralChecks(): {state?: CollateralState; error?: VerifyError} {
    if (this.collateralState) return this.collateralState
    try {
      this.collateralState = {state: this.verifyCollateral()}
    } catch (e) {
      if (!(e instanceof VerifyError)) throw e
      this.collateralState = {error: e}
    }
    return this.collateralState
  }

  private verifyCollateral(): CollateralState {
    const c = this.collateral!
    if (!c || typeof c !== 'object') fail('COLLATERAL_MALFORMED', 'collateral is not an object')
    for (const f of COLLATERAL_FIELDS) if (typeof c[f] !== 'string') fail('COLLATERAL_MALFORMED', `collateral field ${f} is missing or not a string`)
    const nowMs = this.nowMs

    // CRLs
    let rootCrl: Crl, pckCrl: Crl
    try {
      rootCrl = parseCrl(hexField(c.root_ca_crl, 'root_ca_crl'))
      pckCrl = parseCrl(hexField(c.pck_crl, 'pck_crl'))
    } catch (e) {
      x509Fail(e, 'CRL_MALFORMED', 'CRL')
    }
    const pckCrlChain = verifyIssuerChain(c.pck_crl_issuer_chain, this.roots, nowMs, 'CRL_CHAIN_UNTRUSTED', 'PCK CRL issuer chain')
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

    // TCB info and QE identity: the same checks on each signed JSON document.
    const signedJson = <T extends {issue_date: number; next_update: number}>(d: SignedJsonCheck<T>): T => {
      const chain = verifyIssuerChain(d.chain, this.roots, nowMs, `${d.code}_CHAIN_UNTRUSTED`, `${d.what} issuer chain`)
      const signer = chain[0]
      if (!signer.subjectCN.includes(CN_TCB_SIGNING)) fail(`${d.code}_CHAIN_UNTRUSTED`, `${d.what} signer "${signer.subjectCN}" is not a TCB signing certificate`)
      if (rootCrl!.revoked.has(signer.serial)) fail(`${d.code}_SIGNER_REVOKED`, `${d.what} signing certificate is revoked`)
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
    const tcbInfo = signedJson<TcbInfo>({
      what: 'TCB info',
      code: 'TCB_INFO',
      chain: c.tcb_info_issuer_chain,
      text: c.tcb_info,
      signature: c.tcb_info_signature,
      signatureField: 'tcb_info_signature',
      parse: parseTcbInfo,
    })
    const qeIdentity = signedJson<QeIdentity>({
      what: 'QE identity',
      code: 'QE_IDENTITY',
      chain: c.qe_identity_issuer_chain,
      text: c.qe_identity,
      signature: c.qe_identity_signature,
      signatureField: 'qe_identity_signature',
      parse: parseQeIdentity,
    })

    return {root, rootCrl: rootCrl!, pckCrl: pckCrl!, pckCrlIssuer, tcbInfo, qeIdentity}
  }
}

/** Verify one quote (a fresh verifier: collateral checked for this call). */
export function verifyQuote(quote: Uint8Array, opts: VerifyOptions): VerifyResult {
  return new QuoteVerifier(opts).verify(quote)
}
