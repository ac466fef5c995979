/**
 * TDX module completion status codes (TDCALL / SEAMCALL RAX out) and operand ids, module 1.5
 * values (Intel tdx-module `tdx_error_codes_defs.h`, `tdx_api_defs.h`; kernel `tdx_errno.h`).
 *
 * Format: bit 63 error, 62 non-recoverable, 61 fatal, 60 host-recoverability hint, 47:40 class,
 * 39:32 details L1, 31:0 details L2 — usually the operand id of the offending register/object
 * (OPERAND_INVALID | RCX = 0xC000010000000001) or, for PAGE.ACCEPT, the S-EPT level.
 */

export const TDX_SUCCESS = 0x0000000000000000n
export const TDX_NON_RECOVERABLE_VCPU = 0x4000000100000000n
export const TDX_INTERRUPTED_RESUMABLE = 0x8000000300000000n
export const TDX_INTERRUPTED_RESTARTABLE = 0x8000000400000000n
export const TDX_OPERAND_INVALID = 0xc000010000000000n
export const TDX_OPERAND_ADDR_RANGE_ERROR = 0xc000010100000000n
export const TDX_OPERAND_BUSY = 0x8000020000000000n
export const TDX_SYS_BUSY = 0x8000020200000000n
export const TDX_RND_NO_ENTROPY = 0x8000020300000000n
export const TDX_SYS_LP_INIT_NOT_DONE = 0xc000050200000000n
export const TDX_SYS_NOT_READY = 0xc000050500000000n
export const TDX_VCPU_STATE_INCORRECT = 0xc000070000000000n
export const TDX_NO_VALID_VE_INFO = 0xc000070400000000n
export const TDX_EPT_WALK_FAILED = 0xc0000b0000000000n
export const TDX_EPT_ENTRY_NOT_PRESENT = 0xc0000b0300000000n
export const TDX_PAGE_ALREADY_ACCEPTED = 0x00000b0a00000000n
export const TDX_PAGE_SIZE_MISMATCH = 0xc0000b0b00000000n
export const TDX_EPT_ENTRY_STATE_INCORRECT = 0xc0000b0d00000000n
export const TDX_METADATA_FIELD_ID_INCORRECT = 0xc0000c0000000000n
export const TDX_METADATA_FIELD_NOT_WRITABLE = 0xc0000c0100000000n
export const TDX_METADATA_FIELD_NOT_READABLE = 0xc0000c0200000000n
export const TDX_METADATA_FIELD_VALUE_NOT_VALID = 0xc0000c0300000000n
export const TDX_METADATA_LIST_OVERFLOW = 0xc0000c0400000000n
export const TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT = 0x00000c0b00000000n
export const TDX_METADATA_FIELD_SKIP = 0x00000c0c00000000n
export const TDX_INVALID_CPUSVN = 0xc000100000000000n
export const TDX_INVALID_REPORTMACSTRUCT = 0xc000100100000000n

/** Status value (upper 32 bits, details cleared) → name. */
export const STATUS_NAMES: ReadonlyMap<bigint, string> = new Map([
  [TDX_SUCCESS, 'TDX_SUCCESS'],
  [TDX_NON_RECOVERABLE_VCPU, 'TDX_NON_RECOVERABLE_VCPU'],
  [TDX_INTERRUPTED_RESUMABLE, 'TDX_INTERRUPTED_RESUMABLE'],
  [TDX_INTERRUPTED_RESTARTABLE, 'TDX_INTERRUPTED_RESTARTABLE'],
  [TDX_OPERAND_INVALID, 'TDX_OPERAND_INVALID'],
  [TDX_OPERAND_ADDR_RANGE_ERROR, 'TDX_OPERAND_ADDR_RANGE_ERROR'],
  [TDX_OPERAND_BUSY, 'TDX_OPERAND_BUSY'],
  [TDX_SYS_BUSY, 'TDX_SYS_BUSY'],
  [TDX_RND_NO_ENTROPY, 'TDX_RND_NO_ENTROPY'],
  [TDX_SYS_LP_INIT_NOT_DONE, 'TDX_SYS_LP_INIT_NOT_DONE'],
  [TDX_SYS_NOT_READY, 'TDX_SYS_NOT_READY'],
  [TDX_VCPU_STATE_INCORRECT, 'TDX_VCPU_STATE_INCORRECT'],
  [TDX_NO_VALID_VE_INFO, 'TDX_NO_VALID_VE_INFO'],
  [TDX_EPT_WALK_FAILED, 'TDX_EPT_WALK_FAILED'],
  [TDX_EPT_ENTRY_NOT_PRESENT, 'TDX_EPT_ENTRY_NOT_PRESENT'],
  [TDX_PAGE_ALREADY_ACCEPTED, 'TDX_PAGE_ALREADY_ACCEPTED'],
  [TDX_PAGE_SIZE_MISMATCH, 'TDX_PAGE_SIZE_MISMATCH'],
  [TDX_EPT_ENTRY_STATE_INCORRECT, 'TDX_EPT_ENTRY_STATE_INCORRECT'],
  [TDX_METADATA_FIELD_ID_INCORRECT, 'TDX_METADATA_FIELD_ID_INCORRECT'],
  [TDX_METADATA_FIELD_NOT_WRITABLE, 'TDX_METADATA_FIELD_NOT_WRITABLE'],
  [TDX_METADATA_FIELD_NOT_READABLE, 'TDX_METADATA_FIELD_NOT_READABLE'],
  [TDX_METADATA_FIELD_VALUE_NOT_VALID, 'TDX_METADATA_FIELD_VALUE_NOT_VALID'],
  [TDX_METADATA_LIST_OVERFLOW, 'TDX_METADATA_LIST_OVERFLOW'],
  [TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, 'TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT'],
  [TDX_METADATA_FIELD_SKIP, 'TDX_METADATA_FIELD_SKIP'],
  [TDX_INVALID_CPUSVN, 'TDX_INVALID_CPUSVN'],
  [TDX_INVALID_REPORTMACSTRUCT, 'TDX_INVALID_REPORTMACSTRUCT'],
])

/** Operand ids carried in bits 31:0 of a status (module `operand_id_e`). */
export const OperandId = {
  RAX: 0,
  RCX: 1,
  RDX: 2,
  RBX: 3,
  RBP: 5,
  RSI: 6,
  RDI: 7,
  R8: 8,
  R9: 9,
  R10: 10,
  R11: 11,
  R12: 12,
  R13: 13,
  R14: 14,
  R15: 15,
  ATTRIBUTES: 64,
  XFAM: 65,
  EXEC_CONTROLS: 66,
  EPTP_CONTROLS: 67,
  MAX_VCPUS: 68,
  CPUID_CONFIG: 69,
  TSC_FREQUENCY: 70,
  SEPT_TREE: 146,
  SEPT_ENTRY: 147,
  RTMR: 168,
  TD_EPOCH: 169,
  METADATA_FIELD: 176,
  SYS: 184,
} as const

const OPERAND_NAMES = new Map<number, string>(Object.entries(OperandId).map(([k, v]) => [v, k]))

const STATUS_CODE_MASK = 0xffffffff00000000n
const DETAIL_MASK = 0xffffffffn

/** A status with an operand id (or level) in the detail bits, like the module's api_error_with_operand_id. */
export const withOperand = (status: bigint, operand: number | bigint): bigint => status | (BigInt(operand) & DETAIL_MASK)

/** The status code without its detail bits (what the kernel compares: `status >> 32`). */
export const statusCode = (status: bigint): bigint => status & STATUS_CODE_MASK
export const statusDetail = (status: bigint): number => Number(status & DETAIL_MASK)
export const isError = (status: bigint): boolean => (status >> 63n) === 1n

/** Statuses whose detail bits hold an S-EPT level rather than an operand id. */
const LEVEL_DETAIL = new Set([TDX_PAGE_ALREADY_ACCEPTED, TDX_PAGE_SIZE_MISMATCH])

export function statusName(status: bigint): string {
  return STATUS_NAMES.get(statusCode(status)) ?? `TDX_STATUS_0x${statusCode(status).toString(16).padStart(16, '0').toUpperCase()}`
}

/** "TDX_OPERAND_INVALID (operand RDX)" / "TDX_PAGE_SIZE_MISMATCH (level 1)" / "TDX_SUCCESS". */
export function describeStatus(status: bigint): string {
  const name = statusName(status)
  const detail = statusDetail(status)
  if (LEVEL_DETAIL.has(statusCode(status))) return `${name} (level ${detail === 0 ? '4K' : detail === 1 ? '2M' : detail === 2 ? '1G' : detail})`
  if (detail === 0 && statusCode(status) !== TDX_OPERAND_INVALID) return name
  if (statusCode(status) === TDX_SUCCESS) return name
  return `${name} (operand ${OPERAND_NAMES.get(detail) ?? detail})`
}

export const statusHex = (status: bigint): string => '0x' + status.toString(16).padStart(16, '0').toUpperCase()
