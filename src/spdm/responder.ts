/**
 * The SPDM responder state machine (DSP0274 1.2/1.3, DSP0277 sessions), pure and synchronous:
 * DOE data objects in, DOE data objects out. VCA (negotiating down from 1.4 to 1.3), DIGESTS,
 * CERTIFICATE, CHALLENGE, MEASUREMENTS with the L1/L2 transcript, KEY_EXCHANGE / FINISH (encrypted
 * handshake), HEARTBEAT, KEY_UPDATE, END_SESSION, and VENDOR_DEFINED messages routed to the
 * backend's protocol handlers inside a session. Every malformed or out-of-order request gets an
 * SPDM ERROR; nothing a peer sends makes it throw.
 */
import {randomBytes} from 'node:crypto'
import {readNum} from '../abi/layout.js'
import {DoeType} from '../abi/doe.js'
import {
  SPDM_CAPABILITIES,
  SPDM_HEADER,
  SPDM_VERSION_10,
  SPDM_VERSION_12,
  SPDM_VERSION_13,
  SPDM_VERSION_ENTRY_SIZE,
  SPDM_VERSION_RSP,
  SpdmCapFlag,
  SpdmErrorCode,
  SpdmRequest,
  SpdmResponse,
  parseSpdmHeader,
  spdmHeader,
  spdmRequestName,
} from '../abi/spdm.js'
import {errorMessage, type Negotiated, type SpdmBackend} from './context.js'
import {decodeDoe, discoveryResponse, encodeDoe} from './transport.js'
import {openRecord, recordSessionId, sealRecord} from './secured.js'
import {checkRequesterCaps, negotiateAlgorithms} from './negotiate.js'
import {challengeAuth, digestsResponse, certificateResponse, measurementsResponse} from './responder-auth.js'
import {endSession, finishResponse, heartbeat, keyExchangeResponse, keyUpdate, type Session} from './responder-session.js'
import {vendorResponse} from './responder-vendor.js'

/** Versions this responder speaks (VERSION lists these; a 1.4 requester negotiates down to 1.3). */
export const RESPONDER_VERSIONS = [SPDM_VERSION_12, SPDM_VERSION_13]
/** What the responder advertises: only what is implemented. */
export const RESPONDER_CAPS =
  SpdmCapFlag.CERT | SpdmCapFlag.CHAL | SpdmCapFlag.MEAS_CAP_SIG | SpdmCapFlag.MEAS_FRESH | SpdmCapFlag.ENCRYPT | SpdmCapFlag.MAC | SpdmCapFlag.KEY_EX | SpdmCapFlag.HBEAT | SpdmCapFlag.KEY_UPD
/** One buffer size for transfers and messages (no CHUNK support, so they must be equal). */
export const RESPONDER_DATA_TRANSFER_SIZE = 0x1200
/** CTExponent: 2^12 µs ≈ 4 ms cryptographic timeout. */
export const RESPONDER_CT_EXPONENT = 12
export const DEFAULT_MAX_SESSIONS = 4
const MS_PER_S = 1000
/** Largest CTExponent a requester may declare. */
const MAX_CT_EXPONENT = 31

export type ConnState = 'idle' | 'after_version' | 'after_capabilities' | 'negotiated'

export interface SpdmEvent {
  kind: 'request' | 'error' | 'session'
  request: string
  session_id?: number
  error?: string
  detail?: string
}

export interface ResponderOptions {
  random?: (n: number) => Buffer
  max_sessions?: number
  /** heartbeat period (seconds) announced in KEY_EXCHANGE_RSP when both sides support HEARTBEAT */
  heartbeat_period?: number
  /** clock (ms) for the heartbeat watchdog: a session silent for twice the period is ended */
  now?: () => number
  on_event?: (e: SpdmEvent) => void
}

/** Requester parameters learnt from GET_CAPABILITIES. */
export interface PeerCaps {
  flags: number
  data_transfer_size: number
  max_message_size: number
}

/** Internal: a handler's answer, with an optional action to run after it is sealed. */
export interface Reply {
  msg: Buffer
  after?: () => void
  /** what the request was, for the event log (e.g. the protocol message inside a VENDOR_DEFINED_REQUEST) */
  detail?: string
}

/** One SPDM connection's responder. */
export class SpdmResponder {
  state: ConnState = 'idle'
  version = SPDM_VERSION_10
  vca: Buffer[] = []
  peer: PeerCaps = {flags: 0, data_transfer_size: 0, max_message_size: 0}
  alg?: Negotiated
  /** message B (digests / certificate since VCA) and connection-level message M */
  messageB: Buffer[] = []
  messageM: Buffer[] = []
  readonly sessions = new Map<number, Session>()
  readonly random: (n: number) => Buffer
  readonly maxSessions: number
  readonly heartbeatPeriod: number
  private nextRspSessionId = 0xffff

  constructor(
    readonly backend: SpdmBackend,
    private readonly opts: ResponderOptions = {},
  ) {
    this.random = opts.random ?? randomBytes
    this.maxSessions = opts.max_sessions ?? DEFAULT_MAX_SESSIONS
    this.heartbeatPeriod = opts.heartbeat_period ?? 0
  }

  private watchdogExpired(s: Session): boolean {
    const now = this.opts.now
    return !!now && s.heartbeat_period > 0 && now() - s.last_activity > 2 * s.heartbeat_period * MS_PER_S
  }

  /** the injected clock, or 0 without one */
  now(): number {
    return this.opts.now?.() ?? 0
  }

  event(e: SpdmEvent): void {
    this.opts.on_event?.(e)
  }

  error(code: number, data = 0): Reply {
    return {msg: errorMessage(this.version, code, data)}
  }

  allocRspSessionId(): number {
    for (let i = 0; i < 0x10000; i++) {
      const id = this.nextRspSessionId
      this.nextRspSessionId = id === 1 ? 0xffff : id - 1
      if (![...this.sessions.values()].some((s) => s.rsp_session_id === id)) return id
    }
    return 0
  }

  /** One DOE data object in, one out (PCI_DOE binding). */
  handleDoe(payload: Buffer): Buffer {
    let obj
    try {
      obj = decodeDoe(payload)
    } catch (error) {
      this.event({kind: 'error', request: 'DOE', error: 'InvalidRequest', detail: (error as Error).message})
      return encodeDoe(DoeType.SPDM, errorMessage(this.version, SpdmErrorCode.InvalidRequest))
    }
    if (obj.type === DoeType.DISCOVERY) {
      try {
        return encodeDoe(DoeType.DISCOVERY, discoveryResponse(obj.data))
      } catch (error) {
        this.event({kind: 'error', request: 'DOE_DISCOVERY', error: 'InvalidRequest', detail: (error as Error).message})
        return encodeDoe(DoeType.SPDM, errorMessage(this.version, SpdmErrorCode.InvalidRequest))
      }
    }
    if (obj.type === DoeType.SPDM) return encodeDoe(DoeType.SPDM, this.handleSpdm(obj.data))
    const r = this.handleSecured(obj.data)
    return encodeDoe(r.secured ? DoeType.SECURED_SPDM : DoeType.SPDM, r.msg)
  }

  /** A secured record: decrypt, dispatch inside the session, seal the answer. */
  handleSecured(record: Buffer): {secured: boolean; msg: Buffer} {
    let id: number
    try {
      id = recordSessionId(record)
    } catch (error) {
      this.event({kind: 'error', request: 'SECURED', error: 'InvalidRequest', detail: (error as Error).message})
      return {secured: false, msg: errorMessage(this.version, SpdmErrorCode.InvalidRequest)}
    }
    const s = this.sessions.get(id)
    if (s && this.watchdogExpired(s)) {
      this.sessions.delete(id)
      this.event({kind: 'session', request: 'SECURED', session_id: id, detail: 'terminated: heartbeat period elapsed twice without a message'})
    }
    if (!this.sessions.has(id)) {
      this.event({kind: 'error', request: 'SECURED', session_id: id, error: 'InvalidRequest', detail: `no session 0x${id.toString(16)}`})
      return {secured: false, msg: errorMessage(this.version, SpdmErrorCode.InvalidRequest)}
    }
    const session = this.sessions.get(id)!
    return this.openAndDispatch(session, record)
  }

  private openAndDispatch(s: Session, record: Buffer): {secured: boolean; msg: Buffer} {
    const id = s.id
    let inner: Buffer | undefined
    try {
      inner = openRecord(s.recvKeys(), record)
    } catch (error) {
      inner = undefined
      this.event({kind: 'error', request: 'SECURED', session_id: id, error: 'DecryptError', detail: (error as Error).message})
    }
    if (!inner) {
      this.sessions.delete(id)
      this.event({kind: 'session', request: 'SECURED', session_id: id, detail: 'terminated: record does not authenticate'})
      return {secured: false, msg: errorMessage(this.version, SpdmErrorCode.DecryptError)}
    }
    s.last_activity = this.now()
    const reply = this.dispatch(inner, s)
    const sealed = sealRecord(s.sendKeys(), id, reply.msg)
    reply.after?.()
    return {secured: true, msg: sealed}
  }

  /** A plain SPDM request (outside any session). */
  handleSpdm(msg: Buffer): Buffer {
    return this.dispatch(msg).msg
  }

  private dispatch(msg: Buffer, session?: Session): Reply {
    let code = 0
    try {
      const h = parseSpdmHeader(msg)
      code = h.code
      this.resetTranscripts(h.code, session)
      const reply = this.route(msg, h, session)
      this.finishReply(reply, h.code, session)
      return reply
    } catch (error) {
      // A parse failure inside a handler: the request is malformed.
      this.event({kind: 'error', request: spdmRequestName(code), session_id: session?.id, error: 'InvalidRequest', detail: (error as Error).message})
      return this.error(SpdmErrorCode.InvalidRequest)
    }
  }

  /** Report the outcome and enforce the requester's DataTransferSize (no chunking). */
  private finishReply(reply: Reply, code: number, session?: Session): void {
    if (reply.msg[SPDM_HEADER.fields.code.offset] === SpdmResponse.ERROR) {
      if (code === SpdmRequest.GET_MEASUREMENTS) (session ? session.messageM : this.messageM).length = 0
      this.event({kind: 'error', request: spdmRequestName(code), session_id: session?.id, error: spdmErrorLabel(reply.msg), detail: reply.detail})
      return
    }
    const limit = this.peer.data_transfer_size
    if (this.version >= SPDM_VERSION_12 && limit > 0 && reply.msg.length > limit) {
      reply.msg = errorMessage(this.version, SpdmErrorCode.ResponseTooLarge)
      reply.after = undefined
      this.event({kind: 'error', request: spdmRequestName(code), session_id: session?.id, error: 'ResponseTooLarge'})
      return
    }
    this.event({kind: 'request', request: spdmRequestName(code), session_id: session?.id, detail: reply.detail})
  }

  /** libspdm's rule: any request but GET_MEASUREMENTS ends L1/L2; session requests end M1/M2's B. */
  private resetTranscripts(code: number, session?: Session): void {
    if (code !== SpdmRequest.GET_MEASUREMENTS) (session ? session.messageM : this.messageM).length = 0
    const resetsB: number[] = [SpdmRequest.KEY_EXCHANGE, SpdmRequest.GET_MEASUREMENTS, SpdmRequest.FINISH, SpdmRequest.PSK_EXCHANGE, SpdmRequest.PSK_FINISH, SpdmRequest.KEY_UPDATE, SpdmRequest.HEARTBEAT, SpdmRequest.GET_ENCAPSULATED_REQUEST, SpdmRequest.END_SESSION]
    if (resetsB.includes(code)) this.messageB = []
  }

  private route(msg: Buffer, h: {version: number; code: number; param1: number; param2: number}, session?: Session): Reply {
    if (!IMPLEMENTED.has(h.code)) return this.error(SpdmErrorCode.UnsupportedRequest, h.code)
    if (h.code === SpdmRequest.GET_VERSION) return session ? this.error(SpdmErrorCode.UnexpectedRequest) : this.getVersion(msg, h.version)
    if (this.state === 'idle') return this.error(SpdmErrorCode.UnexpectedRequest)
    if (h.code === SpdmRequest.GET_CAPABILITIES) return session ? this.error(SpdmErrorCode.UnexpectedRequest) : this.getCapabilities(msg, h.version)
    if (h.version !== this.version) return this.error(SpdmErrorCode.VersionMismatch)
    if (h.code === SpdmRequest.NEGOTIATE_ALGORITHMS) {
      if (session || this.state !== 'after_capabilities') return this.error(SpdmErrorCode.UnexpectedRequest)
      return this.negotiate(msg)
    }
    if (this.state !== 'negotiated' || !this.alg) return this.error(SpdmErrorCode.UnexpectedRequest)
    if (session && session.state === 'handshaking' && h.code !== SpdmRequest.FINISH) return this.error(SpdmErrorCode.UnexpectedRequest)
    return this.routeNegotiated(msg, h, session)
  }

  private routeNegotiated(msg: Buffer, h: {code: number}, session?: Session): Reply {
    switch (h.code) {
      case SpdmRequest.GET_DIGESTS:
        return digestsResponse(this, msg, session)
      case SpdmRequest.GET_CERTIFICATE:
        return certificateResponse(this, msg, session)
      case SpdmRequest.CHALLENGE:
        return session ? this.error(SpdmErrorCode.UnexpectedRequest) : challengeAuth(this, msg)
      case SpdmRequest.GET_MEASUREMENTS:
        return measurementsResponse(this, msg, session)
      case SpdmRequest.KEY_EXCHANGE:
        return session ? this.error(SpdmErrorCode.UnexpectedRequest) : keyExchangeResponse(this, msg)
      case SpdmRequest.FINISH:
        return session ? finishResponse(this, msg, session) : this.error(SpdmErrorCode.SessionRequired)
      case SpdmRequest.HEARTBEAT:
        return session ? heartbeat(this, msg, session) : this.error(SpdmErrorCode.SessionRequired)
      case SpdmRequest.KEY_UPDATE:
        return session ? keyUpdate(this, msg, session) : this.error(SpdmErrorCode.SessionRequired)
      case SpdmRequest.END_SESSION:
        return session ? endSession(this, msg, session) : this.error(SpdmErrorCode.SessionRequired)
      case SpdmRequest.VENDOR_DEFINED_REQUEST:
        return session ? vendorResponse(this, msg, session) : this.error(SpdmErrorCode.SessionRequired)
      default:
        return this.error(SpdmErrorCode.UnsupportedRequest, h.code)
    }
  }

  /** GET_VERSION: always version 1.0; resets the connection and ends every session. */
  private getVersion(msg: Buffer, version: number): Reply {
    if (version !== SPDM_VERSION_10) return {msg: errorMessage(SPDM_VERSION_10, SpdmErrorCode.VersionMismatch)}
    this.reset()
    const rsp = Buffer.alloc(SPDM_VERSION_RSP.size + RESPONDER_VERSIONS.length * SPDM_VERSION_ENTRY_SIZE)
    spdmHeader(SPDM_VERSION_10, SpdmResponse.VERSION).copy(rsp)
    rsp[SPDM_VERSION_RSP.fields.entry_count.offset] = RESPONDER_VERSIONS.length
    RESPONDER_VERSIONS.forEach((v, i) => rsp.writeUInt16LE(v << 8, SPDM_VERSION_RSP.size + i * SPDM_VERSION_ENTRY_SIZE))
    this.vca = [msg.subarray(0, SPDM_HEADER.size), rsp]
    this.state = 'after_version'
    return {msg: rsp}
  }

  reset(): void {
    this.state = 'idle'
    this.version = SPDM_VERSION_10
    this.vca = []
    this.alg = undefined
    this.messageB = []
    this.messageM = []
    this.sessions.clear()
  }

  private getCapabilities(msg: Buffer, version: number): Reply {
    if (this.state !== 'after_version') return this.error(SpdmErrorCode.UnexpectedRequest)
    if (!RESPONDER_VERSIONS.includes(version)) return this.error(SpdmErrorCode.VersionMismatch)
    if (msg.length < SPDM_CAPABILITIES.size) return {msg: errorMessage(version, SpdmErrorCode.InvalidRequest)}
    const req = msg.subarray(0, SPDM_CAPABILITIES.size)
    const flags = readNum(SPDM_CAPABILITIES, req, 'flags')
    const dts = readNum(SPDM_CAPABILITIES, req, 'data_transfer_size')
    const maxMsg = readNum(SPDM_CAPABILITIES, req, 'max_spdm_msg_size')
    const problem = checkRequesterCaps(version, flags, dts, maxMsg, readNum(SPDM_CAPABILITIES, req, 'ct_exponent'), MAX_CT_EXPONENT)
    if (problem) {
      this.event({kind: 'error', request: 'GET_CAPABILITIES', error: 'InvalidRequest', detail: problem})
      return {msg: errorMessage(version, SpdmErrorCode.InvalidRequest)}
    }
    this.version = version
    const rsp = Buffer.alloc(SPDM_CAPABILITIES.size)
    spdmHeader(version, SpdmResponse.CAPABILITIES).copy(rsp)
    const f = SPDM_CAPABILITIES.fields
    rsp[f.ct_exponent.offset] = RESPONDER_CT_EXPONENT
    rsp.writeUInt32LE(RESPONDER_CAPS, f.flags.offset)
    rsp.writeUInt32LE(RESPONDER_DATA_TRANSFER_SIZE, f.data_transfer_size.offset)
    rsp.writeUInt32LE(RESPONDER_DATA_TRANSFER_SIZE, f.max_spdm_msg_size.offset)
    this.peer = {flags, data_transfer_size: dts, max_message_size: maxMsg}
    this.vca.push(req, rsp)
    this.state = 'after_capabilities'
    return {msg: rsp}
  }

  private negotiate(msg: Buffer): Reply {
    const r = negotiateAlgorithms(this.version, msg, {asym: this.backend.identity.signer.asym, measurement_hash: this.backend.measurement_hash})
    if ('error' in r) {
      this.event({kind: 'error', request: 'NEGOTIATE_ALGORITHMS', error: 'InvalidRequest', detail: r.error})
      return this.error(SpdmErrorCode.InvalidRequest)
    }
    this.alg = r.negotiated
    this.vca.push(r.request, r.response)
    this.state = 'negotiated'
    return {msg: r.response}
  }
}

/** The requests this responder implements; anything else is UnsupportedRequest. */
const IMPLEMENTED = new Set<number>([
  SpdmRequest.GET_VERSION,
  SpdmRequest.GET_CAPABILITIES,
  SpdmRequest.NEGOTIATE_ALGORITHMS,
  SpdmRequest.GET_DIGESTS,
  SpdmRequest.GET_CERTIFICATE,
  SpdmRequest.CHALLENGE,
  SpdmRequest.GET_MEASUREMENTS,
  SpdmRequest.KEY_EXCHANGE,
  SpdmRequest.FINISH,
  SpdmRequest.HEARTBEAT,
  SpdmRequest.KEY_UPDATE,
  SpdmRequest.END_SESSION,
  SpdmRequest.VENDOR_DEFINED_REQUEST,
])

function spdmErrorLabel(msg: Buffer): string {
  const code = msg[SPDM_HEADER.fields.param1.offset]
  for (const [k, v] of Object.entries(SpdmErrorCode)) if (v === code) return k
  return `0x${code.toString(16)}`
}

