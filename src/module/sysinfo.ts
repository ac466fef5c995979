/**
 * The shape of the kernel's `struct tdx_sys_info` (arch/x86/include/asm/tdx_global_metadata.h,
 * Linux v6.16; version added in 2026; `ext` and `connect` from the TDX Connect host series, Xu
 * Yilun, "[PATCH v2 06/31]", LKML 2026-03-28): what the host reads once from the TDX module's global
 * metadata (src/guest/sysinfo.ts fills it) and what its consumers — TD creation
 * (src/module/td-create.ts), the quote and cost paths, the device path (src/app/device.ts) — read
 * instead of issuing SEAMCALLs.
 */
/** A CPUID configuration leaf without sub-leaves has all ones in the sub-leaf half (KVM_TDX_CPUID_NO_SUBLEAF). */
export const CPUID_NO_SUBLEAF = 0xffffffffn

/** A cpuid_config_leaves entry: the CPUID leaf in bits 31:0, its subleaf in bits 63:32. */
export const cpuidConfigKey = (leaf: bigint, subleaf: bigint = CPUID_NO_SUBLEAF): bigint => leaf | (subleaf << 32n)

export interface TdxSysInfo {
  version: {
    major_version: number
    minor_version: number
    update_version: number
    internal_version?: number
    build_num?: number
    build_date?: number
  }
  features: {tdx_features0: bigint}
  tdmr: {
    max_tdmrs: number
    max_reserved_per_tdmr: number
    pamt_4k_entry_size: number
    pamt_2m_entry_size: number
    pamt_1g_entry_size: number
  }
  td_ctrl: {tdr_base_size: number; tdcs_base_size: number; tdvps_base_size: number}
  td_conf: {
    attributes_fixed0: bigint
    attributes_fixed1: bigint
    xfam_fixed0: bigint
    xfam_fixed1: bigint
    num_cpuid_config: number
    max_vcpus_per_td?: number
    cpuid_config_leaves: readonly bigint[]
    cpuid_config_values: ReadonlyArray<readonly bigint[]>
  }
  cmr: {num_cmrs?: number; cmr_base?: readonly bigint[]; cmr_size?: readonly bigint[]}
  /** Read only when TDX_FEATURES0 has EXT (struct tdx_sys_info_ext). */
  ext?: {memory_pool_required_pages: number; ext_required: number}
  /** Read only when TDX_FEATURES0 has TDXCONNECT (struct tdx_sys_info_connect). */
  connect?: {
    ide_mt_page_count: number
    spdm_mt_page_count: number
    iommu_mt_page_count: number
    spdm_max_dev_info_pages: number
  }
}

