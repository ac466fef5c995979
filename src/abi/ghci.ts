/**
 * GHCI (Guest-Hypervisor Communication Interface) numbers and layouts: TDG.VP.VMCALL sub-functions,
 * the TDVMCALL status codes returned in R10, the GetQuote shared-buffer header and its status
 * values, and the GHCI 1.5 Service TDVMCALL command/response buffers.
 *
 * Sources (restated, see shared/reference/tdx-abi.md §2): Linux arch/x86/include/asm/shared/tdx.h,
 * drivers/virt/coco/tdx-guest/tdx-guest.c, arch/x86/kvm/vmx/tdx.c; QEMU target/i386/kvm/tdx.{c,h};
 * Intel MigTD / td-shim for the Service buffers (not confirmed against the GHCI PDF itself).
 */
import {defineLayout} from './layout.js'

/** TDCALL leaf of TDG.VP.VMCALL. */
export const TDG_VP_VMCALL_LEAF = 0n

/** R10 on input: 0 = standard GHCI TDVMCALL (non-zero = vendor specific, e.g. KVM hypercalls). */
export const TDVMCALL_STANDARD = 0n

/** RCX bitmap Linux passes: RDX, RBX, RSI, RDI, R8–R15 exposed to the VMM. */
export const TDVMCALL_EXPOSE_REGS_MASK = 0xffccn

/** TDG.VP.VMCALL sub-function numbers (R11). */
export const TdVmCall = {
  CPUID: 0x0an,
  HLT: 0x0cn,
  IO: 0x1en,
  RDMSR: 0x1fn,
  WRMSR: 0x20n,
  REQUEST_MMIO: 0x30n,
  PCONFIG: 0x41n,
  GET_TD_VM_CALL_INFO: 0x10000n,
  MAP_GPA: 0x10001n,
  GET_QUOTE: 0x10002n,
  REPORT_FATAL_ERROR: 0x10003n,
  SETUP_EVENT_NOTIFY_INTERRUPT: 0x10004n,
  SERVICE: 0x10005n,
  MIGTD: 0x10006n,
} as const

/** GHCI spelling of each sub-function, as `ghci call` accepts and prints them. */
export const TDVMCALL_NAMES: ReadonlyMap<bigint, string> = new Map([
  [TdVmCall.CPUID, 'Instruction.CPUID'],
  [TdVmCall.HLT, 'Instruction.HLT'],
  [TdVmCall.IO, 'Instruction.IO'],
  [TdVmCall.RDMSR, 'Instruction.RDMSR'],
  [TdVmCall.WRMSR, 'Instruction.WRMSR'],
  [TdVmCall.REQUEST_MMIO, '#VE.RequestMMIO'],
  [TdVmCall.PCONFIG, 'Instruction.PCONFIG'],
  [TdVmCall.GET_TD_VM_CALL_INFO, 'GetTdVmCallInfo'],
  [TdVmCall.MAP_GPA, 'MapGPA'],
  [TdVmCall.GET_QUOTE, 'GetQuote'],
  [TdVmCall.REPORT_FATAL_ERROR, 'ReportFatalError'],
  [TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT, 'SetupEventNotifyInterrupt'],
  [TdVmCall.SERVICE, 'Service'],
  [TdVmCall.MIGTD, 'MigTD'],
])

export function tdvmcallName(subfn: bigint): string {
  return TDVMCALL_NAMES.get(subfn) ?? `0x${subfn.toString(16)}`
}

/** Sub-function by GHCI name (case-insensitive, '.'/'#' optional) or number; undefined if unknown. */
export function parseTdvmcallName(text: string): bigint | undefined {
  const t = text.trim()
  if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) return BigInt(t)
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '')
  for (const [v, n] of TDVMCALL_NAMES) {
    if (norm(n) === norm(t) || norm(n.replace(/^.*\./, '')) === norm(t)) return v
  }
  return undefined
}

/** TDVMCALL completion status returned in R10. */
export const TdVmCallStatus = {
  SUCCESS: 0x0n,
  RETRY: 0x1n,
  INVALID_OPERAND: 0x8000000000000000n,
  GPA_INUSE: 0x8000000000000001n,
  ALIGN_ERROR: 0x8000000000000002n,
  SUBFUNC_UNSUPPORTED: 0x8000000000000003n,
} as const

const TDVMCALL_STATUS_NAMES: ReadonlyMap<bigint, string> = new Map(
  Object.entries(TdVmCallStatus).map(([k, v]) => [v, `TDVMCALL_STATUS_${k}`] as [bigint, string]),
)

export function tdvmcallStatusName(status: bigint): string {
  return TDVMCALL_STATUS_NAMES.get(status) ?? `TDVMCALL_STATUS_0x${status.toString(16)}`
}

// ---- GetTdVmCallInfo -------------------------------------------------------------------------

/** R11 bit in GetTdVmCallInfo leaf 1: SetupEventNotifyInterrupt supported. */
export const TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT = 1n << 1n

// ---- MapGPA ----------------------------------------------------------------------------------

/** KVM converts at most 2 MiB per userspace round trip (TDX_MAP_GPA_MAX_LEN). */
export const TDX_MAP_GPA_MAX_LEN = 2 * 1024 * 1024
/** Linux tdx_map_gpa(): give up after this many consecutive RETRYs without progress. */
export const MAP_GPA_MAX_RETRIES_NO_PROGRESS = 3

// ---- GetQuote --------------------------------------------------------------------------------

/** `struct tdx_quote_buf`: the 24-byte header at the start of the GetQuote shared buffer. */
export const GET_QUOTE_HEADER = defineLayout('tdx_quote_buf', 24, {
  version: {offset: 0, size: 8, kind: 'u64', doc: 'Header version, must be 1 (written by the TD)'},
  status: {offset: 8, size: 8, kind: 'u64', doc: 'Completion status (written by the VMM; the TD zeroes it)'},
  in_len: {offset: 16, size: 4, kind: 'u32', doc: 'Bytes of TDREPORT following the header (TD)'},
  out_len: {offset: 20, size: 4, kind: 'u32', doc: 'Bytes of quote following the header (VMM)'},
})
export const GET_QUOTE_HEADER_SIZE = GET_QUOTE_HEADER.size
/** GET_QUOTE_CMD_VER. */
export const GET_QUOTE_CMD_VERSION = 1n
/** Linux tdx-guest GET_QUOTE_BUF_SIZE: one 8 KiB buffer (≈2 KiB quote + ≈5 KiB certification data). */
export const GET_QUOTE_BUF_SIZE = 8 * 1024
/** QEMU TDX_GET_QUOTE_MAX_BUF_LEN. */
export const GET_QUOTE_MAX_BUF_LEN = 128 * 1024
/** QEMU answers RETRY once this many GetQuote requests are in flight. */
export const GET_QUOTE_MAX_IN_FLIGHT = 16
/** Linux: poll once per second, 30 times, then -ETIMEDOUT. */
export const GET_QUOTE_POLL_LIMIT = 30

/** Values of tdx_quote_buf.status. */
export const GetQuoteStatus = {
  SUCCESS: 0x0n,
  IN_FLIGHT: 0xffffffffffffffffn,
  ERROR: 0x8000000000000000n,
  SERVICE_UNAVAILABLE: 0x8000000000000001n,
} as const

const GET_QUOTE_STATUS_NAMES: ReadonlyMap<bigint, string> = new Map(
  Object.entries(GetQuoteStatus).map(([k, v]) => [v, `GET_QUOTE_${k}`] as [bigint, string]),
)

export function getQuoteStatusName(status: bigint): string {
  return GET_QUOTE_STATUS_NAMES.get(status) ?? `GET_QUOTE_0x${status.toString(16)}`
}

// ---- SetupEventNotifyInterrupt ---------------------------------------------------------------

export const EVENT_NOTIFY_VECTOR_MIN = 32
export const EVENT_NOTIFY_VECTOR_MAX = 255

// ---- ReportFatalError ------------------------------------------------------------------------

/** R12 bit 63: R13 holds a valid shared GPA with more error data. */
export const FATAL_ERROR_GPA_VALID = 1n << 63n
/** Registers carrying the 64-byte ASCII message, 8 bytes each, in this order. */
export const FATAL_ERROR_MESSAGE_REGS = ['r14', 'r15', 'rbx', 'rdi', 'rsi', 'r8', 'r9', 'rdx'] as const
export const FATAL_ERROR_MESSAGE_MAX = FATAL_ERROR_MESSAGE_REGS.length * 8

// ---- Service (GHCI 1.5) ----------------------------------------------------------------------

export const SERVICE_CMD_HEADER = defineLayout('service_command_buffer', 24, {
  guid: {offset: 0, size: 16, doc: 'Service GUID (UEFI byte order)'},
  length: {offset: 16, size: 4, kind: 'u32', doc: 'Total bytes of the command buffer, header included'},
  reserved: {offset: 20, size: 4, kind: 'u32', doc: 'Reserved, 0'},
})

export const SERVICE_RSP_HEADER = defineLayout('service_response_buffer', 24, {
  guid: {offset: 0, size: 16, doc: 'Service GUID (echoed by the VMM)'},
  length: {offset: 16, size: 4, kind: 'u32', doc: 'TD: buffer size; VMM: bytes of response, header included'},
  status: {offset: 20, size: 4, kind: 'u32', doc: 'Service status (written by the VMM)'},
})
export const SERVICE_HEADER_SIZE = 24

export const ServiceStatus = {
  SUCCESS: 0,
  DEVICE_ERROR: 1,
  TIME_OUT: 2,
  RSP_BUF_TOO_SMALL: 3,
  BAD_CMD_BUF_SIZE: 4,
  BAD_RSP_BUF_SIZE: 5,
  BUSY: 6,
  INVALID_OPERAND: 7,
  OUT_OF_RESOURCE: 8,
  NOT_SUPPORT: 0xfffffffe,
} as const

const SERVICE_STATUS_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(ServiceStatus).map(([k, v]) => [v, `SERVICE_${k}`] as [number, string]))

export function serviceStatusName(status: number): string {
  return SERVICE_STATUS_NAMES.get(status) ?? `SERVICE_0x${status.toString(16)}`
}

/**
 * Service GUIDs with a public definition (GHCI 1.5 §3.14 Service TDVMCALL; each service defines its
 * own GUID and data). The Query service is GHCI 1.5 §3.14.1 "VMCALL_SERVICE_COMMON", with the GUID
 * Intel's reference code uses (OVMF VmmSpdmVTpm, intel/qemu-td-partitioning tdx-service-query.c
 * TDX_SERVICE_QUERY, MigTD VMCALL_SERVICE_COMMON_GUID). tdxkit used 6385c05c-fcc5-41fd-abd2-fdcaaece977d
 * before issue 16 — the GUID of a non-upstream RFC tdx-guest series, not Intel's.
 */
export const SERVICE_GUID_QUERY = 'fb6fc5e1-3378-4acb-8964-fa5ee43b9c8a'
/** Migration TD (Intel "Migration TD" design guide + GHCI 1.5; MigTD VMCALL_SERVICE_MIGTD_GUID). */
export const SERVICE_GUID_MIGTD = 'e60e6330-1e09-4387-a444-8f32b8d611e5'
/** vTPM, user TD ↔ vTPM TD through the VMM (Intel vTPM TD spec 0.6.5 Tables 5-1..5-4; OVMF VMCALL_SERVICE_VTPM_GUID). */
export const SERVICE_GUID_VTPM = '64590793-7852-4e52-be45-cdbb116f20f3'
/** vTPM TD side (vTPM TD spec §5.2; intel/vtpm-td). */
export const SERVICE_GUID_VTPM_TD = 'c3c87a08-3b4a-41ad-a52d-96f13cf89a66'
/**
 * SIMULATOR-ONLY: tdxkit's quote service (TDREPORT in, quote out, synchronously). No public
 * specification defines a quote service over the Service TDVMCALL; real TDs use GetQuote.
 */
export const SERVICE_GUID_TDXKIT_QUOTE = '7464786b-6974-4071-b075-6f7465737663'

/** Query service command version and command (GHCI 1.5 §3.14.1). */
export const SERVICE_QUERY_VERSION = 0
export const SERVICE_QUERY_COMMAND = 0
/** Query response `supported` values. */
export const SERVICE_QUERY_SUPPORTED = 0
export const SERVICE_QUERY_NOT_SUPPORTED = 1

/** Query service command/response data (GHCI 1.5 §3.14.1; QEMU tdx-service-query.c): is a GUID served? */
export const SERVICE_QUERY_CMD = defineLayout('service_query_command', 20, {
  version: {offset: 0, size: 1, kind: 'u8', doc: 'Command version, 0'},
  command: {offset: 1, size: 1, kind: 'u8', doc: '0 = query'},
  reserved: {offset: 2, size: 2, kind: 'u16', doc: 'Reserved'},
  guid: {offset: 4, size: 16, doc: 'Service GUID asked about'},
})
export const SERVICE_QUERY_RSP = defineLayout('service_query_response', 20, {
  version: {offset: 0, size: 1, kind: 'u8', doc: 'Response version, 0'},
  command: {offset: 1, size: 1, kind: 'u8', doc: '0 = query'},
  supported: {offset: 2, size: 1, kind: 'u8', doc: 'Status: 0 = supported, 1 = not supported'},
  reserved: {offset: 3, size: 1, kind: 'u8', doc: 'Reserved'},
  guid: {offset: 4, size: 16, doc: 'Service GUID asked about'},
})

/** SIMULATOR-ONLY quote service command data (tdxkit layout, no public spec) followed by the TDREPORT. */
export const SERVICE_QUOTE_CMD = defineLayout('service_quote_command', 16, {
  version: {offset: 0, size: 4, kind: 'u32', doc: 'Command version, 1'},
  command: {offset: 4, size: 4, kind: 'u32', doc: '0 = GetQuote'},
  quote_version: {offset: 8, size: 4, kind: 'u32', doc: 'Requested quote version (0 = platform default, 4, 5)'},
  report_len: {offset: 12, size: 4, kind: 'u32', doc: 'Bytes of TDREPORT that follow'},
})
/** SIMULATOR-ONLY quote service response data followed by the quote. */
export const SERVICE_QUOTE_RSP = defineLayout('service_quote_response', 16, {
  version: {offset: 0, size: 4, kind: 'u32', doc: 'Response version, 1'},
  command: {offset: 4, size: 4, kind: 'u32', doc: '0 = GetQuote'},
  result: {offset: 8, size: 4, kind: 'u32', doc: 'QuoteServiceResult: 0 success, 1 error, 2 service unavailable'},
  quote_len: {offset: 12, size: 4, kind: 'u32', doc: 'Bytes of quote that follow'},
})
export const SERVICE_QUOTE_CMD_VERSION = 1
export const QuoteServiceResult = {SUCCESS: 0, ERROR: 1, SERVICE_UNAVAILABLE: 2} as const

/** GUID text ↔ 16 bytes in UEFI order (first three fields little-endian). */
export function guidToBytes(guid: string): Buffer {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(guid.trim())
  if (!m) throw new Error(`not a GUID: ${guid}`)
  const le = (h: string) => Buffer.from(h, 'hex').reverse()
  return Buffer.concat([le(m[1]), le(m[2]), le(m[3]), Buffer.from(m[4], 'hex'), Buffer.from(m[5], 'hex')])
}

export function guidFromBytes(b: Uint8Array): string {
  const x = Buffer.from(b)
  const be = (s: number, e: number) => Buffer.from(x.subarray(s, e)).reverse().toString('hex')
  return `${be(0, 4)}-${be(4, 6)}-${be(6, 8)}-${x.subarray(8, 10).toString('hex')}-${x.subarray(10, 16).toString('hex')}`
}
