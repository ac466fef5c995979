/**
 * CXL IDE_KM (CXL 3.x §11.4, IDE key management for CXL.cachemem links), carried as protocol 0x00 of
 * SPDM VENDOR_DEFINED messages with StandardID PCI-SIG and VendorID 0x1E98 (CXL), inside a session.
 * The objects are PCIe IDE_KM's (QUERY, KEY_PROG, K_SET_GO / K_SET_STOP and their acks) plus CXL's
 * GET_KEY / GET_KEY_ACK; QUERY_RESP gains a capability byte and KEY_PROG a 3-DWORD initial IV.
 * All fields bytes or little-endian, packed.
 * Facts: DMTF/libspdm include/industry_standard/cxl_idekm.h; DMTF/spdm-emu
 * include/library/cxl_ide_km_common_lib.h (key buffer, register block) and cxl_ide_km_requester_lib.
 */
import {defineLayout} from './layout.js'
import {codeName} from './names.js'
import {IDE_KM_KEY_HEADER, IDE_KM_QUERY, IDE_KM_QUERY_RESP, IDE_KM_REG_SIZE} from './ide-km.js'

/** VendorID of the CXL Consortium in a PCI-SIG-registry VENDOR_DEFINED message. */
export const CXL_VENDOR_ID = 0x1e98
/** Protocol ids behind the CXL vendor id (first payload byte). */
export const CXL_PROTOCOL_ID_IDE_KM = 0x00
export const CXL_PROTOCOL_ID_TSP = 0x01

/** The CXL vendor id as the 2-byte little-endian VendorID of a VENDOR_DEFINED message. */
export function cxlVendorId(): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(CXL_VENDOR_ID)
  return b
}

export const CxlIdeKmObject = {
  QUERY: 0x00,
  QUERY_RESP: 0x01,
  KEY_PROG: 0x02,
  KP_ACK: 0x03,
  K_SET_GO: 0x04,
  K_SET_STOP: 0x05,
  K_GOSTOP_ACK: 0x06,
  GET_KEY: 0x07,
  GET_KEY_ACK: 0x08,
} as const
export const cxlIdeKmObjectName = (id: number): string => codeName(CxlIdeKmObject, id)

/** QUERY is PCIe's: object id ‖ reserved ‖ port index. */
export const CXL_IDE_KM_QUERY = IDE_KM_QUERY
/** QUERY_RESP fixed part (PCIe's plus a capability byte); then the CXL IDE capability registers (u32 each). */
export const CXL_IDE_KM_QUERY_RESP = defineLayout('CXL_IDE_KM_QUERY_RESP', IDE_KM_QUERY_RESP.size + 1, {
  ...IDE_KM_QUERY_RESP.fields,
  caps: {offset: IDE_KM_QUERY_RESP.size, size: 1, kind: 'u8', doc: 'bits 3:0 version, 4 IV_GEN_CAP, 5 KEY_GEN_CAP, 6 K_SET_STOP_CAP'},
})
export const CXL_IDE_KM_REG_SIZE = IDE_KM_REG_SIZE
/**
 * The register block QUERY_RESP carries: CXL IDE Capability, Control, Status, Error Status, Key
 * Refresh Time Capability, Truncation Transmit Delay Capability, Key Refresh Time Control,
 * Truncation Transmit Delay Control, Key Refresh Time Capability2 (CXL_IDE_KM_IDE_CAP_REG_BLOCK_MAX_COUNT).
 */
export const CXL_IDE_KM_REG_COUNT = 9
export const CxlIdeKmCap = {VERSION_1: 0x01, IV_GEN: 0x10, KEY_GEN: 0x20, K_SET_STOP: 0x40} as const

/**
 * KEY_PROG, KP_ACK, K_SET_GO, K_SET_STOP, K_GOSTOP_ACK, GET_KEY and GET_KEY_ACK share PCIe IDE_KM's
 * 7-byte header: object id ‖ reserved[2] ‖ stream id ‖ reserved / KP_ACK status ‖ key sub-stream ‖ port index.
 */
export const CXL_IDE_KM_KEY_HEADER = IDE_KM_KEY_HEADER
/** Key buffer after the header of KEY_PROG and GET_KEY_ACK: KEY (8 DW, AES-256-GCM) ‖ IV (3 DW). */
export const CXL_IDE_KM_KEY_BUFFER = defineLayout('CXL_IDE_KM_KEY_BUFFER', 44, {
  key: {offset: 0, size: 32},
  iv: {offset: 32, size: 12, doc: 'pending initial IV (ignored when key_sub_stream has IV_DEFAULT)'},
})
export const CXL_IDE_KM_KEY_PROG_SIZE = IDE_KM_KEY_HEADER.size + CXL_IDE_KM_KEY_BUFFER.size

/** key_sub_stream bits: bit 1 direction (TX), bit 3 IV_DEFAULT in KEY_PROG / CONTAINMENT mode in K_SET_GO, bits 7:4 sub-stream (0x8 = CXL). */
export const CXL_IDE_KM_DIRECTION_TX = 0x02
export const CXL_IDE_KM_IV_DEFAULT = 0x08
export const CXL_IDE_KM_MODE_CONTAINMENT = 0x08
export const CXL_IDE_KM_SUB_STREAM_MASK = 0xf0
export const CXL_IDE_KM_SUB_STREAM_CXL = 0x80
/** KP_ACK status values. */
export const CxlIdeKmAckStatus = {SUCCESS: 0x00, INVALID: 0x01} as const
