/**
 * Responder handlers for sessions (DSP0274 KEY_EXCHANGE / FINISH, HEARTBEAT, KEY_UPDATE,
 * END_SESSION) and the per-session state: the TH transcript (VCA ‖ Hash(cert chain) ‖ K ‖ F),
 * handshake and data keys, the in-session L1/L2 transcript, the pending KEY_UPDATE.
 * The handshake is always encrypted (HANDSHAKE_IN_THE_CLEAR is not offered).
 */
import {readNum} from '../abi/layout.js'
import {
  DHE_PUBLIC_SIZE,
  SPDM_FINISH_ATTR_SIGNATURE,
  SPDM_HEADER,
  SPDM_KEY_EXCHANGE,
  SPDM_KEY_EXCHANGE_RSP,
  SPDM_OPAQUE_LENGTH_SIZE,
  SPDM_RANDOM_SIZE,
  SpdmCapFlag,
  SpdmErrorCode,
  SpdmKeyUpdateOp,
  SpdmOtherParams,
  SpdmResponse,
  spdmHeader,
} from '../abi/spdm.js'
import {SECURED_VERSION_11, SECURED_VERSION_12, SESSION_ID_RSP_SHIFT, SPDM_KEY_EXCHANGE_RSP_SIGN_CONTEXT} from '../abi/secured-message.js'
import {dheGenerate, hashOf, hmacOf, macEqual} from './crypto.js'
import {hashSize, signedMessage, type Negotiated} from './context.js'
import {dataKeys, handshakeKeys, updatedKeys, type DirectionKeys, type HandshakeKeys, type KeyScheduleParams} from './key-schedule.js'
import {parseSupportedVersions, versionSelectionOpaque} from './opaque.js'
import {PROVISIONED_SLOT, measurementSummary, responderChain, validSummaryType} from './responder-auth.js'
import type {Reply, SpdmResponder} from './responder.js'

/** Secured-message versions we speak, most preferred first (same record rules on PCI_DOE). */
export const SECURED_VERSIONS = [SECURED_VERSION_12, SECURED_VERSION_11]

export class Session {
  state: 'handshaking' | 'established' = 'handshaking'
  /** VCA ‖ Hash(cert chain) ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP (‖ FINISH ‖ FINISH_RSP) */
  readonly th: Buffer[]
  messageM: Buffer[] = []
  data?: {req: DirectionKeys; rsp: DirectionKeys}
  /** last KEY_UPDATE operation awaiting VERIFY_NEW_KEY */
  pendingUpdate = 0
  /** heartbeat period agreed in KEY_EXCHANGE_RSP (seconds; 0 = none) and the time of the last record */
  heartbeat_period = 0
  last_activity = 0
  constructor(
    readonly id: number,
    readonly rsp_session_id: number,
    readonly params: KeyScheduleParams,
    readonly hs: HandshakeKeys,
    th: Buffer[],
  ) {
    this.th = th
  }
  recvKeys(): DirectionKeys {
    return this.data ? this.data.req : this.hs.req
  }
  sendKeys(): DirectionKeys {
    return this.data ? this.data.rsp : this.hs.rsp
  }
}

const both = (r: SpdmResponder, flag: number): boolean => (r.peer.flags & flag) !== 0

interface KeyExchangeRequest {
  req: Buffer
  reqSessionId: number
  exchange: Buffer
  opaque: Buffer
  summaryType: number
}

function parseKeyExchange(r: SpdmResponder, n: Negotiated, msg: Buffer): KeyExchangeRequest | number {
  const d = DHE_PUBLIC_SIZE[n.dhe]
  if (!d || !n.aead || !n.key_schedule) return SpdmErrorCode.UnexpectedRequest
  if ((n.other_params & SpdmOtherParams.OPAQUE_DATA_FMT_MASK) !== SpdmOtherParams.OPAQUE_DATA_FMT_1) return SpdmErrorCode.InvalidRequest
  const summaryType = readNum(SPDM_HEADER, msg, 'param1')
  if (!validSummaryType(summaryType) || (summaryType !== 0 && !n.meas_hash_bit)) return SpdmErrorCode.InvalidRequest
  if (readNum(SPDM_HEADER, msg, 'param2') !== PROVISIONED_SLOT) return SpdmErrorCode.InvalidRequest
  const olenAt = SPDM_KEY_EXCHANGE.size + d
  if (msg.length < olenAt + SPDM_OPAQUE_LENGTH_SIZE) return SpdmErrorCode.InvalidRequest
  const olen = msg.readUInt16LE(olenAt)
  const end = olenAt + SPDM_OPAQUE_LENGTH_SIZE + olen
  if (msg.length < end) return SpdmErrorCode.InvalidRequest
  return {
    req: msg.subarray(0, end),
    reqSessionId: readNum(SPDM_KEY_EXCHANGE, msg, 'req_session_id'),
    exchange: msg.subarray(SPDM_KEY_EXCHANGE.size, olenAt),
    opaque: msg.subarray(olenAt + SPDM_OPAQUE_LENGTH_SIZE, end),
    summaryType,
  }
}

function pickSecuredVersion(opaque: Buffer): number | undefined {
  try {
    const offered = parseSupportedVersions(opaque)
    return SECURED_VERSIONS.find((v) => offered.includes(v))
  } catch {
    return undefined
  }
}

export function keyExchangeResponse(r: SpdmResponder, msg: Buffer): Reply {
  const n = r.alg!
  if (!both(r, SpdmCapFlag.KEY_EX)) return r.error(SpdmErrorCode.UnsupportedRequest, msg[SPDM_HEADER.fields.code.offset])
  const ke = parseKeyExchange(r, n, msg)
  if (typeof ke === 'number') return r.error(ke)
  const securedVersion = pickSecuredVersion(ke.opaque)
  if (securedVersion === undefined) return r.error(SpdmErrorCode.InvalidRequest)
  if (r.sessions.size >= r.maxSessions) return r.error(SpdmErrorCode.SessionLimitExceeded)
  const dhe = dheGenerate(n.dhe)
  let secret: Buffer
  try {
    secret = dhe.secret(ke.exchange)
  } catch {
    return r.error(SpdmErrorCode.InvalidRequest)
  }
  const rspSessionId = r.allocRspSessionId()
  const head = Buffer.alloc(SPDM_KEY_EXCHANGE_RSP.size)
  spdmHeader(n.version, SpdmResponse.KEY_EXCHANGE_RSP, both(r, SpdmCapFlag.HBEAT) ? r.heartbeatPeriod : 0).copy(head)
  head.writeUInt16LE(rspSessionId, SPDM_KEY_EXCHANGE_RSP.fields.rsp_session_id.offset)
  r.random(SPDM_RANDOM_SIZE).copy(head, SPDM_KEY_EXCHANGE_RSP.fields.random.offset)
  const opaque = versionSelectionOpaque(securedVersion)
  const olen = Buffer.alloc(SPDM_OPAQUE_LENGTH_SIZE)
  olen.writeUInt16LE(opaque.length)
  const unsigned = Buffer.concat([head, dhe.exchange, measurementSummary(r, n, ke.summaryType), olen, opaque])
  const th = [...r.vca, hashOf(n.hash, responderChain(r, n)), ke.req, unsigned]
  const sig = r.backend.identity.signer.sign(n.hash, signedMessage(n.version, n.hash, SPDM_KEY_EXCHANGE_RSP_SIGN_CONTEXT, Buffer.concat(th)))
  th.push(sig)
  const th1 = hashOf(n.hash, ...th)
  const params: KeyScheduleParams = {hash: n.hash, version: n.version}
  const hs = handshakeKeys(params, secret, th1)
  const verify = hmacOf(n.hash, hs.rsp_finished, th1)
  th.push(verify)
  const id = (ke.reqSessionId | (rspSessionId << SESSION_ID_RSP_SHIFT)) >>> 0
  const session = new Session(id, rspSessionId, params, hs, th)
  session.heartbeat_period = both(r, SpdmCapFlag.HBEAT) ? r.heartbeatPeriod : 0
  session.last_activity = r.now()
  r.sessions.set(id, session)
  r.event({kind: 'session', request: 'KEY_EXCHANGE', session_id: id, detail: 'handshaking'})
  return {msg: Buffer.concat([unsigned, sig, verify])}
}

export function finishResponse(r: SpdmResponder, msg: Buffer, s: Session): Reply {
  const n = r.alg!
  if (s.state !== 'handshaking') return r.error(SpdmErrorCode.UnexpectedRequest)
  const h = hashSize(n)
  if (readNum(SPDM_HEADER, msg, 'param1') & SPDM_FINISH_ATTR_SIGNATURE) return r.error(SpdmErrorCode.InvalidRequest)
  if (msg.length < SPDM_HEADER.size + h) return r.error(SpdmErrorCode.InvalidRequest)
  const req = msg.subarray(0, SPDM_HEADER.size + h)
  const expected = hmacOf(n.hash, s.hs.req_finished, hashOf(n.hash, ...s.th, req.subarray(0, SPDM_HEADER.size)))
  if (!macEqual(expected, req.subarray(SPDM_HEADER.size))) {
    r.event({kind: 'session', request: 'FINISH', session_id: s.id, detail: 'terminated: RequesterVerifyData does not match'})
    return {msg: r.error(SpdmErrorCode.DecryptError).msg, after: () => r.sessions.delete(s.id)}
  }
  const rsp = spdmHeader(n.version, SpdmResponse.FINISH_RSP)
  s.th.push(req, rsp)
  const th2 = hashOf(n.hash, ...s.th)
  const keys = dataKeys(s.params, s.hs.handshake_secret, th2)
  return {
    msg: rsp,
    after: () => {
      s.data = {req: keys.req, rsp: keys.rsp}
      s.state = 'established'
      r.event({kind: 'session', request: 'FINISH', session_id: s.id, detail: 'established'})
    },
  }
}

export function heartbeat(r: SpdmResponder, msg: Buffer, s: Session): Reply {
  const n = r.alg!
  if (!both(r, SpdmCapFlag.HBEAT)) return r.error(SpdmErrorCode.UnsupportedRequest, msg[SPDM_HEADER.fields.code.offset])
  if (msg.length !== SPDM_HEADER.size) return r.error(SpdmErrorCode.InvalidRequest)
  r.event({kind: 'session', request: 'HEARTBEAT', session_id: s.id})
  return {msg: spdmHeader(n.version, SpdmResponse.HEARTBEAT_ACK)}
}

/** KEY_UPDATE: UpdateKey rolls the requester's key; UpdateAllKeys both (ours at once); VerifyNewKey commits. */
export function keyUpdate(r: SpdmResponder, msg: Buffer, s: Session): Reply {
  const n = r.alg!
  if (!both(r, SpdmCapFlag.KEY_UPD)) return r.error(SpdmErrorCode.UnsupportedRequest, msg[SPDM_HEADER.fields.code.offset])
  if (msg.length !== SPDM_HEADER.size || !s.data) return r.error(SpdmErrorCode.InvalidRequest)
  const op = readNum(SPDM_HEADER, msg, 'param1')
  const tag = readNum(SPDM_HEADER, msg, 'param2')
  const data = s.data
  if (op === SpdmKeyUpdateOp.UPDATE_KEY || op === SpdmKeyUpdateOp.UPDATE_ALL_KEYS) {
    if (s.pendingUpdate) return r.error(SpdmErrorCode.InvalidRequest)
    data.req = updatedKeys(s.params, data.req)
    if (op === SpdmKeyUpdateOp.UPDATE_ALL_KEYS) data.rsp = updatedKeys(s.params, data.rsp)
    s.pendingUpdate = op
  } else if (op === SpdmKeyUpdateOp.VERIFY_NEW_KEY) {
    if (!s.pendingUpdate) return r.error(SpdmErrorCode.InvalidRequest)
    s.pendingUpdate = 0
  } else return r.error(SpdmErrorCode.InvalidRequest)
  r.event({kind: 'session', request: 'KEY_UPDATE', session_id: s.id, detail: `operation ${op}`})
  return {msg: spdmHeader(n.version, SpdmResponse.KEY_UPDATE_ACK, op, tag)}
}

export function endSession(r: SpdmResponder, msg: Buffer, s: Session): Reply {
  const n = r.alg!
  if (msg.length !== SPDM_HEADER.size) return r.error(SpdmErrorCode.InvalidRequest)
  return {
    msg: spdmHeader(n.version, SpdmResponse.END_SESSION_ACK),
    after: () => {
      r.sessions.delete(s.id)
      r.event({kind: 'session', request: 'END_SESSION', session_id: s.id, detail: 'ended'})
    },
  }
}
