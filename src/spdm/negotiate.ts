/**
 * Capability and algorithm negotiation: the requester-flag consistency rules a responder enforces
 * on GET_CAPABILITIES (DSP0274 / libspdm), and NEGOTIATE_ALGORITHMS → ALGORITHMS: validate the
 * request's AlgStruct table, pick one algorithm of each kind both sides support, echo the table.
 */
import {readNum} from '../abi/layout.js'
import {
  SPDM_ALGORITHMS,
  SPDM_HEADER,
  SPDM_ALG_COUNT_EXT_MASK,
  SPDM_ALG_COUNT_FIXED_SHIFT,
  SPDM_ALG_STRUCT,
  SPDM_ALG_STRUCT_COUNT_FIXED2,
  SPDM_ALG_STRUCT_SIZE,
  SPDM_EXT_ALG_SIZE,
  SPDM_KEY_SCHEDULE_SPDM,
  SPDM_MEAS_SPEC_DMTF,
  SPDM_MIN_DATA_TRANSFER_SIZE,
  SPDM_NEGOTIATE_ALGORITHMS,
  SPDM_VERSION_13,
  SpdmAead,
  SpdmAlgType,
  SpdmCapFlag,
  SpdmDhe,
  SpdmMeasHash,
  SpdmOtherParams,
  SpdmResponse,
  spdmHeader,
  type HashName,
} from '../abi/spdm.js'
import {HASH_BITS, preferredHash, type Negotiated} from './context.js'

const bit = (flags: number, mask: number): boolean => (flags & mask) !== 0
/** PSK_CAP is a 2-bit field at bits 11:10; the requester may only use 01. */
const PSK_SHIFT = 10
/** EP_INFO_CAP (bits 23:22) and MULTI_KEY_CAP (bits 27:26): value 3 is reserved. */
const EP_INFO_SHIFT = 22
const MULTI_KEY_SHIFT = 26
const TWO_BITS = 0x3

/** The requester-side capability rules; returns what is wrong, or undefined when consistent. */
export function checkRequesterCaps(version: number, flags: number, dts: number, maxMsg: number, ct: number, maxCt: number): string | undefined {
  const psk = (flags >> PSK_SHIFT) & TWO_BITS
  const keyEx = bit(flags, SpdmCapFlag.KEY_EX)
  const cert = bit(flags, SpdmCapFlag.CERT)
  const pubKey = bit(flags, SpdmCapFlag.PUB_KEY_ID)
  if (psk >= 2) return `PSK_CAP ${psk} is reserved`
  if (keyEx || psk === 1) {
    if (!bit(flags, SpdmCapFlag.MAC)) return 'KEY_EX_CAP/PSK_CAP without MAC_CAP'
  } else if (bit(flags, SpdmCapFlag.MAC) || bit(flags, SpdmCapFlag.ENCRYPT) || bit(flags, SpdmCapFlag.HANDSHAKE_IN_CLEAR) || bit(flags, SpdmCapFlag.HBEAT) || bit(flags, SpdmCapFlag.KEY_UPD)) {
    return 'session capabilities without KEY_EX_CAP or PSK_CAP'
  } else if (version >= SPDM_VERSION_13 && bit(flags, SpdmCapFlag.EVENT)) return 'EVENT_CAP without a session capability'
  if (!keyEx && psk === 1 && bit(flags, SpdmCapFlag.HANDSHAKE_IN_CLEAR)) return 'HANDSHAKE_IN_THE_CLEAR_CAP without KEY_EX_CAP'
  if (cert || pubKey) {
    if (cert && pubKey) return 'CERT_CAP and PUB_KEY_ID_CAP both set'
    if (!bit(flags, SpdmCapFlag.CHAL) && !keyEx) return 'CERT_CAP without CHAL_CAP or KEY_EX_CAP'
  } else if (bit(flags, SpdmCapFlag.CHAL) || bit(flags, SpdmCapFlag.MUT_AUTH)) return 'CHAL_CAP/MUT_AUTH_CAP without CERT_CAP or PUB_KEY_ID_CAP'
  else if (version >= SPDM_VERSION_13 && ((flags >> EP_INFO_SHIFT) & TWO_BITS) === 2) return 'EP_INFO_CAP with signature but no certificate'
  if (bit(flags, SpdmCapFlag.MUT_AUTH) && !keyEx && !bit(flags, SpdmCapFlag.CHAL)) return 'MUT_AUTH_CAP without KEY_EX_CAP or CHAL_CAP'
  if (version >= SPDM_VERSION_13) {
    if (((flags >> EP_INFO_SHIFT) & TWO_BITS) === TWO_BITS || ((flags >> MULTI_KEY_SHIFT) & TWO_BITS) === TWO_BITS) return 'reserved EP_INFO_CAP/MULTI_KEY_CAP value'
    if (((flags >> MULTI_KEY_SHIFT) & TWO_BITS) !== 0 && pubKey) return 'MULTI_KEY_CAP with PUB_KEY_ID_CAP'
  }
  if (dts < SPDM_MIN_DATA_TRANSFER_SIZE || dts > maxMsg) return `DataTransferSize ${dts} outside ${SPDM_MIN_DATA_TRANSFER_SIZE}..MaxSPDMmsgSize ${maxMsg}`
  if (!bit(flags, SpdmCapFlag.CHUNK) && dts !== maxMsg) return 'DataTransferSize differs from MaxSPDMmsgSize without CHUNK_CAP'
  if (ct > maxCt) return `CTExponent ${ct} exceeds ${maxCt}`
  return undefined
}

export interface LocalAlgorithms {
  asym: number
  measurement_hash: HashName
}

const MEAS_HASH_BIT: Record<HashName, number> = {sha256: SpdmMeasHash.SHA_256, sha384: SpdmMeasHash.SHA_384, sha512: SpdmMeasHash.SHA_512}
/** Our choices per AlgStruct type, most preferred first. */
const SUPPORTED: Record<number, number[]> = {
  [SpdmAlgType.DHE]: [SpdmDhe.SECP384R1, SpdmDhe.SECP256R1],
  [SpdmAlgType.AEAD]: [SpdmAead.AES_256_GCM],
  [SpdmAlgType.REQ_BASE_ASYM]: [],
  [SpdmAlgType.KEY_SCHEDULE]: [SPDM_KEY_SCHEDULE_SPDM],
}
/** Largest NEGOTIATE_ALGORITHMS (DSP0274: 128 bytes). */
const MAX_NEGOTIATE_LENGTH = 128
const MAX_ALG_STRUCTS = 4

interface AlgStruct {
  type: number
  supported: number
}

/** Parse and check the AlgStruct table: known types, ascending, fixed 2-byte fields, inside `length`. */
function parseAlgStructs(msg: Buffer, count: number, start: number, end: number): AlgStruct[] | string {
  const out: AlgStruct[] = []
  let off = start
  for (let i = 0; i < count; i++) {
    if (off + SPDM_ALG_STRUCT_SIZE > end) return 'AlgStruct table runs past Length'
    const type = readNum(SPDM_ALG_STRUCT, msg, 'alg_type', off)
    const countByte = readNum(SPDM_ALG_STRUCT, msg, 'alg_count', off)
    if (countByte >> SPDM_ALG_COUNT_FIXED_SHIFT !== 2) return `AlgStruct ${type}: fixed algorithm field is not 2 bytes`
    if (type < SpdmAlgType.DHE || type > SpdmAlgType.KEY_SCHEDULE) return `AlgStruct type ${type} is not defined`
    if (out.length && type <= out[out.length - 1].type) return 'AlgStruct types not in ascending order'
    out.push({type, supported: readNum(SPDM_ALG_STRUCT, msg, 'alg_supported', off)})
    off += SPDM_ALG_STRUCT_SIZE + (countByte & SPDM_ALG_COUNT_EXT_MASK) * SPDM_EXT_ALG_SIZE
  }
  if (off !== end) return `NEGOTIATE_ALGORITHMS Length ${end} does not match its contents (${off} bytes)`
  return out
}

/**
 * Responder side of NEGOTIATE_ALGORITHMS. Returns the transcript form of the request (exactly
 * Length bytes), the ALGORITHMS response and what was agreed, or what is wrong with the request.
 */
export function negotiateAlgorithms(version: number, msg: Buffer, local: LocalAlgorithms): {request: Buffer; response: Buffer; negotiated: Negotiated} | {error: string} {
  if (msg.length < SPDM_NEGOTIATE_ALGORITHMS.size) return {error: `NEGOTIATE_ALGORITHMS is ${msg.length} bytes`}
  const length = readNum(SPDM_NEGOTIATE_ALGORITHMS, msg, 'length')
  if (length > msg.length || length < SPDM_NEGOTIATE_ALGORITHMS.size || length > MAX_NEGOTIATE_LENGTH) return {error: `Length ${length} invalid for a ${msg.length}-byte request`}
  const nStructs = readNum(SPDM_HEADER, msg, 'param1')
  if (nStructs > MAX_ALG_STRUCTS) return {error: `${nStructs} AlgStructs`}
  const extAsym = readNum(SPDM_NEGOTIATE_ALGORITHMS, msg, 'ext_asym_count')
  const extHash = readNum(SPDM_NEGOTIATE_ALGORITHMS, msg, 'ext_hash_count')
  const structStart = SPDM_NEGOTIATE_ALGORITHMS.size + (extAsym + extHash) * SPDM_EXT_ALG_SIZE
  const structs = parseAlgStructs(msg, nStructs, structStart, length)
  if (typeof structs === 'string') return {error: structs}
  const asymReq = readNum(SPDM_NEGOTIATE_ALGORITHMS, msg, 'base_asym_algo')
  const hashReq = readNum(SPDM_NEGOTIATE_ALGORITHMS, msg, 'base_hash_algo')
  const specReq = readNum(SPDM_NEGOTIATE_ALGORITHMS, msg, 'measurement_specification')
  const otherReq = readNum(SPDM_NEGOTIATE_ALGORITHMS, msg, 'other_params_support')
  if (!(asymReq & local.asym)) return {error: `requester BaseAsymAlgo 0x${asymReq.toString(16)} does not include our key (0x${local.asym.toString(16)})`}
  const pref = preferredHash(local.asym)
  const hashes = [...HASH_BITS].sort((a, b) => (a[1] === pref ? -1 : b[1] === pref ? 1 : 0))
  const hashPick = hashes.find(([b]) => hashReq & b)
  if (!hashPick) return {error: `requester BaseHashAlgo 0x${hashReq.toString(16)} names no SHA-2 hash we support`}
  const measSpec = specReq & SPDM_MEAS_SPEC_DMTF
  const pick = (s: AlgStruct) => SUPPORTED[s.type].find((a) => s.supported & a) ?? 0
  const negotiated: Negotiated = {
    version,
    hash: hashPick[1],
    hash_bit: hashPick[0],
    asym: local.asym,
    meas_spec: measSpec,
    meas_hash_bit: measSpec ? MEAS_HASH_BIT[local.measurement_hash] : 0,
    dhe: pick(structs.find((s) => s.type === SpdmAlgType.DHE) ?? {type: SpdmAlgType.DHE, supported: 0}),
    aead: pick(structs.find((s) => s.type === SpdmAlgType.AEAD) ?? {type: SpdmAlgType.AEAD, supported: 0}),
    key_schedule: pick(structs.find((s) => s.type === SpdmAlgType.KEY_SCHEDULE) ?? {type: SpdmAlgType.KEY_SCHEDULE, supported: 0}),
    other_params: otherReq & SpdmOtherParams.OPAQUE_DATA_FMT_1,
  }
  const response = algorithmsResponse(version, negotiated, structs, pick)
  return {request: msg.subarray(0, length), response, negotiated}
}

function algorithmsResponse(version: number, n: Negotiated, structs: AlgStruct[], pick: (s: AlgStruct) => number): Buffer {
  const rsp = Buffer.alloc(SPDM_ALGORITHMS.size + structs.length * SPDM_ALG_STRUCT_SIZE)
  spdmHeader(version, SpdmResponse.ALGORITHMS, structs.length).copy(rsp)
  const f = SPDM_ALGORITHMS.fields
  rsp.writeUInt16LE(rsp.length, f.length.offset)
  rsp[f.measurement_specification_sel.offset] = n.meas_spec
  rsp[f.other_params_selection.offset] = n.other_params
  rsp.writeUInt32LE(n.meas_hash_bit, f.measurement_hash_algo.offset)
  rsp.writeUInt32LE(n.asym, f.base_asym_sel.offset)
  rsp.writeUInt32LE(n.hash_bit, f.base_hash_sel.offset)
  structs.forEach((s, i) => {
    const o = SPDM_ALGORITHMS.size + i * SPDM_ALG_STRUCT_SIZE
    rsp[o + SPDM_ALG_STRUCT.fields.alg_type.offset] = s.type
    rsp[o + SPDM_ALG_STRUCT.fields.alg_count.offset] = SPDM_ALG_STRUCT_COUNT_FIXED2
    rsp.writeUInt16LE(pick(s), o + SPDM_ALG_STRUCT.fields.alg_supported.offset)
  })
  return rsp
}
