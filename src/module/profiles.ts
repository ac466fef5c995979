/**
 * The three simulated module profiles and their global metadata tables.
 *
 * - tdx-1.0:     TDX module 1.0 era: quote v4 / TD10 body, TDREPORT version 0, no TDG.SYS.RD for
 *                the guest, a small host metadata table (no CMR list, migration, service-TD or
 *                MAX_VCPUS_PER_TD fields). Real 1.0 modules only had TDH.SYS.INFO; the simulator
 *                serves the 1.0 values through TDH.SYS.RD so the same reader works (documented
 *                simplification), and sets NO_RBP_MOD so the kernel-style reader accepts it.
 * - tdx-1.5:     a late module 1.5 (1.5.06): the 1.5 field set (global_sys_fields_lookup.c) plus
 *                MAX_VCPUS_PER_TD (576, the module constant). The TDX_1.5.01 snapshot lacked that
 *                field, but Linux v6.16+ reads it unconditionally and the profile already claims
 *                NO_RBP_MOD, a late-1.5 feature v6.14+ requires: a module the kernel initialises
 *                has both (issue 16; first release with the field UNCONFIRMED).
 * - tdx-connect: 1.5 plus TDISP devices; reports as 2.0. Enumerates TDXCONNECT (TDX_FEATURES0 bit 6)
 *                and EXT (bit 39) and has the `ext` and `connect` metadata groups the kernel then
 *                reads (TDX Connect host series, Xu Yilun, "[PATCH v2 06/31]", LKML 2026-03-28).
 *                tdx-1.0 and tdx-1.5 have neither the bits nor the fields.
 *
 * Values are plausible simulated numbers, not copied from any particular Intel release. The
 * ext/connect values are simulator choices (CONNECT_METADATA below says why each is what it is).
 */
import {GLOBAL_FIELDS, TDX_FEATURES0_BITS, TDX_FEATURES0_EXT, TDX_FEATURES0_TDXCONNECT, type GlobalFieldName} from '../abi/fields.js'
import {REPORT_VERSION_TD10, REPORT_VERSION_TD15} from '../abi/tdreport.js'
import type {ModuleVersion, ProfileName} from './doc.js'
import {CPUID_NO_SUBLEAF, cpuidConfigKey} from './sysinfo.js'

export interface ProfileInfo {
  quote_version: 4 | 5
  tdreport_version: number
  td15: boolean
  tdisp: boolean
}

const featureBit = (name: string): bigint => {
  const bit = Object.entries(TDX_FEATURES0_BITS).find(([, n]) => n === name)
  if (!bit) throw new Error(`unknown TDX feature ${name}`)
  return 1n << BigInt(bit[0])
}
const features = (...names: string[]): bigint => names.reduce((acc, n) => acc | featureBit(n), 0n)

const FEATURES_15 = features(
  'TD_MIGRATION', 'SERVICE_TD', 'TDG_VP_RDWR', 'RELAXED_MEM_MNG_CONCURRENCY', 'CPUID_VIRT_GUEST_CTRL',
  'LOCAL_ATTESTATION', 'TD_ENTRY_ENHANCEMENTS', 'HOST_PRIORITY_LOCKS', 'CONFIG_IA32_ARCH_CAP',
  'PENDING_EPT_VIOLATION_V2', 'FMS_CONFIG', 'NO_RBP_MOD', 'L2_TLB_INVD_OPT',
)

/** What a tdx-connect module advertised before it advertised TDX Connect (state written by tdxkit before the device path read sysinfo). */
const PRE_CONNECT_FEATURES0 = FEATURES_15 | features('TD_PARTITIONING')

/**
 * State migration: a tdx-connect document whose TDX_FEATURES0 is the profile's old default (written
 * before the profile advertised TDXCONNECT and EXT) gets today's default, so its devices keep
 * working. The caller skips documents whose value was chosen (`module init --features0`).
 */
export function migratedFeatures0(profile: ProfileName, features0: bigint): bigint {
  return profile === 'tdx-connect' && features0 === PRE_CONNECT_FEATURES0 ? PROFILES['tdx-connect'].features0 : features0
}

interface ProfileDef extends ProfileInfo {
  version: ModuleVersion
  features0: bigint
  /** TDG.VP.INFO R10 bit 0: TDG.SYS.RD/RDALL available to the guest. */
  guestSysRd: boolean
  /** Global fields this module has (others fail TDH.SYS.RD with METADATA_FIELD_ID_INCORRECT). */
  fields: readonly GlobalFieldName[]
  cpusvn: string
  /** TEE_TCB_SVN bytes 2.. (byte 0 = module SVN, byte 1 = major version). */
  tcbSvnTail: number[]
  gpaw: 48 | 52
  attributesFixed0: bigint
  numCpuidConfig: number
  maxVcpusPerTd?: number
  tdcsBaseSize: number
  tdvpsBaseSize: number
  /** Values of the TDX Module Extensions / TDX Connect fields (profiles that list those fields). */
  connectMetadata?: ConnectMetadata
}

/** The `ext` and `connect` metadata values of a TDX Connect module (kernel struct member names). */
interface ConnectMetadata {
  memory_pool_required_pages: number
  ext_required: number
  ide_mt_page_count: number
  spdm_mt_page_count: number
  iommu_mt_page_count: number
  spdm_max_dev_info_pages: number
}

/**
 * The simulator's choices for the tdx-connect profile (no public module release states them):
 * - memory_pool_required_pages 12800 (50 MiB): the series' patch 10/31 says the Extensions need
 *   "~50MB", which the kernel hands over with TDH.EXT.MEM.ADD;
 * - ext_required 1: TDH.EXT.INIT is still to be called (0 would mean the Extensions already run);
 * - spdm_mt_page_count 2, ide_mt_page_count 1, iommu_mt_page_count 4: small per-object metadata
 *   (an SPDM session, an IDE stream, a TDX-mode IOMMU) the kernel allocates and hands over;
 * - spdm_max_dev_info_pages 4 (16 KiB): the device-info buffer TDH.EXEC.SPDM.CONNECT fills (the
 *   device's certificate chain and measurements). The simulated devices need about 2.5 KiB (nic0
 *   1906 + 568 bytes, cxl-mem 1858 + 568), so one page would do; four leave room for a deeper or
 *   RSA chain.
 */
export const CONNECT_METADATA: ConnectMetadata = {
  memory_pool_required_pages: 12800,
  ext_required: 1,
  ide_mt_page_count: 1,
  spdm_mt_page_count: 2,
  iommu_mt_page_count: 4,
  spdm_max_dev_info_pages: 4,
}

/** MAX_VCPUS_PER_TD as the intel/tdx-module source defines it (checked by TDH.MNG.INIT). */
const MODULE_MAX_VCPUS_PER_TD = 576

const BASE_FIELDS: readonly GlobalFieldName[] = [
  'VENDOR_ID', 'BUILD_DATE', 'BUILD_NUM', 'MINOR_VERSION', 'MAJOR_VERSION', 'UPDATE_VERSION', 'INTERNAL_VERSION',
  'SYS_ATTRIBUTES', 'NUM_TDX_FEATURES', 'TDX_FEATURES0',
  'MAX_TDMRS', 'MAX_RESERVED_PER_TDMR', 'PAMT_4K_ENTRY_SIZE', 'PAMT_2M_ENTRY_SIZE', 'PAMT_1G_ENTRY_SIZE',
  'TDR_BASE_SIZE', 'TDCS_BASE_SIZE', 'TDVPS_BASE_SIZE',
  'ATTRIBUTES_FIXED0', 'ATTRIBUTES_FIXED1', 'XFAM_FIXED0', 'XFAM_FIXED1', 'NUM_CPUID_CONFIG',
  'CPUID_CONFIG_LEAVES', 'CPUID_CONFIG_VALUES',
]
const FIELDS_15: readonly GlobalFieldName[] = [
  ...BASE_FIELDS, 'NUM_CMRS', 'CMR_BASE', 'CMR_SIZE', 'MIG_ATTRIBUTES', 'MIN_EXPORT_VERSION', 'MAX_EXPORT_VERSION',
  'MIN_IMPORT_VERSION', 'MAX_IMPORT_VERSION', 'MAX_SERV_TDS', 'GUEST_L2_GPA_ATTR_MASK',
]
/** TDX Module Extensions and TDX Connect fields (tdx-connect only). */
const CONNECT_FIELDS: readonly GlobalFieldName[] = [
  'MEMORY_POOL_REQUIRED_PAGES', 'EXT_REQUIRED',
  'IDE_MT_PAGE_COUNT', 'SPDM_MT_PAGE_COUNT', 'IOMMU_MT_PAGE_COUNT', 'SPDM_MAX_DEV_INFO_PAGES',
]

const PROFILES: Readonly<Record<ProfileName, ProfileDef>> = {
  'tdx-1.0': {
    quote_version: 4, tdreport_version: REPORT_VERSION_TD10, td15: false, tdisp: false,
    version: {major_version: 1, minor_version: 0, update_version: 3, internal_version: 0, build_num: 0x0176, build_date: 20230315},
    features0: features('NO_RBP_MOD'),
    guestSysRd: false,
    fields: BASE_FIELDS,
    cpusvn: '04040202030100030000000000000000',
    tcbSvnTail: [3],
    gpaw: 48,
    attributesFixed0: (1n << 0n) | (1n << 28n) | (1n << 30n) | (1n << 63n),
    numCpuidConfig: 6,
    tdcsBaseSize: 4 * 4096,
    tdvpsBaseSize: 5 * 4096,
  },
  'tdx-1.5': {
    quote_version: 5, tdreport_version: REPORT_VERSION_TD15, td15: true, tdisp: false,
    version: {major_version: 1, minor_version: 5, update_version: 6, internal_version: 0, build_num: 0x02e8, build_date: 20240725},
    features0: FEATURES_15,
    guestSysRd: true,
    fields: [...FIELDS_15, 'MAX_VCPUS_PER_TD'],
    cpusvn: '06061315030100030000000000000000',
    tcbSvnTail: [6],
    gpaw: 52,
    attributesFixed0: (1n << 0n) | (1n << 28n) | (1n << 29n) | (1n << 30n) | (1n << 63n),
    numCpuidConfig: 12,
    maxVcpusPerTd: MODULE_MAX_VCPUS_PER_TD,
    tdcsBaseSize: 4 * 4096,
    tdvpsBaseSize: 6 * 4096,
  },
  'tdx-connect': {
    quote_version: 5, tdreport_version: REPORT_VERSION_TD15, td15: true, tdisp: true,
    version: {major_version: 2, minor_version: 0, update_version: 1, internal_version: 0, build_num: 0x0130, build_date: 20250910},
    features0: PRE_CONNECT_FEATURES0 | TDX_FEATURES0_TDXCONNECT | TDX_FEATURES0_EXT,
    guestSysRd: true,
    fields: [...FIELDS_15, 'MAX_VCPUS_PER_TD', ...CONNECT_FIELDS],
    cpusvn: '07071315030100030000000000000000',
    tcbSvnTail: [7],
    gpaw: 52,
    attributesFixed0: (1n << 0n) | (1n << 28n) | (1n << 29n) | (1n << 30n) | (1n << 63n),
    numCpuidConfig: 14,
    maxVcpusPerTd: MODULE_MAX_VCPUS_PER_TD,
    tdcsBaseSize: 5 * 4096,
    tdvpsBaseSize: 6 * 4096,
    connectMetadata: CONNECT_METADATA,
  },
}

export function profileDef(p: ProfileName): ProfileDef {
  return PROFILES[p]
}

export function profileInfo(p: ProfileName): ProfileInfo {
  const d = PROFILES[p]
  return {quote_version: d.quote_version, tdreport_version: d.tdreport_version, td15: d.td15, tdisp: d.tdisp}
}

/** Module SVN that goes in TEE_TCB_SVN[0] (the update version in this simulation). */
const moduleSvn = (v: ModuleVersion): number => v.update_version

/** TEE_TCB_SVN: byte 0 module SVN, byte 1 major version (Intel's TDX module identity "TDX_0<major>"), then per-profile components. */
export function teeTcbSvn(p: ProfileName, v: ModuleVersion): Buffer {
  const b = Buffer.alloc(16)
  b[0] = moduleSvn(v)
  b[1] = v.major_version
  PROFILES[p].tcbSvnTail.forEach((x, i) => (b[2 + i] = x))
  return b
}

/** Configurable CPUID leaves (leaf | sub-leaf << 32, sub-leaf all-ones when the leaf has none) and their masks. */
const CPUID_LEAVES: ReadonlyArray<[bigint, bigint]> = [
  [0x1n, CPUID_NO_SUBLEAF], [0x7n, 0n], [0xdn, 0n], [0xdn, 1n], [0x14n, 0n], [0x19n, CPUID_NO_SUBLEAF], [0x1cn, 0n],
  [0x1dn, 0n], [0x1en, 0n], [0x24n, 0n], [0x80000001n, CPUID_NO_SUBLEAF], [0x80000007n, CPUID_NO_SUBLEAF],
  [0x80000008n, CPUID_NO_SUBLEAF], [0x23n, 0n],
]

export interface MetadataEntry {
  value: bigint
  guest: boolean
}

/**
 * The profile's global metadata as field id → value. Version and features come from the module
 * section of the state (so `module init --features0` can change them); everything else is static.
 */
export function buildGlobalMetadata(p: ProfileName, version: ModuleVersion, features0: bigint, memoryBytes: number): Map<bigint, MetadataEntry> {
  const d = PROFILES[p]
  const cm = d.connectMetadata
  const connect = (v: number | undefined) => (v === undefined ? undefined : [BigInt(v)])
  const values: Partial<Record<GlobalFieldName, bigint[]>> = {
    VENDOR_ID: [0x8086n],
    BUILD_DATE: [BigInt(version.build_date)],
    BUILD_NUM: [BigInt(version.build_num)],
    MINOR_VERSION: [BigInt(version.minor_version)],
    MAJOR_VERSION: [BigInt(version.major_version)],
    UPDATE_VERSION: [BigInt(version.update_version)],
    INTERNAL_VERSION: [BigInt(version.internal_version)],
    SYS_ATTRIBUTES: [0n],
    NUM_TDX_FEATURES: [1n],
    TDX_FEATURES0: [features0],
    NUM_CMRS: [2n],
    CMR_BASE: Array.from({length: 32}, (_, i) => (i === 0 ? 0n : i === 1 ? 0x100000000n : 0n)),
    CMR_SIZE: Array.from({length: 32}, (_, i) => (i === 0 ? 0x80000000n : i === 1 ? BigInt(memoryBytes) * 4n : 0n)),
    MAX_TDMRS: [64n],
    MAX_RESERVED_PER_TDMR: [16n],
    PAMT_4K_ENTRY_SIZE: [16n],
    PAMT_2M_ENTRY_SIZE: [16n],
    PAMT_1G_ENTRY_SIZE: [16n],
    TDR_BASE_SIZE: [4096n],
    TDCS_BASE_SIZE: [BigInt(d.tdcsBaseSize)],
    TDVPS_BASE_SIZE: [BigInt(d.tdvpsBaseSize)],
    ATTRIBUTES_FIXED0: [d.attributesFixed0],
    ATTRIBUTES_FIXED1: [0n],
    XFAM_FIXED0: [0x0006dbe7n],
    XFAM_FIXED1: [0x3n],
    NUM_CPUID_CONFIG: [BigInt(d.numCpuidConfig)],
    MAX_VCPUS_PER_TD: d.maxVcpusPerTd === undefined ? undefined : [BigInt(d.maxVcpusPerTd)],
    CPUID_CONFIG_LEAVES: Array.from({length: 32}, (_, i) => {
      if (i >= d.numCpuidConfig) return 0xffffffffffffffffn
      const [leaf, sub] = CPUID_LEAVES[i]
      return cpuidConfigKey(leaf, sub)
    }),
    CPUID_CONFIG_VALUES: Array.from({length: 64}, (_, k) => {
      const i = k >> 1
      if (i >= d.numCpuidConfig) return 0n
      // Configurable-bit masks: a deterministic, plausible pattern per leaf (EAX|EBX<<32, ECX|EDX<<32).
      const leaf = CPUID_LEAVES[i][0]
      return k & 1 ? ((leaf * 0x9e37n) & 0xffffn) << 32n : (leaf * 0x85ebn) & 0xffffffn
    }),
    MIG_ATTRIBUTES: [0n],
    MIN_EXPORT_VERSION: [0n],
    MAX_EXPORT_VERSION: [0n],
    MIN_IMPORT_VERSION: [0n],
    MAX_IMPORT_VERSION: [0n],
    MAX_SERV_TDS: [1n],
    GUEST_L2_GPA_ATTR_MASK: [0n],
    MEMORY_POOL_REQUIRED_PAGES: connect(cm?.memory_pool_required_pages),
    EXT_REQUIRED: connect(cm?.ext_required),
    IDE_MT_PAGE_COUNT: connect(cm?.ide_mt_page_count),
    SPDM_MT_PAGE_COUNT: connect(cm?.spdm_mt_page_count),
    IOMMU_MT_PAGE_COUNT: connect(cm?.iommu_mt_page_count),
    SPDM_MAX_DEV_INFO_PAGES: connect(cm?.spdm_max_dev_info_pages),
  }
  const out = new Map<bigint, MetadataEntry>()
  for (const name of d.fields) {
    const def = GLOBAL_FIELDS[name]
    const vals = values[name]
    if (!vals || vals.length !== def.count) throw new Error(`profile ${p}: no value for ${name}`)
    vals.forEach((v, i) => out.set(def.id + BigInt(i), {value: v, guest: def.guest}))
  }
  return out
}
