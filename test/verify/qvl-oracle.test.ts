/**
 * Intel's own Quote Verification Library (AttestationApp, ../shared/oracles/intel-qvl) as a second
 * oracle for `tdxkit quote verify`: every real vector with collateral at every `at_unix` of its
 * expected.json, and simulated quotes under every scenario flag of `module init`. tdxkit is driven only
 * through the built CLI (--json: exit code, status, error code). Where the two differ by design the
 * difference is listed case by case in DIFFERENCES and asserted as documented, never skipped.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {existsSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {REPO_ROOT, vectorPath, vectorsPresent} from '../helpers/vectors.js'
import {POOL_SIZE, QVL_STEPS, copyOracle, mapPool, oracleTest, qvlMissing, runQvl, type QvlVerdict} from '../helpers/qvl.js'

// ---------------------------------------------------------------------------------------------
// The mapping: QVL status → what tdxkit must say. One table, by tdxkit's exit-code classes:
//   0 verified (the TCB status names the same level), 2 malformed input,
//   3 authenticity: the quote, its QE report or the PCK chain that travels in the quote is not
//     genuine, not trusted, revoked or not valid at the time (tdxkit puts every PCK-chain finding,
//     expiry included, in this class: the chain is part of the evidence, not of the collateral),
//   4 collateral: CRLs, TCB info, QE identity, their signing chain, their validity window,
//   5 TCB: the platform's TCB level is revoked, unknown or not covered by the TCB info.
// A failing status lists every (class, tdxkit error code) pair that reports the same finding; QVL
// sometimes uses one status for faults tdxkit tells apart (e.g. TDX_MODULE_MISMATCH covers a wrong
// MRSIGNERSEAM, class 3, and a module version with no identity entry, class 5).
// Statuses only sgxAttestationVerifyEnclaveReport returns (QE/enclave ISVSVN out of date) are not
// reachable through the AttestationApp's four steps and are left out: an unlisted status fails the test.
// ---------------------------------------------------------------------------------------------

type Finding = readonly [exit: 2 | 3 | 4 | 5, code: string]
type Expectation = {exit: 0; status: string; relaunch?: boolean} | {exit: 'fail'; findings: readonly Finding[]}

const verified = (status: string, relaunch = false): Expectation => ({exit: 0, status, ...(relaunch ? {relaunch} : {})})
const fails = (...findings: Finding[]): Expectation => ({exit: 'fail', findings})
const A = (...codes: string[]): Finding[] => codes.map((c) => [3, c] as const)
const C = (...codes: string[]): Finding[] => codes.map((c) => [4, c] as const)
const T = (...codes: string[]): Finding[] => codes.map((c) => [5, c] as const)
/** Any tdxkit parse/usage error (exit 2). */
const MALFORMED: Finding = [2, '*']

const PCK_CHAIN = A('PCK_CHAIN_MISSING', 'PCK_CHAIN_MALFORMED', 'PCK_CHAIN_LENGTH', 'PCK_CHAIN_BAD_NAME', 'PCK_CHAIN_ISSUER_MISMATCH', 'PCK_CHAIN_BAD_SIGNATURE', 'PCK_CHAIN_UNTRUSTED_ROOT', 'PCK_CERT_BAD_ALGORITHM', 'PCK_EXTENSION_MALFORMED')
const SIGNING_CHAIN = C('TCB_INFO_CHAIN_UNTRUSTED', 'QE_IDENTITY_CHAIN_UNTRUSTED')
/** Root/intermediate/format statuses come from the PCK step (class 3) or the TCB/QE steps (class 4). */
const ANY_CHAIN = [...PCK_CHAIN, ...SIGNING_CHAIN]

const QVL_TO_TDXKIT: Record<string, Expectation> = {
  // 0: verified
  STATUS_OK: verified('UpToDate'),
  STATUS_TCB_SW_HARDENING_NEEDED: verified('SWHardeningNeeded'),
  STATUS_TCB_CONFIGURATION_NEEDED: verified('ConfigurationNeeded'),
  STATUS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED: verified('ConfigurationAndSWHardeningNeeded'),
  STATUS_TCB_OUT_OF_DATE: verified('OutOfDate'),
  STATUS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED: verified('OutOfDateConfigurationNeeded'),
  STATUS_TCB_TD_RELAUNCH_ADVISED: verified('TDRelaunchAdvised', true),
  STATUS_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED: verified('TDRelaunchAdvisedConfigurationNeeded', true),
  // 2: malformed input
  STATUS_UNSUPPORTED_QUOTE_FORMAT: fails(MALFORMED),
  STATUS_MISSING_PARAMETERS: fails(MALFORMED),
  STATUS_INVALID_PARAMETER: fails(MALFORMED),
  STATUS_UNSUPPORTED_QE_CERTIFICATION: fails(MALFORMED, ...A('PCK_CHAIN_MISSING')),
  STATUS_INVALID_QE_CERTIFICATION_DATA_SIZE: fails(MALFORMED, ...A('PCK_CHAIN_MISSING')),
  STATUS_UNSUPPORTED_QE_CERTIFICATION_DATA_TYPE: fails(MALFORMED, ...A('PCK_CHAIN_MISSING')),
  // 3: authenticity (quote, QE report, PCK chain)
  STATUS_UNSUPPORTED_CERT_FORMAT: fails(...ANY_CHAIN, ...C('COLLATERAL_MALFORMED')),
  STATUS_SGX_ROOT_CA_MISSING: fails(...ANY_CHAIN),
  STATUS_SGX_ROOT_CA_INVALID: fails(...ANY_CHAIN),
  STATUS_SGX_ROOT_CA_INVALID_EXTENSIONS: fails(...ANY_CHAIN),
  STATUS_SGX_ROOT_CA_INVALID_ISSUER: fails(...ANY_CHAIN),
  STATUS_SGX_ROOT_CA_UNTRUSTED: fails(...ANY_CHAIN),
  STATUS_TRUSTED_ROOT_CA_INVALID: fails(...ANY_CHAIN),
  STATUS_TRUSTED_ROOT_CA_UNSUPPORTED_FORMAT: fails(...ANY_CHAIN),
  STATUS_SGX_CA_CERT_UNSUPPORTED_FORMAT: fails(...ANY_CHAIN),
  STATUS_SGX_CA_CERT_INVALID: fails(...ANY_CHAIN),
  STATUS_SGX_INTERMEDIATE_CA_MISSING: fails(...ANY_CHAIN),
  STATUS_SGX_INTERMEDIATE_CA_INVALID: fails(...ANY_CHAIN),
  STATUS_SGX_INTERMEDIATE_CA_INVALID_EXTENSIONS: fails(...ANY_CHAIN),
  STATUS_SGX_INTERMEDIATE_CA_INVALID_ISSUER: fails(...ANY_CHAIN),
  STATUS_SGX_PCK_CERT_CHAIN_UNTRUSTED: fails(...ANY_CHAIN),
  STATUS_SGX_PCK_MISSING: fails(...PCK_CHAIN),
  STATUS_SGX_PCK_INVALID: fails(...PCK_CHAIN),
  STATUS_SGX_PCK_INVALID_EXTENSIONS: fails(...PCK_CHAIN),
  STATUS_SGX_PCK_INVALID_ISSUER: fails(...PCK_CHAIN),
  STATUS_UNSUPPORTED_PCK_CERT_FORMAT: fails(...PCK_CHAIN),
  STATUS_INVALID_PCK_CERT: fails(...PCK_CHAIN),
  STATUS_PCK_CERT_MISMATCH: fails(...PCK_CHAIN),
  STATUS_SGX_PCK_CERT_CHAIN_EXPIRED: fails(...A('PCK_CERT_EXPIRED')),
  STATUS_SGX_INTERMEDIATE_CA_REVOKED: fails(...A('PCK_CA_REVOKED', 'ROOT_REVOKED')),
  STATUS_SGX_PCK_REVOKED: fails(...A('PCK_REVOKED')),
  STATUS_PCK_REVOKED: fails(...A('PCK_REVOKED')),
  STATUS_INVALID_QE_REPORT_SIGNATURE: fails(...A('QE_REPORT_SIGNATURE_INVALID')),
  STATUS_INVALID_QE_REPORT_DATA: fails(...A('QE_REPORT_DATA_MISMATCH')),
  STATUS_INVALID_QUOTE_SIGNATURE: fails(...A('QUOTE_SIGNATURE_INVALID', 'ATTESTATION_KEY_INVALID')),
  // QVL: QE report vs identity (class 3) and a TD_QE/QE identity of the wrong TEE (class 4) alike
  STATUS_QE_IDENTITY_MISMATCH: fails(...A('QE_IDENTITY_MISMATCH'), ...C('QE_IDENTITY_TYPE_MISMATCH')),
  STATUS_SGX_ENCLAVE_REPORT_MISCSELECT_MISMATCH: fails(...A('QE_IDENTITY_MISMATCH')),
  STATUS_SGX_ENCLAVE_REPORT_ATTRIBUTES_MISMATCH: fails(...A('QE_IDENTITY_MISMATCH')),
  STATUS_SGX_ENCLAVE_REPORT_MRENCLAVE_MISMATCH: fails(...A('QE_IDENTITY_MISMATCH')),
  STATUS_SGX_ENCLAVE_REPORT_MRSIGNER_MISMATCH: fails(...A('QE_IDENTITY_MISMATCH')),
  STATUS_SGX_ENCLAVE_REPORT_ISVPRODID_MISMATCH: fails(...A('QE_IDENTITY_MISMATCH')),
  STATUS_TDX_MODULE_MISMATCH: fails(...A('TDX_MODULE_MISMATCH'), ...T('TDX_MODULE_IDENTITY_NOT_FOUND')),
  // 4: collateral
  STATUS_SGX_CRL_UNSUPPORTED_FORMAT: fails(...C('CRL_MALFORMED')),
  STATUS_SGX_CRL_INVALID: fails(...C('CRL_MALFORMED')),
  STATUS_SGX_CRL_INVALID_EXTENSIONS: fails(...C('CRL_MALFORMED')),
  STATUS_UNSUPPORTED_PCK_RL_FORMAT: fails(...C('CRL_MALFORMED')),
  STATUS_SGX_CRL_UNKNOWN_ISSUER: fails(...C('CRL_ISSUER_MISMATCH', 'CRL_CHAIN_UNTRUSTED')),
  STATUS_INVALID_PCK_CRL: fails(...C('CRL_ISSUER_MISMATCH', 'CRL_CHAIN_UNTRUSTED', 'CRL_MALFORMED')),
  STATUS_SGX_CRL_INVALID_SIGNATURE: fails(...C('CRL_BAD_SIGNATURE')),
  STATUS_SGX_CRL_EXPIRED: fails(...C('CRL_EXPIRED')),
  STATUS_SGX_TCB_INFO_UNSUPPORTED_FORMAT: fails(...C('TCB_INFO_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_SGX_TCB_INFO_INVALID: fails(...C('TCB_INFO_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_UNSUPPORTED_TCB_INFO_FORMAT: fails(...C('TCB_INFO_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_TCB_INFO_INVALID_SIGNATURE: fails(...C('TCB_INFO_SIGNATURE_INVALID')),
  STATUS_TCB_INFO_MISMATCH: fails(...C('TCB_INFO_MISMATCH', 'FMSPC_MISMATCH', 'PCEID_MISMATCH')),
  STATUS_SGX_TCB_INFO_EXPIRED: fails(...C('TCB_INFO_EXPIRED')),
  STATUS_SGX_TCB_SIGNING_CERT_MISSING: fails(...SIGNING_CHAIN),
  STATUS_SGX_TCB_SIGNING_CERT_INVALID: fails(...SIGNING_CHAIN),
  STATUS_SGX_TCB_SIGNING_CERT_INVALID_EXTENSIONS: fails(...SIGNING_CHAIN),
  STATUS_SGX_TCB_SIGNING_CERT_INVALID_ISSUER: fails(...SIGNING_CHAIN),
  STATUS_SGX_TCB_SIGNING_CERT_CHAIN_UNTRUSTED: fails(...SIGNING_CHAIN),
  STATUS_SGX_TCB_SIGNING_CERT_REVOKED: fails(...C('TCB_INFO_SIGNER_REVOKED', 'QE_IDENTITY_SIGNER_REVOKED')),
  STATUS_SGX_SIGNING_CERT_CHAIN_EXPIRED: fails(...SIGNING_CHAIN, ...C('TCB_INFO_EXPIRED', 'QE_IDENTITY_EXPIRED')),
  STATUS_SGX_QE_IDENTITY_UNSUPPORTED_FORMAT: fails(...C('QE_IDENTITY_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_SGX_QE_IDENTITY_INVALID: fails(...C('QE_IDENTITY_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_UNSUPPORTED_QE_IDENTITY_FORMAT: fails(...C('QE_IDENTITY_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_SGX_ENCLAVE_IDENTITY_UNSUPPORTED_FORMAT: fails(...C('QE_IDENTITY_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_SGX_ENCLAVE_IDENTITY_INVALID: fails(...C('QE_IDENTITY_MALFORMED', 'COLLATERAL_MALFORMED')),
  STATUS_SGX_ENCLAVE_IDENTITY_UNSUPPORTED_VERSION: fails(...C('QE_IDENTITY_MALFORMED', 'QE_IDENTITY_TYPE_MISMATCH')),
  STATUS_SGX_QE_IDENTITY_INVALID_SIGNATURE: fails(...C('QE_IDENTITY_SIGNATURE_INVALID')),
  STATUS_SGX_ENCLAVE_IDENTITY_INVALID_SIGNATURE: fails(...C('QE_IDENTITY_SIGNATURE_INVALID')),
  STATUS_SGX_ENCLAVE_IDENTITY_EXPIRED: fails(...C('QE_IDENTITY_EXPIRED')),
  // 5: TCB
  STATUS_TCB_REVOKED: fails(...T('TCB_REVOKED')),
  STATUS_TCB_NOT_SUPPORTED: fails(...T('TCB_NOT_SUPPORTED', 'QE_TCB_NOT_SUPPORTED')),
  STATUS_TCB_UNRECOGNIZED_STATUS: fails(...T('TCB_UNRECOGNIZED_STATUS')),
  STATUS_SGX_ENCLAVE_REPORT_ISVSVN_REVOKED: fails(...T('TCB_REVOKED')),
  STATUS_SGX_ENCLAVE_REPORT_ISVSVN_NOT_SUPPORTED: fails(...T('QE_TCB_NOT_SUPPORTED')),
}

// ---------------------------------------------------------------------------------------------
// Documented differences, case by case: what each side says and why. Asserted as written, so a
// change on either side (a difference that vanishes or moves) fails the test and gets reviewed.
// ---------------------------------------------------------------------------------------------

interface Difference {
  tdxkit: {exit: number; code: string}
  qvl: string
  why: string
}

const differs = (exit: number, code: string, qvl: string, why: string): Difference => ({tdxkit: {exit, code}, qvl, why})

const DIFFERENCES: Record<string, Difference> = {
  'trustee-tdx-v4-debug/quote.bin@1688173200': differs(6, 'POLICY:debug', 'STATUS_OK',
    'QVL has no TD policy: it verifies a DEBUG TD (TD_ATTRIBUTES bit 0) as UpToDate. tdxkit agrees on UpToDate and then its default appraisal policy rejects debug TDs (the +allow-debug case agrees with QVL).'),
  'dcapqvl-tdx-v4-sgx-collateral-mismatch/quote.bin@1725258675': differs(4, 'TCB_INFO_MISMATCH', 'STATUS_SGX_CRL_UNKNOWN_ISSUER',
    'Same class (collateral), different first finding by check order: the bundle is SGX collateral (TCB info id SGX, QE identity id QE, PCK CRL from the Processor CA) for a TDX quote whose PCK is issued by the Platform CA. tdxkit checks the collateral type before the CRLs; QVL\'s PCK step checks the CRL issuer first (its Quote step then reports INVALID_PCK_CRL). With a TDX TCB info and the Processor-CA CRL both report the CRL issuer (the +processor-ca-crl case).'),
  'dcapqvl-tdx-v4-uptodate/quote.bin@1750327800': differs(4, 'TCB_INFO_EXPIRED', 'STATUS_OK',
    'QVL checks no issueDate: 2025-06-19T10:10:00Z is after the PCK CRL thisUpdate (10:00:35) but before the TCB info issueDate (10:16:03). tdxkit requires issueDate ≤ time ≤ nextUpdate (its code says EXPIRED for "not valid at", the message gives the window).'),
  'dcapqvl-tdx-v4-uptodate/quote.bin@1750329000': differs(4, 'QE_IDENTITY_EXPIRED', 'STATUS_OK',
    'QVL checks no issueDate: 2025-06-19T10:30:00Z is before the QE identity issueDate (10:32:27).'),
  'dcapqvl-tdx-v4-uptodate/quote.bin@1752919234+pretty-tcb-info': differs(4, 'TCB_INFO_SIGNATURE_INVALID', 'STATUS_OK',
    'QVL re-serialises the parsed tcbInfo (rapidjson, compact, same key order) before checking the signature, so whitespace added to the signed text goes unnoticed; tdxkit verifies the signature over the exact bytes it was given.'),
  'sim:tdx-1.5@1701388800': differs(3, 'PCK_CERT_EXPIRED', 'STATUS_SGX_CRL_EXPIRED',
    'Both reject a time (2023-12-01) before every certificate and CRL of the simulated PKI (all from 2024-01-01). QVL checks no certificate notBefore but does check a CRL\'s thisUpdate (its CRL validity test is thisUpdate ≤ t ≤ nextUpdate), so its first finding is the CRL (class 4); tdxkit checks the PCK chain\'s validity first (class 3).'),
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

interface Case {
  id: string
  quote: string
  collateral: string
  at: number
  /** Trust anchor (PEM) for both verifiers; default: the Intel SGX Root CA on both sides. */
  root?: string
  tdxkitFlags?: string[]
  /** Writes a derived collateral file before the run. */
  prepare?: () => void
  /** The simulated platform the inputs come from (prepared first). */
  sim?: SimState
}

interface Check {
  at_unix?: number
  quote?: string
  with?: string
}

const usable = qvlMissing() === undefined
/** Derived collateral files. */
const scratch = usable ? tempDir('tdxkit-qvl-cases-') : ''
/** State dir for real-vector runs: empty, so a run can never touch the user's simulated platform. */
const emptyState = usable ? tempDir('tdxkit-qvl-state-') : ''

/** Every real vector with collateral × every at_unix in its expected.json (deduplicated). */
function realCases(): Case[] {
  if (!vectorsPresent()) return []
  const cases = new Map<string, Case>()
  for (const dir of readdirSync(vectorPath('real')).sort()) {
    if (!existsSync(vectorPath('real', dir, 'expected.json'))) continue
    const checks = (JSON.parse(readFileSync(vectorPath('real', dir, 'expected.json'), 'utf8')) as {checks: Check[]}).checks
    // A folder without its own collateral names the one it borrows in a check's "with".
    const borrowed = checks.find((c) => c.with)?.with
    for (const c of checks) {
      if (c.at_unix === undefined) continue
      const collateral = vectorPath('real', dir, c.with ?? (existsSync(vectorPath('real', dir, 'collateral.json')) ? 'collateral.json' : (borrowed ?? 'collateral.json')))
      if (!existsSync(collateral)) continue
      const quote = c.quote ?? 'quote.bin'
      const id = `${dir}/${quote}@${c.at_unix}`
      cases.set(id, {id, quote: vectorPath('real', dir, quote), collateral, at: c.at_unix})
    }
  }
  return [...cases.values()]
}

const UPTODATE = 'dcapqvl-tdx-v4-uptodate'
const UPTODATE_AT = 1752919234

/** Real data at extra times / with one collateral field changed, for the documented differences. */
function derivedCases(): Case[] {
  if (!vectorsPresent()) return []
  const quote = vectorPath('real', UPTODATE, 'quote.bin')
  const collateral = vectorPath('real', UPTODATE, 'collateral.json')
  const variant = (name: string, change: (c: Record<string, string>) => void): Case => {
    const file = join(scratch, `${UPTODATE}-${name}.json`)
    const prepare = () => {
      const c = JSON.parse(readFileSync(collateral, 'utf8')) as Record<string, string>
      change(c)
      writeFileSync(file, JSON.stringify(c))
    }
    return {id: `${UPTODATE}/quote.bin@${UPTODATE_AT}+${name}`, quote, collateral: file, at: UPTODATE_AT, prepare}
  }
  return [
    {id: `${UPTODATE}/quote.bin@1750327800`, quote, collateral, at: 1750327800},
    {id: `${UPTODATE}/quote.bin@1750329000`, quote, collateral, at: 1750329000},
    variant('pretty-tcb-info', (c) => {
      c.tcb_info = JSON.stringify(JSON.parse(c.tcb_info), null, 1)
    }),
    variant('processor-ca-crl', (c) => {
      const sgx = JSON.parse(readFileSync(vectorPath('real', 'dcapqvl-tdx-v4-sgx-collateral-mismatch', 'collateral.json'), 'utf8')) as Record<string, string>
      c.pck_crl = sgx.pck_crl
    }),
    {
      id: 'trustee-tdx-v4-debug/quote.bin@1688173200+allow-debug',
      quote: vectorPath('real', 'trustee-tdx-v4-debug', 'quote.bin'),
      collateral: vectorPath('real', 'gotdx-tdx-v4-spr', 'collateral.json'),
      at: 1688173200,
      tdxkitFlags: ['--allow-debug'],
    },
  ]
}

// Simulated platforms: one per profile and one per scenario flag value of `module init`, from the
// oclif manifest (so a new scenario flag or value is covered without editing this test).

interface SimState {
  name: string
  dir: string
  init: string[]
}

interface FlagManifest {
  type: 'option' | 'boolean'
  helpGroup?: string
  options?: string[]
  default?: string
}

/** 2025-01-01T00:00:00Z: inside the simulated PKI's validity, after the expired-collateral window. */
const SIM_AT = 1735689600
/** 2024-01-15: inside the expired-collateral scenario's 30-day window. */
const SIM_IN_WINDOW_AT = 1705276800
/** 2023-12-01: before every notBefore / thisUpdate / issueDate of the simulated PKI. */
const SIM_BEFORE_AT = 1701388800
const SEED = 'qvl-oracle'

function initFlags(): Record<string, FlagManifest> {
  const manifest = join(REPO_ROOT, 'oclif.manifest.json')
  if (!existsSync(manifest)) throw new Error(`${manifest} missing: run npm run build`)
  return (JSON.parse(readFileSync(manifest, 'utf8')) as {commands: Record<string, {flags: Record<string, FlagManifest>}>}).commands['module:init'].flags
}

function simStates(flags: Record<string, FlagManifest>): {states: SimState[]; defaultProfile: string} {
  const profile = flags.profile
  const defaultProfile = profile.default ?? profile.options![0]
  const states: SimState[] = []
  const add = (name: string, init: string[]) => states.push({name, dir: tempDir('tdxkit-qvl-sim-'), init})
  for (const p of profile.options ?? []) if (p !== defaultProfile) add(p, ['--profile', p])
  for (const [name, f] of Object.entries(flags)) {
    if (f.helpGroup !== 'SCENARIO') continue
    if (f.type === 'boolean') add(`${defaultProfile} --${name}`, ['--profile', defaultProfile, `--${name}`])
    else for (const v of f.options ?? []) add(`${defaultProfile} --${name} ${v}`, ['--profile', defaultProfile, `--${name}`, v])
  }
  return {states, defaultProfile}
}

const simFile = (s: SimState, f: 'quote.bin' | 'collateral.json' | 'root.pem') => join(s.dir, f)

function simCases(states: SimState[], defaultProfile: string): Case[] {
  const at = (s: SimState, t: number, id = `sim:${s.name}@${t}`): Case => ({
    id,
    quote: simFile(s, 'quote.bin'),
    collateral: simFile(s, 'collateral.json'),
    root: simFile(s, 'root.pem'),
    at: t,
    sim: s,
  })
  const cases = states.map((s) => at(s, SIM_AT))
  const expired = states.find((s) => s.init.includes('--expired-collateral'))
  if (expired) cases.push(at(expired, SIM_IN_WINDOW_AT))
  const baseline = states.find((s) => s.init.join(' ') === `--profile ${defaultProfile} --tcb-status UpToDate`)
  if (baseline) cases.push(at(baseline, SIM_BEFORE_AT, `sim:${defaultProfile}@${SIM_BEFORE_AT}`))
  return cases
}

/** Create the platform, a quote, its collateral and root, through the CLI. */
async function prepareSim(s: SimState): Promise<void> {
  const steps = [
    ['module', 'init', '--seed', SEED, ...s.init],
    ['quote', 'generate', '--report-data', '00', '-o', simFile(s, 'quote.bin')],
    ['collateral', 'export', '-o', simFile(s, 'collateral.json')],
    ['collateral', 'root', '-o', simFile(s, 'root.pem')],
  ]
  for (const args of steps) {
    const r = await cliAsync(args, {stateDir: s.dir})
    if (r.code !== 0) throw new Error(`sim ${s.name}: tdxkit ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Running both verifiers
// ---------------------------------------------------------------------------------------------

interface TdxkitVerdict {
  exit: number
  status: string | null
  /** The error code, or POLICY:<rules> for a policy violation, or null when verified. */
  code: string | null
  relaunch: boolean
}

interface Outcome {
  tdxkit?: TdxkitVerdict
  qvl?: QvlVerdict
  error?: string
}

async function runTdxkit(c: Case): Promise<TdxkitVerdict> {
  const args = ['quote', 'verify', c.quote, '--collateral', c.collateral, '--at', String(c.at), '--json', ...(c.root ? ['--root-ca', c.root] : []), ...(c.tdxkitFlags ?? [])]
  const r = await cliAsync(args, {stateDir: c.sim?.dir ?? emptyState})
  let j: {exit_code: number; status: string | null; error: {code: string} | null; policy?: {violations: {rule: string}[]}; tcb?: {relaunch_advised?: boolean}}
  try {
    j = JSON.parse(r.stdout)
  } catch {
    throw new Error(`tdxkit ${args.join(' ')}: exit ${r.code}, no JSON: ${r.stderr.trim()}`)
  }
  if (j.exit_code !== r.code) throw new Error(`tdxkit exit ${r.code} but JSON exit_code ${j.exit_code}`)
  const violations = j.policy?.violations.map((v) => v.rule) ?? []
  const code = j.error?.code ?? (violations.length ? `POLICY:${violations.join(',')}` : null)
  return {exit: r.code, status: j.status, code, relaunch: j.tcb?.relaunch_advised ?? false}
}

async function runCase(copy: string, c: Case): Promise<Outcome> {
  try {
    c.prepare?.()
    const tdxkit = await runTdxkit(c)
    const qvl = await runQvl(copy, c.quote, c.collateral, c.at, c.root)
    return {tdxkit, qvl}
  } catch (error) {
    return {error: (error as Error).message}
  }
}

/** Undefined when tdxkit says what the table expects for QVL's combined status, else why not. */
function disagreement(t: TdxkitVerdict, q: QvlVerdict): string | undefined {
  const e = QVL_TO_TDXKIT[q.combined]
  if (!e) return `QVL status ${q.combined} is not in QVL_TO_TDXKIT: extend the table`
  if (e.exit === 0) {
    if (t.exit !== 0 || t.status !== e.status) return `QVL verified ${e.status}; tdxkit exit ${t.exit} status ${t.status} ${t.code ?? ''}`
    if (e.relaunch !== undefined && t.relaunch !== e.relaunch) return `relaunch advice: QVL ${e.relaunch}, tdxkit ${t.relaunch}`
    return undefined
  }
  const match = e.findings.some(([exit, code]) => exit === t.exit && (code === '*' || code === t.code))
  if (match) return undefined
  return `QVL ${q.combined} means ${e.findings.map(([x, c]) => `${x}/${c}`).join(' or ')}; tdxkit exit ${t.exit} ${t.code ?? t.status}`
}

const describe = (o: Outcome): string =>
  o.error ?? `tdxkit exit ${o.tdxkit!.exit} ${o.tdxkit!.code ?? o.tdxkit!.status} | QVL ${o.qvl!.combined} (${QVL_STEPS.map((s) => `${s}=${o.qvl![s].replace('STATUS_', '')}`).join(' ')})`

// ---------------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------------

let sim: {states: SimState[]; cases: Case[]} = {states: [], cases: []}
let manifestError: string | undefined
if (usable) {
  try {
    const {states, defaultProfile} = simStates(initFlags())
    sim = {states, cases: simCases(states, defaultProfile)}
  } catch (error) {
    manifestError = (error as Error).message
  }
}
const real = usable ? [...realCases(), ...derivedCases()] : []
const cases = [...real, ...sim.cases]
const outcomes = new Map<string, Outcome>()
let copy: string | undefined

test.before(async () => {
  if (!usable || manifestError) return
  const started = process.hrtime.bigint()
  copy = copyOracle()
  const setup = await mapPool(sim.states, POOL_SIZE, (s) => prepareSim(s).then(() => undefined, (e: Error) => e.message))
  const setupError = new Map(sim.states.map((s, i) => [s, setup[i]]))
  const results = await mapPool(cases, POOL_SIZE, (c) => {
    const failed = c.sim && setupError.get(c.sim)
    return failed ? Promise.resolve({error: failed}) : runCase(copy!, c)
  })
  cases.forEach((c, i) => outcomes.set(c.id, results[i]))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  console.log(`  intel-qvl oracle: ${cases.length} cases (${real.length} real, ${sim.cases.length} simulated on ${sim.states.length} platforms) in ${seconds.toFixed(1)} s, ${POOL_SIZE} workers`)
  if (process.env.TDXKIT_QVL_TABLE) printTable()
})

test.after(() => {
  for (const dir of [copy, scratch, emptyState, ...sim.states.map((s) => s.dir)]) if (dir) rmSync(dir, {recursive: true, force: true})
})

function printTable(): void {
  console.log('| case | tdxkit | Intel QVL (pck/tcb/qe/quote) | |')
  console.log('|---|---|---|---|')
  for (const c of cases) {
    const o = outcomes.get(c.id)!
    if (o.error) {
      console.log(`| ${c.id} | error: ${o.error} | | |`)
      continue
    }
    const t = o.tdxkit!
    const verdict = DIFFERENCES[c.id] ? 'documented difference' : disagreement(t, o.qvl!) ? 'DISAGREE' : 'agree'
    const steps = QVL_STEPS.map((s) => o.qvl![s].replace('STATUS_', '')).join(' / ')
    console.log(`| ${c.id} | ${t.exit} ${t.code ?? t.status} | ${o.qvl!.combined} (${steps}) | ${verdict} |`)
  }
}

const outcome = (id: string): Outcome => {
  const o = outcomes.get(id)
  assert.ok(o, `no outcome for ${id}`)
  if (o.error) assert.unreachable(o.error)
  return o
}

if (manifestError) {
  oracleTest(test, 'simulated scenarios from the module init manifest', () => assert.unreachable(manifestError))
}

for (const c of cases) {
  const diff = DIFFERENCES[c.id]
  const name = diff ? `${c.id}: documented difference` : `${c.id}: tdxkit agrees with Intel QVL`
  oracleTest(
    test,
    name,
    () => {
      const o = outcome(c.id)
      if (!diff) {
        const why = disagreement(o.tdxkit!, o.qvl!)
        assert.ok(why === undefined, `${why} — ${describe(o)}`)
        return
      }
      assert.equal({exit: o.tdxkit!.exit, code: o.tdxkit!.code}, diff.tdxkit, `tdxkit no longer says what DIFFERENCES documents: ${describe(o)}`)
      assert.is(o.qvl!.combined, diff.qvl, `QVL no longer says what DIFFERENCES documents: ${describe(o)}`)
      assert.ok(disagreement(o.tdxkit!, o.qvl!) !== undefined, `documented difference no longer differs (remove it from DIFFERENCES): ${describe(o)}`)
    },
    {vectors: !c.sim},
  )
}

oracleTest(test, 'every documented difference names a case that ran', () => {
  const ids = new Set(cases.map((c) => c.id))
  for (const id of Object.keys(DIFFERENCES)) assert.ok(ids.has(id), `DIFFERENCES lists ${id}, which is not a case`)
}, {vectors: true})

oracleTest(test, 'coverage: every real vector with collateral, every profile and scenario flag value', () => {
  assert.ok(real.length >= 20, `only ${real.length} real cases`)
  const inits = sim.states.map((s) => s.init.join(' '))
  for (const needed of ['--tcb-status UpToDate', '--tcb-status OutOfDate', '--tcb-status Revoked', '--revoked-pck', '--expired-collateral', '--profile tdx-1.0']) {
    assert.ok(inits.some((i) => i.includes(needed)), `no simulated platform with ${needed}`)
  }
  // Both sides said something other than "OK" somewhere, in every failure class.
  const exits = new Set([...outcomes.values()].map((o) => o.tdxkit?.exit))
  for (const x of [0, 3, 4, 5, 6]) assert.ok(exits.has(x), `no case ended with tdxkit exit ${x}`)
}, {vectors: true})

oracleTest(test, "QVL's Quote step takes no time: its status is the same at every time for one quote + collateral (documented)", () => {
  // tdxkit stops at the first failing step, so once a time check fails it reports no TCB status
  // (status null); QVL's Quote step still reports one. The combined status (first failing step) is
  // what the cases above compare.
  const byPair = new Map<string, Set<string>>()
  const combined = new Map<string, Set<string>>()
  for (const c of cases) {
    const o = outcomes.get(c.id)
    if (!o?.qvl) continue
    const key = `${c.quote} ${c.collateral}`
    byPair.set(key, (byPair.get(key) ?? new Set()).add(o.qvl.quote))
    combined.set(key, (combined.get(key) ?? new Set()).add(o.qvl.combined))
  }
  for (const [key, statuses] of byPair) assert.is(statuses.size, 1, `${key}: QVL Quote step gave ${[...statuses].join(', ')}`)
  assert.ok([...combined.values()].some((s) => s.size > 1), 'some quote + collateral pair verified at several times with different outcomes')
}, {vectors: true})

test.run()
