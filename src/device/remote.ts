/**
 * tdxkit as the TSM of a device it reaches over SPDM (any responder: a tdxkit device server or
 * libspdm's emulator): run the requester flow, drive TDISP inside the session (lock → report →
 * start) when the device speaks it, and assemble the same evidence bundle `device verify` checks —
 * certificate chain, VCA, GET_MEASUREMENTS ‖ MEASUREMENTS with the verifier's nonce, the interface
 * report — with the requester's own SHA-384 digests as the TSM record. No sockets here: the DOE port
 * is given by the caller.
 */
import type {KeyObject} from 'node:crypto'
import {readNum} from '../abi/layout.js'
import {pciSigVendorId} from '../abi/doe.js'
import {SpdmCapFlag, SpdmRegistry, type HashName} from '../abi/spdm.js'
import {
  PCI_PROTOCOL_ID_SIZE,
  PCI_PROTOCOL_ID_TDISP,
  TDISP_ERROR_RSP,
  TDISP_GET_CAPABILITIES,
  TDISP_GET_REPORT,
  TDISP_LOCK_REQUEST,
  TDISP_NONCE_MSG,
  TDISP_REPORT_RSP,
  TDISP_STATE_RSP,
  TDISP_CAPABILITIES_RSP,
  TdiState,
  TdispLockFlag,
  TdispRequest,
  TdispResponse,
  bdfFromFunctionId,
  parseTdispHeader,
  tdiStateName,
  tdispErrorName,
  tdispHeader,
  tdispMessageName,
} from '../abi/tdisp.js'
import {ProtocolError} from '../spdm/errors.js'
import {SpdmRequester, type DoePort, type RequesterSession} from '../spdm/requester.js'
import {parseCert} from '../x509/cert.js'
import {OPEN_PROFILE} from '../x509/profile.js'
import {parseCertChain, verifyCertChain} from './chain.js'
import {hashOf} from '../spdm/crypto.js'
import {EvidenceObject, type EvidenceBundle} from './evidence.js'

/** The responder's leaf public key from its SPDM slot chain. */
export function leafKeyFromChain(chain: Buffer, alg: HashName): KeyObject {
  const certs = parseCertChain(chain, alg).certs
  return parseCert(certs[certs.length - 1], OPEN_PROFILE).publicKey
}

export interface RemoteOptions {
  /** the verifier's nonce for GET_MEASUREMENTS */
  nonce: Buffer
  /** TDISP interface to lock (FUNCTION_ID) */
  function_id: number
  /** how far to drive TDISP: none, lock (+ report), start (lock, report, START_INTERFACE) */
  tdisp: 'none' | 'lock' | 'start'
  /** STOP_INTERFACE at the end (back to CONFIG_UNLOCKED) */
  stop?: boolean
  /** device id recorded in the bundle */
  id?: string
  /** BAR sizes of the device (config space), for the interface-report check */
  bars?: Array<{index: number; size: bigint}>
  /** MMIO_REPORTING_OFFSET passed in LOCK_INTERFACE_REQUEST */
  mmio_reporting_offset?: bigint
  random?: (n: number) => Buffer
}

export interface RemoteOutcome {
  bundle: EvidenceBundle
  spdm_version: string
  session: boolean
  tdisp: {supported: boolean; states: string[]; error?: string}
  steps: string[]
}

const PCISIG_VENDOR = pciSigVendorId()
/** Report portion asked for per GET_DEVICE_INTERFACE_REPORT. */
const REPORT_PORTION = 0x400
const MAX_REPORT_ROUNDS = 64
/** The lock flags tdxkit asks for when the device supports them. */
const WANTED_LOCK_FLAGS = TdispLockFlag.NO_FW_UPDATE | TdispLockFlag.LOCK_MSIX
const DEFAULT_MMIO_REPORTING_OFFSET = 0xd0000000n

/** One TDISP request/response in the session; TDISP_ERROR becomes ProtocolError. */
async function tdispCall(r: SpdmRequester, s: RequesterSession, req: Buffer, expect: number): Promise<Buffer> {
  const rsp = await r.vendor(s, {standard_id: SpdmRegistry.PCISIG, vendor_id: PCISIG_VENDOR, payload: Buffer.concat([Buffer.from([PCI_PROTOCOL_ID_TDISP]), req])})
  if (rsp.length < PCI_PROTOCOL_ID_SIZE || rsp[0] !== PCI_PROTOCOL_ID_TDISP) throw new ProtocolError('TDISP_PROTOCOL', 'vendor response is not TDISP')
  const body = rsp.subarray(PCI_PROTOCOL_ID_SIZE)
  const h = parseTdispHeader(body)
  if (h.message_type === TdispResponse.TDISP_ERROR && body.length >= TDISP_ERROR_RSP.size) {
    const code = readNum(TDISP_ERROR_RSP, body, 'error_code')
    throw new ProtocolError('TDISP_ERROR', `${tdispMessageName(req[1])}: device answered TDISP_ERROR ${tdispErrorName(code)}`)
  }
  if (h.message_type !== expect) throw new ProtocolError('TDISP_UNEXPECTED', `${tdispMessageName(req[1])}: device answered ${tdispMessageName(h.message_type)}`)
  return body
}

async function tdispState(r: SpdmRequester, s: RequesterSession, fid: number): Promise<number> {
  const rsp = await tdispCall(r, s, tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_STATE, fid), TdispResponse.DEVICE_INTERFACE_STATE)
  return readNum(TDISP_STATE_RSP, rsp, 'tdi_state')
}

async function tdispReport(r: SpdmRequester, s: RequesterSession, fid: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let offset = 0
  for (let i = 0; i < MAX_REPORT_ROUNDS; i++) {
    const req = tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_REPORT, fid, TDISP_GET_REPORT.size)
    req.writeUInt16LE(offset, TDISP_GET_REPORT.fields.offset.offset)
    req.writeUInt16LE(REPORT_PORTION, TDISP_GET_REPORT.fields.length.offset)
    const rsp = await tdispCall(r, s, req, TdispResponse.DEVICE_INTERFACE_REPORT)
    const portion = readNum(TDISP_REPORT_RSP, rsp, 'portion_length')
    if (TDISP_REPORT_RSP.size + portion > rsp.length) throw new ProtocolError('TDISP_REPORT_LENGTH', 'DEVICE_INTERFACE_REPORT portion runs past the message')
    parts.push(rsp.subarray(TDISP_REPORT_RSP.size, TDISP_REPORT_RSP.size + portion))
    offset += portion
    if (readNum(TDISP_REPORT_RSP, rsp, 'remainder_length') === 0) return Buffer.concat(parts)
    if (portion === 0) throw new ProtocolError('TDISP_REPORT_STALL', 'DEVICE_INTERFACE_REPORT returned no bytes with data remaining')
  }
  throw new ProtocolError('TDISP_REPORT_ROUNDS', 'interface report not complete')
}

/** GET_VERSION, GET_CAPABILITIES, LOCK (flags the device supports), report, optionally START and STOP. */
async function driveTdisp(r: SpdmRequester, s: RequesterSession, o: RemoteOptions, out: RemoteOutcome): Promise<{report?: Buffer; state_at_report?: number}> {
  const fid = o.function_id
  await tdispCall(r, s, tdispHeader(TdispRequest.GET_TDISP_VERSION, fid), TdispResponse.TDISP_VERSION)
  const caps = await tdispCall(r, s, tdispHeader(TdispRequest.GET_TDISP_CAPABILITIES, fid, TDISP_GET_CAPABILITIES.size), TdispResponse.TDISP_CAPABILITIES)
  out.tdisp.supported = true
  const supported = caps.length >= TDISP_CAPABILITIES_RSP.size ? readNum(TDISP_CAPABILITIES_RSP, caps, 'lock_interface_flags_supported') : 0
  out.tdisp.states.push(tdiStateName(await tdispState(r, s, fid)))
  if (o.tdisp === 'none') return {}
  const lock = tdispHeader(TdispRequest.LOCK_INTERFACE_REQUEST, fid, TDISP_LOCK_REQUEST.size)
  lock.writeUInt16LE(supported & WANTED_LOCK_FLAGS, TDISP_LOCK_REQUEST.fields.flags.offset)
  lock.writeBigUInt64LE(o.mmio_reporting_offset ?? DEFAULT_MMIO_REPORTING_OFFSET, TDISP_LOCK_REQUEST.fields.mmio_reporting_offset.offset)
  const locked = await tdispCall(r, s, lock, TdispResponse.LOCK_INTERFACE_RESPONSE)
  const nf = TDISP_NONCE_MSG.fields.start_interface_nonce
  const startNonce = Buffer.from(locked.subarray(nf.offset, nf.offset + nf.size))
  const atReport = await tdispState(r, s, fid)
  out.tdisp.states.push(tdiStateName(atReport))
  const report = await tdispReport(r, s, fid)
  out.steps.push(`TDISP: locked interface 0x${fid.toString(16)}, ${report.length}-byte interface report`)
  if (o.tdisp === 'start') {
    const start = tdispHeader(TdispRequest.START_INTERFACE_REQUEST, fid, TDISP_NONCE_MSG.size)
    startNonce.copy(start, nf.offset)
    await tdispCall(r, s, start, TdispResponse.START_INTERFACE_RESPONSE)
    out.tdisp.states.push(tdiStateName(await tdispState(r, s, fid)))
  }
  if (o.stop) {
    await tdispCall(r, s, tdispHeader(TdispRequest.STOP_INTERFACE_REQUEST, fid), TdispResponse.STOP_INTERFACE_RESPONSE)
    out.tdisp.states.push(tdiStateName(await tdispState(r, s, fid)))
  }
  return {report, state_at_report: atReport}
}

/** "VVVV:DDDD:…" device-info (DMTF otherName) → PCI vendor/device ids, when it names them in hex. */
function pciIdsFromChain(chain: Buffer, alg: HashName): {vendor_id: number; device_id: number} {
  const info = verifyCertChain(chain, {anchors: [], at: new Date(0), hashAlg: alg}).device_info
  const m = info ? /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4}):/.exec(info) : null
  return m ? {vendor_id: parseInt(m[1], 16), device_id: parseInt(m[2], 16)} : {vendor_id: 0, device_id: 0}
}

/** The whole requester flow against one responder; returns the evidence and what happened. */
export async function attestOverSpdm(port: DoePort, o: RemoteOptions): Promise<RemoteOutcome> {
  const r = new SpdmRequester(port, {leaf_key: leafKeyFromChain, random: o.random})
  const out: RemoteOutcome = {bundle: undefined as unknown as EvidenceBundle, spdm_version: '', session: false, tdisp: {supported: false, states: []}, steps: []}
  const types = await r.discover()
  out.steps.push(`DOE discovery: data object types ${types.join(', ')}`)
  const n = await r.negotiate()
  out.spdm_version = `${n.version >> 4}.${n.version & 0xf}`
  out.steps.push(`SPDM ${out.spdm_version} negotiated: ${n.hash}, BaseAsym 0x${n.asym.toString(16)}, DHE 0x${n.dhe.toString(16)}, AEAD 0x${n.aead.toString(16)}`)
  await r.getDigests()
  const chain = await r.getCertificate()
  out.steps.push(`certificate chain: ${chain.length} bytes`)
  if (r.supports(SpdmCapFlag.CHAL)) {
    await r.challenge()
    out.steps.push('CHALLENGE_AUTH signature verified')
  }
  const measurements = await r.getMeasurements(o.nonce)
  out.steps.push('signed MEASUREMENTS verified with the leaf key')
  let report: Buffer | undefined
  let stateAtReport = TdiState.CONFIG_UNLOCKED as number
  if (r.supports(SpdmCapFlag.KEY_EX)) {
    const s = await r.startSession()
    out.session = true
    out.steps.push(`secure session 0x${s.id.toString(16)} established`)
    try {
      const t = await driveTdisp(r, s, o, out)
      report = t.report
      if (t.state_at_report !== undefined) stateAtReport = t.state_at_report
    } catch (error) {
      if (!(error instanceof ProtocolError) || out.tdisp.supported) throw error
      out.tdisp.error = error.message
    }
    if (r.supports(SpdmCapFlag.HBEAT)) await r.heartbeat(s)
    if (r.supports(SpdmCapFlag.KEY_UPD)) await r.keyUpdate(s)
    await r.endSession(s)
    out.steps.push('HEARTBEAT, KEY_UPDATE, END_SESSION done')
  }
  const objects = new Map<number, Buffer>([
    [EvidenceObject.CERT0, chain],
    [EvidenceObject.VCA, Buffer.concat(r.vca)],
    [EvidenceObject.MEASUREMENTS, measurements],
  ])
  if (report) objects.set(EvidenceObject.REPORT, report)
  const digests = new Map([...objects.entries()].map(([k, v]) => [k, hashOf('sha384', v)]))
  out.bundle = {
    device: {id: o.id ?? 'remote', bdf: bdfFromFunctionId(o.function_id), function_id: o.function_id, model: 'remote', ...pciIdsFromChain(chain, n.hash)},
    pci: {bars: o.bars ?? []},
    nonce: o.nonce,
    objects,
    tsm: {hash_alg: 'sha384', tdi_state: stateAtReport, lock_generation: report ? 1 : 0, evidence_generation: 1, digests},
  }
  return out
}
