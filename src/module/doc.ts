/**
 * The foundation's sections of the state document (state.json): `module` (the simulated TDX module
 * and CPU), `td` (the TD's configuration and measurements) and `events` (one record per RTMR
 * extend). Byte strings are lowercase hex, 64-bit integers "0x…" strings.
 */
import type {StateDoc} from '../util/state-doc.js'
import {StateError} from '../errors.js'

export type ProfileName = 'tdx-1.0' | 'tdx-1.5' | 'tdx-connect'
export const PROFILE_NAMES: readonly ProfileName[] = ['tdx-1.0', 'tdx-1.5', 'tdx-connect']
export const DEFAULT_PROFILE: ProfileName = 'tdx-1.5'

export interface ModuleVersion {
  major_version: number
  minor_version: number
  update_version: number
  internal_version: number
  build_num: number
  build_date: number
}

export interface ModuleDoc {
  profile: ProfileName
  seed: string
  version: ModuleVersion
  tdx_features0: string
  /** Set when TDX_FEATURES0 was chosen (`module init --features0`) rather than the profile's default; only defaults are migrated. */
  tdx_features0_chosen?: true
  cpusvn: string
  tee_tcb_svn: string
  tee_tcb_svn2?: string
  mrseam: string
  mrsignerseam: string
  seam_attributes: string
  reportmac_key: string
}

export interface TdDoc {
  attributes: string
  xfam: string
  mrtd: string
  mrconfigid: string
  mrowner: string
  mrownerconfig: string
  servtd_hash: string
  rtmr: [string, string, string, string]
  gpaw: 48 | 52
  num_vcpus: number
  max_vcpus: number
  memory_bytes: number
}

export interface EventRecord {
  seq: number
  rtmr_index: number
  digest: string
  data?: string
  event_type?: number
  description?: string
}

/** A state document that holds a platform. */
export interface PlatformDoc extends StateDoc {
  module: ModuleDoc
  td: TdDoc
  events: EventRecord[]
}

const HEX_RE = /^[0-9a-f]*$/
const VERSION_KEYS = ['major_version', 'minor_version', 'update_version', 'internal_version', 'build_num', 'build_date'] as const
const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max

/** Check the foundation sections are present and well-formed; a clear StateError otherwise. */
export function assertPlatformDoc(doc: StateDoc, file = 'state.json'): asserts doc is PlatformDoc {
  const bad = (what: string): never => {
    throw new StateError('STATE_CORRUPT', `state file ${file} is corrupt (${what}); run 'tdxkit module init --force' or 'tdxkit module reset'`)
  }
  const m = doc.module as Partial<ModuleDoc> | undefined
  const td = doc.td as Partial<TdDoc> | undefined
  if (!m || typeof m !== 'object') bad('no module section')
  if (!td || typeof td !== 'object') bad('no td section')
  if (!PROFILE_NAMES.includes(m!.profile as ProfileName)) bad(`unknown profile ${JSON.stringify(m!.profile)}`)
  const hexOf = (v: unknown, bytes: number, what: string) => {
    if (typeof v !== 'string' || v.length !== bytes * 2 || !HEX_RE.test(v)) bad(`${what} is not ${bytes} bytes of hex`)
  }
  hexOf(m!.reportmac_key, 32, 'module.reportmac_key')
  hexOf(m!.cpusvn, 16, 'module.cpusvn')
  hexOf(m!.tee_tcb_svn, 16, 'module.tee_tcb_svn')
  hexOf(m!.mrseam, 48, 'module.mrseam')
  hexOf(m!.mrsignerseam, 48, 'module.mrsignerseam')
  hexOf(m!.seam_attributes, 8, 'module.seam_attributes')
  if (typeof m!.tdx_features0 !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(m!.tdx_features0)) bad('module.tdx_features0')
  if (m!.tdx_features0_chosen !== undefined && m!.tdx_features0_chosen !== true) bad('module.tdx_features0_chosen is not true')
  if (typeof m!.seed !== 'string') bad('module.seed is not a string')
  if (m!.tee_tcb_svn2 !== undefined) hexOf(m!.tee_tcb_svn2, 16, 'module.tee_tcb_svn2')
  if (!m!.version || typeof m!.version !== 'object') bad('module.version')
  for (const k of VERSION_KEYS) if (!isUint(m!.version![k], Number.MAX_SAFE_INTEGER)) bad(`module.version.${k} is not a non-negative integer`)
  for (const k of ['mrtd', 'mrconfigid', 'mrowner', 'mrownerconfig', 'servtd_hash'] as const) hexOf(td![k], 48, `td.${k}`)
  if (!Array.isArray(td!.rtmr) || td!.rtmr.length !== 4) bad('td.rtmr is not 4 registers')
  td!.rtmr!.forEach((r, i) => hexOf(r, 48, `td.rtmr[${i}]`))
  for (const k of ['attributes', 'xfam'] as const) if (typeof td![k] !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(td![k]!)) bad(`td.${k}`)
  if (td!.gpaw !== 48 && td!.gpaw !== 52) bad('td.gpaw')
  // GPA space below the shared bit bounds the TD's RAM; vCPU counts are u32 fields of TDG.VP.INFO.
  if (!isUint(td!.memory_bytes, 2 ** (td!.gpaw! - 1)) || td!.memory_bytes === 0) bad('td.memory_bytes is not a positive integer below the shared bit')
  for (const k of ['num_vcpus', 'max_vcpus'] as const) if (!isUint(td![k], 0xffffffff) || td![k] === 0) bad(`td.${k} is not a positive 32-bit integer`)
  if (doc.events === undefined) doc.events = []
  if (!Array.isArray(doc.events)) bad('events is not a list')
  ;(doc.events as unknown[]).forEach((e, i) => {
    const r = e as Partial<EventRecord> | null
    const ok =
      !!r && typeof r === 'object' && isUint(r.seq, Number.MAX_SAFE_INTEGER) && isUint(r.rtmr_index, 3) && typeof r.digest === 'string' &&
      (r.data === undefined || typeof r.data === 'string') && (r.description === undefined || typeof r.description === 'string') && (r.event_type === undefined || isUint(r.event_type, 0xffffffff))
    if (!ok) bad(`events[${i}] is not an event record`)
  })
}

export const hex64 = (v: bigint): string => '0x' + v.toString(16).padStart(16, '0')
