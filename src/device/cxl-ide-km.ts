/**
 * The device side of CXL IDE_KM for one simulated CXL device: QUERY answers with the port's
 * bus/device/function, its capability byte and the CXL IDE capability register block; GET_KEY hands
 * out a key and IV the device generated (KEY_GEN_CAP / IV_GEN_CAP); KEY_PROG stores a key per
 * (port, direction) for the CXL sub-stream; K_SET_GO switches it on (skid or containment mode),
 * K_SET_STOP off. Key material stays in memory only (never written to the state directory).
 * Facts: CXL 3.x §11.4 as libspdm encodes it (include/industry_standard/cxl_idekm.h) and what
 * spdm-emu's cxl_ide_km_requester_lib checks in each answer. SIMULATED hardware.
 */
import {randomBytes} from 'node:crypto'
import {ParseError} from '../errors.js'
import {readNum, requireSize} from '../abi/layout.js'
import {
  CXL_IDE_KM_DIRECTION_TX,
  CXL_IDE_KM_IV_DEFAULT,
  CXL_IDE_KM_KEY_BUFFER,
  CXL_IDE_KM_KEY_HEADER,
  CXL_IDE_KM_KEY_PROG_SIZE,
  CXL_IDE_KM_MODE_CONTAINMENT,
  CXL_IDE_KM_QUERY,
  CXL_IDE_KM_QUERY_RESP,
  CXL_IDE_KM_REG_COUNT,
  CXL_IDE_KM_REG_SIZE,
  CXL_IDE_KM_SUB_STREAM_CXL,
  CXL_IDE_KM_SUB_STREAM_MASK,
  CxlIdeKmAckStatus,
  CxlIdeKmObject,
} from '../abi/cxl-ide-km.js'
import {FUNCTION_ID_RID_MASK} from '../abi/tdisp.js'
import type {CxlSpec} from './models.js'

/** CXL IDE has one stream per link: stream id 0. */
export const CXL_IDE_STREAM_ID = 0
/** CXL IDE Capability register (CXL 3.1 §8.2.4.22.1): bit 0 capable, bit 1 skid mode, bit 2 containment mode, bit 22 IDE.Stop capable. */
const IDE_CAP_CAPABLE = 1 << 0
const IDE_CAP_SKID = 1 << 1
const IDE_CAP_CONTAINMENT = 1 << 2
const IDE_CAP_STOP = 1 << 22
/**
 * CXL IDE Status register (§8.2.4.22.3): Rx state bits 3:0, Tx state bits 7:4. Our reading of the
 * encodings (UNCONFIRMED against the spec PDF): 1 active containment mode, 2 active skid mode, 4 insecure.
 */
const IDE_STATE_CONTAINMENT = 1
const IDE_STATE_SKID = 2
const IDE_STATE_INSECURE = 4
const TX_STATE_SHIFT = 4
const REG_CAPABILITY = 0
const REG_STATUS = 2
const BYTE_MASK = 0xff
const BUS_SHIFT = 8
/** The IV a device uses when KEY_PROG says IV_DEFAULT: 0x80000000 ‖ 0 ‖ 1 (as spdm-emu's requester programs it). */
const DEFAULT_IV = Buffer.from([0, 0, 0, 0x80, 0, 0, 0, 0, 1, 0, 0, 0])

export interface CxlIdeKey {
  key: Buffer
  iv: Buffer
  active: boolean
  containment: boolean
}

export class CxlIdeKmPort {
  /** programmed keys by "port/rx|tx" */
  readonly keys = new Map<string, CxlIdeKey>()

  constructor(
    private readonly functionId: number,
    private readonly spec: CxlSpec,
    private readonly random: (n: number) => Buffer = randomBytes,
  ) {}

  private slot(m: Buffer): string {
    const dir = readNum(CXL_IDE_KM_KEY_HEADER, m, 'key_sub_stream') & CXL_IDE_KM_DIRECTION_TX ? 'tx' : 'rx'
    return `${readNum(CXL_IDE_KM_KEY_HEADER, m, 'port_index')}/${dir}`
  }

  private dirState(dir: 'rx' | 'tx'): number {
    const k = this.keys.get(`0/${dir}`)
    if (!k?.active) return IDE_STATE_INSECURE
    return k.containment ? IDE_STATE_CONTAINMENT : IDE_STATE_SKID
  }

  /** The CXL IDE capability structure (9 registers), as QUERY_RESP and the TSP report carry it. */
  registers(): Buffer {
    const regs = new Array<number>(CXL_IDE_KM_REG_COUNT).fill(0)
    regs[REG_CAPABILITY] = IDE_CAP_CAPABLE | IDE_CAP_SKID | IDE_CAP_CONTAINMENT | IDE_CAP_STOP
    regs[REG_STATUS] = this.dirState('rx') | (this.dirState('tx') << TX_STATE_SHIFT)
    const b = Buffer.alloc(regs.length * CXL_IDE_KM_REG_SIZE)
    regs.forEach((v, i) => b.writeUInt32LE(v >>> 0, i * CXL_IDE_KM_REG_SIZE))
    return b
  }

  private checkPort(port: number, what: string): void {
    if (port > this.spec.ide.max_port_index) throw new ParseError('CXL_IDE_KM_PORT', `CXL IDE_KM ${what} for port ${port}: ports 0-${this.spec.ide.max_port_index} exist`)
  }

  private query(m: Buffer): Buffer {
    if (m.length !== CXL_IDE_KM_QUERY.size) throw new ParseError('CXL_IDE_KM_LENGTH', `CXL IDE_KM QUERY is ${m.length} bytes, expected ${CXL_IDE_KM_QUERY.size}`)
    const port = readNum(CXL_IDE_KM_QUERY, m, 'port_index')
    this.checkPort(port, 'QUERY')
    const rsp = Buffer.alloc(CXL_IDE_KM_QUERY_RESP.size)
    const f = CXL_IDE_KM_QUERY_RESP.fields
    rsp[f.object_id.offset] = CxlIdeKmObject.QUERY_RESP
    rsp[f.port_index.offset] = port
    rsp[f.dev_func_num.offset] = this.functionId & FUNCTION_ID_RID_MASK & BYTE_MASK
    rsp[f.bus_num.offset] = (this.functionId >> BUS_SHIFT) & BYTE_MASK
    rsp[f.max_port_index.offset] = this.spec.ide.max_port_index
    rsp[f.caps.offset] = this.spec.ide.caps
    return Buffer.concat([rsp, this.registers()])
  }

  /** An ack echoing the request's stream, sub-stream and port. */
  private ack(m: Buffer, object: number, status = 0): Buffer {
    const rsp = Buffer.from(m.subarray(0, CXL_IDE_KM_KEY_HEADER.size))
    rsp[CXL_IDE_KM_KEY_HEADER.fields.object_id.offset] = object
    rsp[CXL_IDE_KM_KEY_HEADER.fields.status.offset] = status
    return rsp
  }

  /** Stream 0, the CXL sub-stream, an existing port: what every key request must name. */
  private validTarget(m: Buffer): boolean {
    const sub = readNum(CXL_IDE_KM_KEY_HEADER, m, 'key_sub_stream') & CXL_IDE_KM_SUB_STREAM_MASK
    return readNum(CXL_IDE_KM_KEY_HEADER, m, 'stream_id') === CXL_IDE_STREAM_ID && sub === CXL_IDE_KM_SUB_STREAM_CXL && readNum(CXL_IDE_KM_KEY_HEADER, m, 'port_index') <= this.spec.ide.max_port_index
  }

  private getKey(m: Buffer): Buffer {
    if (m.length !== CXL_IDE_KM_KEY_HEADER.size) throw new ParseError('CXL_IDE_KM_LENGTH', `CXL IDE_KM GET_KEY is ${m.length} bytes, expected ${CXL_IDE_KM_KEY_HEADER.size}`)
    if (!this.validTarget(m)) throw new ParseError('CXL_IDE_KM_TARGET', 'CXL IDE_KM GET_KEY names another stream, sub-stream or port')
    const kb = Buffer.alloc(CXL_IDE_KM_KEY_BUFFER.size)
    this.random(CXL_IDE_KM_KEY_BUFFER.fields.key.size).copy(kb, CXL_IDE_KM_KEY_BUFFER.fields.key.offset)
    this.random(CXL_IDE_KM_KEY_BUFFER.fields.iv.size).copy(kb, CXL_IDE_KM_KEY_BUFFER.fields.iv.offset)
    return Buffer.concat([this.ack(m, CxlIdeKmObject.GET_KEY_ACK), kb])
  }

  private keyProg(m: Buffer): Buffer {
    requireSize(CXL_IDE_KM_KEY_HEADER, m, 0, 'CXL IDE_KM KEY_PROG')
    if (m.length !== CXL_IDE_KM_KEY_PROG_SIZE || !this.validTarget(m)) return this.ack(m, CxlIdeKmObject.KP_ACK, CxlIdeKmAckStatus.INVALID)
    const kb = m.subarray(CXL_IDE_KM_KEY_HEADER.size)
    const f = CXL_IDE_KM_KEY_BUFFER.fields
    const ivDefault = (readNum(CXL_IDE_KM_KEY_HEADER, m, 'key_sub_stream') & CXL_IDE_KM_IV_DEFAULT) !== 0
    this.keys.set(this.slot(m), {
      key: Buffer.from(kb.subarray(f.key.offset, f.key.offset + f.key.size)),
      iv: ivDefault ? Buffer.from(DEFAULT_IV) : Buffer.from(kb.subarray(f.iv.offset, f.iv.offset + f.iv.size)),
      active: false,
      containment: false,
    })
    return this.ack(m, CxlIdeKmObject.KP_ACK, CxlIdeKmAckStatus.SUCCESS)
  }

  private goStop(m: Buffer, go: boolean): Buffer {
    const what = `CXL IDE_KM K_SET_${go ? 'GO' : 'STOP'}`
    if (m.length !== CXL_IDE_KM_KEY_HEADER.size) throw new ParseError('CXL_IDE_KM_LENGTH', `${what} is ${m.length} bytes, expected ${CXL_IDE_KM_KEY_HEADER.size}`)
    if (!this.validTarget(m)) throw new ParseError('CXL_IDE_KM_TARGET', `${what} names another stream, sub-stream or port`)
    const key = this.keys.get(this.slot(m))
    if (!key) throw new ParseError('CXL_IDE_KM_NO_KEY', `${what} for a key that was never programmed`)
    key.active = go
    if (go) key.containment = (readNum(CXL_IDE_KM_KEY_HEADER, m, 'key_sub_stream') & CXL_IDE_KM_MODE_CONTAINMENT) !== 0
    return this.ack(m, CxlIdeKmObject.K_GOSTOP_ACK)
  }

  /** One CXL IDE_KM request (starting at its object id) in, one response out; ParseError when malformed. */
  handle(m: Buffer): Buffer {
    requireSize(CXL_IDE_KM_QUERY, m, 0, 'CXL IDE_KM message')
    switch (m[0]) {
      case CxlIdeKmObject.QUERY:
        return this.query(m)
      case CxlIdeKmObject.GET_KEY:
        requireSize(CXL_IDE_KM_KEY_HEADER, m, 0, 'CXL IDE_KM GET_KEY')
        return this.getKey(m)
      case CxlIdeKmObject.KEY_PROG:
        return this.keyProg(m)
      case CxlIdeKmObject.K_SET_GO:
      case CxlIdeKmObject.K_SET_STOP:
        requireSize(CXL_IDE_KM_KEY_HEADER, m, 0, 'CXL IDE_KM K_SET_GO/STOP')
        return this.goStop(m, m[0] === CxlIdeKmObject.K_SET_GO)
      default:
        throw new ParseError('CXL_IDE_KM_OBJECT', `CXL IDE_KM object 0x${m[0].toString(16)} is not a request`)
    }
  }

  /** A device reset drops every key. */
  reset(): void {
    this.keys.clear()
  }
}
