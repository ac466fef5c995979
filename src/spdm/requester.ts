/**
 * The SPDM requester (DSP0274 1.2/1.3 + DSP0277 sessions), pure: it talks through a DOE port the
 * caller provides (a socket in src/app, an in-process responder in tests and benchmarks). It runs
 * DOE discovery, the VCA, GET_DIGESTS / GET_CERTIFICATE, CHALLENGE and signed GET_MEASUREMENTS
 * (checking each signature over the transcript it kept), and KEY_EXCHANGE / FINISH, then HEARTBEAT,
 * KEY_UPDATE, VENDOR_DEFINED and END_SESSION inside the session.
 */
import {randomBytes, type KeyObject} from 'node:crypto'
import {ProtocolError} from './errors.js'
import {readNum} from '../abi/layout.js'
import {DOE_DISCOVERY_RSP, DoeType} from '../abi/doe.js'
import {
  DHE_PUBLIC_SIZE,
  HASH_SIZE,
  SPDM_ALGORITHMS,
  SPDM_ALG_STRUCT,
  SPDM_ALG_STRUCT_COUNT_FIXED2,
  SPDM_ALG_STRUCT_SIZE,
  SPDM_CAPABILITIES,
  SPDM_CERTIFICATE_RSP,
  SPDM_CHALLENGE,
  SPDM_CHALLENGE_AUTH_SIGN_CONTEXT,
  SPDM_EXT_ALG_SIZE,
  SPDM_GET_CERTIFICATE,
  SPDM_GET_MEASUREMENTS,
  SPDM_GET_MEAS_ATTR_SIGNATURE,
  SPDM_HEADER,
  SPDM_KEY_EXCHANGE,
  SPDM_KEY_EXCHANGE_RSP,
  SPDM_KEY_SCHEDULE_SPDM,
  SPDM_MEASUREMENTS_SIGN_CONTEXT,
  SPDM_MEAS_OP_ALL,
  SPDM_MEAS_SPEC_DMTF,
  SPDM_NEGOTIATE_ALGORITHMS,
  SPDM_NONCE_SIZE,
  SPDM_OPAQUE_LENGTH_SIZE,
  SPDM_RANDOM_SIZE,
  SPDM_REQ_CONTEXT_SIZE,
  SPDM_VERSION_10,
  SPDM_VERSION_12,
  SPDM_VERSION_13,
  SPDM_VERSION_ENTRY_SIZE,
  SPDM_VERSION_RSP,
  SpdmAead,
  SpdmAlgType,
  SpdmBaseAsym,
  SpdmBaseHash,
  SpdmCapFlag,
  SpdmDhe,
  SpdmKeyUpdateOp,
  SpdmOtherParams,
  SpdmRequest,
  SpdmResponse,
  SpdmSummaryHash,
  asymSignatureSize,
  getMeasurementsSize,
  parseMeasurementsResponse,
  spdmErrorName,
  spdmHeader,
  spdmRequestName,
  type HashName,
} from '../abi/spdm.js'
import {SECURED_VERSION_11, SECURED_VERSION_12, SESSION_ID_RSP_SHIFT, SPDM_KEY_EXCHANGE_RSP_SIGN_CONTEXT} from '../abi/secured-message.js'
import {dheGenerate, hashOf, hmacOf, macEqual, spdmVerifySignature} from './crypto.js'
import {HASH_BITS, signedMessage, type Negotiated} from './context.js'
import {dataKeys, handshakeKeys, updatedKeys, type DirectionKeys, type HandshakeKeys, type KeyScheduleParams} from './key-schedule.js'
import {parseVersionSelection, supportedVersionsOpaque} from './opaque.js'
import {openRecord, sealRecord} from './secured.js'
import {decodeDoe, discoveryRequest, encodeDoe} from './transport.js'
import {decodeVendor, encodeVendor, type VendorMessage} from './vdm.js'

/** Carries DOE data objects to the responder and brings its answer back. */
export interface DoePort {
  exchange(payload: Buffer): Promise<Buffer>
}

export interface RequesterOptions {
  random?: (n: number) => Buffer
  /** highest SPDM version to offer (default 1.3) */
  max_version?: number
  /** the responder's leaf public key from a slot chain (the device layer parses X.509) */
  leaf_key: (chain: Buffer, hash: HashName) => KeyObject
}

/** Requester capabilities: a session with encryption, heartbeat and key update; no certificate of its own. */
export const REQUESTER_CAPS = SpdmCapFlag.ENCRYPT | SpdmCapFlag.MAC | SpdmCapFlag.KEY_EX | SpdmCapFlag.HBEAT | SpdmCapFlag.KEY_UPD
export const REQUESTER_TRANSFER_SIZE = 0x1200
const REQUESTER_CT_EXPONENT = 12
const OFFERED_ASYM = SpdmBaseAsym.ECDSA_P256 | SpdmBaseAsym.ECDSA_P384 | SpdmBaseAsym.ECDSA_P521 | SpdmBaseAsym.RSASSA_3072 | SpdmBaseAsym.RSAPSS_3072 | SpdmBaseAsym.RSASSA_2048 | SpdmBaseAsym.RSAPSS_2048 | SpdmBaseAsym.RSASSA_4096 | SpdmBaseAsym.RSAPSS_4096
const OFFERED_HASH = SpdmBaseHash.SHA_256 | SpdmBaseHash.SHA_384 | SpdmBaseHash.SHA_512
const OFFERED_STRUCTS: Array<[number, number]> = [
  [SpdmAlgType.DHE, SpdmDhe.SECP384R1 | SpdmDhe.SECP256R1],
  [SpdmAlgType.AEAD, SpdmAead.AES_256_GCM],
  [SpdmAlgType.KEY_SCHEDULE, SPDM_KEY_SCHEDULE_SPDM],
]
/** Largest certificate portion asked for at once. */
const CERT_PORTION = 0x400
/** Bound on GET_CERTIFICATE round trips (a responder that never finishes). */
const MAX_CERT_ROUNDS = 256
const REQ_SESSION_ID = 0xffff
/** DOE discovery indices are one byte. */
const MAX_DISCOVERY_ENTRIES = 256

export interface RequesterSession {
  id: number
  params: KeyScheduleParams
  hs: HandshakeKeys
  th: Buffer[]
  req: DirectionKeys
  rsp: DirectionKeys
  established: boolean
  heartbeat_period: number
}

export class SpdmRequester {
  version = SPDM_VERSION_10
  vca: Buffer[] = []
  alg?: Negotiated
  rspCaps = 0
  rspTransferSize = 0
  chain?: Buffer
  private messageB: Buffer[] = []
  private readonly random: (n: number) => Buffer

  constructor(
    private readonly port: DoePort,
    private readonly opts: RequesterOptions,
  ) {
    this.random = opts.random ?? randomBytes
  }

  /** Send a plain SPDM request; ERROR answers become ProtocolError; `expect` is the response code. */
  async call(req: Buffer, expect: number): Promise<Buffer> {
    const rsp = await this.port.exchange(encodeDoe(DoeType.SPDM, req))
    const obj = decodeDoe(rsp)
    if (obj.type !== DoeType.SPDM) throw new ProtocolError('SPDM_UNEXPECTED_TRANSPORT', `${spdmRequestName(req[1])}: answered with DOE type ${obj.type}`)
    return checkResponse(req, obj.data, expect)
  }

  /** DOE Discovery: walk the data-object list from index 0. */
  async discover(): Promise<number[]> {
    const types: number[] = []
    let index = 0
    for (let i = 0; i < MAX_DISCOVERY_ENTRIES; i++) {
      const obj = decodeDoe(await this.port.exchange(encodeDoe(DoeType.DISCOVERY, discoveryRequest(index))))
      if (obj.type !== DoeType.DISCOVERY || obj.data.length < DOE_DISCOVERY_RSP.size) throw new ProtocolError('DOE_DISCOVERY', 'DOE discovery answered with something else')
      types.push(readNum(DOE_DISCOVERY_RSP, obj.data, 'data_object_type'))
      index = readNum(DOE_DISCOVERY_RSP, obj.data, 'next_index')
      if (index === 0) break
    }
    return types
  }

  /** GET_VERSION / GET_CAPABILITIES / NEGOTIATE_ALGORITHMS. */
  async negotiate(): Promise<Negotiated> {
    const getVersion = spdmHeader(SPDM_VERSION_10, SpdmRequest.GET_VERSION)
    const version = await this.call(getVersion, SpdmResponse.VERSION)
    this.version = pickVersion(version, this.opts.max_version ?? SPDM_VERSION_13)
    this.vca = [getVersion, version.subarray(0, SPDM_VERSION_RSP.size + readNum(SPDM_VERSION_RSP, version, 'entry_count') * SPDM_VERSION_ENTRY_SIZE)]
    const caps = Buffer.alloc(SPDM_CAPABILITIES.size)
    spdmHeader(this.version, SpdmRequest.GET_CAPABILITIES).copy(caps)
    caps[SPDM_CAPABILITIES.fields.ct_exponent.offset] = REQUESTER_CT_EXPONENT
    caps.writeUInt32LE(REQUESTER_CAPS, SPDM_CAPABILITIES.fields.flags.offset)
    caps.writeUInt32LE(REQUESTER_TRANSFER_SIZE, SPDM_CAPABILITIES.fields.data_transfer_size.offset)
    caps.writeUInt32LE(REQUESTER_TRANSFER_SIZE, SPDM_CAPABILITIES.fields.max_spdm_msg_size.offset)
    const capsRsp = await this.call(caps, SpdmResponse.CAPABILITIES)
    if (capsRsp.length < SPDM_CAPABILITIES.size) throw new ProtocolError('SPDM_SHORT', `CAPABILITIES is ${capsRsp.length} bytes`)
    this.rspCaps = readNum(SPDM_CAPABILITIES, capsRsp, 'flags')
    this.rspTransferSize = readNum(SPDM_CAPABILITIES, capsRsp, 'data_transfer_size')
    this.vca.push(caps, capsRsp.subarray(0, SPDM_CAPABILITIES.size))
    const neg = negotiateRequest(this.version)
    const algs = await this.call(neg, SpdmResponse.ALGORITHMS)
    if (algs.length < SPDM_ALGORITHMS.size) throw new ProtocolError('SPDM_SHORT', 'ALGORITHMS is truncated')
    this.alg = parseAlgorithms(this.version, algs)
    this.vca.push(neg, algs.subarray(0, readNum(SPDM_ALGORITHMS, algs, 'length')))
    return this.alg
  }

  private need(): Negotiated {
    if (!this.alg) throw new ProtocolError('SPDM_NOT_NEGOTIATED', 'no algorithms negotiated yet')
    return this.alg
  }

  supports(flag: number): boolean {
    return (this.rspCaps & flag) !== 0
  }

  async getDigests(): Promise<Buffer> {
    const n = this.need()
    const req = spdmHeader(n.version, SpdmRequest.GET_DIGESTS)
    const rsp = await this.call(req, SpdmResponse.DIGESTS)
    const size = SPDM_HEADER.size + popcount(rsp[SPDM_HEADER.fields.param2.offset]) * HASH_SIZE[n.hash]
    if (!fits(rsp, size)) throw new ProtocolError('SPDM_LENGTH', `DIGESTS is ${rsp.length} bytes, its slot mask says ${size}`)
    this.messageB.push(req, rsp.subarray(0, size))
    return rsp.subarray(0, size)
  }

  /** GET_CERTIFICATE for slot 0, portion by portion. */
  async getCertificate(): Promise<Buffer> {
    const n = this.need()
    const parts: Buffer[] = []
    let offset = 0
    for (let round = 0; round < MAX_CERT_ROUNDS; round++) {
      const req = Buffer.alloc(SPDM_GET_CERTIFICATE.size)
      spdmHeader(n.version, SpdmRequest.GET_CERTIFICATE).copy(req)
      req.writeUInt16LE(offset, SPDM_GET_CERTIFICATE.fields.offset.offset)
      req.writeUInt16LE(CERT_PORTION, SPDM_GET_CERTIFICATE.fields.length.offset)
      const rsp = await this.call(req, SpdmResponse.CERTIFICATE)
      const portion = readNum(SPDM_CERTIFICATE_RSP, rsp, 'portion_length')
      const remainder = readNum(SPDM_CERTIFICATE_RSP, rsp, 'remainder_length')
      const end = SPDM_CERTIFICATE_RSP.size + portion
      if (end > rsp.length || rsp.length - end > DOE_PAD_MAX) throw new ProtocolError('SPDM_CERT_LENGTH', `CERTIFICATE portion ${portion} does not match its ${rsp.length} bytes`)
      this.messageB.push(req, rsp.subarray(0, end))
      parts.push(rsp.subarray(SPDM_CERTIFICATE_RSP.size, end))
      offset += portion
      if (remainder === 0) {
        this.chain = Buffer.concat(parts)
        return this.chain
      }
      if (portion === 0) throw new ProtocolError('SPDM_CERT_STALL', 'CERTIFICATE returned no bytes with data remaining')
    }
    throw new ProtocolError('SPDM_CERT_ROUNDS', `certificate chain not complete after ${MAX_CERT_ROUNDS} requests`)
  }

  private leafKey(): KeyObject {
    const n = this.need()
    if (!this.chain) throw new ProtocolError('SPDM_NO_CHAIN', 'no certificate chain retrieved')
    return this.opts.leaf_key(this.chain, n.hash)
  }

  private verify(context: string, transcript: Buffer, sig: Buffer, what: string): void {
    const n = this.need()
    if (!spdmVerifySignature(n.asym, n.hash, this.leafKey(), signedMessage(n.version, n.hash, context, transcript), sig)) {
      throw new ProtocolError('SPDM_BAD_SIGNATURE', `${what}: the responder's signature over the transcript does not verify with its leaf key`)
    }
  }

  /** CHALLENGE (no measurement summary) and check CHALLENGE_AUTH's signature over M1. */
  async challenge(): Promise<void> {
    const n = this.need()
    const ctx = n.version >= SPDM_VERSION_13 ? SPDM_REQ_CONTEXT_SIZE : 0
    const req = Buffer.alloc(SPDM_CHALLENGE.size + ctx)
    spdmHeader(n.version, SpdmRequest.CHALLENGE, 0, SpdmSummaryHash.NONE).copy(req)
    this.random(SPDM_NONCE_SIZE).copy(req, SPDM_CHALLENGE.fields.nonce.offset)
    if (ctx) this.random(ctx).copy(req, SPDM_CHALLENGE.size)
    const rsp = await this.call(req, SpdmResponse.CHALLENGE_AUTH)
    const s = sigSizeOf(n)
    const h = HASH_SIZE[n.hash]
    const olenAt = SPDM_HEADER.size + h + SPDM_NONCE_SIZE
    if (rsp.length < olenAt + SPDM_OPAQUE_LENGTH_SIZE + ctx + s) throw new ProtocolError('SPDM_SHORT', 'CHALLENGE_AUTH is truncated')
    const end = olenAt + SPDM_OPAQUE_LENGTH_SIZE + rsp.readUInt16LE(olenAt) + ctx
    if (!fits(rsp, end + s)) throw new ProtocolError('SPDM_LENGTH', 'CHALLENGE_AUTH length does not add up')
    if (this.chain && !rsp.subarray(SPDM_HEADER.size, SPDM_HEADER.size + h).equals(hashOf(n.hash, this.chain))) throw new ProtocolError('SPDM_CHAIN_HASH', 'CHALLENGE_AUTH names another certificate chain')
    this.verify(SPDM_CHALLENGE_AUTH_SIGN_CONTEXT, Buffer.concat([...this.vca, ...this.messageB, req, rsp.subarray(0, end)]), rsp.subarray(end, end + s), 'CHALLENGE_AUTH')
    this.messageB = []
  }

  /** One signed GET_MEASUREMENTS of every block with the verifier's nonce; returns request ‖ response. */
  async getMeasurements(nonce: Buffer, session?: RequesterSession): Promise<Buffer> {
    const n = this.need()
    const req = Buffer.alloc(getMeasurementsSize(n.version, true))
    spdmHeader(n.version, SpdmRequest.GET_MEASUREMENTS, SPDM_GET_MEAS_ATTR_SIGNATURE, SPDM_MEAS_OP_ALL).copy(req)
    nonce.copy(req, SPDM_GET_MEASUREMENTS.fields.nonce.offset)
    if (n.version >= SPDM_VERSION_13) this.random(SPDM_REQ_CONTEXT_SIZE).copy(req, SPDM_GET_MEASUREMENTS.size)
    const rsp = session ? await this.sessionCall(session, req, SpdmResponse.MEASUREMENTS) : await this.call(req, SpdmResponse.MEASUREMENTS)
    const parsed = parseMeasurementsResponse(rsp, sigSizeOf(n), DOE_PAD_MAX)
    this.verify(SPDM_MEASUREMENTS_SIGN_CONTEXT, Buffer.concat([...this.vca, req, parsed.signed_part]), parsed.signature, 'MEASUREMENTS')
    this.messageB = []
    return Buffer.concat([req, rsp.subarray(0, parsed.size)])
  }

  /** KEY_EXCHANGE + FINISH: an established session with data keys. */
  async startSession(): Promise<RequesterSession> {
    const n = this.need()
    const d = DHE_PUBLIC_SIZE[n.dhe]
    if (!d || n.aead !== SpdmAead.AES_256_GCM || !this.chain) throw new ProtocolError('SPDM_NO_SESSION', 'the responder offers no usable DHE group / AEAD, or no certificate was retrieved')
    const dhe = dheGenerate(n.dhe)
    const opaque = supportedVersionsOpaque([SECURED_VERSION_11, SECURED_VERSION_12])
    const head = Buffer.alloc(SPDM_KEY_EXCHANGE.size)
    spdmHeader(n.version, SpdmRequest.KEY_EXCHANGE, SpdmSummaryHash.NONE, 0).copy(head)
    head.writeUInt16LE(REQ_SESSION_ID, SPDM_KEY_EXCHANGE.fields.req_session_id.offset)
    this.random(SPDM_RANDOM_SIZE).copy(head, SPDM_KEY_EXCHANGE.fields.random.offset)
    const olen = Buffer.alloc(SPDM_OPAQUE_LENGTH_SIZE)
    olen.writeUInt16LE(opaque.length)
    const req = Buffer.concat([head, dhe.exchange, olen, opaque])
    this.messageB = []
    const rsp = await this.call(req, SpdmResponse.KEY_EXCHANGE_RSP)
    return this.finishHandshake(n, dhe.secret.bind(dhe), req, rsp)
  }

  private async finishHandshake(n: Negotiated, secretOf: (peer: Buffer) => Buffer, req: Buffer, rsp: Buffer): Promise<RequesterSession> {
    const h = HASH_SIZE[n.hash]
    const d = DHE_PUBLIC_SIZE[n.dhe]
    const s = sigSizeOf(n)
    const olenAt = SPDM_KEY_EXCHANGE_RSP.size + d
    if (rsp.length < olenAt + SPDM_OPAQUE_LENGTH_SIZE) throw new ProtocolError('SPDM_SHORT', 'KEY_EXCHANGE_RSP is truncated')
    const sigAt = olenAt + SPDM_OPAQUE_LENGTH_SIZE + rsp.readUInt16LE(olenAt)
    if (!fits(rsp, sigAt + s + h)) throw new ProtocolError('SPDM_LENGTH', 'KEY_EXCHANGE_RSP length does not add up (handshake in the clear is not used)')
    const selected = parseVersionSelection(rsp.subarray(olenAt + SPDM_OPAQUE_LENGTH_SIZE, sigAt))
    if (selected !== SECURED_VERSION_11 && selected !== SECURED_VERSION_12) throw new ProtocolError('SPDM_SECURED_VERSION', 'KEY_EXCHANGE_RSP selects no secured-message version we offered')
    const th = [...this.vca, hashOf(n.hash, this.chain!), req, rsp.subarray(0, sigAt)]
    this.verify(SPDM_KEY_EXCHANGE_RSP_SIGN_CONTEXT, Buffer.concat(th), rsp.subarray(sigAt, sigAt + s), 'KEY_EXCHANGE_RSP')
    th.push(rsp.subarray(sigAt, sigAt + s))
    const th1 = hashOf(n.hash, ...th)
    const params: KeyScheduleParams = {hash: n.hash, version: n.version}
    const hs = handshakeKeys(params, secretOf(rsp.subarray(SPDM_KEY_EXCHANGE_RSP.size, olenAt)), th1)
    const verifyData = rsp.subarray(sigAt + s, sigAt + s + h)
    if (!macEqual(hmacOf(n.hash, hs.rsp_finished, th1), verifyData)) throw new ProtocolError('SPDM_BAD_VERIFY_DATA', 'KEY_EXCHANGE_RSP ResponderVerifyData does not match')
    th.push(verifyData)
    const id = (REQ_SESSION_ID | (readNum(SPDM_KEY_EXCHANGE_RSP, rsp, 'rsp_session_id') << SESSION_ID_RSP_SHIFT)) >>> 0
    const session: RequesterSession = {id, params, hs, th, req: hs.req, rsp: hs.rsp, established: false, heartbeat_period: readNum(SPDM_HEADER, rsp, 'param1')}
    const finHead = spdmHeader(n.version, SpdmRequest.FINISH)
    const finish = Buffer.concat([finHead, hmacOf(n.hash, hs.req_finished, hashOf(n.hash, ...th, finHead))])
    const finRsp = await this.sessionCall(session, finish, SpdmResponse.FINISH_RSP)
    th.push(finish, finRsp)
    const keys = dataKeys(params, hs.handshake_secret, hashOf(n.hash, ...th))
    session.req = keys.req
    session.rsp = keys.rsp
    session.established = true
    return session
  }

  /** One request inside a session: seal, exchange, open, check. */
  async sessionCall(s: RequesterSession, req: Buffer, expect: number): Promise<Buffer> {
    const rspPayload = await this.port.exchange(encodeDoe(DoeType.SECURED_SPDM, sealRecord(s.req, s.id, req)))
    const obj = decodeDoe(rspPayload)
    if (obj.type === DoeType.SPDM) return checkResponse(req, obj.data, expect)
    const msg = openRecord(s.rsp, obj.data)
    if (!msg) throw new ProtocolError('SPDM_DECRYPT', `${spdmRequestName(req[1])}: the response record does not authenticate`)
    return checkResponse(req, msg, expect)
  }

  async heartbeat(s: RequesterSession): Promise<void> {
    await this.sessionCall(s, spdmHeader(this.need().version, SpdmRequest.HEARTBEAT), SpdmResponse.HEARTBEAT_ACK)
  }

  /** KEY_UPDATE UpdateAllKeys then VerifyNewKey: both directions move to fresh keys. */
  async keyUpdate(s: RequesterSession): Promise<void> {
    const v = this.need().version
    const tag = this.random(1)[0]
    const upd = spdmHeader(v, SpdmRequest.KEY_UPDATE, SpdmKeyUpdateOp.UPDATE_ALL_KEYS, tag)
    const sealed = sealRecord(s.req, s.id, upd)
    s.req = updatedKeys(s.params, s.req)
    const nextRsp = updatedKeys(s.params, s.rsp)
    const obj = decodeDoe(await this.port.exchange(encodeDoe(DoeType.SECURED_SPDM, sealed)))
    const ack = obj.type === DoeType.SECURED_SPDM ? openRecord(nextRsp, obj.data) : obj.data
    if (!ack) throw new ProtocolError('SPDM_DECRYPT', 'KEY_UPDATE_ACK is not sealed with the updated responder key')
    checkResponse(upd, ack, SpdmResponse.KEY_UPDATE_ACK)
    s.rsp = nextRsp
    await this.sessionCall(s, spdmHeader(v, SpdmRequest.KEY_UPDATE, SpdmKeyUpdateOp.VERIFY_NEW_KEY, tag), SpdmResponse.KEY_UPDATE_ACK)
  }

  async endSession(s: RequesterSession): Promise<void> {
    await this.sessionCall(s, spdmHeader(this.need().version, SpdmRequest.END_SESSION), SpdmResponse.END_SESSION_ACK)
  }

  /** A VENDOR_DEFINED_REQUEST in the session; returns the response payload. */
  async vendor(s: RequesterSession, m: VendorMessage): Promise<Buffer> {
    const n = this.need()
    const rsp = await this.sessionCall(s, encodeVendor(n.version, SpdmRequest.VENDOR_DEFINED_REQUEST, m), SpdmResponse.VENDOR_DEFINED_RESPONSE)
    const vm = decodeVendor(rsp)
    if (vm.standard_id !== m.standard_id || !vm.vendor_id.equals(m.vendor_id)) throw new ProtocolError('SPDM_VDM_VENDOR', 'VENDOR_DEFINED_RESPONSE from another vendor')
    return vm.payload
  }
}

/** A plain SPDM message over DOE may carry up to 3 bytes of DW padding after its last field. */
const DOE_PAD_MAX = 3
const fits = (rsp: Buffer, size: number): boolean => size <= rsp.length && rsp.length - size <= DOE_PAD_MAX

const popcount = (b: number): number => {
  let c = 0
  for (let x = b; x; x &= x - 1) c++
  return c
}

const sigSizeOf = (n: Negotiated): number => {
  const s = asymSignatureSize(n.asym)
  if (!s) throw new ProtocolError('SPDM_ASYM', `BaseAsym 0x${n.asym.toString(16)} is not supported`)
  return s
}

/** An ERROR becomes ProtocolError (with the code); anything but `expect` too. */
function checkResponse(req: Buffer, rsp: Buffer, expect: number): Buffer {
  if (rsp.length < SPDM_HEADER.size) throw new ProtocolError('SPDM_SHORT', `${spdmRequestName(req[1])}: ${rsp.length}-byte response`)
  const code = rsp[SPDM_HEADER.fields.code.offset]
  if (code === SpdmResponse.ERROR) {
    const e = rsp[SPDM_HEADER.fields.param1.offset]
    throw new ProtocolError('SPDM_ERROR', `${spdmRequestName(req[1])}: responder answered ERROR ${spdmErrorName(e)}`, e)
  }
  if (code !== expect) throw new ProtocolError('SPDM_UNEXPECTED_RESPONSE', `${spdmRequestName(req[1])}: responder answered ${spdmRequestName(code)}`)
  if (rsp[SPDM_HEADER.fields.version.offset] !== req[SPDM_HEADER.fields.version.offset]) throw new ProtocolError('SPDM_VERSION', `${spdmRequestName(req[1])}: response version 0x${rsp[0].toString(16)} differs from the request's`)
  return rsp
}

/** The highest version both sides list, at least 1.2. */
function pickVersion(rsp: Buffer, max: number): number {
  const count = rsp.length >= SPDM_VERSION_RSP.size ? readNum(SPDM_VERSION_RSP, rsp, 'entry_count') : 0
  if (SPDM_VERSION_RSP.size + count * SPDM_VERSION_ENTRY_SIZE > rsp.length) throw new ProtocolError('SPDM_SHORT', 'VERSION is truncated')
  let best = 0
  for (let i = 0; i < count; i++) {
    const v = rsp.readUInt16LE(SPDM_VERSION_RSP.size + i * SPDM_VERSION_ENTRY_SIZE) >> 8
    if (v >= SPDM_VERSION_12 && v <= max && v > best) best = v
  }
  if (!best) throw new ProtocolError('SPDM_NO_COMMON_VERSION', 'the responder offers no SPDM version 1.2 or 1.3')
  return best
}

function negotiateRequest(version: number): Buffer {
  const req = Buffer.alloc(SPDM_NEGOTIATE_ALGORITHMS.size + OFFERED_STRUCTS.length * SPDM_ALG_STRUCT_SIZE)
  spdmHeader(version, SpdmRequest.NEGOTIATE_ALGORITHMS, OFFERED_STRUCTS.length).copy(req)
  const f = SPDM_NEGOTIATE_ALGORITHMS.fields
  req.writeUInt16LE(req.length, f.length.offset)
  req[f.measurement_specification.offset] = SPDM_MEAS_SPEC_DMTF
  req[f.other_params_support.offset] = SpdmOtherParams.OPAQUE_DATA_FMT_1
  req.writeUInt32LE(OFFERED_ASYM, f.base_asym_algo.offset)
  req.writeUInt32LE(OFFERED_HASH, f.base_hash_algo.offset)
  OFFERED_STRUCTS.forEach(([type, algs], i) => {
    const o = SPDM_NEGOTIATE_ALGORITHMS.size + i * SPDM_ALG_STRUCT_SIZE
    req[o + SPDM_ALG_STRUCT.fields.alg_type.offset] = type
    req[o + SPDM_ALG_STRUCT.fields.alg_count.offset] = SPDM_ALG_STRUCT_COUNT_FIXED2
    req.writeUInt16LE(algs, o + SPDM_ALG_STRUCT.fields.alg_supported.offset)
  })
  return req
}

function parseAlgorithms(version: number, rsp: Buffer): Negotiated {
  if (rsp.length < SPDM_ALGORITHMS.size) throw new ProtocolError('SPDM_SHORT', 'ALGORITHMS is truncated')
  const len = readNum(SPDM_ALGORITHMS, rsp, 'length')
  if (len > rsp.length) throw new ProtocolError('SPDM_LENGTH', 'ALGORITHMS Length exceeds the message')
  const hashBit = readNum(SPDM_ALGORITHMS, rsp, 'base_hash_sel')
  const hash = HASH_BITS.find(([b]) => b === hashBit)
  if (!hash) throw new ProtocolError('SPDM_HASH', `ALGORITHMS selects BaseHash 0x${hashBit.toString(16)}`)
  const n: Negotiated = {
    version,
    hash: hash[1],
    hash_bit: hashBit,
    asym: readNum(SPDM_ALGORITHMS, rsp, 'base_asym_sel'),
    meas_spec: readNum(SPDM_ALGORITHMS, rsp, 'measurement_specification_sel'),
    meas_hash_bit: readNum(SPDM_ALGORITHMS, rsp, 'measurement_hash_algo'),
    other_params: readNum(SPDM_ALGORITHMS, rsp, 'other_params_selection'),
    dhe: 0,
    aead: 0,
    key_schedule: 0,
  }
  const ext = (readNum(SPDM_ALGORITHMS, rsp, 'ext_asym_sel_count') + readNum(SPDM_ALGORITHMS, rsp, 'ext_hash_sel_count')) * SPDM_EXT_ALG_SIZE
  for (let i = 0, o = SPDM_ALGORITHMS.size + ext; i < rsp[SPDM_HEADER.fields.param1.offset] && o + SPDM_ALG_STRUCT_SIZE <= len; i++, o += SPDM_ALG_STRUCT_SIZE) {
    const type = rsp[o + SPDM_ALG_STRUCT.fields.alg_type.offset]
    const sel = rsp.readUInt16LE(o + SPDM_ALG_STRUCT.fields.alg_supported.offset)
    if (type === SpdmAlgType.DHE) n.dhe = sel
    else if (type === SpdmAlgType.AEAD) n.aead = sel
    else if (type === SpdmAlgType.KEY_SCHEDULE) n.key_schedule = sel
  }
  return n
}
