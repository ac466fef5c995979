/**
 * CXL TSP (TEE Security Protocol, CXL 3.1 §11.5) messages, carried as protocol 0x01 of SPDM
 * VENDOR_DEFINED messages with StandardID PCI-SIG and VendorID 0x1E98 (CXL) inside a session:
 * the 2-byte header (version ‖ opcode), the requests a host uses to configure and lock a CXL
 * memory device (GET_TARGET_TSP_VERSION, GET_TARGET_CAPABILITIES, SET/GET_TARGET_CONFIGURATION,
 * GET_TARGET_CONFIGURATION_REPORT, LOCK_TARGET_CONFIGURATION), their responses, ERROR, the TSP
 * states and the feature bits. All integers little-endian, packed.
 * Facts: DMTF/libspdm include/industry_standard/cxl_tsp.h ("Definitions in CXL 3.1 specification");
 * DMTF/spdm-emu cxl_tsp_requester_lib / cxl_tsp_responder_lib (what each side checks).
 */
import {defineLayout} from './layout.js'

/** TSP 1.0 (major 7:4, minor 3:0). */
export const CXL_TSP_VERSION_10 = 0x10

export const CxlTspRequest = {
  GET_TARGET_TSP_VERSION: 0x81,
  GET_TARGET_CAPABILITIES: 0x82,
  SET_TARGET_CONFIGURATION: 0x83,
  GET_TARGET_CONFIGURATION: 0x84,
  GET_TARGET_CONFIGURATION_REPORT: 0x85,
  LOCK_TARGET_CONFIGURATION: 0x86,
  SET_TARGET_CKID_SPECIFIC_KEY: 0x87,
  SET_TARGET_CKID_RANDOM_KEY: 0x88,
  CLEAR_TARGET_CKID_KEY: 0x89,
  SET_TARGET_RANGE_SPECIFIC_KEY: 0x8a,
  SET_TARGET_RANGE_RANDOM_KEY: 0x8b,
  CLEAR_TARGET_RANGE_KEY: 0x8c,
  SET_TARGET_TE_STATE: 0x8d,
  CHECK_TARGET_DELAYED_COMPLETION: 0x8e,
} as const
/** Response opcode = request opcode − 0x80; 0x7E delayed, 0x7F error. */
const CXL_TSP_RESPONSE_OFFSET = 0x80
const CXL_TSP_OPCODE_ERROR_RSP = 0x7f

export function cxlTspMessageName(op: number): string {
  for (const [k, v] of Object.entries(CxlTspRequest)) {
    if (v === op) return k
    if (v - CXL_TSP_RESPONSE_OFFSET === op) return `${k}_RSP`
  }
  if (op === CXL_TSP_OPCODE_ERROR_RSP) return 'ERROR_RSP'
  return `0x${op.toString(16)}`
}

/** TSP states (GET_TARGET_CONFIGURATION_RSP.current_tsp_state). */
export const CxlTspState = {CONFIG_UNLOCKED: 0, CONFIG_LOCKED: 1, ERROR: 2} as const
export type CxlTspStateName = keyof typeof CxlTspState
export const CXL_TSP_STATE_NAMES: readonly CxlTspStateName[] = ['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'ERROR']

export const CxlTspErrorCode = {
  INVALID_REQUEST: 0x01,
  BUSY: 0x02,
  UNSPECIFIED: 0x03,
  UNSUPPORTED_REQUEST: 0x04,
  VERSION_MISMATCH: 0x05,
  VENDOR_SPECIFIC_ERROR: 0x06,
  NO_PRIVILEGE: 0x07,
  NO_ENTROPY: 0x08,
  INVALID_CKID: 0x09,
  INVALID_SECURITY_CONFIGURATION: 0x0a,
  INVALID_SECURITY_STATE: 0x0b,
  LONG_EXECUTION_TIME: 0x0c,
  ALREADY_LOCKED: 0x0d,
} as const

/** Memory encryption features: supported (capabilities) bits. */
export const TspMemEncSupport = {ENCRYPTION: 0x1, CKID_BASED: 0x2, RANGE_BASED: 0x4, INITIATOR_ENTROPY: 0x8, CKID_BASED_REQUIRED: 0x10} as const
/** Memory encryption features: enable (SET/GET configuration) bits — CKID_BASED_REQUIRED moves to bit 3. */
export const TspMemEncEnable = {ENCRYPTION: 0x1, CKID_BASED: 0x2, RANGE_BASED: 0x4, CKID_BASED_REQUIRED: 0x8} as const
export const TspMemEncAlgorithm = {AES_XTS_128: 0x1, AES_XTS_256: 0x2, VENDOR_SPECIFIC: 0x8000_0000} as const
/** TE state change and access control features. */
export const TspTeFeature = {WRITE_ACCESS_CONTROL: 0x1, READ_ACCESS_CONTROL: 0x2, IMPLICIT_TE_STATE_CHANGE: 0x4, EXPLICIT_OOB_TE_STATE_CHANGE: 0x8, EXPLICIT_IB_TE_STATE_CHANGE: 0x10, EXPLICIT_TE_STATE_CHANGE_SANITIZE: 0x20} as const
/** Explicit in-band TE state change granularity: bit n = 64 B << n (n ≤ 10), bit 31 = entire memory. */
export const TSP_IB_GRANULARITY_64B = 0x1
export const TSP_IB_GRANULARITY_ENTIRE_MEMORY = 0x8000_0000
/** Configuration features: locked target firmware update; (capability only) additional SPDM sessions. */
export const TspConfigFeature = {LOCKED_TARGET_FW_UPDATE: 0x1, ADDITIONAL_SPDM_SESSIONS: 0x2} as const
/** Explicit in-band granularity entries in SET/GET configuration, and their "unused" length index. */
export const TSP_IB_ENTRY_COUNT = 8
export const TSP_IB_LENGTH_INDEX_UNUSED = 0xff
export const TSP_IB_LENGTH_INDEX_MAX = 7
/** Secondary sessions a SET_TARGET_CONFIGURATION can provision (one PSK each). */
const TSP_SECONDARY_SESSION_COUNT = 4
const TSP_SECONDARY_PSK_SIZE = 0x20
/** CKIDs are 13 bits wide (ckid_base + number_of_ckids stays below 0x2000). */
export const TSP_CKID_LIMIT = 0x2000

/** Every TSP message starts with version ‖ opcode; most continue with a reserved u16. */
const HEAD = {tsp_version: {offset: 0, size: 1, kind: 'u8'}, op_code: {offset: 1, size: 1, kind: 'u8'}} as const
const HEAD_RESERVED = {...HEAD, reserved: {offset: 2, size: 2, kind: 'u16'}} as const

export const CXL_TSP_HEADER = defineLayout('CXL_TSP_HEADER', 2, HEAD)
/**
 * Header ‖ reserved u16: the whole of GET_TARGET_TSP_VERSION, GET_TARGET_CAPABILITIES,
 * GET_TARGET_CONFIGURATION and LOCK_TARGET_CONFIGURATION requests and of the SET / LOCK responses.
 */
export const CXL_TSP_SHORT = defineLayout('CXL_TSP_SHORT_MESSAGE', 4, {
  ...HEAD_RESERVED,
})
/** GET_TARGET_TSP_VERSION_RSP fixed part; then version_number_entry_count version bytes. */
export const CXL_TSP_VERSION_RSP = defineLayout('CXL_TSP_VERSION_RSP', 5, {
  ...HEAD_RESERVED,
  version_number_entry_count: {offset: 4, size: 1, kind: 'u8'},
})
export const CXL_TSP_CAPABILITIES_RSP = defineLayout('CXL_TSP_CAPABILITIES_RSP', 52, {
  ...HEAD,
  memory_encryption_features_supported: {offset: 2, size: 2, kind: 'u16'},
  memory_encryption_algorithms_supported: {offset: 4, size: 4, kind: 'u32'},
  memory_encryption_number_of_range_based_keys: {offset: 8, size: 2, kind: 'u16'},
  reserved: {offset: 10, size: 2, kind: 'u16'},
  te_state_change_and_access_control_features_supported: {offset: 12, size: 2, kind: 'u16'},
  reserved2: {offset: 14, size: 2, kind: 'u16'},
  supported_explicit_oob_te_state_granularity: {offset: 16, size: 4, kind: 'u32'},
  supported_explicit_ib_te_state_granularity: {offset: 20, size: 4, kind: 'u32'},
  configuration_features_supported: {offset: 24, size: 2, kind: 'u16'},
  reserved3: {offset: 26, size: 2, kind: 'u16'},
  number_of_ckids: {offset: 28, size: 4, kind: 'u32'},
  number_of_secondary_sessions: {offset: 32, size: 1, kind: 'u8'},
  reserved4: {offset: 33, size: 0x13},
})
/** One explicit in-band TE state granularity entry (in SET and GET configuration). */
export const CXL_TSP_IB_ENTRY = defineLayout('CXL_TSP_IB_GRANULARITY_ENTRY', 16, {
  te_state_granularity: {offset: 0, size: 8, kind: 'u64'},
  length_index: {offset: 8, size: 1, kind: 'u8'},
  reserved: {offset: 9, size: 7},
})
export const CXL_TSP_SET_CONFIGURATION_REQ = defineLayout('CXL_TSP_SET_TARGET_CONFIGURATION', 352, {
  ...HEAD,
  memory_encryption_features_enable: {offset: 2, size: 2, kind: 'u16'},
  memory_encryption_algorithm_select: {offset: 4, size: 4, kind: 'u32'},
  reserved: {offset: 8, size: 4, kind: 'u32'},
  te_state_change_and_access_control_features_enable: {offset: 12, size: 2, kind: 'u16'},
  reserved2: {offset: 14, size: 2, kind: 'u16'},
  explicit_oob_te_state_granularity: {offset: 16, size: 4, kind: 'u32'},
  reserved3: {offset: 20, size: 4, kind: 'u32'},
  configuration_features_enable: {offset: 24, size: 2, kind: 'u16'},
  reserved4: {offset: 26, size: 2, kind: 'u16'},
  ckid_base: {offset: 28, size: 4, kind: 'u32'},
  number_of_ckids: {offset: 32, size: 4, kind: 'u32'},
  reserved5: {offset: 36, size: 0xc},
  explicit_ib_te_state_granularity_entry: {offset: 48, size: TSP_IB_ENTRY_COUNT * 16, doc: '8 × CXL_TSP_IB_GRANULARITY_ENTRY'},
  reserved6: {offset: 176, size: 0x10},
  configuration_validity_flags: {offset: 192, size: 2, kind: 'u16', doc: 'bit n: secondary session n PSK valid'},
  reserved7: {offset: 194, size: 0xe},
  secondary_session_ckid_type: {offset: 208, size: 1, kind: 'u8'},
  reserved8: {offset: 209, size: 0xf},
  secondary_session_psk_key_material: {offset: 224, size: TSP_SECONDARY_SESSION_COUNT * TSP_SECONDARY_PSK_SIZE},
})
export const CXL_TSP_GET_CONFIGURATION_RSP = defineLayout('CXL_TSP_GET_TARGET_CONFIGURATION_RSP', 192, {
  ...HEAD,
  memory_encryption_features_enabled: {offset: 2, size: 2, kind: 'u16'},
  memory_encryption_algorithm_selected: {offset: 4, size: 4, kind: 'u32'},
  reserved: {offset: 8, size: 4, kind: 'u32'},
  te_state_change_and_access_control_features_enabled: {offset: 12, size: 2, kind: 'u16'},
  reserved2: {offset: 14, size: 2, kind: 'u16'},
  explicit_oob_te_state_granularity_enabled: {offset: 16, size: 4, kind: 'u32'},
  reserved3: {offset: 20, size: 4, kind: 'u32'},
  configuration_features_enabled: {offset: 24, size: 2, kind: 'u16'},
  reserved4: {offset: 26, size: 2, kind: 'u16'},
  ckid_base: {offset: 28, size: 4, kind: 'u32'},
  number_of_ckids: {offset: 32, size: 4, kind: 'u32'},
  current_tsp_state: {offset: 36, size: 1, kind: 'u8'},
  reserved5: {offset: 37, size: 0xb},
  explicit_ib_te_state_granularity_entry: {offset: 48, size: TSP_IB_ENTRY_COUNT * 16, doc: '8 × CXL_TSP_IB_GRANULARITY_ENTRY'},
  reserved6: {offset: 176, size: 0x10},
})
export const CXL_TSP_GET_REPORT_REQ = defineLayout('CXL_TSP_GET_TARGET_CONFIGURATION_REPORT', 8, {
  ...HEAD_RESERVED,
  offset: {offset: 4, size: 2, kind: 'u16'},
  length: {offset: 6, size: 2, kind: 'u16'},
})
/** GET_TARGET_CONFIGURATION_REPORT_RSP fixed part; then portion_length bytes of the report. */
export const CXL_TSP_GET_REPORT_RSP = defineLayout('CXL_TSP_GET_TARGET_CONFIGURATION_REPORT_RSP', 8, {
  ...HEAD_RESERVED,
  portion_length: {offset: 4, size: 2, kind: 'u16'},
  remainder_length: {offset: 6, size: 2, kind: 'u16'},
})
/** Largest report portion a responder returns at once (LIBCXLTSP_CONFIGURATION_REPORT_PORTION_LEN). */
export const CXL_TSP_REPORT_PORTION_MAX = 0x40
/**
 * The target configuration report: which fields are valid, then copies of the device's CXL
 * capability structures (PCIe DVSEC for CXL Devices, DVSEC for Flex Bus Port, CXL Link, Timeout and
 * Isolation, HDM Decoder capability, then per-decoder entries — none here — and the CXL IDE capability).
 */
export const CXL_TSP_CONFIGURATION_REPORT = defineLayout('CXL_TSP_TARGET_CONFIGURATION_REPORT', 220, {
  valid_tsp_report_fields: {offset: 0, size: 1, kind: 'u8'},
  reserved: {offset: 1, size: 3},
  pcie_dvsec_for_cxl_devices: {offset: 4, size: 0x3c},
  pcie_dvsec_for_flex_bus_port: {offset: 64, size: 0x20},
  cxl_link_capability_structure: {offset: 96, size: 0x38},
  cxl_timeout_and_isolation_capability_structure: {offset: 152, size: 0x10},
  cxl_hdm_decoder_capability_structure: {offset: 168, size: 0x10},
  cxl_ide_capability_structure: {offset: 184, size: 0x24},
})
/**
 * The start of the PCIe DVSEC for CXL Devices (CXL 3.1 §8.1.3) as the report carries it: PCIe
 * extended capability header, DVSEC header 1 (vendor id ‖ revision 19:16 ‖ length 31:20), DVSEC
 * header 2 (DVSEC id) and the CXL Capability register.
 */
export const PCIE_DVSEC_CXL_DEVICES = defineLayout('PCIE_DVSEC_FOR_CXL_DEVICES_HEAD', 12, {
  extended_capability_header: {offset: 0, size: 4, kind: 'u32'},
  dvsec_header1: {offset: 4, size: 4, kind: 'u32'},
  dvsec_header2: {offset: 8, size: 2, kind: 'u16'},
  cxl_capability: {offset: 10, size: 2, kind: 'u16'},
})
export const PCIE_EXT_CAP_ID_DVSEC = 0x23
export const DVSEC_REVISION_SHIFT = 16
export const DVSEC_LENGTH_SHIFT = 20
export const DVSEC_ID_CXL_DEVICES = 0
export const DVSEC_CXL_REVISION = 2
/** CXL Capability register: Mem_Capable (bit 2), HDM_Count = 1 (bits 5:4). */
export const CXL_CAP_MEM_CAPABLE = 1 << 2
export const CXL_CAP_HDM_COUNT_ONE = 1 << 4
/** SET_TARGET_TE_STATE fixed part; then number_of_memory_ranges CXL_TSP_MEMORY_RANGE entries (1–32). */
export const CXL_TSP_SET_TE_STATE_REQ = defineLayout('CXL_TSP_SET_TARGET_TE_STATE', 16, {
  ...HEAD,
  te_state: {offset: 2, size: 1, kind: 'u8', doc: '1 = memory in the ranges is TE (trusted execution) memory, 0 = not'},
  number_of_memory_ranges: {offset: 3, size: 1, kind: 'u8'},
  reserved: {offset: 4, size: 0xc},
})
export const CXL_TSP_MEMORY_RANGE = defineLayout('CXL_TSP_MEMORY_RANGE', 16, {
  starting_address: {offset: 0, size: 8, kind: 'u64'},
  length: {offset: 8, size: 8, kind: 'u64'},
})
export const CXL_TSP_MAX_MEMORY_RANGES = 32
export const TspTeState = {NON_TE: 0, TE: 1} as const

export const CXL_TSP_ERROR_RSP = defineLayout('CXL_TSP_ERROR_RSP', 12, {
  ...HEAD_RESERVED,
  error_code: {offset: 4, size: 4, kind: 'u32'},
  error_data: {offset: 8, size: 4, kind: 'u32'},
})

/** A TSP ERROR response. */
export function encodeCxlTspError(code: number, data = 0): Buffer {
  const b = Buffer.alloc(CXL_TSP_ERROR_RSP.size)
  const f = CXL_TSP_ERROR_RSP.fields
  b[f.tsp_version.offset] = CXL_TSP_VERSION_10
  b[f.op_code.offset] = CXL_TSP_OPCODE_ERROR_RSP
  b.writeUInt32LE(code >>> 0, f.error_code.offset)
  b.writeUInt32LE(data >>> 0, f.error_data.offset)
  return b
}

/**
 * A zeroed response of `size` bytes to `request` with its header (version ‖ response op code) written;
 * the default size is a response carrying only header ‖ reserved (SET / LOCK / SET_TE_STATE _RSP).
 */
export function cxlTspResponse(request: number, size: number = CXL_TSP_SHORT.size): Buffer {
  const b = Buffer.alloc(size)
  b[CXL_TSP_HEADER.fields.tsp_version.offset] = CXL_TSP_VERSION_10
  b[CXL_TSP_HEADER.fields.op_code.offset] = request - CXL_TSP_RESPONSE_OFFSET
  return b
}
