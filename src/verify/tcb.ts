/**
 * TCB level matching and status convergence, following Intel's QVL (TcbLevelCheck, TdxModuleCheck,
 * TDRelaunchCheck): platform level from the PCK's SGX components + PCESVN and the quote's TEE_TCB_SVN,
 * TDX module identity TDX_%02X, TD15 relaunch advice, then convergence with the QE's status.
 * Advisory IDs are the union (as a set) of the matched platform, module and QE levels.
 */
import {TDX_COMPONENTS_FIRST_WITH_MODULE_IDENTITY, TEE_TCB_SVN_BYTE} from '../abi/quote.js'
import {tdxModuleIdentityId, type LevelStatus, type ModuleLevel, type QeIdentity, type TcbInfo, type TcbLevel, type TcbStatus, type TdxModule} from '../abi/tcb-info.js'
import {fail} from './errors.js'

interface TcbInput {
  tcbInfo: TcbInfo
  /** From the PCK certificate's SGX extension. */
  pckComponents: number[]
  pckPcesvn: number
  /** TDX only: body TEE_TCB_SVN (16 bytes). */
  teeTcbSvn?: Uint8Array
  /** TD15 bodies: TEE_TCB_SVN2. */
  teeTcbSvn2?: Uint8Array
  qe: QeEvaluation
}

export interface QeEvaluation {
  status: LevelStatus
  level: ModuleLevel
}

export interface TcbEvaluation {
  status: TcbStatus
  advisory_ids: string[]
  platform_level: {status: LevelStatus; tcb_date: string; advisory_ids: string[]}
  sgx_level_status: LevelStatus
  module?: {identity: string; isvsvn: number; status: LevelStatus; tcb_date: string; advisory_ids: string[]}
  qe: {status: LevelStatus; isvsvn: number; tcb_date: string; advisory_ids: string[]}
  relaunch_advised: boolean
}

const {MODULE_SVN, MODULE_MAJOR, LATE_MICROCODE_SVN} = TEE_TCB_SVN_BYTE

const allGe = (have: ArrayLike<number>, need: number[], from = 0) => {
  for (let i = from; i < need.length; i++) if ((have[i] ?? 0) < need[i]) return false
  return true
}

/** QE ISVSVN → its QE identity level (highest level whose isvsvn ≤ the QE's). */
export function evaluateQe(identity: QeIdentity, isvsvn: number): QeEvaluation {
  const level = identity.levels.find((l) => isvsvn >= l.isvsvn)
  if (!level) fail('QE_TCB_NOT_SUPPORTED', `QE ISVSVN ${isvsvn} is below every QE identity TCB level`)
  return {status: level!.status, level: level!}
}

/** Module identity for TEE_TCB_SVN (undefined when the major version is 0: the base tdxModule applies). */
export function findModuleIdentity(tcbInfo: TcbInfo, majorVersion: number): TdxModule | undefined {
  const want = tdxModuleIdentityId(majorVersion)
  return tcbInfo.tdx_module_identities.find((m) => (m.id ?? '').toUpperCase() === want)
}

/** Module OutOfDate / QE OutOfDate convergence (Intel: the same table for both). */
function convergeOutOfDate(status: TcbStatus): TcbStatus {
  if (status === 'UpToDate' || status === 'SWHardeningNeeded') return 'OutOfDate'
  if (status === 'ConfigurationNeeded' || status === 'ConfigurationAndSWHardeningNeeded') return 'OutOfDateConfigurationNeeded'
  return status
}

const isConfigurationNeeded = (s: TcbStatus) =>
  s === 'ConfigurationNeeded' || s === 'OutOfDateConfigurationNeeded' || s === 'ConfigurationAndSWHardeningNeeded' || s === 'TDRelaunchAdvisedConfigurationNeeded'

function matchLevels(inp: TcbInput): {sgx?: TcbLevel; tdx?: TcbLevel} {
  let sgx: TcbLevel | undefined
  const tee = inp.teeTcbSvn
  const from = tee && tee[MODULE_MAJOR] > 0 ? TDX_COMPONENTS_FIRST_WITH_MODULE_IDENTITY : 0
  for (const level of inp.tcbInfo.levels) {
    if (!allGe(inp.pckComponents, level.sgx_components) || inp.pckPcesvn < level.pcesvn) continue
    if (!tee) return {sgx: level}
    sgx ??= level
    if (allGe(tee, level.tdx_components ?? [], from)) return {sgx, tdx: level}
  }
  return {sgx}
}

export function evaluateTcb(inp: TcbInput): TcbEvaluation {
  const {sgx, tdx} = matchLevels(inp)
  if (!sgx) fail('TCB_NOT_SUPPORTED', 'no TCB level matches the PCK certificate (SGX components / PCESVN below every level)')
  const qeOut = {status: inp.qe.status, isvsvn: inp.qe.level.isvsvn, tcb_date: inp.qe.level.tcb_date, advisory_ids: inp.qe.level.advisory_ids}
  let status: TcbStatus
  let platform: TcbLevel
  let module: TcbEvaluation['module']
  let relaunch = false
  if (!inp.teeTcbSvn) {
    platform = sgx!
    status = platform.status
  } else {
    if (!tdx) fail('TCB_NOT_SUPPORTED', 'no TCB level matches the TDX components of TEE_TCB_SVN')
    platform = tdx!
    const tee = inp.teeTcbSvn
    let moduleStatus: LevelStatus = 'UpToDate'
    if (tee[MODULE_MAJOR] > 0) {
      const ident = findModuleIdentity(inp.tcbInfo, tee[MODULE_MAJOR])
      if (!ident) fail('TDX_MODULE_IDENTITY_NOT_FOUND', `TCB info has no TDX module identity ${tdxModuleIdentityId(tee[MODULE_MAJOR])}`)
      const ml = ident!.levels.find((l) => tee[MODULE_SVN] >= l.isvsvn)
      if (!ml) fail('TCB_NOT_SUPPORTED', `TDX module ${ident!.id} ISVSVN ${tee[MODULE_SVN]} is below every module TCB level`)
      moduleStatus = ml!.status
      module = {identity: ident!.id!, isvsvn: ml!.isvsvn, status: ml!.status, tcb_date: ml!.tcb_date, advisory_ids: ml!.advisory_ids}
    }
    status = platform.status
    if (moduleStatus === 'OutOfDate') status = convergeOutOfDate(status)
    else if (moduleStatus === 'Revoked') status = 'Revoked'
    if (status !== 'Revoked' && inp.teeTcbSvn2) {
      const r = relaunchAdvice(inp, sgx!.status, status, moduleStatus)
      relaunch = r !== status
      status = r
    }
  }
  if (inp.qe.status === 'OutOfDate') status = convergeOutOfDate(status)
  else if (inp.qe.status === 'Revoked') status = 'Revoked'
  const adv = new Set([...platform.advisory_ids, ...(module?.advisory_ids ?? []), ...qeOut.advisory_ids])
  const evaluation: TcbEvaluation = {
    status,
    advisory_ids: [...adv].sort(),
    platform_level: {status: platform.status, tcb_date: platform.tcb_date, advisory_ids: platform.advisory_ids},
    sgx_level_status: sgx!.status,
    ...(module ? {module} : {}),
    qe: qeOut,
    relaunch_advised: relaunch,
  }
  if (status === 'Revoked') fail('TCB_REVOKED', 'TCB status is Revoked', {tcb: evaluation})
  return evaluation
}

function relaunchAdvice(inp: TcbInput, sgxStatus: LevelStatus, tdxStatus: TcbStatus, moduleStatus: LevelStatus): TcbStatus {
  const svn2 = inp.teeTcbSvn2!
  const qeOk = inp.qe.status !== 'OutOfDate' && inp.qe.status !== 'Revoked'
  const sgxOk = sgxStatus === 'UpToDate' || sgxStatus === 'SWHardeningNeeded' || sgxStatus === 'ConfigurationNeeded' || sgxStatus === 'ConfigurationAndSWHardeningNeeded'
  if (!qeOk || !sgxOk || (tdxStatus !== 'OutOfDate' && tdxStatus !== 'OutOfDateConfigurationNeeded') || moduleStatus !== 'OutOfDate') return tdxStatus
  const latest = inp.tcbInfo.levels[0]
  const latestTdx = latest.tdx_components ?? []
  let meets: boolean
  const microcodeMeets = svn2[LATE_MICROCODE_SVN] >= (latestTdx[LATE_MICROCODE_SVN] ?? 0)
  if (svn2[MODULE_MAJOR] === 0) {
    meets = svn2[MODULE_SVN] >= (latestTdx[MODULE_SVN] ?? 0) && microcodeMeets
  } else {
    const ident = findModuleIdentity(inp.tcbInfo, svn2[MODULE_MAJOR])
    if (!ident) fail('TDX_MODULE_IDENTITY_NOT_FOUND', `TCB info has no TDX module identity ${tdxModuleIdentityId(svn2[MODULE_MAJOR])} (TEE_TCB_SVN2)`)
    if (ident!.levels.length === 0) fail('TCB_NOT_SUPPORTED', `TDX module identity ${ident!.id} has no TCB levels`)
    meets = svn2[MODULE_SVN] >= ident!.levels[0].isvsvn && microcodeMeets
  }
  if (!meets) return tdxStatus
  return isConfigurationNeeded(sgxStatus) || isConfigurationNeeded(tdxStatus) ? 'TDRelaunchAdvisedConfigurationNeeded' : 'TDRelaunchAdvised'
}
