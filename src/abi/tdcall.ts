/**
 * TDCALL / SEAMCALL leaf numbers and the register file (module 1.5 `tdcall_leaf_opcode_e` and
 * `seamcall_leaf_opcode_e`; kernel `asm/shared/tdx.h`).
 *
 * RAX in: bits 15:0 leaf, 23:16 version, 63:24 must be zero.
 */

export const TdcallLeaf = {
  VP_VMCALL: 0,
  VP_INFO: 1,
  MR_RTMR_EXTEND: 2,
  VP_VEINFO_GET: 3,
  MR_REPORT: 4,
  MEM_PAGE_ACCEPT: 6,
  VM_RD: 7,
  VM_WR: 8,
  SYS_RD: 11,
  SYS_RDALL: 12,
} as const

export const TDCALL_LEAF_NAMES: Readonly<Record<number, string>> = {
  0: 'TDG.VP.VMCALL',
  1: 'TDG.VP.INFO',
  2: 'TDG.MR.RTMR.EXTEND',
  3: 'TDG.VP.VEINFO.GET',
  4: 'TDG.MR.REPORT',
  5: 'TDG.VP.CPUIDVE.SET',
  6: 'TDG.MEM.PAGE.ACCEPT',
  7: 'TDG.VM.RD',
  8: 'TDG.VM.WR',
  9: 'TDG.VP.RD',
  10: 'TDG.VP.WR',
  11: 'TDG.SYS.RD',
  12: 'TDG.SYS.RDALL',
  22: 'TDG.MR.VERIFYREPORT',
}

export const SeamcallLeaf = {
  MEM_PAGE_ADD: 2,
  MEM_PAGE_AUG: 6,
  MR_EXTEND: 16,
  MR_FINALIZE: 17,
  SYS_INFO: 32,
  SYS_RD: 34,
  SYS_LP_INIT: 35,
  SYS_RDALL: 37,
} as const

export const SEAMCALL_LEAF_NAMES: Readonly<Record<number, string>> = {
  2: 'TDH.MEM.PAGE.ADD',
  6: 'TDH.MEM.PAGE.AUG',
  16: 'TDH.MR.EXTEND',
  17: 'TDH.MR.FINALIZE',
  32: 'TDH.SYS.INFO',
  34: 'TDH.SYS.RD',
  35: 'TDH.SYS.LP.INIT',
  37: 'TDH.SYS.RDALL',
}

/** The highest version accepted per TDCALL leaf (only TDG.VM.RD has a v1 in module 1.5). */
export const TDCALL_MAX_VERSION: Readonly<Record<number, number>> = {[TdcallLeaf.VM_RD]: 1}

const LEAF_MASK = 0xffffn
const VERSION_SHIFT = 16n
const VERSION_MASK = 0xffn
const RAX_RESERVED_SHIFT = 24n

export const encodeLeaf = (leaf: number, version = 0): bigint => BigInt(leaf) | (BigInt(version) << VERSION_SHIFT)
export function decodeLeaf(rax: bigint): {leaf: number; version: number; reserved: bigint} {
  return {
    leaf: Number(rax & LEAF_MASK),
    version: Number((rax >> VERSION_SHIFT) & VERSION_MASK),
    reserved: rax >> RAX_RESERVED_SHIFT,
  }
}

/** General-purpose registers as seen by TDCALL / SEAMCALL (all 64-bit). */
export interface Regs {
  rax: bigint
  rbx: bigint
  rcx: bigint
  rdx: bigint
  rsi: bigint
  rdi: bigint
  r8: bigint
  r9: bigint
  r10: bigint
  r11: bigint
  r12: bigint
  r13: bigint
  r14: bigint
  r15: bigint
}

export const REG_NAMES = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const

/** Register number (as used by the TDG.VP.VMCALL RCX expose bitmap) of each GPR. */
export const REG_NUMBER: Readonly<Record<keyof Regs, number>> = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
}

export function makeRegs(partial: Partial<Regs> = {}): Regs {
  const r = {} as Regs
  for (const n of REG_NAMES) r[n] = BigInt.asUintN(64, partial[n] ?? 0n)
  return r
}

/** TDG.MEM.PAGE.ACCEPT / S-EPT levels. */
export const PageLevel = {L4K: 0, L2M: 1, L1G: 2} as const
export type PageLevel = (typeof PageLevel)[keyof typeof PageLevel]

/** TDG.MEM.PAGE.ACCEPT RCX: bits 2:0 level, 11:3 reserved (0), 51:12 GPA, 63:52 reserved (0). */
export const ACCEPT_LEVEL_MASK = 0x7n
export const ACCEPT_RESERVED_LOW_MASK = 0xff8n
export const ACCEPT_GPA_MASK = 0x000ffffffffff000n

/** Alignments the module checks. */
export const TDREPORT_GPA_ALIGN = 1024n
export const REPORTDATA_GPA_ALIGN = 64n
export const RTMR_EXTEND_GPA_ALIGN = 64n
export const METADATA_PAGE_ALIGN = 4096n
export const TDG_MR_REPORT_SUBTYPE = 0n
export const NUM_RTMRS = 4

/** TDG.VP.VMCALL RCX expose bitmap: these GPRs may never be exposed (RAX, RCX, RSP); RBP neither with NO_RBP_MOD. */
export const VMCALL_FORBIDDEN_EXPOSE = (1n << 0n) | (1n << 1n) | (1n << 4n)
export const VMCALL_RBP_BIT = 1n << 5n
export const VMCALL_EXPOSE_RESERVED = 0xffffffff00000000n
