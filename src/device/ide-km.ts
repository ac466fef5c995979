/**
 * The device side of IDE_KM for one simulated device port: QUERY answers with the device's
 * bus/device/function and a small IDE register image; KEY_PROG stores an AES-256-GCM key + IFV per
 * (stream, key set, direction, sub-stream); K_SET_GO / K_SET_STOP switch a programmed key on and off.
 * Key material stays in memory only (never written to the state directory). SIMULATED hardware.
 */
import {ParseError} from '../errors.js'
import {readNum, requireSize} from '../abi/layout.js'
import {
  IDE_KM_KEY_HEADER,
  IDE_KM_KEY_PROG_SIZE,
  IDE_KM_KEY_SIZE,
  IDE_KM_QUERY,
  IDE_KM_QUERY_RESP,
  IDE_KM_REG_SIZE,
  IDE_KM_SUB_STREAM_SHIFT,
  IdeKmAckStatus,
  IdeKmObject,
  IdeKmSubStream,
} from '../abi/ide-km.js'
import {FUNCTION_ID_RID_MASK} from '../abi/tdisp.js'

/** Ports 0..IDE_MAX_PORT_INDEX (libspdm's requester programs port 1) and the one stream this simulated device implements. */
export const IDE_MAX_PORT_INDEX = 1
export const IDE_STREAM_ID = 0
/** IDE capability register: Selective IDE Streams Supported (bit 1), IDE_KM Protocol Supported (bit 6); one stream. */
const IDE_CAP_SELECTIVE = 1 << 1
const IDE_CAP_IDE_KM = 1 << 6
/** Selective IDE stream control bit 0 (enable) and status "Secure" (state 2 in bits 3:0). */
const STREAM_ENABLE = 1
const STREAM_STATE_SECURE = 2
const BYTE_MASK = 0xff
const BUS_SHIFT = 8

export interface IdeKeySlot {
  key: Buffer
  ifv: Buffer
  active: boolean
}

export class IdeKmPort {
  readonly slots = new Map<string, IdeKeySlot>()
  constructor(private readonly functionId: number) {}

  private slotName(m: Buffer): string {
    const ks = readNum(IDE_KM_KEY_HEADER, m, 'key_sub_stream')
    return `${readNum(IDE_KM_KEY_HEADER, m, 'port_index')}/${readNum(IDE_KM_KEY_HEADER, m, 'stream_id')}/${ks.toString(16).padStart(2, '0')}`
  }

  /** True when every programmed key of the stream is active (the stream is "secure"). */
  get streamSecure(): boolean {
    const slots = [...this.slots.values()]
    return slots.length > 0 && slots.every((s) => s.active)
  }

  private registers(): Buffer {
    const regs = [IDE_CAP_SELECTIVE | IDE_CAP_IDE_KM, 0, 0, this.streamSecure ? STREAM_ENABLE : 0, this.streamSecure ? STREAM_STATE_SECURE : 0, this.functionId & FUNCTION_ID_RID_MASK, 0]
    const b = Buffer.alloc(regs.length * IDE_KM_REG_SIZE)
    regs.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * IDE_KM_REG_SIZE))
    return b
  }

  private query(m: Buffer): Buffer {
    if (m.length !== IDE_KM_QUERY.size) throw new ParseError('IDE_KM_LENGTH', `IDE_KM QUERY is ${m.length} bytes, expected ${IDE_KM_QUERY.size}`)
    const port = readNum(IDE_KM_QUERY, m, 'port_index')
    if (port > IDE_MAX_PORT_INDEX) throw new ParseError('IDE_KM_PORT', `IDE_KM QUERY for port ${port}: ports 0-${IDE_MAX_PORT_INDEX} exist`)
    const rsp = Buffer.alloc(IDE_KM_QUERY_RESP.size)
    const f = IDE_KM_QUERY_RESP.fields
    rsp[f.object_id.offset] = IdeKmObject.QUERY_RESP
    rsp[f.port_index.offset] = port
    rsp[f.dev_func_num.offset] = this.functionId & BYTE_MASK
    rsp[f.bus_num.offset] = (this.functionId >> BUS_SHIFT) & BYTE_MASK
    rsp[f.max_port_index.offset] = IDE_MAX_PORT_INDEX
    return Buffer.concat([rsp, this.registers()])
  }

  private ack(m: Buffer, object: number, status = 0): Buffer {
    const rsp = Buffer.from(m.subarray(0, IDE_KM_KEY_HEADER.size))
    rsp[IDE_KM_KEY_HEADER.fields.object_id.offset] = object
    rsp[IDE_KM_KEY_HEADER.fields.status.offset] = status
    return rsp
  }

  private keyProg(m: Buffer): Buffer {
    if (m.length !== IDE_KM_KEY_PROG_SIZE) return this.ack(m, IdeKmObject.KP_ACK, IdeKmAckStatus.INCORRECT_LENGTH)
    if (readNum(IDE_KM_KEY_HEADER, m, 'port_index') > IDE_MAX_PORT_INDEX) return this.ack(m, IdeKmObject.KP_ACK, IdeKmAckStatus.UNSUPPORTED_PORT_INDEX)
    const sub = readNum(IDE_KM_KEY_HEADER, m, 'key_sub_stream') >> IDE_KM_SUB_STREAM_SHIFT
    if (readNum(IDE_KM_KEY_HEADER, m, 'stream_id') !== IDE_STREAM_ID || sub > IdeKmSubStream.CPL) return this.ack(m, IdeKmObject.KP_ACK, IdeKmAckStatus.UNSUPPORTED_VALUE)
    const keyAt = IDE_KM_KEY_HEADER.size
    this.slots.set(this.slotName(m), {key: Buffer.from(m.subarray(keyAt, keyAt + IDE_KM_KEY_SIZE)), ifv: Buffer.from(m.subarray(keyAt + IDE_KM_KEY_SIZE)), active: false})
    return this.ack(m, IdeKmObject.KP_ACK, IdeKmAckStatus.SUCCESS)
  }

  private goStop(m: Buffer, go: boolean): Buffer {
    if (m.length !== IDE_KM_KEY_HEADER.size) throw new ParseError('IDE_KM_LENGTH', `IDE_KM K_SET_${go ? 'GO' : 'STOP'} is ${m.length} bytes, expected ${IDE_KM_KEY_HEADER.size}`)
    const slot = this.slots.get(this.slotName(m))
    if (!slot) throw new ParseError('IDE_KM_NO_KEY', `IDE_KM K_SET_${go ? 'GO' : 'STOP'} for a key that was never programmed`)
    slot.active = go
    return this.ack(m, IdeKmObject.K_GOSTOP_ACK)
  }

  /** One IDE_KM request (starting at its object id) in, one response out; ParseError when malformed. */
  handle(m: Buffer): Buffer {
    requireSize(IDE_KM_QUERY, m, 0, 'IDE_KM message')
    switch (m[0]) {
      case IdeKmObject.QUERY:
        return this.query(m)
      case IdeKmObject.KEY_PROG:
        requireSize(IDE_KM_KEY_HEADER, m, 0, 'IDE_KM KEY_PROG')
        return this.keyProg(m)
      case IdeKmObject.K_SET_GO:
      case IdeKmObject.K_SET_STOP:
        requireSize(IDE_KM_KEY_HEADER, m, 0, 'IDE_KM K_SET_GO/STOP')
        return this.goStop(m, m[0] === IdeKmObject.K_SET_GO)
      default:
        throw new ParseError('IDE_KM_OBJECT', `IDE_KM object 0x${m[0].toString(16)} is not a request`)
    }
  }
}
