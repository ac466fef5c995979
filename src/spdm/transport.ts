/**
 * Transport framing, pure: PCIe DOE data objects (header, DW padding, discovery answers) and an
 * incremental reader for the spdm-emu socket stream (12-byte big-endian header + payload) that
 * reassembles frames across TCP segments and refuses oversized ones before buffering them.
 */
import {ParseError} from '../errors.js'
import {readNum, requireSize} from '../abi/layout.js'
import {
  DOE_DISCOVERY_REQ,
  DOE_DISCOVERY_RSP,
  DOE_DW,
  DOE_HEADER,
  DOE_LENGTH_MASK,
  DOE_LENGTH_ZERO_MEANS,
  DoeType,
  EMU_FRAME_HEADER,
  EMU_MAX_PAYLOAD,
  PCI_SIG_VENDOR_ID,
  decodeEmuFrameHeader,
  type EmuFrame,
} from '../abi/doe.js'

/** Wrap data in a DOE data object, zero-padded to a whole number of DWs. */
export function encodeDoe(type: number, data: Buffer): Buffer {
  const total = Math.ceil((DOE_HEADER.size + data.length) / DOE_DW) * DOE_DW
  const out = Buffer.alloc(total)
  out.writeUInt16LE(PCI_SIG_VENDOR_ID, DOE_HEADER.fields.vendor_id.offset)
  out[DOE_HEADER.fields.data_object_type.offset] = type
  out.writeUInt32LE((total / DOE_DW) & DOE_LENGTH_MASK, DOE_HEADER.fields.length.offset)
  data.copy(out, DOE_HEADER.size)
  return out
}

/** Parse a DOE data object: PCI-SIG vendor, a known type and a length that matches the payload. */
export function decodeDoe(payload: Buffer): {type: number; data: Buffer} {
  requireSize(DOE_HEADER, payload, 0, 'DOE data object')
  const vendor = readNum(DOE_HEADER, payload, 'vendor_id')
  if (vendor !== PCI_SIG_VENDOR_ID) throw new ParseError('DOE_VENDOR', `DOE vendor id 0x${vendor.toString(16)} is not PCI-SIG (0x0001)`)
  const type = readNum(DOE_HEADER, payload, 'data_object_type')
  if (type !== DoeType.DISCOVERY && type !== DoeType.SPDM && type !== DoeType.SECURED_SPDM) throw new ParseError('DOE_TYPE', `DOE data object type ${type} is not discovery, SPDM or secured SPDM`)
  const raw = readNum(DOE_HEADER, payload, 'length') & DOE_LENGTH_MASK
  const dw = raw === 0 ? DOE_LENGTH_ZERO_MEANS : raw
  if (dw * DOE_DW !== payload.length) throw new ParseError('DOE_LENGTH', `DOE length ${dw} DW does not match the ${payload.length}-byte payload`)
  return {type, data: payload.subarray(DOE_HEADER.size)}
}

/** The data objects this endpoint supports, in discovery order. */
export const DISCOVERY_TABLE = [DoeType.DISCOVERY, DoeType.SPDM, DoeType.SECURED_SPDM] as const

/** Answer a DOE Discovery request (index → entry, next index; 0 after the last). */
export function discoveryResponse(data: Buffer): Buffer {
  requireSize(DOE_DISCOVERY_REQ, data, 0, 'DOE discovery request')
  const index = readNum(DOE_DISCOVERY_REQ, data, 'index')
  if (index >= DISCOVERY_TABLE.length) throw new ParseError('DOE_DISCOVERY_INDEX', `DOE discovery index ${index} is past the ${DISCOVERY_TABLE.length} supported data objects`)
  const rsp = Buffer.alloc(DOE_DISCOVERY_RSP.size)
  rsp.writeUInt16LE(PCI_SIG_VENDOR_ID, DOE_DISCOVERY_RSP.fields.vendor_id.offset)
  rsp[DOE_DISCOVERY_RSP.fields.data_object_type.offset] = DISCOVERY_TABLE[index]
  rsp[DOE_DISCOVERY_RSP.fields.next_index.offset] = index + 1 < DISCOVERY_TABLE.length ? index + 1 : 0
  return rsp
}

/** A discovery request for one index. */
export function discoveryRequest(index: number): Buffer {
  const b = Buffer.alloc(DOE_DISCOVERY_REQ.size)
  b[DOE_DISCOVERY_REQ.fields.index.offset] = index
  return b
}

export type FrameEvent = {kind: 'frame'; frame: EmuFrame} | {kind: 'oversize'; command: number; transport: number; size: number}

/**
 * Incremental socket-frame reader. push() bytes as they arrive; complete frames come back in order.
 * A header announcing more than `maxPayload` bytes yields an 'oversize' event and stops the reader
 * (the stream cannot be resynchronised; the caller answers and closes).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0)
  private dead = false
  constructor(private readonly maxPayload = EMU_MAX_PAYLOAD) {}

  get buffered(): number {
    return this.buf.length
  }

  push(chunk: Buffer): FrameEvent[] {
    if (this.dead) return []
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    const out: FrameEvent[] = []
    while (this.buf.length >= EMU_FRAME_HEADER.size) {
      const h = decodeEmuFrameHeader(this.buf)
      if (h.size > this.maxPayload) {
        this.dead = true
        this.buf = Buffer.alloc(0)
        out.push({kind: 'oversize', command: h.command, transport: h.transport, size: h.size})
        break
      }
      if (this.buf.length < EMU_FRAME_HEADER.size + h.size) break
      const payload = Buffer.from(this.buf.subarray(EMU_FRAME_HEADER.size, EMU_FRAME_HEADER.size + h.size))
      this.buf = this.buf.subarray(EMU_FRAME_HEADER.size + h.size)
      out.push({kind: 'frame', frame: {command: h.command, transport: h.transport, payload}})
    }
    return out
  }
}
