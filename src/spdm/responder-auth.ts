/**
 * Responder handlers for authentication and attestation: GET_DIGESTS, GET_CERTIFICATE (portions
 * capped by the requester's DataTransferSize), CHALLENGE (signed over M1 = VCA ‖ B ‖ C) and
 * GET_MEASUREMENTS (signed over L1/L2 = VCA ‖ the GET_MEASUREMENTS/MEASUREMENTS pairs since the
 * last signed one). Slot 0 is the only provisioned slot.
 */
import {readNum} from '../abi/layout.js'
import {DMTF_MEAS_RAW_BIT, DmtfMeasType} from '../abi/spdm.js'
import {
  SPDM_CERTIFICATE_RSP,
  SPDM_CHALLENGE,
  SPDM_CHALLENGE_AUTH_SIGN_CONTEXT,
  SPDM_GET_CERTIFICATE,
  SPDM_HEADER,
  SPDM_MEASUREMENTS_RSP,
  SPDM_MEASUREMENTS_SIGN_CONTEXT,
  SPDM_MEAS_OP_ALL,
  SPDM_MEAS_OP_COUNT,
  SPDM_NONCE_SIZE,
  SPDM_OPAQUE_LENGTH_SIZE,
  SPDM_REQ_CONTEXT_SIZE,
  SPDM_VERSION_13,
  SpdmErrorCode,
  SpdmResponse,
  SpdmSummaryHash,
  encodeMeasurementRecord,
  parseGetMeasurements,
  spdmHeader,
  writeU24,
  type MeasurementBlock,
} from '../abi/spdm.js'
import {hashOf} from './crypto.js'
import {signedMessage, spdmCertChain, type Negotiated} from './context.js'
import type {Reply, SpdmResponder} from './responder.js'
import type {Session} from './responder-session.js'

/** The only provisioned certificate slot, and its bit in slot masks. */
export const PROVISIONED_SLOT = 0
const SLOT_MASK = 1 << PROVISIONED_SLOT
/** 1.3 GET_CERTIFICATE param2 bit 0: SlotSizeRequested. */
const SLOT_SIZE_REQUESTED = 0x01
const SLOT_ID_MASK = 0x0f

/** Cap on a kept transcript (message B, L1/L2): past it the transcript is dropped and the request refused. */
export const MAX_TRANSCRIPT_BYTES = 0x10000
const transcriptBytes = (parts: Buffer[]): number => parts.reduce((n, b) => n + b.length, 0)

/** Append to a transcript within the cap; false (and the transcript emptied) when it would overflow. */
function keep(parts: Buffer[], ...more: Buffer[]): boolean {
  if (transcriptBytes(parts) + transcriptBytes(more) > MAX_TRANSCRIPT_BYTES) {
    parts.length = 0
    return false
  }
  parts.push(...more)
  return true
}

/** The slot-0 chain in SPDM format for the negotiated hash. */
export function responderChain(r: SpdmResponder, n: Negotiated): Buffer {
  return spdmCertChain(r.backend.identity.certs, n.hash)
}

export function digestsResponse(r: SpdmResponder, msg: Buffer, session?: Session): Reply {
  const n = r.alg!
  const req = msg.subarray(0, SPDM_HEADER.size)
  const digest = hashOf(n.hash, responderChain(r, n))
  const rsp = Buffer.concat([spdmHeader(n.version, SpdmResponse.DIGESTS, n.version >= SPDM_VERSION_13 ? SLOT_MASK : 0, SLOT_MASK), digest])
  if (!session && !keep(r.messageB, req, rsp)) return r.error(SpdmErrorCode.Unspecified)
  return {msg: rsp}
}

export function certificateResponse(r: SpdmResponder, msg: Buffer, session?: Session): Reply {
  const n = r.alg!
  if (msg.length < SPDM_GET_CERTIFICATE.size) return r.error(SpdmErrorCode.InvalidRequest)
  const req = msg.subarray(0, SPDM_GET_CERTIFICATE.size)
  const slot = readNum(SPDM_HEADER, req, 'param1') & SLOT_ID_MASK
  if (slot !== PROVISIONED_SLOT) return r.error(SpdmErrorCode.InvalidRequest)
  const chain = responderChain(r, n)
  const offset = readNum(SPDM_GET_CERTIFICATE, req, 'offset')
  const length = readNum(SPDM_GET_CERTIFICATE, req, 'length')
  const sizeOnly = n.version >= SPDM_VERSION_13 && (readNum(SPDM_HEADER, req, 'param2') & SLOT_SIZE_REQUESTED) !== 0
  if (!sizeOnly && offset >= chain.length) return r.error(SpdmErrorCode.InvalidRequest)
  const room = Math.max(0, (r.peer.data_transfer_size || chain.length) - SPDM_CERTIFICATE_RSP.size)
  const portion = sizeOnly ? Buffer.alloc(0) : chain.subarray(offset, offset + Math.min(length, room))
  const head = Buffer.alloc(SPDM_CERTIFICATE_RSP.size)
  spdmHeader(n.version, SpdmResponse.CERTIFICATE, slot, 0).copy(head)
  head.writeUInt16LE(portion.length, SPDM_CERTIFICATE_RSP.fields.portion_length.offset)
  head.writeUInt16LE(sizeOnly ? chain.length : chain.length - offset - portion.length, SPDM_CERTIFICATE_RSP.fields.remainder_length.offset)
  const rsp = Buffer.concat([head, portion])
  if (!session && !keep(r.messageB, req, rsp)) return r.error(SpdmErrorCode.Unspecified)
  return {msg: rsp}
}

/** Measurement summary hash: Hash of every block (ALL) or of the immutable-ROM blocks (TCB), as libspdm's sample device. */
export function measurementSummary(r: SpdmResponder, n: Negotiated, type: number): Buffer {
  if (type === SpdmSummaryHash.NONE) return Buffer.alloc(0)
  const blocks = r.backend.measurements().filter((b) => type === SpdmSummaryHash.ALL || (b.value_type & ~DMTF_MEAS_RAW_BIT) === DmtfMeasType.IMMUTABLE_ROM)
  return hashOf(n.hash, encodeMeasurementRecord(blocks))
}

const SUMMARY_TYPES: readonly number[] = [SpdmSummaryHash.NONE, SpdmSummaryHash.TCB, SpdmSummaryHash.ALL]
export const validSummaryType = (t: number): boolean => SUMMARY_TYPES.includes(t)

export function challengeAuth(r: SpdmResponder, msg: Buffer): Reply {
  const n = r.alg!
  const size = SPDM_CHALLENGE.size + (n.version >= SPDM_VERSION_13 ? SPDM_REQ_CONTEXT_SIZE : 0)
  if (msg.length < size) return r.error(SpdmErrorCode.InvalidRequest)
  const req = msg.subarray(0, size)
  const slot = readNum(SPDM_HEADER, req, 'param1')
  const summaryType = readNum(SPDM_HEADER, req, 'param2')
  if (slot !== PROVISIONED_SLOT || !validSummaryType(summaryType)) return r.error(SpdmErrorCode.InvalidRequest)
  const chain = responderChain(r, n)
  const parts = [
    spdmHeader(n.version, SpdmResponse.CHALLENGE_AUTH, slot & SLOT_ID_MASK, SLOT_MASK),
    hashOf(n.hash, chain),
    r.random(SPDM_NONCE_SIZE),
    measurementSummary(r, n, summaryType),
    Buffer.alloc(SPDM_OPAQUE_LENGTH_SIZE),
  ]
  if (n.version >= SPDM_VERSION_13) parts.push(req.subarray(SPDM_CHALLENGE.size, size))
  const unsigned = Buffer.concat(parts)
  const m1 = Buffer.concat([...r.vca, ...r.messageB, req, unsigned])
  const sig = r.backend.identity.signer.sign(n.hash, signedMessage(n.version, n.hash, SPDM_CHALLENGE_AUTH_SIGN_CONTEXT, m1))
  r.messageB = []
  return {msg: Buffer.concat([unsigned, sig])}
}

function selectBlocks(blocks: MeasurementBlock[], op: number): MeasurementBlock[] | undefined {
  if (op === SPDM_MEAS_OP_COUNT) return []
  if (op === SPDM_MEAS_OP_ALL) return blocks
  const one = blocks.filter((b) => b.index === op)
  return one.length ? one : undefined
}

export function measurementsResponse(r: SpdmResponder, msg: Buffer, session?: Session): Reply {
  const n = r.alg!
  if (!n.meas_spec || !n.meas_hash_bit) return r.error(SpdmErrorCode.UnexpectedRequest)
  let m
  try {
    m = parseGetMeasurements(msg, false)
  } catch {
    return r.error(SpdmErrorCode.InvalidRequest)
  }
  if (m.signature_requested && m.slot_id !== PROVISIONED_SLOT) return r.error(SpdmErrorCode.InvalidRequest)
  const all = r.backend.measurements()
  const blocks = selectBlocks(all, m.operation)
  if (!blocks) return r.error(SpdmErrorCode.InvalidRequest)
  const record = encodeMeasurementRecord(blocks)
  const head = Buffer.alloc(SPDM_MEASUREMENTS_RSP.size)
  const slotParam = m.signature_requested ? m.slot_id : 0
  spdmHeader(n.version, SpdmResponse.MEASUREMENTS, m.operation === SPDM_MEAS_OP_COUNT ? all.length : 0, slotParam).copy(head)
  head[SPDM_MEASUREMENTS_RSP.fields.number_of_blocks.offset] = blocks.length
  writeU24(head, SPDM_MEASUREMENTS_RSP.fields.record_length.offset, record.length)
  const parts = [head, record, r.random(SPDM_NONCE_SIZE), Buffer.alloc(SPDM_OPAQUE_LENGTH_SIZE)]
  if (m.requester_context) parts.push(m.requester_context)
  const unsigned = Buffer.concat(parts)
  const transcript = session ? session.messageM : r.messageM
  const req = msg.subarray(0, m.size)
  if (!m.signature_requested) return keep(transcript, req, unsigned) ? {msg: unsigned} : r.error(SpdmErrorCode.Unspecified)
  const l1l2 = Buffer.concat([...r.vca, ...transcript, req, unsigned])
  transcript.length = 0
  const sig = r.backend.identity.signer.sign(n.hash, signedMessage(n.version, n.hash, SPDM_MEASUREMENTS_SIGN_CONTEXT, l1l2))
  return {msg: Buffer.concat([unsigned, sig])}
}
