/**
 * The quote verifier: bytes + collateral + options in, one result object out. Pure (no I/O, no
 * clock: `now` is an option, see options.ts). Follows Intel's QVL rules (see docs/guide/verify.md),
 * one named check per step (quote-checks.ts, pck-chain.ts, collateral-checks.ts, tcb.ts):
 *
 *   parse → header → PCK chain (pinned root) → CRLs → revocation → TCB info → QE identity →
 *   QE report signature → QE report data binding → QE identity match → quote signature →
 *   TDX module identity → TCB level + convergence
 *
 * A QuoteVerifier verifies its collateral once and caches PCK-chain results per distinct chain, so
 * verifying many quotes costs two ECDSA checks and a hash per quote.
 */
import {BODY_TYPE_SGX, BODY_TYPE_TD15, QUOTE_VERSION_TDX_V5, TEE_TYPE_TDX, decodeBody, parseQuote, parseSgxReport, tdBodyField, type ParsedQuote} from '../abi/quote.js'
import {tdxModuleIdentityId, type TcbStatus} from '../abi/tcb-info.js'
import {ExitCode, TdxkitError} from '../errors.js'
import {iso} from './chain.js'
import {verifyCollateral, type CheckedCollateral} from './collateral-checks.js'
import {STEPS, STEP_ORDER, VerifyError, type StepId} from './errors.js'
import {resolveOptions, type ResolvedOptions, type VerifyOptions} from './options.js'
import {pckChainBytesOf, verifyPckChain, type PckChain} from './pck-chain.js'
import {
  checkCollateralFitsTee,
  checkNotRevoked,
  checkPckCrlIssuer,
  checkQeIdentity,
  checkQeReportData,
  checkQeReportSignature,
  checkQeVendor,
  checkQuoteSignature,
  checkTcbInfoMatchesPck,
  checkTdxModule,
} from './quote-checks.js'
import {evaluateTcb, type QeEvaluation, type TcbEvaluation} from './tcb.js'

export {defaultOptions} from './options.js'
export {CN_TCB_SIGNING} from './collateral-checks.js'

/** CN phrase Intel's QVL expects of the root (the simulator's root contains it too, prefixed SIMULATED). */
export const CN_ROOT_CA = 'SGX Root CA'
/** Distinct PCK chains remembered per verifier before the cache starts over. */
const MAX_CACHED_CHAINS = 1024

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

/** A check's outcome computed once and replayed: the value, or the verification error it gave. */
interface Memo<T> {
  state?: T
  error?: VerifyError
}

function memo<T>(compute: () => T): Memo<T> {
  try {
    return {state: compute()}
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e
    return {error: e}
  }
}

class StepLog {
  readonly steps: StepRecord[] = []
  pass(id: StepId, detail?: string): void {
    this.steps.push(detail ? {id, title: STEPS[id], result: 'pass', detail} : {id, title: STEPS[id], result: 'pass'})
  }
  skip(id: StepId, detail: string): void {
    this.steps.push({id, title: STEPS[id], result: 'skip', detail})
  }
  /** Every step not recorded is skipped (why: `detail`), and the list is put in pipeline order. */
  complete(detail: string): void {
    const s = this.steps
    if (s.length === STEP_ORDER.length && s.every((x, i) => x.id === STEP_ORDER[i])) return
    const done = new Set(s.map((x) => x.id))
    for (const id of STEP_ORDER) if (!done.has(id)) this.skip(id, detail)
    s.sort((a, b) => STEP_ORDER.indexOf(a.id) - STEP_ORDER.indexOf(b.id))
  }
}

/** The result's `quote` summary of a parsed quote (PCK fields are added once the chain verifies). */
function quoteSummary(q: ParsedQuote, size: number): NonNullable<VerifyResult['quote']> {
  return {
    version: q.version,
    tee_type: q.header.tee_type === TEE_TYPE_TDX ? 'TDX' : 'SGX',
    body_type: q.body_type === BODY_TYPE_SGX ? 'SGX' : q.body_type === BODY_TYPE_TD15 ? 'TD15' : 'TD10',
    size,
    signature_data_len: q.signature_data_len,
    trailing_bytes: q.trailing_bytes,
    qe_svn: q.header.qe_svn,
    pce_svn: q.header.pce_svn,
    qe_vendor_id: q.header.qe_vendor_id.toString('hex'),
  }
}

/** The result's `collateral` summary of a checked bundle. */
function collateralSummary(col: CheckedCollateral): NonNullable<VerifyResult['collateral']> {
  return {
    tcb_info_id: col.tcbInfo.id,
    tcb_info_version: col.tcbInfo.version,
    tcb_info_issue_date: iso(col.tcbInfo.issue_date),
    tcb_info_next_update: iso(col.tcbInfo.next_update),
    tcb_evaluation_data_number: col.tcbInfo.tcb_evaluation_data_number,
    qe_identity_id: col.qeIdentity.id,
    qe_identity_next_update: iso(col.qeIdentity.next_update),
    ...(col.pckCrl.nextUpdate ? {pck_crl_next_update: iso(col.pckCrl.nextUpdate)} : {}),
    ...(col.rootCrl.nextUpdate ? {root_ca_crl_next_update: iso(col.rootCrl.nextUpdate)} : {}),
  }
}

/** The QE report's fields. */
type QeReport = ReturnType<typeof parseSgxReport>

/** What the steps of one verification share. */
interface Run {
  q: ParsedQuote
  log: StepLog
  res: VerifyResult
  isTdx: boolean
}

/** The collateral once checked, with what every quote's result repeats from it (computed once). */
interface CollateralView {
  col: CheckedCollateral
  summary: NonNullable<VerifyResult['collateral']>
  crlsDetail: string
  tcbInfoDetail: string
  qeIdentityDetail: string
}

function collateralView(col: CheckedCollateral): CollateralView {
  const ti = col.tcbInfo
  const qi = col.qeIdentity
  return {
    col,
    summary: collateralSummary(col),
    crlsDetail: `root CA CRL and "${col.pckCrl.issuerCN}" CRL signed and current`,
    tcbInfoDetail: `${ti.id} v${ti.version}, FMSPC ${ti.fmspc.toString('hex')}, eval #${ti.tcb_evaluation_data_number}, next update ${iso(ti.next_update)}`,
    qeIdentityDetail: `${qi.id} v${qi.version}, next update ${iso(qi.next_update)}`,
  }
}

/** A PCK chain this verifier has met: its certification data, its outcome, and what its result steps repeat. */
interface ChainEntry {
  bytes: Buffer
  outcome: Memo<PckChain>
  /** The pck_chain step's detail, and the platform's FMSPC and PCE-ID as hex. */
  detail?: string
  fmspc?: string
  pceid?: string
  /** The chain against the collateral (CRL issuer, revocation, TCB info platform), once; its revocation step detail. */
  collateralChecks?: Memo<string>
  /** QE reports met under this chain, by their signature (binary string): see QeReportMemo. */
  qeReports: Map<string, QeReportMemo>
  /** TCB level evaluations, by TEE_TCB_SVN, TEE_TCB_SVN2 and the QE's level (see tcbLevelStep). */
  tcbLevels: Map<string, Memo<{tcb: TcbEvaluation; detail: string}>>
}

/** The pck_revocation step's detail: the leaf's serial was looked up in the PCK CRL. */
const revocationDetail = (col: CheckedCollateral, chain: PckChain): string =>
  `PCK serial ${chain.leaf.serial.slice(0, 16)}… not in ${col.pckCrl.revoked.size} revoked entries`

/** A copy of an evaluation's own objects (its level records' advisory lists are shared, as evaluateTcb shares them). */
const copyTcb = (t: TcbEvaluation): TcbEvaluation => ({
  ...t,
  advisory_ids: [...t.advisory_ids],
  platform_level: {...t.platform_level},
  ...(t.module ? {module: {...t.module}} : {}),
  qe: {...t.qe},
})

/**
 * A QE report this verifier has checked under a PCK chain: its bytes, the attestation key and
 * authentication data it was found to bind (with the digest for the step detail), and its
 * evaluation against the collateral's QE identity. A quote carrying the same report, key and
 * auth data skips the hash and the identity match; any other bytes are checked in full.
 */
interface QeReportMemo {
  report: Buffer
  attestationKey: Buffer
  authData: Buffer
  fields: QeReport
  bindingDetail: string
  identity?: Memo<{evaluation: QeEvaluation; detail: string}>
}
/** Distinct QE reports remembered per PCK chain before the memo starts over. */
const MAX_QE_REPORT_MEMOS = 256

/** Bytes of the certification data that key the chain table: inside the leaf certificate's base64 (serial number, issuer). */
const CHAIN_KEY_FROM = 64
const CHAIN_KEY_TO = 128
/**
 * A short key for the chain table: the length and a window of the leaf's text. Quotes of one
 * platform repeat the same few kilobytes of PEM; keying by the whole text cost a string decode and
 * a hash of it per quote. Entries are confirmed by comparing the bytes.
 */
const chainKey = (data: Buffer): string => `${data.length}:${data.toString('latin1', CHAIN_KEY_FROM, CHAIN_KEY_TO)}`

export class QuoteVerifier {
  readonly now: number
  private readonly opts: ResolvedOptions
  /** The verification time as the result's `at` (ISO 8601). */
  private readonly at: string
  private collateralMemo?: Memo<CollateralView>
  private readonly chains = new Map<string, ChainEntry[]>()
  private chainCount = 0

  /** Options as in options.ts; `trustedRoots` defaults to the Intel SGX Root CA. */
  constructor(opts: VerifyOptions) {
    this.opts = resolveOptions(opts)
    this.now = this.opts.now
    this.at = iso(this.opts.nowMs)
  }

  /** Verify the collateral now (it is otherwise checked on the first quote): batch workers warm up with this before taking work. */
  prepare(): void {
    this.collateralOutcome()
  }

  /** Verify a quote's bytes; `parsed`, when the caller has parsed them already (parseQuote of the same bytes), saves a second parse. */
  verify(input: Uint8Array, parsed?: ParsedQuote): VerifyResult {
    const log = new StepLog()
    const res: VerifyResult = {
      ok: false,
      mode: this.opts.collateral ? 'full' : 'signatures-only',
      status: null,
      advisory_ids: [],
      exit_code: ExitCode.OK,
      error: null,
      steps: log.steps,
      at: this.at,
      at_unix: this.now,
      quote: null,
      body: null,
      tcb: null,
      collateral: null,
    }
    let q: ParsedQuote | undefined
    try {
      q = parsed ?? parseQuote(input)
      log.pass('parse', `v${q.version}, ${q.length} bytes${q.trailing_bytes ? `, ${q.trailing_bytes} trailing bytes ignored` : ''}`)
      res.quote = quoteSummary(q, input.length)
      res.body = decodeBody(q)
      this.run({q, log, res, isTdx: q.header.tee_type === TEE_TYPE_TDX})
      res.ok = true
    } catch (e) {
      if (!(e instanceof TdxkitError)) throw e
      recordFailure(e, q ? 'header' : 'parse', log, res)
    }
    log.complete(res.ok ? 'not applicable without collateral' : 'not reached')
    return res
  }

  /** The steps after parsing, in Intel's order; collateral steps only with collateral. */
  private run(r: Run): void {
    checkQeVendor(r.q)
    r.log.pass('header', `${r.res.quote!.tee_type} quote v${r.q.version}, ${r.res.quote!.body_type} body, ECDSA P-256, Intel QE`)
    const entry = this.pckChainStep(r)
    const view = this.checkedCollateral()
    if (view) this.collateralSteps(r, view, entry)
    const col = view?.col
    const qe = this.qeReportSteps(r, entry)
    const qeEval = col ? this.qeIdentityStep(r, qe, col) : undefined
    checkQuoteSignature(r.q)
    r.log.pass('quote_signature', `over ${r.q.signed_region.length} bytes (header${r.q.version === QUOTE_VERSION_TDX_V5 ? ' ‖ descriptor' : ''} ‖ body)`)
    if (!col) return
    this.tdxModuleStep(r, col)
    this.tcbLevelStep(r, col, entry, qeEval!)
  }

  /** PCK chain to a trusted root (verified once per distinct chain); the result names the platform. */
  private pckChainStep({q, res, log}: Run): ChainEntry {
    const entry = this.chainEntry(q)
    if (entry.outcome.error) throw entry.outcome.error
    const chain = entry.outcome.state!
    res.quote!.fmspc = entry.fmspc ??= chain.ext.fmspc.toString('hex')
    res.quote!.pceid = entry.pceid ??= chain.ext.pceid.toString('hex')
    res.quote!.pck_issuer = chain.intermediate.subjectCN
    entry.detail ??= `"${chain.leaf.subjectCN}" ← "${chain.intermediate.subjectCN}" ← "${chain.root.subjectCN}" (pinned sha256 ${chain.root.fingerprint.slice(0, 16)}…)`
    log.pass('pck_chain', entry.detail)
    return entry
  }

  /**
   * The checked collateral against this quote: its type, then (once per chain, replayed after) the
   * PCK CRL's issuer, revocation and the platform's TCB info.
   */
  private collateralSteps({log, res, isTdx}: Run, view: CollateralView, entry: ChainEntry): void {
    const {col} = view
    res.collateral = {...view.summary}
    checkCollateralFitsTee(col.tcbInfo, col.qeIdentity, isTdx)
    const chain = entry.outcome.state!
    entry.collateralChecks ??= memo(() => {
      checkPckCrlIssuer(col, chain)
      checkNotRevoked(col, chain)
      checkTcbInfoMatchesPck(col.tcbInfo, chain.ext)
      return revocationDetail(col, chain)
    })
    const checks = entry.collateralChecks
    // Replayed failures are recorded against the steps before theirs exactly as the checks would have.
    if (checks.error?.step === 'crls') throw checks.error
    log.pass('crls', view.crlsDetail)
    if (checks.error?.step === 'pck_revocation') throw checks.error
    if (checks.error) {
      log.pass('pck_revocation', revocationDetail(col, chain))
      throw checks.error
    }
    log.pass('pck_revocation', checks.state!)
    log.pass('tcb_info', view.tcbInfoDetail)
    log.pass('qe_identity', view.qeIdentityDetail)
  }

  /** The QE report: signed by the PCK key, and binding the attestation key (see QeReportMemo). */
  private qeReportSteps({q, log}: Run, entry: ChainEntry): QeReportMemo {
    checkQeReportSignature(q, entry.outcome.state!)
    log.pass('qe_report_signature')
    const key = q.qe_report_signature.toString('latin1')
    let m = entry.qeReports.get(key)
    if (!m || !m.report.equals(q.qe_report) || !m.attestationKey.equals(q.attestation_key) || !m.authData.equals(q.qe_auth_data)) {
      // Copies: the caller may reuse the quote's buffer.
      const report = Buffer.from(q.qe_report)
      const fields = parseSgxReport(report)
      const binding = checkQeReportData(q, fields)
      m = {report, attestationKey: Buffer.from(q.attestation_key), authData: Buffer.from(q.qe_auth_data), fields, bindingDetail: `sha256 ${binding.toString('hex', 0, 8)}…`}
      if (entry.qeReports.size >= MAX_QE_REPORT_MEMOS) entry.qeReports.clear()
      entry.qeReports.set(key, m)
    }
    log.pass('qe_report_data', m.bindingDetail)
    return m
  }

  /** The QE report against the QE identity, and the QE's TCB level (once per report and verifier). */
  private qeIdentityStep({log}: Run, qe: QeReportMemo, col: CheckedCollateral): QeEvaluation {
    qe.identity ??= memo(() => {
      const evaluation = checkQeIdentity(qe.fields, col.qeIdentity)
      return {evaluation, detail: `${col.qeIdentity.id}, ISVSVN ${qe.fields.isvsvn.readUInt16LE(0)} → ${evaluation.status}`}
    })
    if (qe.identity.error) throw qe.identity.error
    const {evaluation, detail} = qe.identity.state!
    log.pass('qe_identity_match', detail)
    return evaluation
  }

  /** TDX quotes: the module identity their TEE_TCB_SVN selects (SGX quotes skip this step). */
  private tdxModuleStep({q, log, isTdx}: Run, col: CheckedCollateral): void {
    if (!isTdx) {
      log.skip('tdx_module', 'not applicable to SGX quotes')
      return
    }
    const m = checkTdxModule({tee_tcb_svn: tdBodyField(q, 'tee_tcb_svn')!, mrsignerseam: tdBodyField(q, 'mrsignerseam')!, seam_attributes: tdBodyField(q, 'seam_attributes')!}, col.tcbInfo)
    log.pass('tdx_module', m.major > 0 ? `${tdxModuleIdentityId(m.major)}, ISVSVN ${m.svn}` : 'module major version 0: base tdxModule')
  }

  /** TCB level matching and status convergence (tcb.ts); the result carries the status and advisories. */
  private tcbLevelStep({q, log, res, isTdx}: Run, col: CheckedCollateral, entry: ChainEntry, qe: QeEvaluation): void {
    const chain = entry.outcome.state!
    const svn = isTdx ? tdBodyField(q, 'tee_tcb_svn') : undefined
    const svn2 = tdBodyField(q, 'tee_tcb_svn2')
    // The evaluation is a function of the chain's TCB (fixed per entry), the collateral (fixed per
    // verifier), TEE_TCB_SVN(2) and the QE's level: computed once per distinct combination.
    const key = `${svn ? svn.toString('latin1') : '-'}${svn2 ? svn2.toString('latin1') : '-'}${qe.status}${qe.level.isvsvn}`
    let hit = entry.tcbLevels.get(key)
    if (!hit) {
      hit = memo(() => {
        const tcb = evaluateTcb({
          tcbInfo: col.tcbInfo,
          pckComponents: chain.ext.tcb_components,
          pckPcesvn: chain.ext.pcesvn,
          ...(svn ? {teeTcbSvn: svn} : {}),
          ...(svn2 ? {teeTcbSvn2: svn2} : {}),
          qe,
        })
        return {tcb, detail: `${tcb.status}${tcb.advisory_ids.length ? ` [${tcb.advisory_ids.join(', ')}]` : ''} (level ${tcb.platform_level.tcb_date.slice(0, 10)})`}
      })
      if (entry.tcbLevels.size >= MAX_QE_REPORT_MEMOS) entry.tcbLevels.clear()
      entry.tcbLevels.set(key, hit)
    }
    if (hit.error) throw hit.error
    // Each result gets its own objects, as when each was evaluated anew.
    const tcb = copyTcb(hit.state!.tcb)
    res.tcb = tcb
    res.status = tcb.status
    res.advisory_ids = tcb.advisory_ids
    log.pass('tcb_level', hit.state!.detail)
  }

  /** The quote's PCK chain entry: verified once per distinct certification data (bytes compared, see chainKey). */
  private chainEntry(q: ParsedQuote): ChainEntry {
    const data = pckChainBytesOf(q)
    const key = chainKey(data)
    const bucket = this.chains.get(key)
    const hit = bucket?.find((e) => e.bytes.equals(data))
    if (hit) return hit
    const entry: ChainEntry = {bytes: Buffer.from(data), outcome: memo(() => verifyPckChain(q.pck_chain_pem!, this.opts.roots, this.opts.nowMs)), qeReports: new Map(), tcbLevels: new Map()}
    if (this.chainCount >= MAX_CACHED_CHAINS) {
      this.chains.clear()
      this.chainCount = 0
    }
    const list = this.chains.get(key)
    if (list) list.push(entry)
    else this.chains.set(key, [entry])
    this.chainCount++
    return entry
  }

  /** The collateral's own checks, computed once per verifier (undefined without collateral). */
  private collateralOutcome(): Memo<CollateralView> | undefined {
    const c = this.opts.collateral
    if (!c) return undefined
    this.collateralMemo ??= memo(() => collateralView(verifyCollateral(c, this.opts.roots, this.opts.nowMs)))
    return this.collateralMemo
  }

  /** The checked collateral, or its verification error thrown (undefined without collateral). */
  private checkedCollateral(): CollateralView | undefined {
    const m = this.collateralOutcome()
    if (m?.error) throw m.error
    return m?.state
  }
}

/** A failure as the result's error and its step's record (replacing a pass already logged for that step). */
function recordFailure(e: TdxkitError, fallbackStep: StepId, log: StepLog, res: VerifyResult): void {
  const step = (e.step as StepId | undefined) ?? fallbackStep
  const keep = log.steps.filter((s) => s.id !== step)
  log.steps.length = 0
  log.steps.push(...keep, {id: step, title: STEPS[step], result: 'fail', detail: e.message, code: e.code})
  res.error = {code: e.code, message: e.message, step, exit_code: e.exit}
  res.exit_code = e.exit
  if (e.detail?.tcb) res.tcb = e.detail.tcb as TcbEvaluation
  if (res.tcb) res.status = res.tcb.status
}

/** Verify one quote (a fresh verifier: collateral checked for this call). */
export function verifyQuote(quote: Uint8Array, opts: VerifyOptions): VerifyResult {
  return new QuoteVerifier(opts).verify(quote)
}
