/**
 * Global metadata read once into one deep-frozen TdxSysInfo, the way Linux's generated
 * tdx_global_metadata.c does it: ONE table from field id to struct member, no hand-written read per
 * field. Two readers fill the struct from the same table: `rd` (one TDH.SYS.RD per element, like the
 * kernel) and `rdall` (TDH.SYS.RDALL metadata lists, a handful of SEAMCALLs).
 *
 * A field the module lacks (TDX_METADATA_FIELD_ID_INCORRECT) leaves the member absent (undefined),
 * never zero — unless the member is required, which is an error. "Required" is what the kernel
 * reads unconditionally (arch/x86/virt/vmx/tdx/tdx_global_metadata.c): features and tdmr since
 * v6.14, td_ctrl and td_conf — MAX_VCPUS_PER_TD included — since v6.16, the version since 2026. A
 * module without NO_RBP_MOD is rejected as the kernel does (v6.14, 6f5c71cc42d4).
 *
 * Two groups are conditional, as get_tdx_sys_info() has them in the TDX Connect host series (Xu
 * Yilun, "[PATCH v2 06/31] x86/virt/tdx: Read global metadata for TDX Module Extensions/Connect",
 * LKML 2026-03-28): `ext` is read only if TDX_FEATURES0 has EXT (bit 39) and `connect` only if it
 * has TDXCONNECT (bit 6). Not read is not absent: without the bit the group is missing and no
 * SEAMCALL asks for it; with the bit every member is mandatory.
 *
 * One documented simplification: a TDX module 1.0 (the tdx-1.0 profile) has no MAX_VCPUS_PER_TD
 * and a real 1.0 module cannot be read by TDH.SYS.RD at all (the kernel's first read fails,
 * canonical/tdx #331); the simulator serves its 1.0 values through TDH.SYS.RD, reports
 * max_vcpus_per_td absent and says in `kernel_refuses` that a v6.16+ kernel would not initialise it.
 */
import {RefusedError, TdxkitError, ExitCode} from '../errors.js'
import {
  GLOBAL_FIELDS,
  MD_FIELD_ID_NA,
  TDX_FEATURES0_BITS,
  TDX_FEATURES0_EXT,
  TDX_FEATURES0_NO_RBP_MOD,
  TDX_FEATURES0_TDXCONNECT,
  elementSizeBytes,
  featureNames,
  type GlobalFieldName,
} from '../abi/fields.js'
import {decodeMetadataList, MD_LIST_PAGE_SIZE} from '../abi/metadata.js'
import {SeamcallLeaf, encodeLeaf} from '../abi/tdcall.js'
import {TDX_METADATA_FIELD_ID_INCORRECT, TDX_SUCCESS, describeStatus, statusCode, statusHex} from '../abi/status.js'
import type {TdxSysInfo} from '../module/sysinfo.js'
import type {SimTdxModule} from '../module/tdcall.js'

export type {TdxSysInfo} from '../module/sysinfo.js'

export type SysInfoMethod = 'rd' | 'rdall'

interface MemberSpec {
  /** group.member in TdxSysInfo (kernel struct member names). */
  path: string
  field: GlobalFieldName
  required?: boolean
  /** Array member: element count is the value of this (earlier) member. */
  countFrom?: string
  /** Values per array entry (cpuid_config_values: 2 → [i][j] at field code base + 2i + j). */
  width?: number
  /** Kernel's array capacity (count above it is rejected, as the kernel does with -EINVAL). */
  capacity?: number
  /** Required, but a 1.0 module (which never had it) is reported instead of refused. */
  absentIn10?: boolean
  /** Read only if tdx_features0 has this bit (then `required` applies); otherwise neither read nor absent. */
  onlyIf?: bigint
}

/** THE table: field id → struct member. Order = read order. */
export const SYSINFO_MEMBERS: readonly MemberSpec[] = [
  {path: 'version.major_version', field: 'MAJOR_VERSION', required: true},
  {path: 'version.minor_version', field: 'MINOR_VERSION', required: true},
  {path: 'version.update_version', field: 'UPDATE_VERSION', required: true},
  {path: 'version.internal_version', field: 'INTERNAL_VERSION'},
  {path: 'version.build_num', field: 'BUILD_NUM'},
  {path: 'version.build_date', field: 'BUILD_DATE'},
  {path: 'features.tdx_features0', field: 'TDX_FEATURES0', required: true},
  {path: 'tdmr.max_tdmrs', field: 'MAX_TDMRS', required: true},
  {path: 'tdmr.max_reserved_per_tdmr', field: 'MAX_RESERVED_PER_TDMR', required: true},
  {path: 'tdmr.pamt_4k_entry_size', field: 'PAMT_4K_ENTRY_SIZE', required: true},
  {path: 'tdmr.pamt_2m_entry_size', field: 'PAMT_2M_ENTRY_SIZE', required: true},
  {path: 'tdmr.pamt_1g_entry_size', field: 'PAMT_1G_ENTRY_SIZE', required: true},
  {path: 'td_ctrl.tdr_base_size', field: 'TDR_BASE_SIZE', required: true},
  {path: 'td_ctrl.tdcs_base_size', field: 'TDCS_BASE_SIZE', required: true},
  {path: 'td_ctrl.tdvps_base_size', field: 'TDVPS_BASE_SIZE', required: true},
  {path: 'td_conf.attributes_fixed0', field: 'ATTRIBUTES_FIXED0', required: true},
  {path: 'td_conf.attributes_fixed1', field: 'ATTRIBUTES_FIXED1', required: true},
  {path: 'td_conf.xfam_fixed0', field: 'XFAM_FIXED0', required: true},
  {path: 'td_conf.xfam_fixed1', field: 'XFAM_FIXED1', required: true},
  {path: 'td_conf.num_cpuid_config', field: 'NUM_CPUID_CONFIG', required: true},
  {path: 'td_conf.max_vcpus_per_td', field: 'MAX_VCPUS_PER_TD', required: true, absentIn10: true},
  {path: 'td_conf.cpuid_config_leaves', field: 'CPUID_CONFIG_LEAVES', countFrom: 'td_conf.num_cpuid_config', capacity: 128, required: true},
  {path: 'td_conf.cpuid_config_values', field: 'CPUID_CONFIG_VALUES', countFrom: 'td_conf.num_cpuid_config', width: 2, capacity: 128, required: true},
  {path: 'cmr.num_cmrs', field: 'NUM_CMRS'},
  {path: 'cmr.cmr_base', field: 'CMR_BASE', countFrom: 'cmr.num_cmrs', capacity: 32},
  {path: 'cmr.cmr_size', field: 'CMR_SIZE', countFrom: 'cmr.num_cmrs', capacity: 32},
  {path: 'ext.memory_pool_required_pages', field: 'MEMORY_POOL_REQUIRED_PAGES', required: true, onlyIf: TDX_FEATURES0_EXT},
  {path: 'ext.ext_required', field: 'EXT_REQUIRED', required: true, onlyIf: TDX_FEATURES0_EXT},
  {path: 'connect.ide_mt_page_count', field: 'IDE_MT_PAGE_COUNT', required: true, onlyIf: TDX_FEATURES0_TDXCONNECT},
  {path: 'connect.spdm_mt_page_count', field: 'SPDM_MT_PAGE_COUNT', required: true, onlyIf: TDX_FEATURES0_TDXCONNECT},
  {path: 'connect.iommu_mt_page_count', field: 'IOMMU_MT_PAGE_COUNT', required: true, onlyIf: TDX_FEATURES0_TDXCONNECT},
  {path: 'connect.spdm_max_dev_info_pages', field: 'SPDM_MAX_DEV_INFO_PAGES', required: true, onlyIf: TDX_FEATURES0_TDXCONNECT},
]

/** The TDX_FEATURES0 name of a single-bit mask ("TDXCONNECT"). */
const featureName = (bit: bigint): string => TDX_FEATURES0_BITS[bit.toString(2).length - 1]

export interface SysInfoReadResult {
  sysinfo: Readonly<TdxSysInfo>
  method: SysInfoMethod
  /** SEAMCALLs the read took. */
  seamcalls: number
  /** Member paths the module does not have. */
  absent: string[]
  /** Why a v6.16+ kernel would refuse this module although the simulator read it (tdx-1.0 only). */
  kernel_refuses?: string
}

type Lookup = (id: bigint) => bigint | undefined

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}

const scalar = (id: bigint, v: bigint): number | bigint => (elementSizeBytes(id) < 8 ? Number(v) : v)

/** Fill a TdxSysInfo from any field reader, driven by SYSINFO_MEMBERS. */
function fill(lookup: Lookup): {info: TdxSysInfo; absent: string[]; kernelRefuses?: string} {
  const groups: Record<string, Record<string, unknown>> = {version: {}, features: {}, tdmr: {}, td_ctrl: {}, td_conf: {}, cmr: {}}
  const get = (path: string) => {
    const [g, m] = path.split('.')
    return groups[g][m]
  }
  const absent: string[] = []
  let kernelRefuses: string | undefined
  for (const spec of SYSINFO_MEMBERS) {
    const [g, m] = spec.path.split('.')
    if (spec.onlyIf !== undefined) {
      if (((groups.features.tdx_features0 as bigint) & spec.onlyIf) === 0n) continue
      groups[g] ??= {}
    }
    const base = GLOBAL_FIELDS[spec.field].id
    let value: unknown
    if (spec.countFrom === undefined) {
      const v = lookup(base)
      value = v === undefined ? undefined : scalar(base, v)
    } else {
      const count = get(spec.countFrom) as number | undefined
      if (count !== undefined) {
        if (spec.capacity !== undefined && count > spec.capacity) {
          throw new TdxkitError('SYSINFO_INVALID', `${spec.countFrom} is ${count}, more than the ${spec.capacity} entries ${spec.path} can hold`, {exit: ExitCode.REFUSED})
        }
        const width = spec.width ?? 1
        const entries: unknown[] = []
        for (let i = 0; i < count && value === undefined; i++) {
          const row: bigint[] = []
          for (let j = 0; j < width; j++) {
            const v = lookup(base + BigInt(i * width + j))
            if (v === undefined) {
              value = null // a missing element makes the whole member absent
              break
            }
            row.push(v)
          }
          entries.push(width === 1 ? row[0] : row)
        }
        value = value === null ? undefined : entries
      }
    }
    if (value === undefined) {
      const v = groups.version
      if (spec.required && spec.absentIn10 && v.major_version === 1 && v.minor_version === 0) {
        kernelRefuses = `a TDX module 1.0 has no ${spec.field}, which Linux v6.16+ reads unconditionally (and a real 1.0 module fails the first TDH.SYS.RD); the simulator reads its 1.0 values anyway`
        absent.push(spec.path)
        continue
      }
      if (spec.required) {
        const why = spec.onlyIf === undefined ? '' : ` (required because TDX_FEATURES0 has ${featureName(spec.onlyIf)})`
        throw new TdxkitError('SYSINFO_FIELD_MISSING', `TDX module metadata lacks required field ${spec.field} (${spec.path})${why}; the kernel would refuse to initialize this module`, {
          exit: ExitCode.REFUSED,
        })
      }
      absent.push(spec.path)
      continue
    }
    groups[g][m] = value
  }
  return {info: groups as unknown as TdxSysInfo, absent, ...(kernelRefuses ? {kernelRefuses} : {})}
}

function seamcallRefused(what: string, status: bigint): RefusedError {
  return new RefusedError('SEAMCALL_FAILED', `${what} failed: ${describeStatus(status)} ${statusHex(status)}`, {status, detail: {status: statusHex(status)}})
}

/** Host physical page the rdall reader hands to TDH.SYS.RDALL. */
const RDALL_PAGE_HPA = 0x1000_0000n

/**
 * Read the module's global metadata into a deep-frozen TdxSysInfo. Throws RefusedError('NO_RBP_MOD')
 * for a module without the NO_RBP_MOD feature (the kernel refuses such modules).
 */
export function readSysInfo(module: SimTdxModule, method: SysInfoMethod = 'rd'): SysInfoReadResult {
  const before = module.counts.seamcall
  let lookup: Lookup
  if (method === 'rd') {
    lookup = (id) => {
      const {status, regs} = module.seamcall(encodeLeaf(SeamcallLeaf.SYS_RD), {rdx: id})
      if (status === TDX_SUCCESS) return regs.r8
      if (statusCode(status) === TDX_METADATA_FIELD_ID_INCORRECT) return undefined
      throw seamcallRefused(`TDH.SYS.RD of field 0x${id.toString(16)}`, status)
    }
  } else {
    const all = new Map<bigint, bigint>()
    let next = MD_FIELD_ID_NA
    do {
      const {status, regs} = module.seamcall(encodeLeaf(SeamcallLeaf.SYS_RDALL), {rdx: RDALL_PAGE_HPA, r8: next})
      if (status !== TDX_SUCCESS) throw seamcallRefused('TDH.SYS.RDALL', status)
      for (const [id, v] of decodeMetadataList(module.hostMemory.read(RDALL_PAGE_HPA, MD_LIST_PAGE_SIZE))) all.set(id, v)
      next = regs.r8
    } while (next !== MD_FIELD_ID_NA)
    lookup = (id) => all.get(id)
  }
  const {info, absent, kernelRefuses} = fill(lookup)
  if ((info.features.tdx_features0 & TDX_FEATURES0_NO_RBP_MOD) === 0n) {
    throw new RefusedError(
      'NO_RBP_MOD',
      `TDX module lacks NO_RBP_MOD (TDX_FEATURES0 = 0x${info.features.tdx_features0.toString(16)}, bit 18 clear): frame pointer (RBP) clobber bug present, upgrade the TDX module — the kernel refuses to initialize it`,
    )
  }
  return {sysinfo: deepFreeze(info), method, seamcalls: module.counts.seamcall - before, absent, ...(kernelRefuses ? {kernel_refuses: kernelRefuses} : {})}
}

const cache = new WeakMap<SimTdxModule, Readonly<TdxSysInfo>>()

/** The platform's sysinfo, read once (TDH.SYS.RD) and shared read-only afterwards (like tdx_get_sysinfo()). */
export function getSysInfo(module: SimTdxModule): Readonly<TdxSysInfo> {
  let info = cache.get(module)
  if (!info) {
    info = readSysInfo(module, 'rd').sysinfo
    cache.set(module, info)
  }
  return info
}

const hexU64 = (v: bigint) => '0x' + v.toString(16).padStart(16, '0')

/**
 * JSON form: kernel member names; 64-bit values as "0x…" strings; absent members as null; a
 * conditional group (ext, connect) whose feature bit is clear as null.
 */
export function sysInfoToJson(info: Readonly<TdxSysInfo>): Record<string, unknown> {
  const conv = (v: unknown): unknown => (typeof v === 'bigint' ? hexU64(v) : Array.isArray(v) ? v.map(conv) : v === undefined ? null : v)
  const groups = info as unknown as Record<string, Record<string, unknown> | undefined>
  const out: Record<string, Record<string, unknown> | null> = {}
  for (const spec of SYSINFO_MEMBERS) {
    const [g, m] = spec.path.split('.')
    const group = groups[g]
    if (group === undefined) {
      out[g] = null // a conditional group whose feature bit is clear: not read
      continue
    }
    out[g] ??= {}
    out[g]![m] = conv(group[m])
  }
  out.features!.tdx_features0_names = featureNames(info.features.tdx_features0)
  return out
}
