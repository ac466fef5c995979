/**
 * PCIe DOE (Data Object Exchange) framing as the PCI_DOE transport binding of SPDM uses it: the
 * 8-byte data-object header, DOE Discovery, and the spdm-emu socket frame that carries one
 * transport message between the emulators (three big-endian u32 words, then the payload).
 * Facts: DMTF/libspdm include/industry_standard/pcidoe.h; DMTF/spdm-emu spdm_emu_common/command.h
 * (shared/oracles/spdm-emu/README.md §4.1–4.2). DOE fields are little-endian, the socket header big-endian.
 */
import {defineLayout} from './layout.js'

/** PCI-SIG vendor id in the DOE header and in discovery entries. */
export const PCI_SIG_VENDOR_ID = 0x0001
/** The PCI-SIG vendor id as the 2-byte little-endian VendorID of a VENDOR_DEFINED message. */
export function pciSigVendorId(): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(PCI_SIG_VENDOR_ID)
  return b
}
/** DOE data object types of the PCI-SIG vendor. */
export const DoeType = {DISCOVERY: 0, SPDM: 1, SECURED_SPDM: 2} as const
/** DOE length unit: one DWORD. */
export const DOE_DW = 4
/** The length field holds bits 17:0; 0 means 2^18 DW. */
export const DOE_LENGTH_MASK = 0x3ffff
export const DOE_LENGTH_ZERO_MEANS = 0x40000

export const DOE_HEADER = defineLayout('DOE_HEADER', 8, {
  vendor_id: {offset: 0, size: 2, kind: 'u16'},
  data_object_type: {offset: 2, size: 1, kind: 'u8'},
  reserved: {offset: 3, size: 1, kind: 'u8'},
  length: {offset: 4, size: 4, kind: 'u32', doc: 'total length in DW including this header (bits 17:0)'},
})

/** DOE Discovery request data: index ‖ version ‖ reserved. */
export const DOE_DISCOVERY_REQ = defineLayout('DOE_DISCOVERY_REQUEST', 4, {
  index: {offset: 0, size: 1, kind: 'u8'},
  version: {offset: 1, size: 1, kind: 'u8'},
  reserved: {offset: 2, size: 2, kind: 'u16'},
})
/** DOE Discovery response data: vendor id ‖ data object type ‖ next index. */
export const DOE_DISCOVERY_RSP = defineLayout('DOE_DISCOVERY_RESPONSE', 4, {
  vendor_id: {offset: 0, size: 2, kind: 'u16'},
  data_object_type: {offset: 2, size: 1, kind: 'u8'},
  next_index: {offset: 3, size: 1, kind: 'u8'},
})

// ---------------------------------------------------------------------------------------------
// spdm-emu socket framing

/** Socket frame header: command ‖ transport_type ‖ payload_size, each u32 BIG-endian. */
export const EMU_FRAME_HEADER = defineLayout('EMU_SOCKET_FRAME', 12, {
  command: {offset: 0, size: 4, doc: 'SOCKET_SPDM_COMMAND_* (u32 big-endian)'},
  transport_type: {offset: 4, size: 4, doc: 'SOCKET_TRANSPORT_TYPE_* (u32 big-endian)'},
  payload_size: {offset: 8, size: 4, doc: 'bytes of payload that follow (u32 big-endian)'},
})
export const EmuCommand = {NORMAL: 0x0001, OOB_ENCAP_KEY_UPDATE: 0x8001, OOB_ENCAP_ENDPOINT_INFO: 0x8002, CONTINUE: 0xfffd, SHUTDOWN: 0xfffe, UNKNOWN: 0xffff, TEST: 0xdead} as const
export const EmuTransport = {NONE: 0, MCTP: 1, PCI_DOE: 2, TCP: 3} as const
export type EmuTransportName = keyof typeof EmuTransport
/** Largest payload an emulator accepts (LIBSPDM_MAX_SENDER_RECEIVER_BUFFER_SIZE = 0x1200 + 128). */
export const EMU_MAX_PAYLOAD = 0x1280
/** The TEST hello exchanged first (NUL-terminated ASCII). */
export const EMU_CLIENT_HELLO = Buffer.from('Client Hello!\0', 'latin1')
export const EMU_SERVER_HELLO = Buffer.from('Server Hello!\0', 'latin1')
/** Default emulator ports: TCP binding and every other transport. */
export const EMU_PORT_TCP = 4194
export const EMU_PORT_DEFAULT = 2323

export interface EmuFrame {
  command: number
  transport: number
  payload: Buffer
}

/** Encode one socket frame. */
export function encodeEmuFrame(f: EmuFrame): Buffer {
  const h = Buffer.alloc(EMU_FRAME_HEADER.size)
  const fl = EMU_FRAME_HEADER.fields
  h.writeUInt32BE(f.command >>> 0, fl.command.offset)
  h.writeUInt32BE(f.transport >>> 0, fl.transport_type.offset)
  h.writeUInt32BE(f.payload.length, fl.payload_size.offset)
  return Buffer.concat([h, f.payload])
}

/** Read the three header words of a socket frame (the caller checks there are 12 bytes). */
export function decodeEmuFrameHeader(b: Buffer, at = 0): {command: number; transport: number; size: number} {
  const fl = EMU_FRAME_HEADER.fields
  return {command: b.readUInt32BE(at + fl.command.offset), transport: b.readUInt32BE(at + fl.transport_type.offset), size: b.readUInt32BE(at + fl.payload_size.offset)}
}
