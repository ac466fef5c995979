/**
 * The simulated quoting enclave (TD QE) and the host's provisioning state (`doc.host`).
 *
 * Provisioning (`ensureHostPki`): from the platform seed and the module's TCB, build the Intel-shaped
 * PKI (src/host/pki.ts), the signed collateral (src/host/collateral.ts) and certify the QE's P-256
 * attestation key: a QE report (SGX report body, 384 B) whose REPORTDATA is
 * SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes, signed by the PCK key. All of it is
 * deterministic in the seed and cached in `doc.host`; it is rebuilt when its inputs change.
 *
 * Quoting (`quoteTdReport`): check the TDREPORT's MAC with the module's key (a tampered or foreign
 * TDREPORT is refused), map TDREPORT → TD10/TD15 body, sign header ‖ [descriptor] ‖ body with the
 * attestation key (RFC 6979, via the native-backed signer of src/x509/ecdsa.ts — byte-identical to
 * noble's, ~10× faster) and encode the quote with src/abi/quote.ts.
 */
import {createHash} from 'node:crypto'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {
  assembleQuote,
  ATT_KEY_TYPE_ECDSA_P256,
  BODY_TYPE_TD10,
  BODY_TYPE_TD15,
  encodeSignatureDataTail,
  INTEL_QE_VENDOR_ID,
  QE_REPORT,
  QUOTE_HEADER,
  quoteSignedRegion,
  TD10_BODY,
  TD15_BODY,
  TEE_TYPE_TDX,
  type TdBodyField,
} from '../abi/quote.js'
import {tdReportHashes, REPORTMACSTRUCT, RTMR_FIELDS, TDINFO, TDREPORT, TDREPORT_SIZE, TEE_TCB_INFO} from '../abi/tdreport.js'
import {writeField, type Layout} from '../abi/layout.js'
import {SGX_TYPE, type PckExtension} from '../abi/pck-extension.js'
import {InputError, RefusedError, StateError} from '../errors.js'
import {assertPlatformDoc, type ModuleDoc, type PlatformDoc} from '../module/doc.js'
import {checkReportMac} from '../module/measure.js'
import {profileInfo} from '../module/platform.js'
import type {StateDoc} from '../util/state-doc.js'
import {deriveBytes, deriveScalar} from '../util/seed.js'
import {assembleCollateral, buildQeIdentity, buildTcbInfo, isTcbStatus, TCB_STATUSES, type PlatformTcb, type TcbStatus} from './collateral.js'
import {buildSimPki, deriveP256Key, KEY_LABEL, SIM_EXPIRED_WINDOW_DAYS, SIM_NOT_AFTER, SIM_NOT_BEFORE} from './pki.js'
import {P256_ORDER, rawPublicKey, signP256} from '../x509/ecdsa.js'

// ---------------------------------------------------------------- the simulated QE's identity

const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest()

/** Simulated TD QE measurement values (the same on every simulated platform, like a real QE build). */
export const SIM_QE = {
  mrsigner: sha256('tdxkit SIMULATED TD QE signer'),
  mrenclave: sha256('tdxkit SIMULATED TD QE enclave v1'),
  /** TD QE product ID (Intel's TD QE uses 2; the SGX QE 1). */
  isvprodid: 2,
  isvsvn: 4,
  miscselect: Buffer.from('00000000', 'hex'),
  miscselectMask: Buffer.from('ffffffff', 'hex'),
  /** Report ATTRIBUTES (flags INIT | MODE64BIT | PROVISIONKEY, XFRM 0xe7) and the identity's expected value + mask. */
  reportAttributes: Buffer.from('1500000000000000e700000000000000', 'hex'),
  attributes: Buffer.from('11000000000000000000000000000000', 'hex'),
  attributesMask: Buffer.from('fbffffffffffffff0000000000000000', 'hex'),
  /** QE authentication data: 32 bytes 00..1f, as Intel's QE emits. */
  authData: Buffer.from(Array.from({length: 32}, (_, i) => i)),
} as const

/** Platform constants of the simulated PCE. */
export const SIM_PCE_SVN = 13
export const SIM_PCE_ID = Buffer.from('0000', 'hex')
/** FMSPC: family/model bytes of a TDX-capable part, platform bytes derived from the seed. */
export const SIM_FMSPC_PREFIX = Buffer.from('90c06f', 'hex')
export const QE_ATTESTATION_KEY_LABEL = 'host/qe/attestation-key'
/** Bump when the shape or content rules of doc.host change (forces a rebuild). */
export const HOST_FORMAT = 1

// ---------------------------------------------------------------- scenario knobs

/** Unhappy-path knobs for relying parties (set at `module init`, kept in doc.host.scenario). */
export interface HostScenario {
  /** Status of the TCB level the platform matches (UpToDate by default). */
  tcb_status: TcbStatus
  /** List the PCK certificate in the PCK CRL. */
  pck_revoked: boolean
  /** End the TCB info / QE identity / CRL validity SIM_EXPIRED_WINDOW_DAYS after SIM_NOT_BEFORE. */
  collateral_expired: boolean
}
export const DEFAULT_SCENARIO: Readonly<HostScenario> = Object.freeze({tcb_status: 'UpToDate', pck_revoked: false, collateral_expired: false})

/** Validate a (partial) scenario from user input; InputError on an unknown status. */
export function normalizeScenario(s: Partial<HostScenario> = {}, base: HostScenario = DEFAULT_SCENARIO): HostScenario {
  const tcb = s.tcb_status ?? base.tcb_status
  if (!isTcbStatus(tcb)) throw new InputError('BAD_TCB_STATUS', `unknown TCB status ${JSON.stringify(tcb)} (one of ${TCB_STATUSES.join(', ')})`)
  return {tcb_status: tcb, pck_revoked: s.pck_revoked ?? base.pck_revoked, collateral_expired: s.collateral_expired ?? base.collateral_expired}
}

// ---------------------------------------------------------------- doc.host

export interface HostState {
  format: number
  /** SHA-256 over everything the artefacts were derived from; a mismatch triggers a rebuild. */
  inputs: string
  scenario: HostScenario
  platform: {
    fmspc: string
    pce_id: string
    pcesvn: number
    cpusvn: string
    ppid: string
    platform_instance_id: string
    /** QE ID (first 16 bytes of the quote header's user data). */
    qe_id: string
  }
  certs: {root_ca: string; platform_ca: string; pck: string; tcb_signing: string}
  collateral: QuoteCollateralV3
  qe: {attestation_key: string; qe_report: string; qe_report_signature: string; qe_auth_data: string}
}

const hexBuf = (h: string) => Buffer.from(h, 'hex')

function platformDoc(doc: StateDoc): PlatformDoc {
  if (!doc.module) throw new StateError('NO_PLATFORM', "no simulated platform in the state; run 'tdxkit module init'")
  assertPlatformDoc(doc)
  return doc
}

function hostInputs(m: ModuleDoc, scenario: HostScenario): string {
  const rel = {
    format: HOST_FORMAT,
    seed: m.seed,
    profile: m.profile,
    cpusvn: m.cpusvn,
    tee_tcb_svn: m.tee_tcb_svn,
    mrsignerseam: m.mrsignerseam,
    seam_attributes: m.seam_attributes,
    scenario,
  }
  return sha256(JSON.stringify(rel)).toString('hex')
}

/** The platform's TCB / identity values as the PCK certificate carries them. */
function platformIdentity(m: ModuleDoc) {
  const cpusvn = hexBuf(m.cpusvn)
  return {
    fmspc: Buffer.concat([SIM_FMSPC_PREFIX, deriveBytes(m.seed, 'host/fmspc-platform', 3)]),
    pce_id: SIM_PCE_ID,
    pcesvn: SIM_PCE_SVN,
    cpusvn,
    ppid: deriveBytes(m.seed, 'host/ppid', 16),
    platform_instance_id: deriveBytes(m.seed, 'host/platform-instance-id', 16),
    qe_id: deriveBytes(m.seed, 'host/qe-id', 16),
  }
}

/** Build the QE report certifying the attestation key, signed by the PCK key. */
export function certifyAttestationKey(attestationKey64: Buffer, authData: Buffer, cpusvn: Buffer, pckPriv: Buffer): {qe_report: Buffer; qe_report_signature: Buffer} {
  const report = Buffer.alloc(QE_REPORT.size)
  writeField(QE_REPORT, report, 'cpusvn', cpusvn)
  writeField(QE_REPORT, report, 'miscselect', SIM_QE.miscselect.readUInt32LE(0))
  writeField(QE_REPORT, report, 'attributes', SIM_QE.reportAttributes)
  writeField(QE_REPORT, report, 'mrenclave', SIM_QE.mrenclave)
  writeField(QE_REPORT, report, 'mrsigner', SIM_QE.mrsigner)
  writeField(QE_REPORT, report, 'isvprodid', SIM_QE.isvprodid)
  writeField(QE_REPORT, report, 'isvsvn', SIM_QE.isvsvn)
  const reportData = Buffer.alloc(QE_REPORT.fields.report_data.size)
  sha256(Buffer.concat([attestationKey64, authData])).copy(reportData, 0)
  writeField(QE_REPORT, report, 'report_data', reportData)
  return {qe_report: report, qe_report_signature: signP256(report, pckPriv)}
}

function buildHostState(m: ModuleDoc, scenario: HostScenario, inputs: string): HostState {
  const id = platformIdentity(m)
  const sgx: PckExtension = {
    ppid: id.ppid,
    tcb_components: [...id.cpusvn],
    pcesvn: id.pcesvn,
    cpusvn: id.cpusvn,
    pceid: id.pce_id,
    fmspc: id.fmspc,
    sgx_type: SGX_TYPE.SCALABLE,
    platform_instance_id: id.platform_instance_id,
    configuration: {dynamic_platform: true, cached_keys: true, smt_enabled: true},
  }
  const windowEnd = scenario.collateral_expired ? new Date(SIM_NOT_BEFORE.getTime() + SIM_EXPIRED_WINDOW_DAYS * 86_400_000) : SIM_NOT_AFTER
  const window = {issueDate: SIM_NOT_BEFORE, nextUpdate: windowEnd}
  const pki = buildSimPki({seed: m.seed, sgx, revokePck: scenario.pck_revoked, crlThisUpdate: SIM_NOT_BEFORE, crlNextUpdate: windowEnd})
  const tcb: PlatformTcb = {
    fmspc: id.fmspc,
    pce_id: id.pce_id,
    sgx_components: [...id.cpusvn],
    pcesvn: id.pcesvn,
    tee_tcb_svn: hexBuf(m.tee_tcb_svn),
    mrsignerseam: hexBuf(m.mrsignerseam),
    seam_attributes: hexBuf(m.seam_attributes),
  }
  const tcbInfo = buildTcbInfo(tcb, scenario.tcb_status, window)
  const qeIdentity = buildQeIdentity(SIM_QE, window)
  const collateral = assembleCollateral(pki, tcbInfo, qeIdentity, deriveP256Key(m.seed, KEY_LABEL.tcbSigning))
  const attKey = rawPublicKey(deriveP256Key(m.seed, QE_ATTESTATION_KEY_LABEL).pub)
  const cert = certifyAttestationKey(attKey, SIM_QE.authData, id.cpusvn, deriveP256Key(m.seed, KEY_LABEL.pck).priv)
  return {
    format: HOST_FORMAT,
    inputs,
    scenario,
    platform: {
      fmspc: id.fmspc.toString('hex'),
      pce_id: id.pce_id.toString('hex'),
      pcesvn: id.pcesvn,
      cpusvn: id.cpusvn.toString('hex'),
      ppid: id.ppid.toString('hex'),
      platform_instance_id: id.platform_instance_id.toString('hex'),
      qe_id: id.qe_id.toString('hex'),
    },
    certs: {root_ca: pki.root.pem, platform_ca: pki.platformCa.pem, pck: pki.pck.pem, tcb_signing: pki.tcbSigning.pem},
    collateral,
    qe: {
      attestation_key: attKey.toString('hex'),
      qe_report: cert.qe_report.toString('hex'),
      qe_report_signature: cert.qe_report_signature.toString('hex'),
      qe_auth_data: SIM_QE.authData.toString('hex'),
    },
  }
}

/** doc.host if present and built from the current module values and scenario. */
export function freshHost(doc: StateDoc): HostState | undefined {
  const host = doc.host as HostState | undefined
  if (!host || typeof host !== 'object' || host.format !== HOST_FORMAT || !host.scenario || !doc.module) return undefined
  let scenario: HostScenario
  try {
    scenario = normalizeScenario(host.scenario)
  } catch {
    return undefined
  }
  return host.inputs === hostInputs(platformDoc(doc).module, scenario) ? host : undefined
}

/**
 * Make sure doc.host holds the PKI, collateral and QE certification for this platform (building
 * them if absent or stale) and return it. Mutates `doc` in memory; the caller saves it. Passing a
 * scenario (or part of one) reconfigures it; otherwise the stored scenario (or the default) is kept.
 */
export function ensureHostPki(doc: StateDoc, scenario?: Partial<HostScenario>): HostState {
  return ensureHost(doc, platformDoc(doc).module, scenario)
}

/** The module values doc.host derives from (hostInputs hashes them), as last seen per module section. */
const seenInputs = new WeakMap<ModuleDoc, {values: string[]; inputs: string}>()

/** hostInputs, recomputed only when a value it covers has changed since the last call for this module section. */
function currentInputs(m: ModuleDoc, scenario: HostScenario): string {
  const values = [m.seed, m.profile, m.cpusvn, m.tee_tcb_svn, m.mrsignerseam, m.seam_attributes, scenario.tcb_status, String(scenario.pck_revoked), String(scenario.collateral_expired)]
  const seen = seenInputs.get(m)
  if (seen && seen.values.every((v, i) => v === values[i])) return seen.inputs
  const inputs = hostInputs(m, scenario)
  seenInputs.set(m, {values, inputs})
  return inputs
}

/** ensureHostPki for a document already checked (platformDoc). */
function ensureHost(doc: StateDoc, m: ModuleDoc, scenario?: Partial<HostScenario>): HostState {
  const current = doc.host as Partial<HostState> | undefined
  let base: HostScenario = DEFAULT_SCENARIO
  if (current?.scenario) {
    try {
      base = normalizeScenario(current.scenario)
    } catch {}
  }
  const wanted = normalizeScenario(scenario ?? {}, base)
  const inputs = currentInputs(m, wanted)
  if (current && current.format === HOST_FORMAT && current.inputs === inputs) return current as HostState
  const host = buildHostState(m, wanted, inputs)
  doc.host = host
  return host
}

// ---------------------------------------------------------------- quoting

const attestationPrivCache = new Map<string, Buffer>()
function attestationPriv(seed: string): Buffer {
  let k = attestationPrivCache.get(seed)
  if (!k) {
    k = deriveScalar(seed, QE_ATTESTATION_KEY_LABEL, P256_ORDER, 32)
    attestationPrivCache.set(seed, k)
  }
  return k
}

/** PCK chain as the QE embeds it: leaf ‖ Platform CA ‖ root, NUL-terminated like Intel's QE output. */
export const quotePckChain = (host: HostState): string => host.certs.pck + host.certs.platform_ca + host.certs.root_ca + '\0'

/** What the QE puts in every quote of one provisioning: the header's QE ID and the signature data after the signature. */
interface QeMaterial {
  qeId: Buffer
  tail: Buffer
}
const qeMaterials = new WeakMap<HostState, QeMaterial>()

/** The QE's constant quote parts for this doc.host (encoded once per provisioning). */
function qeMaterial(host: HostState): QeMaterial {
  let q = qeMaterials.get(host)
  if (!q) {
    q = {
      qeId: hexBuf(host.platform.qe_id),
      tail: encodeSignatureDataTail({
        attestation_key: hexBuf(host.qe.attestation_key),
        qe_report: hexBuf(host.qe.qe_report),
        qe_report_signature: hexBuf(host.qe.qe_report_signature),
        qe_auth_data: hexBuf(host.qe.qe_auth_data),
        pck_chain_pem: quotePckChain(host),
      }),
    }
    qeMaterials.set(host, q)
  }
  return q
}

/** TD body field ← where it is in the TDREPORT (TEE_TCB_INFO or TDINFO), copied byte for byte (both little-endian). */
const TD_BODY_SOURCES: ReadonlyArray<[TdBodyField, Layout<string>, string, number]> = [
  ['tee_tcb_svn', TEE_TCB_INFO, 'tee_tcb_svn', TDREPORT.fields.tee_tcb_info.offset],
  ['mrseam', TEE_TCB_INFO, 'mrseam', TDREPORT.fields.tee_tcb_info.offset],
  ['mrsignerseam', TEE_TCB_INFO, 'mrsignerseam', TDREPORT.fields.tee_tcb_info.offset],
  ['seam_attributes', TEE_TCB_INFO, 'attributes', TDREPORT.fields.tee_tcb_info.offset],
  ['td_attributes', TDINFO, 'attributes', TDREPORT.fields.td_info.offset],
  ['xfam', TDINFO, 'xfam', TDREPORT.fields.td_info.offset],
  ['mrtd', TDINFO, 'mrtd', TDREPORT.fields.td_info.offset],
  ['mrconfigid', TDINFO, 'mrconfigid', TDREPORT.fields.td_info.offset],
  ['mrowner', TDINFO, 'mrowner', TDREPORT.fields.td_info.offset],
  ['mrownerconfig', TDINFO, 'mrownerconfig', TDREPORT.fields.td_info.offset],
  ...RTMR_FIELDS.map((f): [TdBodyField, Layout<string>, string, number] => [f, TDINFO, f, TDREPORT.fields.td_info.offset]),
  ['report_data', REPORTMACSTRUCT, 'report_data', TDREPORT.fields.report_mac_struct.offset],
]
/** The TD15 body's extra fields. */
const TD15_BODY_SOURCES: ReadonlyArray<[TdBodyField, Layout<string>, string, number]> = [
  ['tee_tcb_svn2', TEE_TCB_INFO, 'tee_tcb_svn2', TDREPORT.fields.tee_tcb_info.offset],
  ['mr_servicetd', TDINFO, 'servtd_hash', TDREPORT.fields.td_info.offset],
]

/** The quote body (TD10 or TD15 layout) of a TDREPORT: its fields copied from TEE_TCB_INFO, TDINFO and REPORTDATA. */
function tdBodyOf(tdreport: Uint8Array, layout: Layout<TdBodyField>, td15: boolean): Buffer {
  const body = Buffer.alloc(layout.size)
  for (const sources of td15 ? [TD_BODY_SOURCES, TD15_BODY_SOURCES] : [TD_BODY_SOURCES]) {
    for (const [name, from, fromName, base] of sources) {
      const src = from.fields[fromName]
      const dst = layout.fields[name]
      if (src.size !== dst.size) throw new Error(`TD body ${name}: ${dst.size} bytes, TDREPORT field ${fromName}: ${src.size}`)
      body.set(tdreport.subarray(base + src.offset, base + src.offset + src.size), dst.offset)
    }
  }
  return body
}

/**
 * The quoting enclave: turn a TDREPORT made on this platform into a signed DCAP quote.
 * Refuses (RefusedError, exit 7) a TDREPORT whose MAC does not verify under the module's key.
 * Version defaults to the profile's (tdx-1.0 → 4, tdx-1.5 / tdx-connect → 5); v5 carries the TD15
 * body on profiles with TDX 1.5 fields, else the TD10 body.
 */
export function quoteTdReport(doc: StateDoc, tdreport: Uint8Array, opts: {version?: 4 | 5} = {}): Buffer {
  const m = platformDoc(doc).module
  const host = ensureHost(doc, m)
  const hashes = tdReportHashes(tdreport)
  // verifyTdReportMac less its document check (platformDoc has just made it).
  if (tdreport.length !== TDREPORT_SIZE || !checkReportMac(hexBuf(m.reportmac_key), tdreport)) {
    throw new RefusedError(
      'TDREPORT_MAC_INVALID',
      'quoting enclave refused the TDREPORT: its REPORTMAC does not verify under this platform\'s TDX module key (tampered, or made on another platform)',
      {step: 'qe'},
    )
  }
  // The MAC covers only REPORTMACSTRUCT; TDINFO and TEE_TCB_INFO are bound through the hashes it
  // carries, so the QE must recompute them (as Intel's TD QE does) before trusting any TD field.
  if (!hashes.tee_info_hash_ok || !hashes.tee_tcb_info_hash_ok) {
    throw new RefusedError(
      'TDREPORT_HASH_MISMATCH',
      `quoting enclave refused the TDREPORT: ${hashes.tee_info_hash_ok ? 'TEE_TCB_INFO' : 'TDINFO'} does not match the hash in its MAC-protected REPORTMACSTRUCT (tampered)`,
      {step: 'qe'},
    )
  }
  const profile = profileInfo(m.profile)
  const version = opts.version ?? profile.quote_version
  if (version !== 4 && version !== 5) throw new InputError('BAD_QUOTE_VERSION', `quote version must be 4 or 5, got ${String(version)}`)
  const td15 = version === 5 && profile.td15
  const body = tdBodyOf(tdreport, (td15 ? TD15_BODY : TD10_BODY) as Layout<TdBodyField>, td15)
  const qe = qeMaterial(host)
  const userData = Buffer.alloc(QUOTE_HEADER.fields.user_data.size)
  qe.qeId.copy(userData)
  const signed = quoteSignedRegion({
    version,
    header: {att_key_type: ATT_KEY_TYPE_ECDSA_P256, tee_type: TEE_TYPE_TDX, qe_svn: 0, pce_svn: 0, qe_vendor_id: INTEL_QE_VENDOR_ID, user_data: userData},
    ...(version === 5 ? {body_type: td15 ? BODY_TYPE_TD15 : BODY_TYPE_TD10} : {}),
    body,
  })
  return assembleQuote(signed, signP256(signed, attestationPriv(m.seed)), qe.tail)
}
