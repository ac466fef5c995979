/**
 * PCIe TDISP (TEE Device Interface Security Protocol) wire formats: the 16-byte message header
 * with INTERFACE_ID, request/response codes, TDI states, error codes, LOCK_INTERFACE flags, the
 * DEVICE_INTERFACE_REPORT and its MMIO_RANGE entries. All integers little-endian, packed.
 * Facts: DMTF/libspdm include/industry_standard/pci_tdisp.h (shared/reference/device-evidence.md §1).
 */
import {ParseError} from '../errors.js'
import {defineLayout, readNum, readUint, requireSize} from './layout.js'
import {codeName} from './names.js'

/** TDISP 1.0 version byte (major 7:4, minor 3:0). */
export const TDISP_VERSION_10 = 0x10
/** Protocol ids inside the PCI-SIG vendor-defined SPDM message (first payload byte). */
export const PCI_PROTOCOL_ID_IDE_KM = 0x00
export const PCI_PROTOCOL_ID_TDISP = 0x01
export const PCI_PROTOCOL_ID_SIZE = 1

export const TdispRequest = {
  GET_TDISP_VERSION: 0x81,
  GET_TDISP_CAPABILITIES: 0x82,
  LOCK_INTERFACE_REQUEST: 0x83,
  GET_DEVICE_INTERFACE_REPORT: 0x84,
  GET_DEVICE_INTERFACE_STATE: 0x85,
  START_INTERFACE_REQUEST: 0x86,
  STOP_INTERFACE_REQUEST: 0x87,
  BIND_P2P_STREAM_REQUEST: 0x88,
  UNBIND_P2P_STREAM_REQUEST: 0x89,
  SET_MMIO_ATTRIBUTE_REQUEST: 0x8a,
  VDM_REQUEST: 0x8b,
} as const

export const TdispResponse = {
  TDISP_VERSION: 0x01,
  TDISP_CAPABILITIES: 0x02,
  LOCK_INTERFACE_RESPONSE: 0x03,
  DEVICE_INTERFACE_REPORT: 0x04,
  DEVICE_INTERFACE_STATE: 0x05,
  START_INTERFACE_RESPONSE: 0x06,
  STOP_INTERFACE_RESPONSE: 0x07,
  BIND_P2P_STREAM_RESPONSE: 0x08,
  UNBIND_P2P_STREAM_RESPONSE: 0x09,
  SET_MMIO_ATTRIBUTE_RESPONSE: 0x0a,
  VDM_RESPONSE: 0x0b,
  TDISP_ERROR: 0x7f,
} as const

export function tdispMessageName(code: number): string {
  for (const [k, v] of Object.entries(TdispRequest)) if (v === code) return k
  for (const [k, v] of Object.entries(TdispResponse)) if (v === code) return k
  return `0x${code.toString(16)}`
}

/** TDI states (u8), as in GET_DEVICE_INTERFACE_STATE and TDG.TDI.RD. */
export const TdiState = {CONFIG_UNLOCKED: 0, CONFIG_LOCKED: 1, RUN: 2, ERROR: 3} as const
export type TdiStateName = keyof typeof TdiState
export const TDI_STATE_NAMES: readonly TdiStateName[] = ['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'RUN', 'ERROR']
export const tdiStateName = (v: number): string => TDI_STATE_NAMES[v] ?? `0x${v.toString(16)}`

/** TDISP_ERROR error codes. */
export const TdispErrorCode = {
  INVALID_REQUEST: 0x01,
  BUSY: 0x03,
  INVALID_INTERFACE_STATE: 0x04,
  UNSPECIFIED: 0x05,
  UNSUPPORTED_REQUEST: 0x07,
  VERSION_MISMATCH: 0x41,
  INVALID_INTERFACE: 0x101,
  INVALID_NONCE: 0x102,
  INSUFFICIENT_ENTROPY: 0x103,
  INVALID_DEVICE_CONFIGURATION: 0x104,
} as const
export const tdispErrorName = (code: number): string => codeName(TdispErrorCode, code)

/** Common header: version ‖ message type ‖ reserved ‖ INTERFACE_ID (FUNCTION_ID ‖ reserved[8]). */
export const TDISP_HEADER = defineLayout('TDISP_HEADER', 16, {
  version: {offset: 0, size: 1, kind: 'u8', doc: 'TDISP version'},
  message_type: {offset: 1, size: 1, kind: 'u8'},
  reserved: {offset: 2, size: 2, kind: 'u16'},
  function_id: {offset: 4, size: 4, kind: 'u32', doc: 'INTERFACE_ID.FUNCTION_ID'},
  interface_reserved: {offset: 8, size: 8, doc: 'INTERFACE_ID reserved'},
})

/** FUNCTION_ID bits: 15:0 requester id (bus 15:8, dev 7:3, fn 2:0), 23:16 segment, bit 24 segment valid. */
export const FUNCTION_ID_RID_MASK = 0xffff
export const FUNCTION_ID_SEGMENT_SHIFT = 16
export const FUNCTION_ID_SEGMENT_MASK = 0xff
export const FUNCTION_ID_SEGMENT_VALID = 1 << 24

export function functionIdFromBdf(bus: number, dev: number, fn: number, segment?: number): number {
  const rid = ((bus & 0xff) << 8) | ((dev & 0x1f) << 3) | (fn & 0x7)
  if (segment === undefined) return rid
  return (rid | ((segment & FUNCTION_ID_SEGMENT_MASK) << FUNCTION_ID_SEGMENT_SHIFT) | FUNCTION_ID_SEGMENT_VALID) >>> 0
}

/** "bb:dd.f" → FUNCTION_ID (segment 0, not valid, as TDX Connect guests build it). */
export function parseBdf(bdf: string): {bus: number; dev: number; fn: number} | undefined {
  const m = /^(?:0000:)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(bdf)
  if (!m) return undefined
  const bus = parseInt(m[1], 16)
  const dev = parseInt(m[2], 16)
  if (dev > 0x1f) return undefined
  return {bus, dev, fn: Number(m[3])}
}

export function bdfFromFunctionId(fid: number): string {
  const rid = fid & FUNCTION_ID_RID_MASK
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0')
  return `${h(rid >> 8, 2)}:${h((rid >> 3) & 0x1f, 2)}.${rid & 0x7}`
}

/** LOCK_INTERFACE_REQUEST payload (after the header): 36 bytes in all. */
export const TDISP_LOCK_REQUEST = defineLayout('TDISP_LOCK_INTERFACE_REQUEST', 36, {
  header: {offset: 0, size: 16},
  flags: {offset: 16, size: 2, kind: 'u16'},
  default_stream_id: {offset: 18, size: 1, kind: 'u8'},
  reserved: {offset: 19, size: 1, kind: 'u8'},
  mmio_reporting_offset: {offset: 20, size: 8, kind: 'u64'},
  bind_p2p_address_mask: {offset: 28, size: 8, kind: 'u64'},
})
export const TdispLockFlag = {NO_FW_UPDATE: 0x01, SYSTEM_CACHE_LINE_SIZE: 0x02, LOCK_MSIX: 0x04, BIND_P2P: 0x08, ALL_REQUEST_REDIRECT: 0x10} as const

export const TDISP_NONCE_SIZE = 32
/** LOCK_INTERFACE_RESPONSE and START_INTERFACE_REQUEST: header ‖ start_interface_nonce[32]. */
export const TDISP_NONCE_MSG = defineLayout('TDISP_NONCE_MESSAGE', 48, {
  header: {offset: 0, size: 16},
  start_interface_nonce: {offset: 16, size: TDISP_NONCE_SIZE},
})

/** GET_DEVICE_INTERFACE_REPORT request: header ‖ offset u16 ‖ length u16. */
export const TDISP_GET_REPORT = defineLayout('TDISP_GET_DEVICE_INTERFACE_REPORT', 20, {
  header: {offset: 0, size: 16},
  offset: {offset: 16, size: 2, kind: 'u16'},
  length: {offset: 18, size: 2, kind: 'u16'},
})
/** DEVICE_INTERFACE_REPORT response fixed part: header ‖ portion_length ‖ remainder_length; then the portion. */
export const TDISP_REPORT_RSP = defineLayout('TDISP_DEVICE_INTERFACE_REPORT', 20, {
  header: {offset: 0, size: 16},
  portion_length: {offset: 16, size: 2, kind: 'u16'},
  remainder_length: {offset: 18, size: 2, kind: 'u16'},
})
/** DEVICE_INTERFACE_STATE response: header ‖ tdi_state u8. */
export const TDISP_STATE_RSP = defineLayout('TDISP_DEVICE_INTERFACE_STATE', 17, {
  header: {offset: 0, size: 16},
  tdi_state: {offset: 16, size: 1, kind: 'u8'},
})
/** TDISP_ERROR: header ‖ error_code u32 ‖ error_data u32 (extended data omitted). */
export const TDISP_ERROR_RSP = defineLayout('TDISP_ERROR', 24, {
  header: {offset: 0, size: 16},
  error_code: {offset: 16, size: 4, kind: 'u32'},
  error_data: {offset: 20, size: 4, kind: 'u32'},
})
/** TDISP_VERSION response: header ‖ version_num_count ‖ versions. */
export const TDISP_VERSION_RSP = defineLayout('TDISP_VERSION', 17, {
  header: {offset: 0, size: 16},
  version_num_count: {offset: 16, size: 1, kind: 'u8'},
})
/** GET_TDISP_CAPABILITIES request: header ‖ TSM_CAPS u32. */
export const TDISP_GET_CAPABILITIES = defineLayout('TDISP_GET_CAPABILITIES', 20, {
  header: {offset: 0, size: 16},
  tsm_caps: {offset: 16, size: 4, kind: 'u32'},
})
/** TDISP_CAPABILITIES response: header ‖ DSM caps ‖ REQ_MSGS_SUPPORTED bitmap ‖ lock flags ‖ reserved ‖ widths/counts. */
export const TDISP_CAPABILITIES_RSP = defineLayout('TDISP_CAPABILITIES', 44, {
  header: {offset: 0, size: 16},
  dsm_caps: {offset: 16, size: 4, kind: 'u32'},
  req_msgs_supported: {offset: 20, size: 16, doc: 'bit n set = request code 0x80+n supported'},
  lock_interface_flags_supported: {offset: 36, size: 2, kind: 'u16'},
  reserved: {offset: 38, size: 3},
  dev_addr_width: {offset: 41, size: 1, kind: 'u8'},
  num_req_this: {offset: 42, size: 1, kind: 'u8'},
  num_req_all: {offset: 43, size: 1, kind: 'u8'},
})
/** REQ_MSGS_SUPPORTED bit index of a request code. */
export const TDISP_REQ_CODE_BASE = 0x80

/** Intel's TDX module cap on one TDISP payload (DOE buffer minus headers). */
export const TDISP_MAX_PAYLOAD = 4049

// ---------------------------------------------------------------------------------------------
// DEVICE_INTERFACE_REPORT (the TDI report body)

export const TDI_REPORT_HEADER = defineLayout('TDI_REPORT_HEADER', 16, {
  interface_info: {offset: 0, size: 2, kind: 'u16', doc: 'INTERFACE_INFO'},
  reserved: {offset: 2, size: 2, kind: 'u16'},
  msi_x_message_control: {offset: 4, size: 2, kind: 'u16', doc: 'MSI-X Message Control'},
  lnr_control: {offset: 6, size: 2, kind: 'u16', doc: 'LN Requester Control'},
  tph_control: {offset: 8, size: 4, kind: 'u32', doc: 'TPH Requester Control'},
  mmio_range_count: {offset: 12, size: 4, kind: 'u32', doc: 'MMIO_RANGE_COUNT'},
})
export const InterfaceInfo = {NO_UPDATE_AFTER_LOCK: 0x01, DMA_WITHOUT_PASID: 0x02, DMA_WITH_PASID: 0x04, ATS_ENABLED: 0x08, PRS_ENABLED: 0x10} as const
export const INTERFACE_INFO_RESERVED_MASK = 0xffe0

export const MMIO_RANGE = defineLayout('MMIO_RANGE', 16, {
  first_4k_page: {offset: 0, size: 8, kind: 'u64', doc: 'FIRST_4K_PAGE (+ MMIO_REPORTING_OFFSET)'},
  number_of_pages: {offset: 8, size: 4, kind: 'u32'},
  range_attributes: {offset: 12, size: 2, kind: 'u16'},
  range_id: {offset: 14, size: 2, kind: 'u16', doc: 'RANGE_ID (BAR index by the Linux/TDX convention)'},
})
export const MmioRangeAttr = {MSIX_TABLE: 0x1, MSIX_PBA: 0x2, IS_NON_TEE_MEM: 0x4, IS_MEM_ATTR_UPDATABLE: 0x8} as const
export const MMIO_RANGE_ATTR_RESERVED_MASK = 0xfff0
export const DEVICE_SPECIFIC_INFO_LEN_SIZE = 4
export const PAGE_4K = 4096n

export interface MmioRange {
  first_4k_page: bigint
  number_of_pages: number
  range_attributes: number
  range_id: number
}

export interface TdiReport {
  interface_info: number
  msi_x_message_control: number
  lnr_control: number
  tph_control: number
  mmio_ranges: MmioRange[]
  device_specific_info: Buffer
}

export function encodeTdiReport(r: TdiReport): Buffer {
  const n = r.mmio_ranges.length
  const out = Buffer.alloc(TDI_REPORT_HEADER.size + n * MMIO_RANGE.size + DEVICE_SPECIFIC_INFO_LEN_SIZE + r.device_specific_info.length)
  const h = TDI_REPORT_HEADER.fields
  out.writeUInt16LE(r.interface_info, h.interface_info.offset)
  out.writeUInt16LE(r.msi_x_message_control, h.msi_x_message_control.offset)
  out.writeUInt16LE(r.lnr_control, h.lnr_control.offset)
  out.writeUInt32LE(r.tph_control, h.tph_control.offset)
  out.writeUInt32LE(n, h.mmio_range_count.offset)
  const m = MMIO_RANGE.fields
  r.mmio_ranges.forEach((rg, i) => {
    const o = TDI_REPORT_HEADER.size + i * MMIO_RANGE.size
    out.writeBigUInt64LE(rg.first_4k_page, o + m.first_4k_page.offset)
    out.writeUInt32LE(rg.number_of_pages, o + m.number_of_pages.offset)
    out.writeUInt16LE(rg.range_attributes, o + m.range_attributes.offset)
    out.writeUInt16LE(rg.range_id, o + m.range_id.offset)
  })
  const dsOff = TDI_REPORT_HEADER.size + n * MMIO_RANGE.size
  out.writeUInt32LE(r.device_specific_info.length, dsOff)
  r.device_specific_info.copy(out, dsOff + DEVICE_SPECIFIC_INFO_LEN_SIZE)
  return out
}

/** Decode a TDI report, bounds-checking the range count and device-specific length; exact length. */
export function decodeTdiReport(buf: Uint8Array): TdiReport {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  requireSize(TDI_REPORT_HEADER, b, 0, 'DEVICE_INTERFACE_REPORT')
  const n = readNum(TDI_REPORT_HEADER, b, 'mmio_range_count')
  const rangesEnd = TDI_REPORT_HEADER.size + n * MMIO_RANGE.size
  if (rangesEnd + DEVICE_SPECIFIC_INFO_LEN_SIZE > b.length) {
    throw new ParseError('TDI_REPORT_TRUNCATED', `interface report: MMIO_RANGE_COUNT ${n} needs ${rangesEnd + DEVICE_SPECIFIC_INFO_LEN_SIZE} bytes, report has ${b.length}`)
  }
  const ranges: MmioRange[] = []
  for (let i = 0; i < n; i++) {
    const o = TDI_REPORT_HEADER.size + i * MMIO_RANGE.size
    ranges.push({
      first_4k_page: readUint(MMIO_RANGE, b, 'first_4k_page', o),
      number_of_pages: readNum(MMIO_RANGE, b, 'number_of_pages', o),
      range_attributes: readNum(MMIO_RANGE, b, 'range_attributes', o),
      range_id: readNum(MMIO_RANGE, b, 'range_id', o),
    })
  }
  const dsLen = b.readUInt32LE(rangesEnd)
  const dsStart = rangesEnd + DEVICE_SPECIFIC_INFO_LEN_SIZE
  if (dsStart + dsLen !== b.length) {
    throw new ParseError('TDI_REPORT_LENGTH', `interface report: DEVICE_SPECIFIC_INFO_LEN ${dsLen} does not match the ${b.length - dsStart} bytes left`)
  }
  return {
    interface_info: readNum(TDI_REPORT_HEADER, b, 'interface_info'),
    msi_x_message_control: readNum(TDI_REPORT_HEADER, b, 'msi_x_message_control'),
    lnr_control: readNum(TDI_REPORT_HEADER, b, 'lnr_control'),
    tph_control: readNum(TDI_REPORT_HEADER, b, 'tph_control'),
    mmio_ranges: ranges,
    device_specific_info: Buffer.from(b.subarray(dsStart)),
  }
}

// ---------------------------------------------------------------------------------------------
// Message encode / decode

export interface TdispHeader {
  version: number
  message_type: number
  function_id: number
}

export function tdispHeader(messageType: number, functionId: number, size: number = TDISP_HEADER.size): Buffer {
  const b = Buffer.alloc(size)
  b[TDISP_HEADER.fields.version.offset] = TDISP_VERSION_10
  b[TDISP_HEADER.fields.message_type.offset] = messageType
  b.writeUInt32LE(functionId >>> 0, TDISP_HEADER.fields.function_id.offset)
  return b
}

export function parseTdispHeader(msg: Uint8Array): TdispHeader {
  requireSize(TDISP_HEADER, msg, 0, 'TDISP message')
  return {
    version: readNum(TDISP_HEADER, msg, 'version'),
    message_type: readNum(TDISP_HEADER, msg, 'message_type'),
    function_id: readNum(TDISP_HEADER, msg, 'function_id'),
  }
}

export function encodeTdispError(functionId: number, errorCode: number, errorData = 0): Buffer {
  const b = tdispHeader(TdispResponse.TDISP_ERROR, functionId, TDISP_ERROR_RSP.size)
  b.writeUInt32LE(errorCode, TDISP_ERROR_RSP.fields.error_code.offset)
  b.writeUInt32LE(errorData, TDISP_ERROR_RSP.fields.error_data.offset)
  return b
}
