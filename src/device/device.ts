/**
 * One simulated TDISP device at run time: its certificate chain and key, its measurement blocks,
 * its DEVICE_INTERFACE_REPORT, and the device side of TDISP (the TDI state machine answering real
 * TDISP messages), built from a DeviceRecord in doc.devices and the platform seed.
 */
import {
  InterfaceInfo,
  PAGE_4K,
  TDISP_CAPABILITIES_RSP,
  TDISP_GET_CAPABILITIES,
  TDISP_HEADER,
  TDISP_REQ_CODE_BASE,
  TDISP_GET_REPORT,
  TDISP_LOCK_REQUEST,
  TDISP_MAX_PAYLOAD,
  TDISP_NONCE_MSG,
  TDISP_REPORT_RSP,
  TDISP_STATE_RSP,
  TDISP_VERSION_10,
  TDISP_VERSION_RSP,
  TdiState,
  TdispErrorCode,
  TdispLockFlag,
  TdispRequest,
  TdispResponse,
  encodeTdiReport,
  encodeTdispError,
  parseTdispHeader,
  tdispHeader,
  type TdiReport,
  type TdiStateName,
} from '../abi/tdisp.js'
import {readNum, readUint} from '../abi/layout.js'
import type {MeasurementBlock} from '../abi/spdm.js'
import {deriveBytes} from '../util/seed.js'
import {buildDeviceChain, type DeviceChain} from './certs.js'
import {spdmCertChain} from '../spdm/context.js'
import {measurementBlocks, modelSpec, plannedRanges, type ModelSpec} from './models.js'
import type {DeviceRecord} from './registry.js'
import type {SpdmResponder} from '../spdm/responder.js'
import {deviceResponder} from './spdm-responder.js'
import {CxlTspTarget} from './cxl-tsp.js'
import type {CxlIdeKmPort} from './cxl-ide-km.js'

const chainCache = new Map<string, DeviceChain>()

/** TDISP requests the device implements (REQ_MSGS_SUPPORTED) and the LOCK_INTERFACE flags it honours. */
export const TDISP_SUPPORTED_REQUESTS = [
  TdispRequest.GET_TDISP_VERSION,
  TdispRequest.GET_TDISP_CAPABILITIES,
  TdispRequest.LOCK_INTERFACE_REQUEST,
  TdispRequest.GET_DEVICE_INTERFACE_REPORT,
  TdispRequest.GET_DEVICE_INTERFACE_STATE,
  TdispRequest.START_INTERFACE_REQUEST,
  TdispRequest.STOP_INTERFACE_REQUEST,
]
export const TDISP_LOCK_FLAGS_SUPPORTED = TdispLockFlag.NO_FW_UPDATE | TdispLockFlag.SYSTEM_CACHE_LINE_SIZE | TdispLockFlag.LOCK_MSIX
/** Device address width reported in TDISP_CAPABILITIES (64-bit DMA), one request of each kind outstanding. */
const DEV_ADDR_WIDTH = 64
const NUM_REQ_THIS = 1
const NUM_REQ_ALL = 1
/** TDISP requests that are only the 16-byte header. */
const HEADER_ONLY: readonly number[] = [TdispRequest.GET_TDISP_VERSION, TdispRequest.GET_DEVICE_INTERFACE_STATE, TdispRequest.STOP_INTERFACE_REQUEST]

/** The chain a device presents: its vendor's, or (fault "wrong-cert") one from a look-alike root. */
export function deviceChain(seed: string, rec: DeviceRecord): DeviceChain {
  const spec = modelSpec(rec.model)!
  const vendorLabel = rec.faults.includes('wrong-cert') ? `${spec.vendor_label}-lookalike` : spec.vendor_label
  const key = `${seed}\u0000${vendorLabel}\u0000${rec.id}`
  let c = chainCache.get(key)
  if (!c) {
    c = buildDeviceChain(seed, {vendorLabel, vendorName: spec.vendor_name, deviceLabel: rec.id, deviceInfo: deviceInfoString(spec, rec)})
    chainCache.set(key, c)
  }
  return c
}

/** DMTF device-info otherName value: "VENDOR:MODEL:SERIAL". */
export const deviceInfoString = (spec: ModelSpec, rec: DeviceRecord): string =>
  `${spec.vendor_id.toString(16).padStart(4, '0')}:${spec.device_id.toString(16).padStart(4, '0')}:${rec.id.toUpperCase()}`

export class DeviceRuntime {
  readonly spec: ModelSpec
  constructor(
    readonly seed: string,
    readonly rec: DeviceRecord,
  ) {
    this.spec = modelSpec(rec.model)!
  }

  get chain(): DeviceChain {
    return deviceChain(this.seed, this.rec)
  }

  /** SPDM slot-0 chain: header ‖ SHA-384(root) ‖ root ‖ intermediate ‖ leaf. */
  slotChain(): Buffer {
    const c = this.chain
    return spdmCertChain([c.root, c.intermediate, c.leaf], 'sha384')
  }

  blocks(): MeasurementBlock[] {
    return measurementBlocks(this.spec, this.rec.firmware_version)
  }

  /**
   * An in-process SPDM responder for the TSM: RFC 6979 signatures and responder nonces drawn from a
   * per-device counter, so a given verifier nonce always yields the same evidence bytes.
   */
  spdm(): SpdmResponder {
    return deviceResponder(this, {
      deterministic: true,
      random: (n) => deriveBytes(this.seed, `spdm-responder-nonce:${this.rec.id}:${this.rec.evidence_generation++}`, n),
    })
  }

  /** The DEVICE_INTERFACE_REPORT for the current lock (MMIO offsets include MMIO_REPORTING_OFFSET). */
  report(): Buffer {
    return encodeTdiReport(this.reportStruct())
  }

  reportStruct(): TdiReport {
    const offset = BigInt(this.rec.tdi.mmio_reporting_offset ?? '0x0')
    const bases = new Map(this.rec.bars.map((b) => [b.index, BigInt(b.base)]))
    const flags = this.rec.tdi.lock_flags ?? 0
    const lockedMsix = (flags & TdispLockFlag.LOCK_MSIX) !== 0
    const noFwUpdate = (flags & TdispLockFlag.NO_FW_UPDATE) !== 0
    const ranges = plannedRanges(this.spec, this.rec.faults.includes('mmio-outside-bar')).map((r) => ({
      first_4k_page: (bases.get(r.bar)! + r.offset + offset) / PAGE_4K,
      number_of_pages: r.pages,
      range_attributes: r.attributes,
      range_id: r.bar,
    }))
    return {
      interface_info: noFwUpdate ? this.spec.interface_info | InterfaceInfo.NO_UPDATE_AFTER_LOCK : this.spec.interface_info & ~InterfaceInfo.NO_UPDATE_AFTER_LOCK,
      msi_x_message_control: lockedMsix ? 0x8000 | 0x3f : 0,
      lnr_control: 0,
      tph_control: 0,
      mmio_ranges: ranges,
      device_specific_info: Buffer.from(this.spec.device_specific_info, 'ascii'),
    }
  }

  private setState(s: TdiStateName): void {
    this.rec.tdi.state = s
  }

  /** The device side of TDISP: one request message in, one response message out. */
  tdisp(req: Buffer): Buffer {
    const fid = this.rec.function_id
    let h
    try {
      h = parseTdispHeader(req)
    } catch {
      return encodeTdispError(fid, TdispErrorCode.INVALID_REQUEST)
    }
    if (h.version !== TDISP_VERSION_10 && h.message_type !== TdispRequest.GET_TDISP_VERSION) return encodeTdispError(fid, TdispErrorCode.VERSION_MISMATCH)
    if (h.function_id !== fid) return encodeTdispError(fid, TdispErrorCode.INVALID_INTERFACE)
    const state = TdiState[this.rec.tdi.state]
    const invalidState = () => encodeTdispError(fid, TdispErrorCode.INVALID_INTERFACE_STATE, state)
    if (HEADER_ONLY.includes(h.message_type) && req.length !== TDISP_HEADER.size) return encodeTdispError(fid, TdispErrorCode.INVALID_REQUEST)
    switch (h.message_type) {
      case TdispRequest.GET_TDISP_VERSION: {
        const rsp = tdispHeader(TdispResponse.TDISP_VERSION, fid, TDISP_VERSION_RSP.size + 1)
        rsp[TDISP_VERSION_RSP.fields.version_num_count.offset] = 1
        rsp[TDISP_VERSION_RSP.size] = TDISP_VERSION_10
        return rsp
      }
      case TdispRequest.GET_TDISP_CAPABILITIES:
        return req.length === TDISP_GET_CAPABILITIES.size ? this.tdispCapabilities() : encodeTdispError(fid, TdispErrorCode.INVALID_REQUEST)
      case TdispRequest.GET_DEVICE_INTERFACE_STATE: {
        const rsp = tdispHeader(TdispResponse.DEVICE_INTERFACE_STATE, fid, TDISP_STATE_RSP.size)
        rsp[TDISP_STATE_RSP.fields.tdi_state.offset] = state
        return rsp
      }
      case TdispRequest.LOCK_INTERFACE_REQUEST: {
        if (req.length !== TDISP_LOCK_REQUEST.size) return encodeTdispError(fid, TdispErrorCode.INVALID_REQUEST)
        if (state !== TdiState.CONFIG_UNLOCKED) return invalidState()
        if (!this.rec.tdi.bme) return encodeTdispError(fid, TdispErrorCode.INVALID_DEVICE_CONFIGURATION)
        const gen = this.rec.tdi.lock_generation + 1
        const nonce = deriveBytes(this.seed, `tdisp-start-nonce:${this.rec.id}:${gen}`, TDISP_NONCE_MSG.fields.start_interface_nonce.size)
        this.rec.tdi.lock_generation = gen
        this.rec.tdi.start_nonce = nonce.toString('hex')
        this.rec.tdi.lock_flags = readNum(TDISP_LOCK_REQUEST, req, 'flags')
        this.rec.tdi.mmio_reporting_offset = '0x' + readUint(TDISP_LOCK_REQUEST, req, 'mmio_reporting_offset').toString(16)
        this.setState('CONFIG_LOCKED')
        const rsp = tdispHeader(TdispResponse.LOCK_INTERFACE_RESPONSE, fid, TDISP_NONCE_MSG.size)
        nonce.copy(rsp, TDISP_NONCE_MSG.fields.start_interface_nonce.offset)
        return rsp
      }
      case TdispRequest.GET_DEVICE_INTERFACE_REPORT: {
        if (req.length !== TDISP_GET_REPORT.size) return encodeTdispError(fid, TdispErrorCode.INVALID_REQUEST)
        if (state !== TdiState.CONFIG_LOCKED && state !== TdiState.RUN) return invalidState()
        const report = this.report()
        const off = readNum(TDISP_GET_REPORT, req, 'offset')
        const len = readNum(TDISP_GET_REPORT, req, 'length')
        if (off > report.length) return encodeTdispError(fid, TdispErrorCode.INVALID_REQUEST)
        const portion = report.subarray(off, off + Math.min(len, TDISP_MAX_PAYLOAD - TDISP_REPORT_RSP.size))
        const rsp = tdispHeader(TdispResponse.DEVICE_INTERFACE_REPORT, fid, TDISP_REPORT_RSP.size)
        rsp.writeUInt16LE(portion.length, TDISP_REPORT_RSP.fields.portion_length.offset)
        rsp.writeUInt16LE(report.length - off - portion.length, TDISP_REPORT_RSP.fields.remainder_length.offset)
        return Buffer.concat([rsp, portion])
      }
      case TdispRequest.START_INTERFACE_REQUEST: {
        if (req.length !== TDISP_NONCE_MSG.size) return encodeTdispError(fid, TdispErrorCode.INVALID_REQUEST)
        if (state !== TdiState.CONFIG_LOCKED) return invalidState()
        const f = TDISP_NONCE_MSG.fields.start_interface_nonce
        if (req.subarray(f.offset, f.offset + f.size).toString('hex') !== this.rec.tdi.start_nonce) return encodeTdispError(fid, TdispErrorCode.INVALID_NONCE)
        this.setState('RUN')
        return tdispHeader(TdispResponse.START_INTERFACE_RESPONSE, fid)
      }
      case TdispRequest.STOP_INTERFACE_REQUEST: {
        // Our reading of TDISP: STOP is legal from LOCKED, RUN and ERROR (DMTF spdm-emu behaviour).
        if (state === TdiState.CONFIG_UNLOCKED) return invalidState()
        this.setState('CONFIG_UNLOCKED')
        this.rec.tdi.start_nonce = undefined
        this.rec.tdi.lock_flags = undefined
        this.rec.tdi.mmio_reporting_offset = undefined
        this.rec.tdi.bme = true
        return tdispHeader(TdispResponse.STOP_INTERFACE_RESPONSE, fid)
      }
      default:
        return encodeTdispError(fid, TdispErrorCode.UNSUPPORTED_REQUEST)
    }
  }

  /** TDISP_CAPABILITIES: what this device implements, nothing more. */
  private tdispCapabilities(): Buffer {
    const rsp = tdispHeader(TdispResponse.TDISP_CAPABILITIES, this.rec.function_id, TDISP_CAPABILITIES_RSP.size)
    const f = TDISP_CAPABILITIES_RSP.fields
    for (const code of TDISP_SUPPORTED_REQUESTS) {
      const bit = code - TDISP_REQ_CODE_BASE
      rsp[f.req_msgs_supported.offset + (bit >> 3)] |= 1 << (bit & 7)
    }
    rsp.writeUInt16LE(TDISP_LOCK_FLAGS_SUPPORTED, f.lock_interface_flags_supported.offset)
    rsp[f.dev_addr_width.offset] = DEV_ADDR_WIDTH
    rsp[f.num_req_this.offset] = NUM_REQ_THIS
    rsp[f.num_req_all.offset] = NUM_REQ_ALL
    return rsp
  }

  /** The device's CXL TSP target (CXL models only), its report carrying the CXL port's IDE registers. */
  cxlTsp(ide: CxlIdeKmPort): CxlTspTarget {
    const spec = this.spec.cxl
    if (!spec || !this.rec.cxl) throw new Error(`device ${this.rec.id} (${this.rec.model}) has no CXL TSP target`)
    return new CxlTspTarget(this.rec.cxl, spec, () => ide.registers())
  }

  /** The host writes the Command register: clearing Bus Master Enable while LOCKED/RUN is a TDISP error. */
  hostClearBme(): void {
    this.rec.tdi.bme = false
    if (this.rec.tdi.state === 'CONFIG_LOCKED' || this.rec.tdi.state === 'RUN') this.setState('ERROR')
  }
}
