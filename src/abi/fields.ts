/**
 * Metadata field identifiers (module 1.5 `md_field_id_t`) and the global (SYS-context) and TD-context
 * field ids the simulator serves, with their element sizes (module `global_sys_fields_lookup.c`,
 * kernel `tdx_global_metadata.c`).
 *
 * Field id bits: 23:0 field code, 31:24 reserved, 33:32 element size code (bytes = 1 << code),
 * 37:34 last element in field, 46:38 last field in sequence, 49:47 reserved, 50 INC_SIZE,
 * 51 WRITE_MASK_VALID, 54:52 context code (0 SYS, 1 TD, 2 VCPU), 55 reserved, 61:56 class code,
 * 62 reserved, 63 NON_ARCH.
 */

export const MD_FIELD_ID_NA = 0xffffffffffffffffn

const FIELD_CODE_MASK = 0xffffffn
const ELEM_SIZE_SHIFT = 32n
const LAST_ELEMENT_SHIFT = 34n
const LAST_FIELD_SHIFT = 38n
const CONTEXT_SHIFT = 52n
const CLASS_SHIFT = 56n
/** Bits that must be zero in any field id: 31:24, 49:47, 55, 62. */
export const MD_FIELD_RESERVED_MASK = (0xffn << 24n) | (0x7n << 47n) | (1n << 55n) | (1n << 62n)
/** Bits that must be zero in a single-element id (last element / last field in sequence). */
export const MD_FIELD_SEQUENCE_MASK = (0xfn << LAST_ELEMENT_SHIFT) | (0x1ffn << LAST_FIELD_SHIFT)
const CONTEXT_MASK = 0x7n << CONTEXT_SHIFT

export const MdContext = {SYS: 0, TD: 1, VCPU: 2} as const

export const fieldCode = (id: bigint): number => Number(id & FIELD_CODE_MASK)
export const elementSizeBytes = (id: bigint): number => 1 << Number((id >> ELEM_SIZE_SHIFT) & 3n)
export const fieldClass = (id: bigint): number => Number((id >> CLASS_SHIFT) & 0x3fn)
export const fieldContext = (id: bigint): number => Number((id >> CONTEXT_SHIFT) & 7n)

/** The "null" id (all ones ignoring the context bits) asks for the first field in the context. */
export const isNullFieldId = (id: bigint): boolean => (id | CONTEXT_MASK) === MD_FIELD_ID_NA
/** A valid single-element id: no reserved and no sequence bits set. */
export const isSingleElementId = (id: bigint): boolean => (id & (MD_FIELD_RESERVED_MASK | MD_FIELD_SEQUENCE_MASK)) === 0n

/** Mask a value to the element size of a field id. */
export const maskToElement = (id: bigint, value: bigint): bigint => BigInt.asUintN(elementSizeBytes(id) * 8, value)

/** Sequence header for RDALL lists: the first id with last-element and last-field counts. */
export const sequenceHeader = (firstId: bigint, lastFieldInSequence: number): bigint =>
  (firstId & ~MD_FIELD_SEQUENCE_MASK) | (BigInt(lastFieldInSequence) << LAST_FIELD_SHIFT)
export const sequenceLastField = (header: bigint): number => Number((header >> LAST_FIELD_SHIFT) & 0x1ffn)
export const sequenceBaseId = (header: bigint): bigint => header & ~MD_FIELD_SEQUENCE_MASK

export interface GlobalFieldDef {
  /** Base field id (element 0). Arrays occupy consecutive field codes (id + i). */
  id: bigint
  /** Number of consecutive field codes (1 for scalars; CMR_BASE = 32, CPUID_CONFIG_VALUES = 2 × leaves). */
  count: number
  /** Readable by the guest through TDG.SYS.RD / RDALL (module 1.5 guest read mask). */
  guest: boolean
}

/** Global metadata fields the simulator knows (module 1.5 ids). */
export const GLOBAL_FIELDS = {
  VENDOR_ID: {id: 0x0800000200000000n, count: 1, guest: true},
  BUILD_DATE: {id: 0x8800000200000001n, count: 1, guest: false},
  BUILD_NUM: {id: 0x8800000100000002n, count: 1, guest: false},
  MINOR_VERSION: {id: 0x0800000100000003n, count: 1, guest: true},
  MAJOR_VERSION: {id: 0x0800000100000004n, count: 1, guest: true},
  UPDATE_VERSION: {id: 0x0800000100000005n, count: 1, guest: false},
  INTERNAL_VERSION: {id: 0x0800000100000006n, count: 1, guest: false},
  SYS_ATTRIBUTES: {id: 0x0a00000200000000n, count: 1, guest: true},
  NUM_TDX_FEATURES: {id: 0x0a00000000000001n, count: 1, guest: true},
  TDX_FEATURES0: {id: 0x0a00000300000008n, count: 1, guest: true},
  NUM_CMRS: {id: 0x9000000100000000n, count: 1, guest: false},
  CMR_BASE: {id: 0x9000000300000080n, count: 32, guest: false},
  CMR_SIZE: {id: 0x9000000300000100n, count: 32, guest: false},
  MAX_TDMRS: {id: 0x9100000100000008n, count: 1, guest: false},
  MAX_RESERVED_PER_TDMR: {id: 0x9100000100000009n, count: 1, guest: false},
  PAMT_4K_ENTRY_SIZE: {id: 0x9100000100000010n, count: 1, guest: false},
  PAMT_2M_ENTRY_SIZE: {id: 0x9100000100000011n, count: 1, guest: false},
  PAMT_1G_ENTRY_SIZE: {id: 0x9100000100000012n, count: 1, guest: false},
  TDR_BASE_SIZE: {id: 0x9800000100000000n, count: 1, guest: false},
  TDCS_BASE_SIZE: {id: 0x9800000100000100n, count: 1, guest: false},
  TDVPS_BASE_SIZE: {id: 0x9800000100000200n, count: 1, guest: false},
  ATTRIBUTES_FIXED0: {id: 0x1900000300000000n, count: 1, guest: false},
  ATTRIBUTES_FIXED1: {id: 0x1900000300000001n, count: 1, guest: false},
  XFAM_FIXED0: {id: 0x1900000300000002n, count: 1, guest: false},
  XFAM_FIXED1: {id: 0x1900000300000003n, count: 1, guest: false},
  NUM_CPUID_CONFIG: {id: 0x9900000100000004n, count: 1, guest: false},
  MAX_VCPUS_PER_TD: {id: 0x9900000100000008n, count: 1, guest: false},
  CPUID_CONFIG_LEAVES: {id: 0x9900000300000400n, count: 32, guest: false},
  CPUID_CONFIG_VALUES: {id: 0x9900000300000500n, count: 64, guest: false},
  MIG_ATTRIBUTES: {id: 0xa000000300000000n, count: 1, guest: true},
  MIN_EXPORT_VERSION: {id: 0x2000000100000001n, count: 1, guest: true},
  MAX_EXPORT_VERSION: {id: 0x2000000100000002n, count: 1, guest: true},
  MIN_IMPORT_VERSION: {id: 0x2000000100000003n, count: 1, guest: true},
  MAX_IMPORT_VERSION: {id: 0x2000000100000004n, count: 1, guest: true},
  MAX_SERV_TDS: {id: 0xa100000100000000n, count: 1, guest: false},
  GUEST_L2_GPA_ATTR_MASK: {id: 0xa200000100000000n, count: 1, guest: true},
  // TDX Module Extensions and TDX Connect (Xu Yilun, "[PATCH v2 06/31] x86/virt/tdx: Read global
  // metadata for TDX Module Extensions/Connect", LKML 2026-03-28: tdx_global_metadata.c). Whether the
  // guest may read them is not stated there; the simulator keeps them host-only.
  MEMORY_POOL_REQUIRED_PAGES: {id: 0x3100000100000000n, count: 1, guest: false},
  EXT_REQUIRED: {id: 0x3100000100000001n, count: 1, guest: false},
  IDE_MT_PAGE_COUNT: {id: 0x3000000100000001n, count: 1, guest: false},
  SPDM_MT_PAGE_COUNT: {id: 0x3000000100000002n, count: 1, guest: false},
  IOMMU_MT_PAGE_COUNT: {id: 0x3000000100000003n, count: 1, guest: false},
  SPDM_MAX_DEV_INFO_PAGES: {id: 0x3000000100000007n, count: 1, guest: false},
} as const satisfies Record<string, GlobalFieldDef>

export type GlobalFieldName = keyof typeof GLOBAL_FIELDS

/**
 * TDX_FEATURES0 bits (module 1.5 `tdx_features_enum0_t`; bits 6 and 39 named as the kernel's
 * arch/x86/include/asm/tdx.h has them in the TDX Connect host series, PATCH v2 06/31, 2026-03-28).
 */
export const TDX_FEATURES0_BITS: Readonly<Record<number, string>> = {
  0: 'TD_MIGRATION',
  1: 'TD_PRESERVING',
  2: 'SERVICE_TD',
  3: 'TDG_VP_RDWR',
  4: 'RELAXED_MEM_MNG_CONCURRENCY',
  5: 'CPUID_VIRT_GUEST_CTRL',
  6: 'TDXCONNECT',
  7: 'TD_PARTITIONING',
  8: 'LOCAL_ATTESTATION',
  9: 'TD_ENTRY_ENHANCEMENTS',
  10: 'HOST_PRIORITY_LOCKS',
  11: 'CONFIG_IA32_ARCH_CAP',
  16: 'PENDING_EPT_VIOLATION_V2',
  17: 'FMS_CONFIG',
  18: 'NO_RBP_MOD',
  19: 'L2_TLB_INVD_OPT',
  39: 'EXT',
}
export const TDX_FEATURES0_NO_RBP_MOD = 1n << 18n
/** TDX Connect (TDISP devices through the module as TSM); its sysinfo group `connect` is read only when set. */
export const TDX_FEATURES0_TDXCONNECT = 1n << 6n
/** TDX Module Extensions (the memory pool TDX Connect runs on); its sysinfo group `ext` is read only when set. */
export const TDX_FEATURES0_EXT = 1n << 39n

export function featureNames(features0: bigint): string[] {
  const names: string[] = []
  for (let bit = 0; bit < 64; bit++) {
    if ((features0 >> BigInt(bit)) & 1n) names.push(TDX_FEATURES0_BITS[bit] ?? `bit${bit}`)
  }
  return names
}

/** TD-scope (TDCS) fields readable by the guest with TDG.VM.RD (kernel `asm/shared/tdx.h`). */
export const TD_FIELDS = {
  TDCS_NOTIFY_ENABLES: 0x9100000000000010n,
  TDCS_TOPOLOGY_ENUM_CONFIGURED: 0x9100000000000019n,
  TDCS_CONFIG_FLAGS: 0x1110000300000016n,
  TDCS_TD_CTLS: 0x1110000300000017n,
} as const
export type TdFieldName = keyof typeof TD_FIELDS

/** TD ATTRIBUTES bits (TDINFO.ATTRIBUTES, TDG.VP.INFO RDX). */
export const TD_ATTRIBUTE_BITS: Readonly<Record<number, string>> = {
  0: 'DEBUG',
  4: 'HGS_PLUS_PROF',
  5: 'PERF_PROF',
  6: 'PMT_PROF',
  16: 'ICSSD',
  27: 'LASS',
  28: 'SEPT_VE_DISABLE',
  29: 'MIGRATABLE',
  30: 'PKS',
  31: 'KL',
  62: 'TPA',
  63: 'PERFMON',
}
export const TD_ATTR_SEPT_VE_DISABLE = 1n << 28n
