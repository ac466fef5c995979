/**
 * Intel PCS TCB info (v3) and enclave identity (v2) JSON: typed, validated views. The signed JSON text
 * is kept by the caller; these are decoded copies for evaluation only.
 */
import {ParseError} from '../errors.js'

export const TCB_INFO_ID_TDX = 'TDX'
export const TCB_INFO_ID_SGX = 'SGX'
export const TCB_INFO_VERSION_TDX = 3
export const QE_IDENTITY_ID_TDX = 'TD_QE'
export const QE_IDENTITY_ID_SGX = 'QE'
export const QE_IDENTITY_VERSION = 2
/** TDX module identity id for a module major version: TDX_%02X. */
export const tdxModuleIdentityId = (majorVersion: number): string => `TDX_${majorVersion.toString(16).toUpperCase().padStart(2, '0')}`

/** Statuses of Intel PCS TCB levels, plus the TD relaunch results of Intel's QVL. */
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const
export type LevelStatus = (typeof TCB_STATUSES)[number]
export type TcbStatus = LevelStatus | 'TDRelaunchAdvised' | 'TDRelaunchAdvisedConfigurationNeeded'
/** Every status a verification may end with, best first (used for "minimum acceptable" policies). */
export const STATUS_RANK: readonly TcbStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'TDRelaunchAdvised',
  'TDRelaunchAdvisedConfigurationNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
]

export interface TcbLevel {
  sgx_components: number[]
  pcesvn: number
  /** 16 TDX component SVNs (TDX TCB info only). */
  tdx_components?: number[]
  tcb_date: string
  status: LevelStatus
  advisory_ids: string[]
}

export interface ModuleLevel {
  isvsvn: number
  tcb_date: string
  status: LevelStatus
  advisory_ids: string[]
}

export interface TdxModule {
  id?: string
  mrsigner: Buffer
  attributes: Buffer
  attributes_mask: Buffer
  levels: ModuleLevel[]
}

export interface TcbInfo {
  id: string
  version: number
  issue_date: number
  next_update: number
  fmspc: Buffer
  pceid: Buffer
  tcb_type: number
  tcb_evaluation_data_number: number
  /** Sorted best first (Intel's order: SGX components, PCESVN, TDX components, descending). */
  levels: TcbLevel[]
  tdx_module?: TdxModule
  tdx_module_identities: TdxModule[]
}

export interface QeIdentity {
  id: string
  version: number
  issue_date: number
  next_update: number
  tcb_evaluation_data_number: number
  miscselect: Buffer
  miscselect_mask: Buffer
  attributes: Buffer
  attributes_mask: Buffer
  mrsigner: Buffer
  isvprodid: number
  /** Sorted by ISVSVN, highest first. */
  levels: ModuleLevel[]
}

/** TCB info / QE identity JSON that is not what Intel's schema says (a typed parse error, exit 2). */
export class CollateralFormatError extends ParseError {
  constructor(message: string) {
    super('COLLATERAL_MALFORMED', message)
  }
}

/**
 * Largest signed TCB info / QE identity JSON accepted. Intel's documents are a few kilobytes (tens
 * at most); anything near this is hostile, and decoding it would only cost time and memory.
 */
export const MAX_SIGNED_JSON_BYTES = 1 << 20
const checkSize = (text: string, what: string) => {
  if (typeof text === 'string' && text.length > MAX_SIGNED_JSON_BYTES) bad(`${what} is ${text.length} bytes, more than the ${MAX_SIGNED_JSON_BYTES} accepted`)
}

type J = Record<string, unknown>
/**
 * Where a value sits in the document, for error messages: a string, or a function building it. The
 * decoders name every field they check, and building those names eagerly (a few hundred per TCB
 * info) cost more than the checks themselves; they are built only when a check fails.
 */
type Where = string | (() => string)
const named = (w: Where): string => (typeof w === 'string' ? w : w())
const bad = (what: Where): never => {
  throw new CollateralFormatError(named(what))
}
const isObj = (v: unknown): v is J => v !== null && typeof v === 'object' && !Array.isArray(v)
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0
const obj = (v: unknown, what: Where): J => (isObj(v) ? v : bad(() => `${named(what)}: not an object`))
const arr = (v: unknown, what: Where): unknown[] => (Array.isArray(v) ? v : bad(() => `${named(what)}: not an array`))
const num = (v: unknown, what: Where): number => (isCount(v) ? v : bad(() => `${named(what)}: not a non-negative integer`))
const str = (v: unknown, what: Where): string => (typeof v === 'string' ? v : bad(() => `${named(what)}: not a string`))
/** `w` followed by `suffix` (a field path built on demand). */
const sub = (w: Where, suffix: string): Where => () => named(w) + suffix
/** Hex text of `size` bytes (any size when undefined). Buffer.from stops at the first non-hex pair, so a full-length result proves every character is hex. */
const hexb = (v: unknown, what: Where, size?: number): Buffer => {
  const s = str(v, what)
  const b = Buffer.from(s, 'hex')
  if (b.length * 2 !== s.length) bad(() => `${named(what)}: not hex`)
  if (size !== undefined && b.length !== size) bad(() => `${named(what)}: expected ${size} bytes`)
  return b
}
const ISO_DATE_PREFIX = /^\d{4}-\d\d-\d\dT/
const date = (v: unknown, what: Where): number => {
  const s = str(v, what)
  const t = Date.parse(s)
  if (!ISO_DATE_PREFIX.test(s) || Number.isNaN(t)) bad(() => `${named(what)}: not an ISO date`)
  return t
}
/** A short, safe rendering of an arbitrary JSON value for error messages (never recurses). */
const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v))
const KNOWN_STATUS: ReadonlySet<string> = new Set(TCB_STATUSES)
const status = (v: unknown, what: Where): LevelStatus => (typeof v === 'string' && KNOWN_STATUS.has(v) ? (v as LevelStatus) : bad(() => `${named(what)}: unknown TCB status ${shown(v)}`))
const advisories = (v: unknown, what: Where): string[] => {
  if (v === undefined) return []
  const a = arr(v, what)
  for (let i = 0; i < a.length; i++) str(a[i], () => `${named(what)}[${i}]`)
  return a as string[]
}
/** Number of SVN components in a TCB level's sgxtcbcomponents / tdxtcbcomponents. */
const TCB_COMPONENTS = 16
const svns = (v: unknown, what: Where): number[] => {
  const a = arr(v, what)
  if (a.length !== TCB_COMPONENTS) bad(() => `${named(what)}: expected ${TCB_COMPONENTS} components, got ${a.length}`)
  const out = new Array<number>(TCB_COMPONENTS)
  for (let i = 0; i < TCB_COMPONENTS; i++) out[i] = num(obj(a[i], () => `${named(what)}[${i}]`).svn, () => `${named(what)}[${i}].svn`)
  return out
}

function cmpVec(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d) return d
  }
  return 0
}

/** Intel's level order, best first. */
function sortTcbLevels(levels: TcbLevel[]): TcbLevel[] {
  return [...levels].sort((x, y) => cmpVec(y.sgx_components, x.sgx_components) || y.pcesvn - x.pcesvn || cmpVec(y.tdx_components ?? [], x.tdx_components ?? []))
}

function moduleLevels(v: unknown, what: Where): ModuleLevel[] {
  return arr(v, what)
    .map((l, i) => {
      const w = (): string => `${named(what)}[${i}]`
      const o = obj(l, w)
      return {
        isvsvn: num(obj(o.tcb, sub(w, '.tcb')).isvsvn, sub(w, '.tcb.isvsvn')),
        tcb_date: str(o.tcbDate, sub(w, '.tcbDate')),
        status: status(o.tcbStatus, sub(w, '.tcbStatus')),
        advisory_ids: advisories(o.advisoryIDs, sub(w, '.advisoryIDs')),
      }
    })
    .sort((a, b) => b.isvsvn - a.isvsvn)
}

function tdxModule(v: unknown, what: Where): TdxModule {
  const o = obj(v, what)
  const id = o.id !== undefined ? str(o.id, sub(what, '.id')) : undefined
  const m: TdxModule = {
    mrsigner: hexb(o.mrsigner, sub(what, '.mrsigner'), 48),
    attributes: hexb(o.attributes, sub(what, '.attributes'), 8),
    attributes_mask: hexb(o.attributesMask, sub(what, '.attributesMask'), 8),
    levels: o.tcbLevels === undefined ? [] : moduleLevels(o.tcbLevels, sub(what, '.tcbLevels')),
  }
  return id !== undefined ? {id, ...m} : m
}

/** A signed collateral JSON document (size-checked, then parsed); CollateralFormatError otherwise. */
function jsonDocument(text: string, field: 'tcb_info' | 'qe_identity'): unknown {
  checkSize(text, field)
  try {
    return JSON.parse(text)
  } catch {
    return bad(`${field} is not JSON`)
  }
}

/** One entry of tcbInfo.tcbLevels. */
function tcbLevel(l: unknown, i: number, isTdx: boolean): TcbLevel {
  const w = (): string => `tcbInfo.tcbLevels[${i}]`
  const lo = obj(l, w)
  const tcb = obj(lo.tcb, sub(w, '.tcb'))
  const sgx = svns(tcb.sgxtcbcomponents, sub(w, '.tcb.sgxtcbcomponents'))
  const pcesvn = num(tcb.pcesvn, sub(w, '.tcb.pcesvn'))
  const tdx = isTdx ? svns(tcb.tdxtcbcomponents, sub(w, '.tcb.tdxtcbcomponents')) : undefined
  return {
    sgx_components: sgx,
    pcesvn,
    ...(tdx ? {tdx_components: tdx} : {}),
    tcb_date: str(lo.tcbDate, sub(w, '.tcbDate')),
    status: status(lo.tcbStatus, sub(w, '.tcbStatus')),
    advisory_ids: advisories(lo.advisoryIDs, sub(w, '.advisoryIDs')),
  }
}

/** Decode the signed `tcbInfo` JSON text. Throws CollateralFormatError naming the bad field. */
export function parseTcbInfo(text: string): TcbInfo {
  const o = obj(jsonDocument(text, 'tcb_info'), 'tcbInfo')
  const id = str(o.id, 'tcbInfo.id')
  const version = num(o.version, 'tcbInfo.version')
  const isTdx = id === TCB_INFO_ID_TDX
  const levels = arr(o.tcbLevels, 'tcbInfo.tcbLevels').map((l, i) => tcbLevel(l, i, isTdx))
  if (levels.length === 0) bad('tcbInfo.tcbLevels is empty')
  return {
    id,
    version,
    issue_date: date(o.issueDate, 'tcbInfo.issueDate'),
    next_update: date(o.nextUpdate, 'tcbInfo.nextUpdate'),
    fmspc: hexb(o.fmspc, 'tcbInfo.fmspc', 6),
    pceid: hexb(o.pceId, 'tcbInfo.pceId', 2),
    tcb_type: o.tcbType === undefined ? 0 : num(o.tcbType, 'tcbInfo.tcbType'),
    tcb_evaluation_data_number: num(o.tcbEvaluationDataNumber, 'tcbInfo.tcbEvaluationDataNumber'),
    levels: sortTcbLevels(levels),
    ...(o.tdxModule !== undefined ? {tdx_module: tdxModule(o.tdxModule, 'tcbInfo.tdxModule')} : {}),
    tdx_module_identities: o.tdxModuleIdentities === undefined ? [] : arr(o.tdxModuleIdentities, 'tcbInfo.tdxModuleIdentities').map((m, i) => tdxModule(m, () => `tcbInfo.tdxModuleIdentities[${i}]`)),
  }
}

/** Decode the signed `enclaveIdentity` JSON text. */
export function parseQeIdentity(text: string): QeIdentity {
  const o = obj(jsonDocument(text, 'qe_identity'), 'enclaveIdentity')
  return {
    id: str(o.id, 'enclaveIdentity.id'),
    version: num(o.version, 'enclaveIdentity.version'),
    issue_date: date(o.issueDate, 'enclaveIdentity.issueDate'),
    next_update: date(o.nextUpdate, 'enclaveIdentity.nextUpdate'),
    tcb_evaluation_data_number: num(o.tcbEvaluationDataNumber, 'enclaveIdentity.tcbEvaluationDataNumber'),
    miscselect: hexb(o.miscselect, 'enclaveIdentity.miscselect', 4),
    miscselect_mask: hexb(o.miscselectMask, 'enclaveIdentity.miscselectMask', 4),
    attributes: hexb(o.attributes, 'enclaveIdentity.attributes', 16),
    attributes_mask: hexb(o.attributesMask, 'enclaveIdentity.attributesMask', 16),
    mrsigner: hexb(o.mrsigner, 'enclaveIdentity.mrsigner', 32),
    isvprodid: num(o.isvprodid, 'enclaveIdentity.isvprodid'),
    levels: moduleLevels(o.tcbLevels, 'enclaveIdentity.tcbLevels'),
  }
}
