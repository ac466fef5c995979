/**
 * Simulated collateral in Intel's PCS formats: TCB info v3 (id TDX) and QE identity v2 (id TD_QE),
 * emitted as compact JSON text (field order as Intel PCS emits it) and signed by the TCB signing key
 * over exactly those bytes (ECDSA-P256-SHA256, raw r ‖ s, RFC 6979). Assembled into dcap-qvl's
 * QuoteCollateralV3 shape (src/abi/collateral.ts).
 *
 * TCB levels are built around the simulated platform's own TCB (SGX components = CPUSVN, PCESVN,
 * TDX components = TEE_TCB_SVN) so that matching is real:
 *  - default (UpToDate): [platform level UpToDate, an older level OutOfDate];
 *  - any other configured status S: [a newer level UpToDate the platform does not reach,
 *    the platform level with status S (+ advisories), the older OutOfDate level].
 * The level the platform meets is identical under Intel's rule (TDX components 2–15 when a module
 * identity applies) and under verifiers that compare all 16 bytes, because the platform level's TDX
 * components are exactly TEE_TCB_SVN.
 */
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {TCB_COMPONENT_COUNT} from '../abi/pck-extension.js'
import {
  TCB_INFO_ID_TDX,
  TCB_INFO_VERSION_TDX as TCB_INFO_VERSION,
  QE_IDENTITY_ID_TDX as QE_IDENTITY_ID_TD_QE,
  QE_IDENTITY_VERSION,
  tdxModuleIdentityId,
  TCB_STATUSES,
  type LevelStatus,
} from '../abi/tcb-info.js'
import type {SimPki} from './pki.js'
import {signP256} from '../x509/ecdsa.js'
import type {EcKeyPair as P256Key} from '../x509/keys.js'

// Ids, versions and statuses are the verifier's own constants (src/abi/tcb-info.ts): what the
// simulator issues and what the verifier accepts cannot drift apart.
export {TCB_STATUSES}
/** TCB type 0: the 16 SGX components are compared one by one. */
const TCB_TYPE = 0
const SIM_TCB_EVALUATION_DATA_NUMBER = 17
/** tcbDate of the platform's own level and of the older (OutOfDate) level; both precede the issue date. */
const SIM_TCB_DATE = {current: '2023-11-15T00:00:00Z', older: '2023-02-15T00:00:00Z', newer: '2023-12-15T00:00:00Z'} as const
/** Simulated advisory IDs (plainly not Intel's INTEL-SA-xxxxx numbers). */
const SIM_ADVISORY = {older: ['TDXKIT-SIM-SA-00001', 'TDXKIT-SIM-SA-00002'], configured: ['TDXKIT-SIM-SA-00003']} as const

/** A status a simulated TCB level can carry (the PCS level statuses). */
export type TcbStatus = LevelStatus
export const isTcbStatus = (s: string): s is TcbStatus => (TCB_STATUSES as readonly string[]).includes(s)

/** The simulated platform's TCB as the PCK certificate and the TDX module report it. */
export interface PlatformTcb {
  fmspc: Buffer
  pce_id: Buffer
  /** 16 SGX TCB component SVNs (= the PCK certificate's CPUSVN bytes). */
  sgx_components: number[]
  pcesvn: number
  /** TEE_TCB_SVN (16 bytes): [0] module SVN, [1] module major version, [2] late microcode SVN. */
  tee_tcb_svn: Buffer
  mrsignerseam: Buffer
  seam_attributes: Buffer
}

interface CollateralWindow {
  issueDate: Date
  nextUpdate: Date
}

/** Intel's timestamp format: ISO 8601 UTC without fractional seconds. */
export const pcsDate = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

const hexUpper = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase()

/** Component labels as Intel's TCB info carries them (index → {category, type}). */
const SGX_LABELS: Record<number, {category: string; type?: string}> = {
  0: {category: 'BIOS', type: 'Early Microcode Update'},
  1: {category: 'OS/VMM', type: 'SGX Late Microcode Update'},
  2: {category: 'OS/VMM', type: 'TXT SINIT'},
  3: {category: 'BIOS'},
  4: {category: 'BIOS'},
  5: {category: 'BIOS'},
  7: {category: 'OS/VMM', type: 'SEAMLDR ACM'},
}
const TDX_LABELS: Record<number, {category: string; type?: string}> = {
  0: {category: 'OS/VMM', type: 'TDX Module'},
  1: {category: 'OS/VMM', type: 'TDX Module'},
  2: {category: 'OS/VMM', type: 'TDX Late Microcode Update'},
}
const components = (svns: readonly number[], labels: Record<number, {category: string; type?: string}>) =>
  svns.map((svn, i) => ({svn, ...labels[i]}))

interface TcbVector {
  sgx: number[]
  pcesvn: number
  tdx: number[]
}

const clampUp = (v: number) => Math.min(255, v + 1)
const down = (v: number, by = 1) => Math.max(0, v - by)
const sameVector = (a: TcbVector, b: TcbVector) =>
  a.pcesvn === b.pcesvn && a.sgx.every((v, i) => v === b.sgx[i]) && a.tdx.every((v, i) => v === b.tdx[i])


function tcbLevel(v: TcbVector, tcbDate: string, tcbStatus: TcbStatus, advisoryIDs: readonly string[]) {
  return {
    tcb: {sgxtcbcomponents: components(v.sgx, SGX_LABELS), pcesvn: v.pcesvn, tdxtcbcomponents: components(v.tdx, TDX_LABELS)},
    tcbDate,
    tcbStatus,
    ...(advisoryIDs.length > 0 ? {advisoryIDs: [...advisoryIDs]} : {}),
  }
}

/** The TCB info v3 (TDX) object for the platform, as compact JSON text. */
export function buildTcbInfo(p: PlatformTcb, status: TcbStatus, window: CollateralWindow): string {
  if (p.sgx_components.length !== TCB_COMPONENT_COUNT || p.tee_tcb_svn.length !== TCB_COMPONENT_COUNT) {
    throw new Error('platform TCB needs 16 SGX components and a 16-byte TEE_TCB_SVN')
  }
  const platform: TcbVector = {sgx: [...p.sgx_components], pcesvn: p.pcesvn, tdx: [...p.tee_tcb_svn]}
  const newer: TcbVector = {
    sgx: platform.sgx.map((v, i) => (i < 2 ? clampUp(v) : v)),
    pcesvn: clampUp(platform.pcesvn),
    tdx: platform.tdx.map((v, i) => (i === 2 ? clampUp(v) : v)),
  }
  const older: TcbVector = {
    sgx: platform.sgx.map((v) => down(v)),
    pcesvn: down(platform.pcesvn, 2),
    tdx: platform.tdx.map((v, i) => (i === 0 || i === 2 ? down(v) : v)),
  }
  const levels = []
  if (status !== 'UpToDate') levels.push(tcbLevel(newer, SIM_TCB_DATE.newer, 'UpToDate', []))
  levels.push(tcbLevel(platform, SIM_TCB_DATE.current, status, status === 'UpToDate' ? [] : SIM_ADVISORY.configured))
  if (!sameVector(older, platform)) levels.push(tcbLevel(older, SIM_TCB_DATE.older, 'OutOfDate', SIM_ADVISORY.older))

  const moduleSvn = p.tee_tcb_svn[0]
  const moduleMajor = p.tee_tcb_svn[1]
  const moduleBase = {mrsigner: hexUpper(p.mrsignerseam), attributes: hexUpper(p.seam_attributes), attributesMask: 'FFFFFFFFFFFFFFFF'}
  const identity = (major: number, svn: number) => ({
    id: tdxModuleIdentityId(major),
    ...moduleBase,
    tcbLevels: [
      {tcb: {isvsvn: svn}, tcbDate: SIM_TCB_DATE.current, tcbStatus: 'UpToDate'},
      ...(svn > 0 ? [{tcb: {isvsvn: down(svn, 2)}, tcbDate: SIM_TCB_DATE.older, tcbStatus: 'OutOfDate', advisoryIDs: [...SIM_ADVISORY.older]}] : []),
    ],
  })
  // The platform's own module major version, plus one other so a verifier must pick by id.
  const otherMajor = moduleMajor === 3 ? 1 : 3
  const identities = moduleMajor > 0 ? [identity(moduleMajor, moduleSvn), identity(otherMajor, 3)] : [identity(1, 4), identity(3, 3)]
  identities.sort((a, b) => b.id.localeCompare(a.id))

  const tcbInfo = {
    id: TCB_INFO_ID_TDX,
    version: TCB_INFO_VERSION,
    issueDate: pcsDate(window.issueDate),
    nextUpdate: pcsDate(window.nextUpdate),
    fmspc: hexUpper(p.fmspc),
    pceId: hexUpper(p.pce_id),
    tcbType: TCB_TYPE,
    tcbEvaluationDataNumber: SIM_TCB_EVALUATION_DATA_NUMBER,
    tdxModule: moduleBase,
    tdxModuleIdentities: identities,
    tcbLevels: levels,
  }
  return JSON.stringify(tcbInfo)
}

/** What the QE identity describes (the simulated TD quoting enclave's report fields). */
interface QeIdentityParams {
  mrsigner: Buffer
  isvprodid: number
  isvsvn: number
  miscselect: Buffer
  miscselectMask: Buffer
  attributes: Buffer
  attributesMask: Buffer
}

/** The QE identity v2 (TD_QE) object, as compact JSON text. */
export function buildQeIdentity(qe: QeIdentityParams, window: CollateralWindow): string {
  return JSON.stringify({
    id: QE_IDENTITY_ID_TD_QE,
    version: QE_IDENTITY_VERSION,
    issueDate: pcsDate(window.issueDate),
    nextUpdate: pcsDate(window.nextUpdate),
    tcbEvaluationDataNumber: SIM_TCB_EVALUATION_DATA_NUMBER,
    miscselect: hexUpper(qe.miscselect),
    miscselectMask: hexUpper(qe.miscselectMask),
    attributes: hexUpper(qe.attributes),
    attributesMask: hexUpper(qe.attributesMask),
    mrsigner: hexUpper(qe.mrsigner),
    isvprodid: qe.isvprodid,
    tcbLevels: [
      {tcb: {isvsvn: qe.isvsvn}, tcbDate: SIM_TCB_DATE.current, tcbStatus: 'UpToDate'},
      ...(qe.isvsvn > 0 ? [{tcb: {isvsvn: down(qe.isvsvn, 2)}, tcbDate: SIM_TCB_DATE.older, tcbStatus: 'OutOfDate', advisoryIDs: [...SIM_ADVISORY.older]}] : []),
    ],
  })
}

/** Raw r ‖ s hex signature over the exact UTF-8 bytes of a collateral JSON text. */
const signCollateralText = (text: string, key: P256Key): string => signP256(Buffer.from(text, 'utf8'), key.priv).toString('hex')

/** Assemble the QuoteCollateralV3 bundle from the chain, the CRLs and the signed JSON texts. */
export function assembleCollateral(pki: SimPki, tcbInfo: string, qeIdentity: string, tcbSigningKey: P256Key): QuoteCollateralV3 {
  const signingChain = pki.tcbSigning.pem + pki.root.pem
  return {
    pck_crl_issuer_chain: pki.platformCa.pem + pki.root.pem,
    root_ca_crl: pki.rootCrl.toString('hex'),
    pck_crl: pki.pckCrl.toString('hex'),
    tcb_info_issuer_chain: signingChain,
    tcb_info: tcbInfo,
    tcb_info_signature: signCollateralText(tcbInfo, tcbSigningKey),
    qe_identity_issuer_chain: signingChain,
    qe_identity: qeIdentity,
    qe_identity_signature: signCollateralText(qeIdentity, tcbSigningKey),
  }
}
