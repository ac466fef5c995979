/**
 * VENDOR_DEFINED_REQUEST / RESPONSE in the classic format: StandardID ‖ Len ‖ VendorID ‖
 * payload length u16 ‖ payload. For PCI-SIG (StandardID 3, VendorID 0x0001) the payload starts with
 * a protocol id: 0x00 IDE_KM, 0x01 TDISP.
 */
import {ParseError} from '../errors.js'
import {readNum, requireSize} from '../abi/layout.js'
import {SPDM_VENDOR_DEFINED, SPDM_VENDOR_PAYLOAD_LENGTH_SIZE, spdmHeader} from '../abi/spdm.js'

export interface VendorMessage {
  standard_id: number
  vendor_id: Buffer
  payload: Buffer
}

export function encodeVendor(version: number, code: number, m: VendorMessage): Buffer {
  const head = Buffer.alloc(SPDM_VENDOR_DEFINED.size)
  spdmHeader(version, code).copy(head)
  head.writeUInt16LE(m.standard_id, SPDM_VENDOR_DEFINED.fields.standard_id.offset)
  head[SPDM_VENDOR_DEFINED.fields.vendor_id_len.offset] = m.vendor_id.length
  const len = Buffer.alloc(SPDM_VENDOR_PAYLOAD_LENGTH_SIZE)
  len.writeUInt16LE(m.payload.length)
  return Buffer.concat([head, m.vendor_id, len, m.payload])
}

/** Parse a vendor-defined message; the payload length must fit (trailing bytes are refused). */
export function decodeVendor(msg: Buffer): VendorMessage {
  requireSize(SPDM_VENDOR_DEFINED, msg, 0, 'VENDOR_DEFINED')
  const idLen = readNum(SPDM_VENDOR_DEFINED, msg, 'vendor_id_len')
  const lenAt = SPDM_VENDOR_DEFINED.size + idLen
  if (lenAt + SPDM_VENDOR_PAYLOAD_LENGTH_SIZE > msg.length) throw new ParseError('VDM_TRUNCATED', 'VENDOR_DEFINED: vendor id runs past the message')
  const payloadLen = msg.readUInt16LE(lenAt)
  const at = lenAt + SPDM_VENDOR_PAYLOAD_LENGTH_SIZE
  if (at + payloadLen !== msg.length) throw new ParseError('VDM_LENGTH', `VENDOR_DEFINED: payload length ${payloadLen} does not match the ${msg.length - at} bytes left`)
  return {standard_id: readNum(SPDM_VENDOR_DEFINED, msg, 'standard_id'), vendor_id: Buffer.from(msg.subarray(SPDM_VENDOR_DEFINED.size, lenAt)), payload: Buffer.from(msg.subarray(at))}
}
