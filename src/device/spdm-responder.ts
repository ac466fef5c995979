/**
 * A simulated SPDM 1.2 responder: GET_VERSION, GET_CAPABILITIES, NEGOTIATE_ALGORITHMS (the VCA),
 * GET_DIGESTS, GET_CERTIFICATE (chunked) and GET_MEASUREMENTS, signing the last with
 * ECDSA P-384 / SHA-384 over combined_spdm_prefix ‖ SHA-384(L1/L2), where L1/L2 (1.2) =
 * VCA ‖ GET_MEASUREMENTS ‖ MEASUREMENTS-without-signature (shared/reference/device-evidence.md
 * §2.5). Signatures are RFC 6979, so a given nonce always yields the same bytes.
 * Anything unexpected is answered with a real SPDM ERROR message.
 */
import {
  SPDM_ALG_STRUCT,
  SPDM_ALG_STRUCT_COUNT_FIXED2,
  SPDM_ALG_STRUCT_SIZE,
  SPDM_ALGORITHMS,
  SPDM_CAPABILITIES,
  SPDM_CERTIFICATE_RSP,
  SPDM_GET_CERTIFICATE,
  SPDM_GET_MEAS_ATTR_SIGNATURE,
  SPDM_HEADER,
  SPDM_MEAS_OP_ALL,
  SPDM_MEAS_OP_COUNT,
  SPDM_MEAS_SPEC_DMTF,
  SPDM_MEASUREMENTS_RSP,
  SPDM_NEGOTIATE_ALGORITHMS,
  SPDM_NONCE_SIZE,
  SPDM_OPAQUE_LENGTH_SIZE,
  SPDM_VERSION_10,
  SPDM_VERSION_11,
  SPDM_VERSION_12,
  SPDM_VERSION_ENTRY_SIZE,
  SPDM_VERSION_RSP,
  SpdmAead,
  SpdmAlgType,
  SpdmBaseAsym,
  SpdmBaseHash,
  SpdmCapFlag,
  SpdmDhe,
  SpdmErrorCode,
  SpdmMeasHash,
  SpdmRequest,
  SpdmResponse,
  SPDM_KEY_SCHEDULE_SPDM,
  encodeMeasurementRecord,
  parseGetMeasurements,
  parseSpdmHeader,
  spdmHeader,
  writeU24,
  type MeasurementBlock,
} from '../abi/spdm.js'
import {readNum} from '../abi/layout.js'
import {ecSign, hash, type EcKeyPair} from './crypto.js'
import {measurementL1L2, measurementSigningMessage} from './transcript.js'

/** What our responders advertise. */
export const RESPONDER_CAPS =
  SpdmCapFlag.CERT | SpdmCapFlag.CHAL | SpdmCapFlag.MEAS_CAP_SIG | SpdmCapFlag.MEAS_FRESH | SpdmCapFlag.ENCRYPT | SpdmCapFlag.MAC | SpdmCapFlag.KEY_EX
export const RESPONDER_DATA_TRANSFER_SIZE = 4096
export const RESPONDER_MAX_MSG = 0x10000
/** CERTIFICATE portions are capped at this many bytes (so requesters must loop). */
export const CERT_PORTION_MAX = 1024
const VERSIONS = [SPDM_VERSION_10, SPDM_VERSION_11, SPDM_VERSION_12]

export interface ResponderConfig {
  /** SPDM slot-0 certificate chain (with SPDM header) */
  chain: Buffer
  leafKey: EcKeyPair
  blocks: MeasurementBlock[]
  /** responder nonce for each MEASUREMENTS */
  nonce: () => Buffer
  /** opaque data appended to MEASUREMENTS */
  opaque?: Buffer
}

export class SpdmResponder {
  private version = SPDM_VERSION_10
  private vca: Buffer[] = []
  private negotiated = false

  constructor(private readonly cfg: ResponderConfig) {}

  private error(code: number, data = 0): Buffer {
    return spdmHeader(this.version, SpdmResponse.ERROR, code, data)
  }

  respond(req: Buffer): Buffer {
    let h
    try {
      h = parseSpdmHeader(req)
    } catch {
      return this.error(SpdmErrorCode.InvalidRequest)
    }
    if (h.code === SpdmRequest.GET_VERSION) {
      if (h.version !== SPDM_VERSION_10 || req.length !== SPDM_HEADER.size) return spdmHeader(SPDM_VERSION_10, SpdmResponse.ERROR, SpdmErrorCode.InvalidRequest, 0)
      this.version = SPDM_VERSION_10
      this.negotiated = false
      const rsp = Buffer.alloc(SPDM_VERSION_RSP.size + VERSIONS.length * SPDM_VERSION_ENTRY_SIZE)
      spdmHeader(SPDM_VERSION_10, SpdmResponse.VERSION).copy(rsp)
      rsp[SPDM_VERSION_RSP.fields.entry_count.offset] = VERSIONS.length
      VERSIONS.forEach((v, i) => rsp.writeUInt16LE(v << 8, SPDM_VERSION_RSP.size + i * SPDM_VERSION_ENTRY_SIZE))
      this.vca = [req, rsp]
      return rsp
    }
    if (this.vca.length === 0) return this.error(SpdmErrorCode.UnexpectedRequest)
    if (h.code === SpdmRequest.GET_CAPABILITIES) {
      if (this.vca.length !== 2) return this.error(SpdmErrorCode.UnexpectedRequest)
      if (!VERSIONS.includes(h.version)) return this.error(SpdmErrorCode.VersionMismatch)
      if (req.length !== SPDM_CAPABILITIES.size) return this.error(SpdmErrorCode.InvalidRequest)
      this.version = h.version
      const rsp = Buffer.alloc(SPDM_CAPABILITIES.size)
      spdmHeader(this.version, SpdmResponse.CAPABILITIES).copy(rsp)
      const f = SPDM_CAPABILITIES.fields
      rsp.writeUInt32LE(RESPONDER_CAPS, f.flags.offset)
      rsp.writeUInt32LE(RESPONDER_DATA_TRANSFER_SIZE, f.data_transfer_size.offset)
      rsp.writeUInt32LE(RESPONDER_MAX_MSG, f.max_spdm_msg_size.offset)
      this.vca.push(req, rsp)
      return rsp
    }
    if (h.version !== this.version) return this.error(SpdmErrorCode.VersionMismatch)
    if (h.code === SpdmRequest.NEGOTIATE_ALGORITHMS) {
      if (this.vca.length !== 4) return this.error(SpdmErrorCode.UnexpectedRequest)
      if (req.length < SPDM_NEGOTIATE_ALGORITHMS.size || readNum(SPDM_NEGOTIATE_ALGORITHMS, req, 'length') !== req.length) return this.error(SpdmErrorCode.InvalidRequest)
      const asym = readNum(SPDM_NEGOTIATE_ALGORITHMS, req, 'base_asym_algo')
      const hashAlg = readNum(SPDM_NEGOTIATE_ALGORITHMS, req, 'base_hash_algo')
      const spec = readNum(SPDM_NEGOTIATE_ALGORITHMS, req, 'measurement_specification')
      if (!(asym & SpdmBaseAsym.ECDSA_P384) || !(hashAlg & SpdmBaseHash.SHA_384) || !(spec & SPDM_MEAS_SPEC_DMTF)) return this.error(SpdmErrorCode.InvalidRequest)
      const structs: Array<[number, number]> = [
        [SpdmAlgType.DHE, SpdmDhe.SECP384R1],
        [SpdmAlgType.AEAD, SpdmAead.AES_256_GCM],
        [SpdmAlgType.REQ_BASE_ASYM, SpdmBaseAsym.ECDSA_P384],
        [SpdmAlgType.KEY_SCHEDULE, SPDM_KEY_SCHEDULE_SPDM],
      ]
      const rsp = Buffer.alloc(SPDM_ALGORITHMS.size + structs.length * SPDM_ALG_STRUCT_SIZE)
      spdmHeader(this.version, SpdmResponse.ALGORITHMS, structs.length).copy(rsp)
      const f = SPDM_ALGORITHMS.fields
      rsp.writeUInt16LE(rsp.length, f.length.offset)
      rsp[f.measurement_specification_sel.offset] = SPDM_MEAS_SPEC_DMTF
      rsp.writeUInt32LE(SpdmMeasHash.SHA_384, f.measurement_hash_algo.offset)
      rsp.writeUInt32LE(SpdmBaseAsym.ECDSA_P384, f.base_asym_sel.offset)
      rsp.writeUInt32LE(SpdmBaseHash.SHA_384, f.base_hash_sel.offset)
      structs.forEach(([type, alg], i) => {
        const o = SPDM_ALGORITHMS.size + i * SPDM_ALG_STRUCT_SIZE
        rsp[o + SPDM_ALG_STRUCT.fields.alg_type.offset] = type
        rsp[o + SPDM_ALG_STRUCT.fields.alg_count.offset] = SPDM_ALG_STRUCT_COUNT_FIXED2
        rsp.writeUInt16LE(alg, o + SPDM_ALG_STRUCT.fields.alg_supported.offset)
      })
      this.vca.push(req, rsp)
      this.negotiated = true
      return rsp
    }
    if (!this.negotiated) return this.error(SpdmErrorCode.UnexpectedRequest)
    if (h.code === SpdmRequest.GET_DIGESTS) {
      const rsp = Buffer.concat([spdmHeader(this.version, SpdmResponse.DIGESTS, 0, 0x01), hash('sha384', this.cfg.chain)])
      return rsp
    }
    if (h.code === SpdmRequest.GET_CERTIFICATE) {
      if (req.length !== SPDM_GET_CERTIFICATE.size || (h.param1 & 0x0f) !== 0) return this.error(SpdmErrorCode.InvalidRequest)
      const off = readNum(SPDM_GET_CERTIFICATE, req, 'offset')
      const len = readNum(SPDM_GET_CERTIFICATE, req, 'length')
      if (off >= this.cfg.chain.length) return this.error(SpdmErrorCode.InvalidRequest)
      const portion = this.cfg.chain.subarray(off, off + Math.min(len, CERT_PORTION_MAX))
      const rsp = Buffer.alloc(SPDM_CERTIFICATE_RSP.size)
      spdmHeader(this.version, SpdmResponse.CERTIFICATE, 0, 0).copy(rsp)
      rsp.writeUInt16LE(portion.length, SPDM_CERTIFICATE_RSP.fields.portion_length.offset)
      rsp.writeUInt16LE(this.cfg.chain.length - off - portion.length, SPDM_CERTIFICATE_RSP.fields.remainder_length.offset)
      return Buffer.concat([rsp, portion])
    }
    if (h.code === SpdmRequest.GET_MEASUREMENTS) {
      let m
      try {
        m = parseGetMeasurements(req)
      } catch {
        return this.error(SpdmErrorCode.InvalidRequest)
      }
      if (m.slot_id !== 0) return this.error(SpdmErrorCode.InvalidRequest)
      if (m.operation === SPDM_MEAS_OP_COUNT) return this.measurements(req, [], this.cfg.blocks.length, m.signature_requested)
      const blocks = m.operation === SPDM_MEAS_OP_ALL ? this.cfg.blocks : this.cfg.blocks.filter((b) => b.index === m.operation)
      if (blocks.length === 0) return this.error(SpdmErrorCode.InvalidRequest)
      return this.measurements(req, blocks, 0, m.signature_requested)
    }
    return this.error(SpdmErrorCode.UnsupportedRequest)
  }

  private measurements(req: Buffer, blocks: MeasurementBlock[], count: number, sign: boolean): Buffer {
    const record = encodeMeasurementRecord(blocks)
    const head = Buffer.alloc(SPDM_MEASUREMENTS_RSP.size)
    spdmHeader(this.version, SpdmResponse.MEASUREMENTS, count, 0 /* slot 0, no change detection */).copy(head)
    head[SPDM_MEASUREMENTS_RSP.fields.number_of_blocks.offset] = blocks.length
    writeU24(head, SPDM_MEASUREMENTS_RSP.fields.record_length.offset, record.length)
    const nonce = this.cfg.nonce()
    if (nonce.length !== SPDM_NONCE_SIZE) throw new Error('responder nonce must be 32 bytes')
    const opaque = this.cfg.opaque ?? Buffer.alloc(0)
    const olen = Buffer.alloc(SPDM_OPAQUE_LENGTH_SIZE)
    olen.writeUInt16LE(opaque.length)
    const unsigned = Buffer.concat([head, record, nonce, olen, opaque])
    if (!sign) return unsigned
    if (req.length > 0 && !(req[SPDM_HEADER.fields.param1.offset] & SPDM_GET_MEAS_ATTR_SIGNATURE)) return unsigned
    const l1l2 = measurementL1L2(this.version, Buffer.concat(this.vca), req, unsigned)
    const sig = ecSign(this.cfg.leafKey, measurementSigningMessage(this.version, 'sha384', l1l2))
    return Buffer.concat([unsigned, sig])
  }
}
