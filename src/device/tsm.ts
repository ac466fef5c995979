/**
 * The TSM side (the simulated TDX module in TDX Connect): it talks TDISP and SPDM to the device
 * with real messages, keeps the START nonce, fetches and digests the interface report at lock,
 * collects SPDM evidence (VCA, certificate chain, signed measurements) with the verifier's nonce
 * and records SHA-384 digests of every object. Those digests are what the guest reads over the
 * trusted TSM channel (TDG.TDI.RD in TDX Connect), so the verifier's binding step compares the
 * host-delivered blobs against values the host cannot forge.
 * Refusals by the device (TDISP_ERROR / SPDM ERROR) become RefusedError (exit 7).
 *
 * The module's own limits come from its sysinfo, which the host read once (src/app/device.ts passes
 * them in as TsmLimits; the TSM issues no metadata read of its own): the device info an SPDM connect
 * keeps is bounded by connect.spdm_max_dev_info_pages, as drivers/virt/coco/tdx-host/tdx-host.c
 * (TDX Connect host series, Xu Yilun, "[PATCH v2 …/31]", LKML 2026-03-28) sizes the buffer
 * TDH.EXEC.SPDM.CONNECT fills. The SPDM buffer below is one page because the kernel hands the module
 * one page for each message direction (in_msg / out_msg), a kernel choice rather than sysinfo.
 */
import {RefusedError} from '../errors.js'
import {readNum} from '../abi/layout.js'
import {
  SPDM_CAPABILITIES,
  SPDM_CERTIFICATE_RSP,
  SPDM_GET_CERTIFICATE,
  SPDM_GET_MEAS_ATTR_SIGNATURE,
  SPDM_GET_MEASUREMENTS,
  SPDM_MEAS_OP_ALL,
  SPDM_MEAS_SPEC_DMTF,
  SPDM_NEGOTIATE_ALGORITHMS,
  SPDM_VERSION_10,
  SPDM_VERSION_12,
  SpdmBaseAsym,
  SpdmBaseHash,
  SpdmCapFlag,
  SpdmRequest,
  SpdmResponse,
  parseSpdmHeader,
  spdmErrorName,
  spdmHeader,
} from '../abi/spdm.js'
import {
  TDISP_ERROR_RSP,
  TDISP_GET_REPORT,
  TDISP_LOCK_REQUEST,
  TDISP_NONCE_MSG,
  TDISP_REPORT_RSP,
  TDISP_STATE_RSP,
  TdispLockFlag,
  TdispRequest,
  TdispResponse,
  parseTdispHeader,
  tdiStateName,
  tdispErrorName,
  tdispHeader,
  tdispMessageName,
} from '../abi/tdisp.js'
import {deriveBytes} from '../util/seed.js'
import {hashOf} from '../spdm/crypto.js'
import {PAGE_SIZE} from '../machine/memory.js'
import type {DeviceRuntime} from './device.js'
import type {SpdmResponder} from '../spdm/responder.js'

/** Pci-tsm evidence object types (Linux netlink): CERT0..7 = 0..7, VCA 8, MEASUREMENTS 9, REPORT 10. */
export const EvidenceObject = {CERT0: 0, VCA: 8, MEASUREMENTS: 9, REPORT: 10} as const
export const EVIDENCE_OBJECT_NAMES: Record<number, string> = {0: 'cert0', 8: 'vca', 9: 'measurements', 10: 'report'}
export const TSM_HASH = 'sha384' as const
/** Lock flags the TSM uses. */
const TSM_LOCK_FLAGS = TdispLockFlag.NO_FW_UPDATE | TdispLockFlag.LOCK_MSIX
/** Report chunk size the TSM asks for (small enough that real reports take several requests). */
const REPORT_CHUNK = 64
const CERT_CHUNK = 0x400
/** The TSM's SPDM buffer (DataTransferSize = MaxSPDMmsgSize: no chunking): one page per direction. */
const TSM_TRANSFER_SIZE = PAGE_SIZE

/** The module limits the TSM works within, taken from sysinfo's `connect` group by the caller. */
export interface TsmLimits {
  /** connect.spdm_max_dev_info_pages: 4 KiB pages of the device-info buffer an SPDM connect fills. */
  spdm_max_dev_info_pages: number
}

/** Bytes of device info the module can hold (spdm_max_dev_info_pages whole pages). */
const devInfoLimitBytes = (limits: TsmLimits): number => limits.spdm_max_dev_info_pages * PAGE_SIZE

/** What the TSM keeps from an SPDM connect as the device's info: its certificate chain and signed measurements. */
const devInfoBytes = (e: SpdmEvidence): number => e.cert_chain.length + e.measurements.length

function tdispCall(dev: DeviceRuntime, req: Buffer, expect: number): Buffer {
  const rsp = dev.tdisp(req)
  const h = parseTdispHeader(rsp)
  const reqName = tdispMessageName(req[1])
  if (h.message_type === TdispResponse.TDISP_ERROR) {
    const code = readNum(TDISP_ERROR_RSP, rsp, 'error_code')
    const name = tdispErrorName(code)
    throw new RefusedError(`TDISP_${name}`, `device ${dev.rec.id} refused ${reqName}: TDISP_ERROR ${name} (0x${code.toString(16)}) in state ${dev.rec.tdi.state}`, {
      detail: {request: reqName, error_code: code, error_name: name, tdi_state: dev.rec.tdi.state},
    })
  }
  if (h.message_type !== expect) throw new Error(`device answered ${reqName} with ${tdispMessageName(h.message_type)}`)
  return rsp
}

/** GET_DEVICE_INTERFACE_STATE as the TSM sees it. */
export function tsmReadState(dev: DeviceRuntime): number {
  const rsp = tdispCall(dev, tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_STATE, dev.rec.function_id), TdispResponse.DEVICE_INTERFACE_STATE)
  return readNum(TDISP_STATE_RSP, rsp, 'tdi_state')
}

/** GET_DEVICE_INTERFACE_REPORT, looping over portions until remainder_length is 0. */
export function tsmFetchReport(dev: DeviceRuntime): Buffer {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const req = tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_REPORT, dev.rec.function_id, TDISP_GET_REPORT.size)
    req.writeUInt16LE(offset, TDISP_GET_REPORT.fields.offset.offset)
    req.writeUInt16LE(REPORT_CHUNK, TDISP_GET_REPORT.fields.length.offset)
    const rsp = tdispCall(dev, req, TdispResponse.DEVICE_INTERFACE_REPORT)
    const portion = readNum(TDISP_REPORT_RSP, rsp, 'portion_length')
    const remainder = readNum(TDISP_REPORT_RSP, rsp, 'remainder_length')
    parts.push(rsp.subarray(TDISP_REPORT_RSP.size, TDISP_REPORT_RSP.size + portion))
    offset += portion
    if (remainder === 0) break
    if (portion === 0) throw new Error('device returned an empty report portion with data remaining')
  }
  return Buffer.concat(parts)
}

function spdmCall(r: SpdmResponder, req: Buffer, expect: number, devId: string): Buffer {
  const rsp = r.handleSpdm(req)
  const h = parseSpdmHeader(rsp)
  if (h.code === SpdmResponse.ERROR) {
    throw new RefusedError('SPDM_ERROR', `device ${devId} answered SPDM 0x${req[1].toString(16)} with ERROR ${spdmErrorName(h.param1)}`, {detail: {error_code: h.param1}})
  }
  if (h.code !== expect) throw new Error(`device answered SPDM 0x${req[1].toString(16)} with 0x${h.code.toString(16)}`)
  return rsp
}

interface SpdmEvidence {
  vca: Buffer
  cert_chain: Buffer
  /** GET_MEASUREMENTS ‖ MEASUREMENTS (signed) */
  measurements: Buffer
}

/** Requester side: VCA, certificate chain (chunked GET_CERTIFICATE) and one signed GET_MEASUREMENTS. */
function collectSpdm(dev: DeviceRuntime, nonce: Buffer): SpdmEvidence {
  const r = dev.spdm()
  const id = dev.rec.id
  const vca: Buffer[] = []
  const getVersion = spdmHeader(SPDM_VERSION_10, SpdmRequest.GET_VERSION)
  vca.push(getVersion, spdmCall(r, getVersion, SpdmResponse.VERSION, id))
  const v = SPDM_VERSION_12
  const getCaps = Buffer.alloc(SPDM_CAPABILITIES.size)
  spdmHeader(v, SpdmRequest.GET_CAPABILITIES).copy(getCaps)
  getCaps.writeUInt32LE(SpdmCapFlag.CERT | SpdmCapFlag.CHAL | SpdmCapFlag.ENCRYPT | SpdmCapFlag.MAC | SpdmCapFlag.KEY_EX, SPDM_CAPABILITIES.fields.flags.offset)
  getCaps.writeUInt32LE(TSM_TRANSFER_SIZE, SPDM_CAPABILITIES.fields.data_transfer_size.offset)
  getCaps.writeUInt32LE(TSM_TRANSFER_SIZE, SPDM_CAPABILITIES.fields.max_spdm_msg_size.offset)
  vca.push(getCaps, spdmCall(r, getCaps, SpdmResponse.CAPABILITIES, id))
  const neg = Buffer.alloc(SPDM_NEGOTIATE_ALGORITHMS.size)
  spdmHeader(v, SpdmRequest.NEGOTIATE_ALGORITHMS).copy(neg)
  const f = SPDM_NEGOTIATE_ALGORITHMS.fields
  neg.writeUInt16LE(neg.length, f.length.offset)
  neg[f.measurement_specification.offset] = SPDM_MEAS_SPEC_DMTF
  neg.writeUInt32LE(SpdmBaseAsym.ECDSA_P384 | SpdmBaseAsym.ECDSA_P256, f.base_asym_algo.offset)
  neg.writeUInt32LE(SpdmBaseHash.SHA_384 | SpdmBaseHash.SHA_256, f.base_hash_algo.offset)
  vca.push(neg, spdmCall(r, neg, SpdmResponse.ALGORITHMS, id))
  spdmCall(r, spdmHeader(v, SpdmRequest.GET_DIGESTS), SpdmResponse.DIGESTS, id)
  const chain: Buffer[] = []
  let offset = 0
  for (;;) {
    const req = Buffer.alloc(SPDM_GET_CERTIFICATE.size)
    spdmHeader(v, SpdmRequest.GET_CERTIFICATE, 0).copy(req)
    req.writeUInt16LE(offset, SPDM_GET_CERTIFICATE.fields.offset.offset)
    req.writeUInt16LE(CERT_CHUNK, SPDM_GET_CERTIFICATE.fields.length.offset)
    const rsp = spdmCall(r, req, SpdmResponse.CERTIFICATE, id)
    const portion = readNum(SPDM_CERTIFICATE_RSP, rsp, 'portion_length')
    chain.push(rsp.subarray(SPDM_CERTIFICATE_RSP.size, SPDM_CERTIFICATE_RSP.size + portion))
    offset += portion
    if (readNum(SPDM_CERTIFICATE_RSP, rsp, 'remainder_length') === 0) break
  }
  const getMeas = Buffer.alloc(SPDM_GET_MEASUREMENTS.size)
  spdmHeader(v, SpdmRequest.GET_MEASUREMENTS, SPDM_GET_MEAS_ATTR_SIGNATURE, SPDM_MEAS_OP_ALL).copy(getMeas)
  nonce.copy(getMeas, SPDM_GET_MEASUREMENTS.fields.nonce.offset)
  getMeas[SPDM_GET_MEASUREMENTS.fields.slot_id.offset] = 0
  const meas = spdmCall(r, getMeas, SpdmResponse.MEASUREMENTS, id)
  return {vca: Buffer.concat(vca), cert_chain: Buffer.concat(chain), measurements: Buffer.concat([getMeas, meas])}
}

/**
 * The device info an SPDM connect (or a re-collection) leaves in the module must fit the buffer
 * sysinfo sizes; a larger one fails, as TDH.EXEC.SPDM.CONNECT does with a too-small dev_info array.
 * TDX_DEV_INFO_TOO_LARGE is the simulator's status name: the module's real status for this case is
 * not public.
 */
function assertDevInfoFits(dev: DeviceRuntime, e: SpdmEvidence, limits: TsmLimits, step: string): number {
  const bytes = devInfoBytes(e)
  const max = devInfoLimitBytes(limits)
  if (bytes > max) {
    throw new RefusedError(
      'TDX_DEV_INFO_TOO_LARGE',
      `TSM ${step} of device ${dev.rec.id} refused: its device info (certificate chain ${e.cert_chain.length} + measurements ${e.measurements.length} = ${bytes} bytes) exceeds the module's ${max}-byte buffer (sysinfo connect.spdm_max_dev_info_pages = ${limits.spdm_max_dev_info_pages})`,
      {detail: {step, dev_info_bytes: bytes, cert_chain_bytes: e.cert_chain.length, measurements_bytes: e.measurements.length, max_bytes: max, spdm_max_dev_info_pages: limits.spdm_max_dev_info_pages}},
    )
  }
  return bytes
}

/** MMIO_REPORTING_OFFSET the TSM picks at lock (page aligned, per lock generation). */
function reportingOffset(dev: DeviceRuntime, gen: number): bigint {
  return (deriveBytes(dev.seed, `tdisp-mmio-reporting-offset:${dev.rec.id}:${gen}`, 8).readBigUInt64BE(0) & 0x0000_00ff_ffff_f000n) | 0x1000_0000_0000n
}

interface LockOutcome {
  state: string
  lock_generation: number
  report_digest: string
  bme_cleared: boolean
  /** bytes of device info the connect left in the module, and the most it can hold */
  dev_info_bytes: number
  dev_info_max_bytes: number
}

/**
 * The SPDM connect before the lock (TDX Connect connects the SPDM session before it binds the TDI):
 * a first measurement transcript with the TSM's own nonce for the coming lock generation, bounded
 * by the module's device-info buffer. A refusal here leaves the TDI as it was.
 */
function tsmConnect(dev: DeviceRuntime, limits: TsmLimits): {spdm: SpdmEvidence; nonce: Buffer; dev_info_bytes: number} {
  const gen = dev.rec.tdi.lock_generation + 1 // what LOCK_INTERFACE will make it
  const nonce = deriveBytes(dev.seed, `tsm-lock-measurement-nonce:${dev.rec.id}:${gen}`, 32)
  const spdm = collectSpdm(dev, nonce)
  return {spdm, nonce, dev_info_bytes: assertDevInfoFits(dev, spdm, limits, 'connect')}
}

/**
 * SPDM connect (bounded by sysinfo), then LOCK_INTERFACE_REQUEST (CONFIG_UNLOCKED →
 * CONFIG_LOCKED), then fetch and digest the interface report. With the "bme-cleared" fault the
 * host clears Bus Master Enable right afterwards and the TDI errors.
 */
export function tsmLock(dev: DeviceRuntime, limits: TsmLimits): LockOutcome {
  const connect = tsmConnect(dev, limits)
  const req = tdispHeader(TdispRequest.LOCK_INTERFACE_REQUEST, dev.rec.function_id, TDISP_LOCK_REQUEST.size)
  const lf = TDISP_LOCK_REQUEST.fields
  req.writeUInt16LE(TSM_LOCK_FLAGS, lf.flags.offset)
  req.writeBigUInt64LE(reportingOffset(dev, dev.rec.tdi.lock_generation + 1), lf.mmio_reporting_offset.offset)
  const rsp = tdispCall(dev, req, TdispResponse.LOCK_INTERFACE_RESPONSE)
  const nf = TDISP_NONCE_MSG.fields.start_interface_nonce
  // The TSM keeps the START nonce; the device stored its copy when it drew it.
  if (rsp.subarray(nf.offset, nf.offset + nf.size).toString('hex') !== dev.rec.tdi.start_nonce) throw new Error('LOCK_INTERFACE_RESPONSE nonce mismatch')
  const report = tsmFetchReport(dev)
  dev.rec.tsm = {
    lock_generation: dev.rec.tdi.lock_generation,
    report: report.toString('hex'),
    report_digest: hashOf(TSM_HASH, report).toString('hex'),
    lock_measurements: connect.spdm.measurements.toString('hex'),
    lock_nonce_measurements: connect.nonce.toString('hex'),
  }
  dev.rec.accepted = false
  let bme = false
  if (dev.rec.faults.includes('bme-cleared')) {
    dev.hostClearBme()
    bme = true
  }
  return {
    state: dev.rec.tdi.state,
    lock_generation: dev.rec.tdi.lock_generation,
    report_digest: dev.rec.tsm.report_digest,
    bme_cleared: bme,
    dev_info_bytes: connect.dev_info_bytes,
    dev_info_max_bytes: devInfoLimitBytes(limits),
  }
}

interface CollectedEvidence {
  objects: Record<number, Buffer>
  tdi_state: number
  lock_generation: number
  evidence_generation: number
  digests: Record<number, Buffer>
}

/**
 * Collect evidence for the guest: the report cached at lock, a fresh SPDM collection with the
 * verifier's nonce (or, with the "stale-nonce" fault, the transcript cached at lock) — device info
 * the module must hold, so bounded like the connect — the current TDI state, and SHA-384 digests of
 * each object recorded in the TSM.
 */
export function tsmCollect(dev: DeviceRuntime, nonce: Buffer, limits: TsmLimits): CollectedEvidence {
  const state = tsmReadState(dev)
  const tsm = dev.rec.tsm
  if (dev.rec.tdi.state === 'CONFIG_UNLOCKED' || !tsm || tsm.lock_generation !== dev.rec.tdi.lock_generation) {
    throw new RefusedError('TDI_NOT_LOCKED', `device ${dev.rec.id} is ${tdiStateName(state)}: evidence exists only after 'tdxkit device lock ${dev.rec.id}'`, {
      detail: {tdi_state: tdiStateName(state)},
    })
  }
  const spdm = collectSpdm(dev, nonce)
  assertDevInfoFits(dev, spdm, limits, 'evidence re-collection')
  const measurements = dev.rec.faults.includes('stale-nonce') ? Buffer.from(tsm.lock_measurements, 'hex') : spdm.measurements
  const objects: Record<number, Buffer> = {
    [EvidenceObject.CERT0]: spdm.cert_chain,
    [EvidenceObject.VCA]: spdm.vca,
    [EvidenceObject.MEASUREMENTS]: measurements,
    [EvidenceObject.REPORT]: Buffer.from(tsm.report, 'hex'),
  }
  const digests: Record<number, Buffer> = {}
  for (const [k, v] of Object.entries(objects)) digests[Number(k)] = hashOf(TSM_HASH, v)
  const gen = (tsm.evidence_generation ?? 0) + 1
  tsm.evidence_generation = gen
  tsm.digests = Object.fromEntries(Object.entries(digests).map(([k, v]) => [k, v.toString('hex')]))
  return {objects, tdi_state: state, lock_generation: tsm.lock_generation, evidence_generation: gen, digests}
}

/** START_INTERFACE_REQUEST with the nonce from LOCK (CONFIG_LOCKED → RUN). */
export function tsmStart(dev: DeviceRuntime): void {
  const req = tdispHeader(TdispRequest.START_INTERFACE_REQUEST, dev.rec.function_id, TDISP_NONCE_MSG.size)
  Buffer.from(dev.rec.tdi.start_nonce ?? '00'.repeat(32), 'hex').copy(req, TDISP_NONCE_MSG.fields.start_interface_nonce.offset)
  tdispCall(dev, req, TdispResponse.START_INTERFACE_RESPONSE)
}

/** STOP_INTERFACE_REQUEST (LOCKED/RUN/ERROR → CONFIG_UNLOCKED); acceptance and TSM records are dropped. */
export function tsmStop(dev: DeviceRuntime): void {
  tdispCall(dev, tdispHeader(TdispRequest.STOP_INTERFACE_REQUEST, dev.rec.function_id), TdispResponse.STOP_INTERFACE_RESPONSE)
  dev.rec.accepted = false
  dev.rec.tsm = undefined
}

