/**
 * The device side of CXL TSP for a simulated CXL memory device: the TSP target state machine
 * (CONFIG_UNLOCKED → SET_TARGET_CONFIGURATION … → LOCK_TARGET_CONFIGURATION → CONFIG_LOCKED) kept
 * in the device record (doc.devices, the one source of truth, persisted like the TDI state), the
 * capabilities the model advertises, configuration checks, and the target configuration report.
 * Once locked, SET_TARGET_TE_STATE marks device-memory ranges TE (trusted execution) or not; the
 * TE ranges are kept in the record too. TSP has no unlock request: a locked target stays locked
 * until the device is reset (`tdxkit device reset`). Requests other than the seven below (the
 * CKID / range key requests, delayed completion) get TSP ERROR UNSUPPORTED_REQUEST.
 * Facts: CXL 3.1 §11.5 as libspdm encodes it (include/industry_standard/cxl_tsp.h); the checks a
 * requester and a target make follow DMTF/spdm-emu cxl_tsp_requester_lib and cxl_tsp_responder_lib.
 */
import {readNum, readUint, writeField} from '../abi/layout.js'
import {
  CXL_CAP_HDM_COUNT_ONE,
  CXL_CAP_MEM_CAPABLE,
  CXL_TSP_CAPABILITIES_RSP,
  CXL_TSP_CONFIGURATION_REPORT,
  CXL_TSP_GET_CONFIGURATION_RSP,
  CXL_TSP_GET_REPORT_REQ,
  CXL_TSP_GET_REPORT_RSP,
  CXL_TSP_HEADER,
  CXL_TSP_IB_ENTRY,
  CXL_TSP_MAX_MEMORY_RANGES,
  CXL_TSP_MEMORY_RANGE,
  CXL_TSP_SET_TE_STATE_REQ,
  CXL_TSP_REPORT_PORTION_MAX,
  CXL_TSP_SET_CONFIGURATION_REQ,
  CXL_TSP_SHORT,
  CXL_TSP_VERSION_10,
  CXL_TSP_VERSION_RSP,
  CxlTspErrorCode,
  DVSEC_CXL_REVISION,
  DVSEC_ID_CXL_DEVICES,
  DVSEC_LENGTH_SHIFT,
  DVSEC_REVISION_SHIFT,
  PCIE_DVSEC_CXL_DEVICES,
  PCIE_EXT_CAP_ID_DVSEC,
  CxlTspRequest,
  CxlTspState,
  TSP_CKID_LIMIT,
  TSP_IB_ENTRY_COUNT,
  TSP_IB_GRANULARITY_ENTIRE_MEMORY,
  TSP_IB_LENGTH_INDEX_MAX,
  TSP_IB_LENGTH_INDEX_UNUSED,
  TspMemEncAlgorithm,
  TspMemEncEnable,
  TspMemEncSupport,
  TspTeFeature,
  TspTeState,
  cxlTspResponse,
  encodeCxlTspError,
} from '../abi/cxl-tsp.js'
import {CXL_VENDOR_ID} from '../abi/cxl-ide-km.js'
import type {CxlSpec} from './models.js'
import type {CxlRecord, TspConfigurationRecord} from './registry.js'
/** TE state is tracked at the device's explicit in-band granularity (64 bytes); at most this many disjoint TE ranges are kept. */
const TE_STATE_GRANULE = 64n
export const TE_RANGES_MAX = 64
/** Requests that are only header ‖ reserved. */
const SHORT_REQUESTS: readonly number[] = [CxlTspRequest.GET_TARGET_TSP_VERSION, CxlTspRequest.GET_TARGET_CAPABILITIES, CxlTspRequest.GET_TARGET_CONFIGURATION, CxlTspRequest.LOCK_TARGET_CONFIGURATION]

/** A TSP failure: the error code the target answers with. */
class TspRefusal extends Error {
  constructor(readonly code: number) {
    super(`TSP error 0x${code.toString(16)}`)
  }
}
const refuse = (code: number): never => {
  throw new TspRefusal(code)
}
const onehot0 = (v: number): boolean => (v & (v - 1)) === 0

/** What the device reports it can provide (GET_TARGET_CAPABILITIES_RSP). */
function capabilities(spec: CxlSpec): Buffer {
  const b = cxlTspResponse(CxlTspRequest.GET_TARGET_CAPABILITIES, CXL_TSP_CAPABILITIES_RSP.size)
  const f = CXL_TSP_CAPABILITIES_RSP.fields
  const t = spec.tsp
  b.writeUInt16LE(t.memory_encryption_features, f.memory_encryption_features_supported.offset)
  b.writeUInt32LE(t.memory_encryption_algorithms >>> 0, f.memory_encryption_algorithms_supported.offset)
  b.writeUInt16LE(t.te_state_features, f.te_state_change_and_access_control_features_supported.offset)
  b.writeUInt32LE(t.explicit_oob_granularity >>> 0, f.supported_explicit_oob_te_state_granularity.offset)
  b.writeUInt32LE(t.explicit_ib_granularity >>> 0, f.supported_explicit_ib_te_state_granularity.offset)
  b.writeUInt16LE(t.configuration_features, f.configuration_features_supported.offset)
  b.writeUInt32LE(t.number_of_ckids, f.number_of_ckids.offset)
  b[f.number_of_secondary_sessions.offset] = t.number_of_secondary_sessions
  return b
}

/** The configuration a SET_TARGET_CONFIGURATION request carries. */
function parseConfiguration(req: Buffer): TspConfigurationRecord & {validity_flags: number} {
  const L = CXL_TSP_SET_CONFIGURATION_REQ
  const ib = L.fields.explicit_ib_te_state_granularity_entry.offset
  return {
    memory_encryption_features: readNum(L, req, 'memory_encryption_features_enable'),
    memory_encryption_algorithm: readNum(L, req, 'memory_encryption_algorithm_select'),
    te_state_features: readNum(L, req, 'te_state_change_and_access_control_features_enable'),
    explicit_oob_granularity: readNum(L, req, 'explicit_oob_te_state_granularity'),
    configuration_features: readNum(L, req, 'configuration_features_enable'),
    ckid_base: readNum(L, req, 'ckid_base'),
    number_of_ckids: readNum(L, req, 'number_of_ckids'),
    explicit_ib: Array.from({length: TSP_IB_ENTRY_COUNT}, (_, i) => ({
      granularity: '0x' + readUint(CXL_TSP_IB_ENTRY, req, 'te_state_granularity', ib + i * CXL_TSP_IB_ENTRY.size).toString(16),
      length_index: readNum(CXL_TSP_IB_ENTRY, req, 'length_index', ib + i * CXL_TSP_IB_ENTRY.size),
    })),
    validity_flags: readNum(L, req, 'configuration_validity_flags'),
  }
}

/** Memory encryption: enabled features and algorithm consistent with each other and supported. */
function checkEncryption(c: TspConfigurationRecord, t: CxlSpec['tsp']): void {
  const en = c.memory_encryption_features
  const has = (bit: number) => (en & bit) !== 0
  const algo = c.memory_encryption_algorithm & (TspMemEncAlgorithm.AES_XTS_128 | TspMemEncAlgorithm.AES_XTS_256 | TspMemEncAlgorithm.VENDOR_SPECIFIC)
  if (!has(TspMemEncEnable.ENCRYPTION)) {
    if (has(TspMemEncEnable.CKID_BASED) || has(TspMemEncEnable.RANGE_BASED) || has(TspMemEncEnable.CKID_BASED_REQUIRED) || algo !== 0) refuse(CxlTspErrorCode.INVALID_REQUEST)
    return
  }
  const supported: Array<[number, number]> = [
    [TspMemEncEnable.ENCRYPTION, TspMemEncSupport.ENCRYPTION],
    [TspMemEncEnable.CKID_BASED, TspMemEncSupport.CKID_BASED],
    [TspMemEncEnable.RANGE_BASED, TspMemEncSupport.RANGE_BASED],
    [TspMemEncEnable.CKID_BASED_REQUIRED, TspMemEncSupport.CKID_BASED_REQUIRED],
  ]
  for (const [enable, support] of supported) if (has(enable) && !(t.memory_encryption_features & support)) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (has(TspMemEncEnable.CKID_BASED) && has(TspMemEncEnable.RANGE_BASED)) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (has(TspMemEncEnable.CKID_BASED) !== has(TspMemEncEnable.CKID_BASED_REQUIRED)) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (!onehot0(algo) || (algo & t.memory_encryption_algorithms) === 0) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (has(TspMemEncEnable.CKID_BASED_REQUIRED) && (c.number_of_ckids > t.number_of_ckids || c.ckid_base + c.number_of_ckids >= TSP_CKID_LIMIT)) refuse(CxlTspErrorCode.INVALID_REQUEST)
}

/** TE state change / access control: a supported subset whose dependencies hold, granularities valid. */
function checkTeState(c: TspConfigurationRecord, t: CxlSpec['tsp']): void {
  const te = c.te_state_features
  const has = (bit: number) => (te & bit) !== 0
  const explicit = has(TspTeFeature.EXPLICIT_OOB_TE_STATE_CHANGE) || has(TspTeFeature.EXPLICIT_IB_TE_STATE_CHANGE)
  if ((te & t.te_state_features) !== te) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (has(TspTeFeature.WRITE_ACCESS_CONTROL) && !explicit) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (has(TspTeFeature.READ_ACCESS_CONTROL) && !explicit && !has(TspTeFeature.IMPLICIT_TE_STATE_CHANGE)) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (has(TspTeFeature.EXPLICIT_TE_STATE_CHANGE_SANITIZE) && !explicit) refuse(CxlTspErrorCode.INVALID_REQUEST)
  const oob = c.explicit_oob_granularity
  if (has(TspTeFeature.EXPLICIT_OOB_TE_STATE_CHANGE) ? !onehot0(oob) || (oob & t.explicit_oob_granularity) === 0 : oob !== 0) refuse(CxlTspErrorCode.INVALID_REQUEST)
  if (!has(TspTeFeature.EXPLICIT_IB_TE_STATE_CHANGE)) return
  let seen = 0
  for (const e of c.explicit_ib) {
    if (e.length_index === TSP_IB_LENGTH_INDEX_UNUSED) continue
    if (e.length_index > TSP_IB_LENGTH_INDEX_MAX || seen & (1 << e.length_index)) refuse(CxlTspErrorCode.INVALID_REQUEST)
    if (t.explicit_ib_granularity & TSP_IB_GRANULARITY_ENTIRE_MEMORY && e.length_index === TSP_IB_LENGTH_INDEX_MAX) refuse(CxlTspErrorCode.INVALID_REQUEST)
    seen |= 1 << e.length_index
  }
}

/** Secondary sessions requested (validity flags 0, 1, 3, 7 or 0xF) must not exceed what the device offers. */
function checkSecondarySessions(flags: number, t: CxlSpec['tsp']): void {
  const count = [0, 0x1, 0x3, 0x7, 0xf].indexOf(flags)
  if (count < 0 || count > t.number_of_secondary_sessions) refuse(CxlTspErrorCode.INVALID_REQUEST)
}

/** GET_TARGET_CONFIGURATION_RSP: the stored configuration (all zero before SET) and the TSP state. */
function configurationResponse(cxl: CxlRecord): Buffer {
  const L = CXL_TSP_GET_CONFIGURATION_RSP
  const b = cxlTspResponse(CxlTspRequest.GET_TARGET_CONFIGURATION, L.size)
  const f = L.fields
  const c = cxl.tsp_configuration
  if (c) {
    b.writeUInt16LE(c.memory_encryption_features, f.memory_encryption_features_enabled.offset)
    b.writeUInt32LE(c.memory_encryption_algorithm >>> 0, f.memory_encryption_algorithm_selected.offset)
    b.writeUInt16LE(c.te_state_features, f.te_state_change_and_access_control_features_enabled.offset)
    b.writeUInt32LE(c.explicit_oob_granularity >>> 0, f.explicit_oob_te_state_granularity_enabled.offset)
    b.writeUInt16LE(c.configuration_features, f.configuration_features_enabled.offset)
    b.writeUInt32LE(c.ckid_base >>> 0, f.ckid_base.offset)
    b.writeUInt32LE(c.number_of_ckids >>> 0, f.number_of_ckids.offset)
    c.explicit_ib.forEach((e, i) => {
      const at = f.explicit_ib_te_state_granularity_entry.offset + i * CXL_TSP_IB_ENTRY.size
      b.writeBigUInt64LE(BigInt(e.granularity), at + CXL_TSP_IB_ENTRY.fields.te_state_granularity.offset)
      b[at + CXL_TSP_IB_ENTRY.fields.length_index.offset] = e.length_index
    })
  }
  b[f.current_tsp_state.offset] = CxlTspState[cxl.tsp_state]
  return b
}

/** The target configuration report: the device's CXL capability structures as the TSP reports them. */
function configurationReport(spec: CxlSpec, ideRegisters: Buffer): Buffer {
  const L = CXL_TSP_CONFIGURATION_REPORT
  const b = Buffer.alloc(L.size)
  b[L.fields.valid_tsp_report_fields.offset] = 1
  const dv = L.fields.pcie_dvsec_for_cxl_devices
  const D = PCIE_DVSEC_CXL_DEVICES
  writeField(D, b, 'extended_capability_header', PCIE_EXT_CAP_ID_DVSEC, dv.offset)
  writeField(D, b, 'dvsec_header1', (CXL_VENDOR_ID | (DVSEC_CXL_REVISION << DVSEC_REVISION_SHIFT) | (dv.size << DVSEC_LENGTH_SHIFT)) >>> 0, dv.offset)
  writeField(D, b, 'dvsec_header2', DVSEC_ID_CXL_DEVICES, dv.offset)
  writeField(D, b, 'cxl_capability', spec.capacity > 0n ? CXL_CAP_MEM_CAPABLE | CXL_CAP_HDM_COUNT_ONE : 0, dv.offset)
  ideRegisters.copy(b, L.fields.cxl_ide_capability_structure.offset, 0, L.fields.cxl_ide_capability_structure.size)
  return b
}

function versionResponse(): Buffer {
  const b = cxlTspResponse(CxlTspRequest.GET_TARGET_TSP_VERSION, CXL_TSP_VERSION_RSP.size + 1)
  b[CXL_TSP_VERSION_RSP.fields.version_number_entry_count.offset] = 1
  b[CXL_TSP_VERSION_RSP.size] = CXL_TSP_VERSION_10
  return b
}

/** A portion of the configuration report (portions of at most 0x40 bytes). */
function reportPortion(req: Buffer, report: Buffer): Buffer {
  const offset = readNum(CXL_TSP_GET_REPORT_REQ, req, 'offset')
  const asked = Math.min(readNum(CXL_TSP_GET_REPORT_REQ, req, 'length'), CXL_TSP_REPORT_PORTION_MAX)
  if (asked === 0 || offset >= report.length) refuse(CxlTspErrorCode.INVALID_REQUEST)
  const portion = report.subarray(offset, offset + asked)
  const h = cxlTspResponse(CxlTspRequest.GET_TARGET_CONFIGURATION_REPORT, CXL_TSP_GET_REPORT_RSP.size)
  h.writeUInt16LE(portion.length, CXL_TSP_GET_REPORT_RSP.fields.portion_length.offset)
  h.writeUInt16LE(report.length - offset - portion.length, CXL_TSP_GET_REPORT_RSP.fields.remainder_length.offset)
  return Buffer.concat([h, portion])
}

type Span = [bigint, bigint]

/** Disjoint sorted [start, end) spans after marking `spans` TE (union) or non-TE (difference). */
export function applyTeState(current: readonly Span[], spans: readonly Span[], te: boolean): Span[] {
  let out = current.map((s): Span => [s[0], s[1]])
  for (const [a, b] of spans) {
    const next: Span[] = []
    for (const [s, e] of out) {
      if (e <= a || s >= b) next.push([s, e])
      else {
        if (s < a) next.push([s, a])
        if (e > b) next.push([b, e])
      }
    }
    if (te) next.push([a, b])
    next.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
    out = []
    for (const sp of next) {
      const last = out[out.length - 1]
      if (last && sp[0] <= last[1]) last[1] = sp[1] > last[1] ? sp[1] : last[1]
      else out.push(sp)
    }
  }
  return out
}

/** The ranges of a SET_TARGET_TE_STATE request, each granule-aligned, non-empty and inside device memory. */
function teSpans(req: Buffer, capacity: bigint): Span[] {
  const n = readNum(CXL_TSP_SET_TE_STATE_REQ, req, 'number_of_memory_ranges')
  if (n === 0 || n > CXL_TSP_MAX_MEMORY_RANGES || req.length !== CXL_TSP_SET_TE_STATE_REQ.size + n * CXL_TSP_MEMORY_RANGE.size) refuse(CxlTspErrorCode.INVALID_REQUEST)
  return Array.from({length: n}, (_, i): Span => {
    const at = CXL_TSP_SET_TE_STATE_REQ.size + i * CXL_TSP_MEMORY_RANGE.size
    const start = readUint(CXL_TSP_MEMORY_RANGE, req, 'starting_address', at)
    const length = readUint(CXL_TSP_MEMORY_RANGE, req, 'length', at)
    if (length === 0n || start % TE_STATE_GRANULE !== 0n || length % TE_STATE_GRANULE !== 0n || start + length > capacity) refuse(CxlTspErrorCode.INVALID_REQUEST)
    return [start, start + length]
  })
}

/** The TSP target of one CXL device, over its persisted record. */
export class CxlTspTarget {
  constructor(
    private readonly cxl: CxlRecord,
    private readonly spec: CxlSpec,
    private readonly ideRegisters: () => Buffer,
  ) {}

  private setConfiguration(req: Buffer): Buffer {
    if (req.length !== CXL_TSP_SET_CONFIGURATION_REQ.size) refuse(CxlTspErrorCode.INVALID_REQUEST)
    if (this.cxl.tsp_state !== 'CONFIG_UNLOCKED') refuse(CxlTspErrorCode.INVALID_SECURITY_STATE)
    const {validity_flags, ...config} = parseConfiguration(req)
    checkEncryption(config, this.spec.tsp)
    checkTeState(config, this.spec.tsp)
    checkSecondarySessions(validity_flags, this.spec.tsp)
    this.cxl.tsp_configuration = config
    return cxlTspResponse(CxlTspRequest.SET_TARGET_CONFIGURATION)
  }

  private lock(): Buffer {
    if (this.cxl.tsp_state === 'CONFIG_LOCKED') refuse(CxlTspErrorCode.ALREADY_LOCKED)
    if (this.cxl.tsp_state !== 'CONFIG_UNLOCKED') refuse(CxlTspErrorCode.INVALID_SECURITY_STATE)
    this.cxl.tsp_state = 'CONFIG_LOCKED'
    this.cxl.tsp_lock_generation++
    return cxlTspResponse(CxlTspRequest.LOCK_TARGET_CONFIGURATION)
  }

  /**
   * SET_TARGET_TE_STATE: only on a locked target. Like spdm-emu's sample target it is accepted
   * whichever TE-state-change features the configuration enabled (our reading; UNCONFIRMED).
   */
  private setTeState(req: Buffer): Buffer {
    if (req.length < CXL_TSP_SET_TE_STATE_REQ.size) refuse(CxlTspErrorCode.INVALID_REQUEST)
    const te = readNum(CXL_TSP_SET_TE_STATE_REQ, req, 'te_state')
    if (te !== TspTeState.TE && te !== TspTeState.NON_TE) refuse(CxlTspErrorCode.INVALID_REQUEST)
    const spans = teSpans(req, this.spec.capacity)
    if (this.cxl.tsp_state !== 'CONFIG_LOCKED') refuse(CxlTspErrorCode.INVALID_SECURITY_STATE)
    const current = (this.cxl.te_ranges ?? []).map((r): Span => [BigInt(r.start), BigInt(r.start) + BigInt(r.length)])
    const next = applyTeState(current, spans, te === TspTeState.TE)
    if (next.length > TE_RANGES_MAX) refuse(CxlTspErrorCode.UNSPECIFIED)
    this.cxl.te_ranges = next.map(([s, e]) => ({start: '0x' + s.toString(16), length: '0x' + (e - s).toString(16)}))
    return cxlTspResponse(CxlTspRequest.SET_TARGET_TE_STATE)
  }

  private route(req: Buffer, op: number): Buffer {
    if (SHORT_REQUESTS.includes(op) && req.length !== CXL_TSP_SHORT.size) refuse(CxlTspErrorCode.INVALID_REQUEST)
    switch (op) {
      case CxlTspRequest.GET_TARGET_TSP_VERSION:
        return versionResponse()
      case CxlTspRequest.GET_TARGET_CAPABILITIES:
        return capabilities(this.spec)
      case CxlTspRequest.SET_TARGET_CONFIGURATION:
        return this.setConfiguration(req)
      case CxlTspRequest.GET_TARGET_CONFIGURATION:
        return configurationResponse(this.cxl)
      case CxlTspRequest.GET_TARGET_CONFIGURATION_REPORT:
        if (req.length !== CXL_TSP_GET_REPORT_REQ.size) refuse(CxlTspErrorCode.INVALID_REQUEST)
        if (this.cxl.tsp_state === 'ERROR') refuse(CxlTspErrorCode.INVALID_SECURITY_STATE)
        return reportPortion(req, configurationReport(this.spec, this.ideRegisters()))
      case CxlTspRequest.LOCK_TARGET_CONFIGURATION:
        return this.lock()
      case CxlTspRequest.SET_TARGET_TE_STATE:
        return this.setTeState(req)
      default:
        return refuse(CxlTspErrorCode.UNSUPPORTED_REQUEST)
    }
  }

  /** One TSP request in, one response out (TSP ERROR for anything refused or malformed). */
  handle(req: Buffer): Buffer {
    if (req.length < CXL_TSP_HEADER.size) return encodeCxlTspError(CxlTspErrorCode.INVALID_REQUEST)
    if (readNum(CXL_TSP_HEADER, req, 'tsp_version') !== CXL_TSP_VERSION_10) return encodeCxlTspError(CxlTspErrorCode.VERSION_MISMATCH)
    try {
      return this.route(req, readNum(CXL_TSP_HEADER, req, 'op_code'))
    } catch (error) {
      if (error instanceof TspRefusal) return encodeCxlTspError(error.code)
      throw error
    }
  }
}
