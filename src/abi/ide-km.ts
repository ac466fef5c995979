/**
 * PCIe IDE_KM (Integrity and Data Encryption key management) messages, carried as protocol 0x00 of
 * the PCI-SIG vendor-defined SPDM messages inside a session: QUERY / QUERY_RESP, KEY_PROG / KP_ACK,
 * K_SET_GO / K_SET_STOP / K_GOSTOP_ACK. All fields bytes or little-endian, packed.
 * Facts: DMTF/libspdm include/industry_standard/pci_idekm.h; DMTF/spdm-emu pci_ide_km_responder_lib.
 */
import {defineLayout} from './layout.js'
import {codeName} from './names.js'

export const IdeKmObject = {QUERY: 0x00, QUERY_RESP: 0x01, KEY_PROG: 0x02, KP_ACK: 0x03, K_SET_GO: 0x04, K_SET_STOP: 0x05, K_GOSTOP_ACK: 0x06} as const
export const ideKmObjectName = (id: number): string => codeName(IdeKmObject, id)

/** QUERY: object id ‖ reserved ‖ port index. */
export const IDE_KM_QUERY = defineLayout('IDE_KM_QUERY', 3, {
  object_id: {offset: 0, size: 1, kind: 'u8'},
  reserved: {offset: 1, size: 1, kind: 'u8'},
  port_index: {offset: 2, size: 1, kind: 'u8'},
})
/** QUERY_RESP fixed part; then the IDE extended capability registers (u32 each). */
export const IDE_KM_QUERY_RESP = defineLayout('IDE_KM_QUERY_RESP', 7, {
  object_id: {offset: 0, size: 1, kind: 'u8'},
  reserved: {offset: 1, size: 1, kind: 'u8'},
  port_index: {offset: 2, size: 1, kind: 'u8'},
  dev_func_num: {offset: 3, size: 1, kind: 'u8'},
  bus_num: {offset: 4, size: 1, kind: 'u8'},
  segment: {offset: 5, size: 1, kind: 'u8'},
  max_port_index: {offset: 6, size: 1, kind: 'u8'},
})
export const IDE_KM_REG_SIZE = 4
/** Largest register block list a QUERY_RESP carries (spdm-emu: PCI_IDE_KM_IDE_REG_BLOCK_SUPPORTED_COUNT). */
export const IDE_KM_MAX_REGS = 64

/** KEY_PROG / KP_ACK / K_SET_GO / K_SET_STOP / K_GOSTOP_ACK share this 7-byte header (KP_ACK carries a status). */
export const IDE_KM_KEY_HEADER = defineLayout('IDE_KM_KEY_HEADER', 7, {
  object_id: {offset: 0, size: 1, kind: 'u8'},
  reserved: {offset: 1, size: 2},
  stream_id: {offset: 3, size: 1, kind: 'u8'},
  status: {offset: 4, size: 1, kind: 'u8', doc: 'KP_ACK: status; other messages: reserved'},
  key_sub_stream: {offset: 5, size: 1, kind: 'u8', doc: 'bit 0 key set, bit 1 direction, bits 7:4 sub-stream'},
  port_index: {offset: 6, size: 1, kind: 'u8'},
})
/** KEY_PROG body after the header: KEY (8 DW, AES-256-GCM) ‖ IFV (2 DW). */
export const IDE_KM_KEY_SIZE = 32
export const IDE_KM_IFV_SIZE = 8
export const IDE_KM_KEY_PROG_SIZE = 47

export const IDE_KM_KEY_SET_MASK = 0x01
export const IDE_KM_DIRECTION_TX = 0x02
export const IDE_KM_SUB_STREAM_SHIFT = 4
export const IDE_KM_SUB_STREAM_MASK = 0xf0
export const IdeKmSubStream = {PR: 0, NPR: 1, CPL: 2} as const
export const IdeKmAckStatus = {SUCCESS: 0x00, INCORRECT_LENGTH: 0x01, UNSUPPORTED_PORT_INDEX: 0x02, UNSUPPORTED_VALUE: 0x03, UNSPECIFIED_FAILURE: 0x04} as const
