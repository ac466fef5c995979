/**
 * SPDM (DMTF DSP0274) wire formats used by device evidence: message header, request/response
 * codes, error codes, capability and algorithm bits, the 1.2 VCA messages, GET_MEASUREMENTS /
 * MEASUREMENTS, measurement blocks (DMTF format), the certificate-chain header and the 1.2+
 * signing prefix. All integers little-endian, structures packed. Pure: no I/O, no clock.
 * Facts: DMTF/libspdm include/industry_standard/spdm.h (see shared/reference/device-evidence.md §2).
 */
import {ParseError} from '../errors.js'
import {defineLayout, readNum, requireSize} from './layout.js'

/** SPDMVersion byte values (major in bits 7:4, minor in 3:0). */
export const SPDM_VERSION_10 = 0x10
export const SPDM_VERSION_11 = 0x11
export const SPDM_VERSION_12 = 0x12
export const SPDM_VERSION_13 = 0x13
export const SPDM_VERSION_14 = 0x14

/** Request codes. */
export const SpdmRequest = {
  GET_DIGESTS: 0x81,
  GET_CERTIFICATE: 0x82,
  CHALLENGE: 0x83,
  GET_VERSION: 0x84,
  CHUNK_GET: 0x86,
  GET_ENDPOINT_INFO: 0x87,
  CHUNK_SEND: 0x85,
  GET_MEASUREMENTS: 0xe0,
  GET_CAPABILITIES: 0xe1,
  GET_SUPPORTED_EVENT_TYPES: 0xe2,
  NEGOTIATE_ALGORITHMS: 0xe3,
  KEY_EXCHANGE: 0xe4,
  FINISH: 0xe5,
  PSK_EXCHANGE: 0xe6,
  PSK_FINISH: 0xe7,
  HEARTBEAT: 0xe8,
  KEY_UPDATE: 0xe9,
  GET_ENCAPSULATED_REQUEST: 0xea,
  DELIVER_ENCAPSULATED_RESPONSE: 0xeb,
  END_SESSION: 0xec,
  GET_CSR: 0xed,
  SET_CERTIFICATE: 0xee,
  GET_MEASUREMENT_EXTENSION_LOG: 0xef,
  VENDOR_DEFINED_REQUEST: 0xfe,
  RESPOND_IF_READY: 0xff,
} as const

/** Response codes. */
export const SpdmResponse = {
  DIGESTS: 0x01,
  CERTIFICATE: 0x02,
  CHALLENGE_AUTH: 0x03,
  VERSION: 0x04,
  ENDPOINT_INFO: 0x07,
  MEASUREMENTS: 0x60,
  CAPABILITIES: 0x61,
  ALGORITHMS: 0x63,
  KEY_EXCHANGE_RSP: 0x64,
  FINISH_RSP: 0x65,
  PSK_EXCHANGE_RSP: 0x66,
  PSK_FINISH_RSP: 0x67,
  HEARTBEAT_ACK: 0x68,
  KEY_UPDATE_ACK: 0x69,
  ENCAPSULATED_REQUEST: 0x6a,
  ENCAPSULATED_RESPONSE_ACK: 0x6b,
  END_SESSION_ACK: 0x6c,
  CSR: 0x6d,
  MEASUREMENT_EXTENSION_LOG: 0x6f,
  VENDOR_DEFINED_RESPONSE: 0x7e,
  ERROR: 0x7f,
} as const

/** ERROR param1 codes. */
export const SpdmErrorCode = {
  InvalidRequest: 0x01,
  Busy: 0x03,
  UnexpectedRequest: 0x04,
  Unspecified: 0x05,
  DecryptError: 0x06,
  UnsupportedRequest: 0x07,
  RequestInFlight: 0x08,
  InvalidResponseCode: 0x09,
  SessionLimitExceeded: 0x0a,
  SessionRequired: 0x0b,
  ResetRequired: 0x0c,
  ResponseTooLarge: 0x0d,
  RequestTooLarge: 0x0e,
  LargeResponse: 0x0f,
  MessageLost: 0x10,
  InvalidPolicy: 0x11,
  VersionMismatch: 0x41,
  ResponseNotReady: 0x42,
  RequestResynch: 0x43,
  OperationFailed: 0x44,
  NoPendingRequests: 0x45,
  VendorDefined: 0xff,
} as const

export function spdmErrorName(code: number): string {
  for (const [k, v] of Object.entries(SpdmErrorCode)) if (v === code) return k
  return `0x${code.toString(16).padStart(2, '0')}`
}

/** Responder CAPABILITIES flags. MEAS_CAP is a 2-bit field: 01 = no signature, 10 = signed. */
export const SpdmCapFlag = {
  CACHE: 0x1,
  CERT: 0x2,
  CHAL: 0x4,
  MEAS_CAP_MASK: 0x18,
  MEAS_CAP_NO_SIG: 0x08,
  MEAS_CAP_SIG: 0x10,
  MEAS_FRESH: 0x20,
  ENCRYPT: 0x40,
  MAC: 0x80,
  MUT_AUTH: 0x100,
  KEY_EX: 0x200,
  PSK_MASK: 0xc00,
  ENCAP: 0x1000,
  HBEAT: 0x2000,
  KEY_UPD: 0x4000,
  HANDSHAKE_IN_CLEAR: 0x8000,
  PUB_KEY_ID: 0x10000,
  CHUNK: 0x20000,
  ALIAS_CERT: 0x40000,
  SET_CERT: 0x80000,
  CSR: 0x100000,
  CERT_INSTALL_RESET: 0x200000,
  EP_INFO_MASK: 0xc00000,
  MEL: 0x1000000,
  EVENT: 0x2000000,
  MULTI_KEY_MASK: 0xc000000,
  GET_KEY_PAIR_INFO: 0x10000000,
  SET_KEY_PAIR_INFO: 0x20000000,
} as const

export function spdmRequestName(code: number): string {
  for (const [k, v] of Object.entries(SpdmRequest)) if (v === code) return k
  for (const [k, v] of Object.entries(SpdmResponse)) if (v === code) return k
  return `0x${code.toString(16).padStart(2, '0')}`
}

/** BaseAsymAlgo bits. */
export const SpdmBaseAsym = {
  RSASSA_2048: 0x1,
  RSAPSS_2048: 0x2,
  RSASSA_3072: 0x4,
  RSAPSS_3072: 0x8,
  ECDSA_P256: 0x10,
  RSASSA_4096: 0x20,
  RSAPSS_4096: 0x40,
  ECDSA_P384: 0x80,
  ECDSA_P521: 0x100,
  SM2: 0x200,
  ED25519: 0x400,
  ED448: 0x800,
} as const

/** BaseHashAlgo bits. */
export const SpdmBaseHash = {SHA_256: 0x1, SHA_384: 0x2, SHA_512: 0x4, SHA3_256: 0x8, SHA3_384: 0x10, SHA3_512: 0x20, SM3: 0x40} as const

/** MeasurementHashAlgo bits. */
export const SpdmMeasHash = {RAW_BIT_STREAM_ONLY: 0x1, SHA_256: 0x2, SHA_384: 0x4, SHA_512: 0x8, SHA3_256: 0x10, SHA3_384: 0x20, SHA3_512: 0x40, SM3: 0x80} as const

/** MeasurementSpecification bit 0: DMTF. */
export const SPDM_MEAS_SPEC_DMTF = 0x01

/** AlgStruct types in NEGOTIATE_ALGORITHMS / ALGORITHMS. */
export const SpdmAlgType = {DHE: 2, AEAD: 3, REQ_BASE_ASYM: 4, KEY_SCHEDULE: 5} as const
export const SpdmDhe = {FFDHE_2048: 0x0001, FFDHE_3072: 0x0002, FFDHE_4096: 0x0004, SECP256R1: 0x0008, SECP384R1: 0x0010, SECP521R1: 0x0020} as const
export const SpdmAead = {AES_128_GCM: 0x0001, AES_256_GCM: 0x0002, CHACHA20_POLY1305: 0x0004} as const
/** ALGORITHMS OtherParamsSelection / NEGOTIATE_ALGORITHMS OtherParamsSupport bits. */
export const SpdmOtherParams = {OPAQUE_DATA_FMT_MASK: 0x0f, OPAQUE_DATA_FMT_0: 0x01, OPAQUE_DATA_FMT_1: 0x02, MULTI_KEY_CONN: 0x20} as const
/** AlgCount: bits 7:4 = bytes of the fixed algorithm field, bits 3:0 = number of extended algorithms (4 bytes each). */
export const SPDM_ALG_COUNT_FIXED_SHIFT = 4
export const SPDM_ALG_COUNT_EXT_MASK = 0x0f
export const SPDM_EXT_ALG_SIZE = 4
export const SPDM_KEY_SCHEDULE_SPDM = 0x0001
/** AlgCount byte of an AlgStruct with a 2-byte fixed algorithm field and no extended ones. */
export const SPDM_ALG_STRUCT_COUNT_FIXED2 = 0x20
export const SPDM_ALG_STRUCT_SIZE = 4

/** Named hash algorithm and its digest size, for each SPDM BaseHash / MeasurementHash bit we support. */
export type HashName = 'sha256' | 'sha384' | 'sha512'
export const HASH_SIZE: Record<HashName, number> = {sha256: 32, sha384: 48, sha512: 64}
export function baseHashName(bit: number): HashName | undefined {
  return bit === SpdmBaseHash.SHA_256 ? 'sha256' : bit === SpdmBaseHash.SHA_384 ? 'sha384' : bit === SpdmBaseHash.SHA_512 ? 'sha512' : undefined
}
export function measHashName(bit: number): HashName | 'raw' | undefined {
  if (bit === SpdmMeasHash.RAW_BIT_STREAM_ONLY) return 'raw'
  return bit === SpdmMeasHash.SHA_256 ? 'sha256' : bit === SpdmMeasHash.SHA_384 ? 'sha384' : bit === SpdmMeasHash.SHA_512 ? 'sha512' : undefined
}
export function baseAsymName(bit: number): string {
  for (const [k, v] of Object.entries(SpdmBaseAsym)) if (v === bit) return k
  return `0x${bit.toString(16)}`
}
/** Signature size in bytes for a BaseAsym selection (ECDSA raw r‖s; RSA modulus size). */
export function asymSignatureSize(bit: number): number | undefined {
  switch (bit) {
    case SpdmBaseAsym.ECDSA_P256:
      return 64
    case SpdmBaseAsym.ECDSA_P384:
      return 96
    case SpdmBaseAsym.ECDSA_P521:
      return 132
    case SpdmBaseAsym.RSASSA_2048:
    case SpdmBaseAsym.RSAPSS_2048:
      return 256
    case SpdmBaseAsym.RSASSA_3072:
    case SpdmBaseAsym.RSAPSS_3072:
      return 384
    case SpdmBaseAsym.RSASSA_4096:
    case SpdmBaseAsym.RSAPSS_4096:
      return 512
    default:
      return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Layouts

export const SPDM_HEADER = defineLayout('SPDM_HEADER', 4, {
  version: {offset: 0, size: 1, kind: 'u8', doc: 'SPDMVersion'},
  code: {offset: 1, size: 1, kind: 'u8', doc: 'RequestResponseCode'},
  param1: {offset: 2, size: 1, kind: 'u8'},
  param2: {offset: 3, size: 1, kind: 'u8'},
})

/** VERSION response fixed part; followed by entry_count u16 version entries. */
export const SPDM_VERSION_RSP = defineLayout('SPDM_VERSION', 6, {
  header: {offset: 0, size: 4},
  reserved: {offset: 4, size: 1, kind: 'u8'},
  entry_count: {offset: 5, size: 1, kind: 'u8'},
})
export const SPDM_VERSION_ENTRY_SIZE = 2

/** GET_CAPABILITIES / CAPABILITIES (1.2 form, both 20 bytes). */
export const SPDM_CAPABILITIES = defineLayout('SPDM_CAPABILITIES', 20, {
  header: {offset: 0, size: 4},
  reserved: {offset: 4, size: 1, kind: 'u8'},
  ct_exponent: {offset: 5, size: 1, kind: 'u8'},
  reserved2: {offset: 6, size: 2, kind: 'u16'},
  flags: {offset: 8, size: 4, kind: 'u32'},
  data_transfer_size: {offset: 12, size: 4, kind: 'u32'},
  max_spdm_msg_size: {offset: 16, size: 4, kind: 'u32'},
})

/** GET_CAPABILITIES 1.0 is the bare header; 1.1 adds reserved ‖ CTExponent ‖ reserved ‖ flags (12 bytes). */
export const SPDM_CAPABILITIES_11_SIZE = 12
/** Smallest DataTransferSize a 1.2+ endpoint may declare (MinDataTransferSize). */
export const SPDM_MIN_DATA_TRANSFER_SIZE = 42

/** NEGOTIATE_ALGORITHMS (1.2) fixed part; param1 = number of AlgStructs that follow. */
export const SPDM_NEGOTIATE_ALGORITHMS = defineLayout('SPDM_NEGOTIATE_ALGORITHMS', 32, {
  header: {offset: 0, size: 4},
  length: {offset: 4, size: 2, kind: 'u16'},
  measurement_specification: {offset: 6, size: 1, kind: 'u8'},
  other_params_support: {offset: 7, size: 1, kind: 'u8'},
  base_asym_algo: {offset: 8, size: 4, kind: 'u32'},
  base_hash_algo: {offset: 12, size: 4, kind: 'u32'},
  reserved: {offset: 16, size: 12},
  ext_asym_count: {offset: 28, size: 1, kind: 'u8'},
  ext_hash_count: {offset: 29, size: 1, kind: 'u8'},
  reserved2: {offset: 30, size: 2, kind: 'u16'},
})

/** ALGORITHMS (1.2) fixed part; param1 = number of AlgStructs that follow. */
export const SPDM_ALGORITHMS = defineLayout('SPDM_ALGORITHMS', 36, {
  header: {offset: 0, size: 4},
  length: {offset: 4, size: 2, kind: 'u16'},
  measurement_specification_sel: {offset: 6, size: 1, kind: 'u8'},
  other_params_selection: {offset: 7, size: 1, kind: 'u8'},
  measurement_hash_algo: {offset: 8, size: 4, kind: 'u32'},
  base_asym_sel: {offset: 12, size: 4, kind: 'u32'},
  base_hash_sel: {offset: 16, size: 4, kind: 'u32'},
  reserved: {offset: 20, size: 12},
  ext_asym_sel_count: {offset: 32, size: 1, kind: 'u8'},
  ext_hash_sel_count: {offset: 33, size: 1, kind: 'u8'},
  reserved2: {offset: 34, size: 2, kind: 'u16'},
})

/** One AlgStruct entry of NEGOTIATE_ALGORITHMS / ALGORITHMS. */
export const SPDM_ALG_STRUCT = defineLayout('SPDM_ALG_STRUCT', SPDM_ALG_STRUCT_SIZE, {
  alg_type: {offset: 0, size: 1, kind: 'u8'},
  alg_count: {offset: 1, size: 1, kind: 'u8'},
  alg_supported: {offset: 2, size: 2, kind: 'u16'},
})

/** GET_DIGESTS has only the header; DIGESTS: header (param2 = slot mask) + one digest per slot. */

/** GET_CERTIFICATE request (param1 bits 3:0 = slot). */
export const SPDM_GET_CERTIFICATE = defineLayout('SPDM_GET_CERTIFICATE', 8, {
  header: {offset: 0, size: 4},
  offset: {offset: 4, size: 2, kind: 'u16'},
  length: {offset: 6, size: 2, kind: 'u16'},
})
/** CERTIFICATE response fixed part; followed by portion_length bytes of the chain. */
export const SPDM_CERTIFICATE_RSP = defineLayout('SPDM_CERTIFICATE', 8, {
  header: {offset: 0, size: 4},
  portion_length: {offset: 4, size: 2, kind: 'u16'},
  remainder_length: {offset: 6, size: 2, kind: 'u16'},
})

export const SPDM_NONCE_SIZE = 32
/** 1.3 RequesterContext in CHALLENGE / GET_MEASUREMENTS and echoed in their responses. */
export const SPDM_REQ_CONTEXT_SIZE = 8
/** GET_MEASUREMENTS param1 bit 1: raw bit stream requested (1.2+), bit 2: new measurement requested (1.3). */
export const SPDM_GET_MEAS_ATTR_RAW = 0x02
export const SPDM_GET_MEAS_SLOT_MASK = 0x0f
/** GET_MEASUREMENTS param1 bit 0: signature requested. */
export const SPDM_GET_MEAS_ATTR_SIGNATURE = 0x01
/** GET_MEASUREMENTS param2 operations. */
export const SPDM_MEAS_OP_COUNT = 0x00
export const SPDM_MEAS_OP_ALL = 0xff

/** GET_MEASUREMENTS (1.1/1.2 with signature requested): header + nonce + slot id. */
export const SPDM_GET_MEASUREMENTS = defineLayout('SPDM_GET_MEASUREMENTS', 37, {
  header: {offset: 0, size: 4},
  nonce: {offset: 4, size: SPDM_NONCE_SIZE, doc: 'requester nonce'},
  slot_id: {offset: 36, size: 1, kind: 'u8'},
})

/**
 * MEASUREMENTS fixed part: header (param1 = total indices for op 0; param2 bits 3:0 slot,
 * 5:4 content changed) ‖ NumberOfBlocks ‖ MeasurementRecordLength (u24). Then the record,
 * nonce[32], OpaqueDataLength u16, OpaqueData, Signature.
 */
export const SPDM_MEASUREMENTS_RSP = defineLayout('SPDM_MEASUREMENTS', 8, {
  header: {offset: 0, size: 4},
  number_of_blocks: {offset: 4, size: 1, kind: 'u8'},
  record_length: {offset: 5, size: 3, doc: 'MeasurementRecordLength (u24 LE)'},
})
export const SPDM_MEAS_CONTENT_CHANGED_SHIFT = 4
export const SPDM_MEAS_CONTENT_CHANGED_MASK = 0x30
export const SPDM_MEAS_SLOT_MASK = 0x0f
export const SPDM_OPAQUE_LENGTH_SIZE = 2
export const SPDM_MAX_OPAQUE = 1024

/** Measurement block header: Index ‖ MeasurementSpecification ‖ MeasurementSize; then the measurement. */
export const SPDM_MEAS_BLOCK = defineLayout('SPDM_MEASUREMENT_BLOCK', 4, {
  index: {offset: 0, size: 1, kind: 'u8'},
  spec: {offset: 1, size: 1, kind: 'u8'},
  size: {offset: 2, size: 2, kind: 'u16'},
})
/** DMTF measurement header: value type ‖ value size; then the value. */
export const SPDM_DMTF_MEAS = defineLayout('SPDM_DMTF_MEASUREMENT', 3, {
  value_type: {offset: 0, size: 1, kind: 'u8'},
  value_size: {offset: 1, size: 2, kind: 'u16'},
})
/** DMTF value-type bit 7: raw bit stream (else digest). */
export const DMTF_MEAS_RAW_BIT = 0x80
export const DmtfMeasType = {
  IMMUTABLE_ROM: 0,
  MUTABLE_FIRMWARE: 1,
  HARDWARE_CONFIG: 2,
  FIRMWARE_CONFIG: 3,
  MEASUREMENT_MANIFEST: 4,
  DEVICE_MODE: 5,
  VERSION: 6,
  SVN: 7,
  HASH_EXTEND: 8,
  INFORMATIONAL: 9,
  STRUCTURED_MANIFEST: 10,
} as const
export const DMTF_MEAS_TYPE_NAMES = ['immutable_rom', 'mutable_firmware', 'hardware_config', 'firmware_config', 'measurement_manifest', 'device_mode', 'version', 'svn', 'hash_extend', 'informational', 'structured_manifest']
/** Reserved measurement indices. */
export const SPDM_MEAS_INDEX_MANIFEST = 0xfd
export const SPDM_MEAS_INDEX_DEVICE_MODE = 0xfe

/** Device-mode measurement value (16 bytes). */
export const SPDM_DEVICE_MODE = defineLayout('SPDM_DEVICE_MODE', 16, {
  operational_mode_capabilities: {offset: 0, size: 4, kind: 'u32'},
  operational_mode_state: {offset: 4, size: 4, kind: 'u32'},
  device_mode_capabilities: {offset: 8, size: 4, kind: 'u32'},
  device_mode_state: {offset: 12, size: 4, kind: 'u32'},
})
export const OperationalMode = {MANUFACTURING: 0x01, VALIDATION: 0x02, NORMAL: 0x04, RECOVERY: 0x08, RMA: 0x10, DECOMMISSIONED: 0x20} as const
export const DeviceModeState = {NON_INVASIVE_DEBUG_ACTIVE: 0x01, INVASIVE_DEBUG_ACTIVE: 0x02, NON_INVASIVE_DEBUG_HAS_BEEN_ACTIVE: 0x04, INVASIVE_DEBUG_HAS_BEEN_ACTIVE: 0x08, INVASIVE_DEBUG_ACTIVE_AFTER_MFG: 0x10} as const
/** Device-mode state bits that mean a debug mode is active right now. */
export const DEVICE_MODE_DEBUG_ACTIVE_MASK = DeviceModeState.NON_INVASIVE_DEBUG_ACTIVE | DeviceModeState.INVASIVE_DEBUG_ACTIVE

/** SPDM certificate chain header (≤1.3): Length u16 (total incl. header) ‖ Reserved u16; then RootHash[H]. */
export const SPDM_CERT_CHAIN_HEADER = defineLayout('SPDM_CERT_CHAIN_HEADER', 4, {
  length: {offset: 0, size: 2, kind: 'u16'},
  reserved: {offset: 2, size: 2, kind: 'u16'},
})
export const SPDM_MAX_CERT_CHAIN = 0xffff

/** 1.2+ signing: "dmtf-spdm-v1.X.*" ×4 ‖ zero pad ‖ context, 100 bytes in all. */
export const SPDM_SIGN_PREFIX_REPEAT = 4
export const SPDM_SIGN_CONTEXT_FIELD = 36
export const SPDM_SIGN_PREFIX_SIZE = 100
export const SPDM_MEASUREMENTS_SIGN_CONTEXT = 'responder-measurements signing'
export const SPDM_CHALLENGE_AUTH_SIGN_CONTEXT = 'responder-challenge_auth signing'

/** The 100-byte combined_spdm_prefix for SPDM 1.2+ (version byte like 0x12). */
export function spdmSigningPrefix(version: number, context: string): Buffer {
  const ver = `dmtf-spdm-v${version >> 4}.${version & 0xf}.*`
  const ctx = Buffer.from(context, 'ascii')
  if (ctx.length > SPDM_SIGN_CONTEXT_FIELD) throw new Error('SPDM signing context too long')
  return Buffer.concat([Buffer.from(ver.repeat(SPDM_SIGN_PREFIX_REPEAT), 'ascii'), Buffer.alloc(SPDM_SIGN_CONTEXT_FIELD - ctx.length), ctx])
}

// ---------------------------------------------------------------------------------------------
// Encoders / decoders

export function spdmHeader(version: number, code: number, param1 = 0, param2 = 0): Buffer {
  return Buffer.from([version, code, param1, param2])
}

export interface SpdmHeader {
  version: number
  code: number
  param1: number
  param2: number
}

export function parseSpdmHeader(msg: Uint8Array, what = 'SPDM message'): SpdmHeader {
  requireSize(SPDM_HEADER, msg, 0, what)
  return {
    version: readNum(SPDM_HEADER, msg, 'version'),
    code: readNum(SPDM_HEADER, msg, 'code'),
    param1: readNum(SPDM_HEADER, msg, 'param1'),
    param2: readNum(SPDM_HEADER, msg, 'param2'),
  }
}

export const readU24 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)
export function writeU24(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff
  b[o + 1] = (v >> 8) & 0xff
  b[o + 2] = (v >> 16) & 0xff
}

/** A decoded measurement block (DMTF specification). */
export interface MeasurementBlock {
  index: number
  spec: number
  /** DMTF value type byte (bit 7 raw, bits 6:0 type) */
  value_type: number
  value: Buffer
}

export const blockIsRaw = (b: MeasurementBlock): boolean => (b.value_type & DMTF_MEAS_RAW_BIT) !== 0
export const blockTypeName = (b: MeasurementBlock): string => DMTF_MEAS_TYPE_NAMES[b.value_type & 0x7f] ?? `type_${b.value_type & 0x7f}`

/** Encode measurement blocks into a MeasurementRecord. */
export function encodeMeasurementRecord(blocks: readonly MeasurementBlock[]): Buffer {
  const parts: Buffer[] = []
  for (const b of blocks) {
    const head = Buffer.alloc(SPDM_MEAS_BLOCK.size + SPDM_DMTF_MEAS.size)
    head[SPDM_MEAS_BLOCK.fields.index.offset] = b.index
    head[SPDM_MEAS_BLOCK.fields.spec.offset] = b.spec
    head.writeUInt16LE(SPDM_DMTF_MEAS.size + b.value.length, SPDM_MEAS_BLOCK.fields.size.offset)
    const d = SPDM_MEAS_BLOCK.size
    head[d + SPDM_DMTF_MEAS.fields.value_type.offset] = b.value_type
    head.writeUInt16LE(b.value.length, d + SPDM_DMTF_MEAS.fields.value_size.offset)
    parts.push(head, b.value)
  }
  return Buffer.concat(parts)
}

/**
 * Decode a MeasurementRecord into blocks. Every size is bounds-checked; a DMTF block's value size
 * must agree with its MeasurementSize; `expectedBlocks` (NumberOfBlocks) must match when given.
 */
export function decodeMeasurementRecord(rec: Uint8Array, expectedBlocks?: number): MeasurementBlock[] {
  const buf = Buffer.from(rec.buffer, rec.byteOffset, rec.byteLength)
  const out: MeasurementBlock[] = []
  let off = 0
  while (off < buf.length) {
    requireSize(SPDM_MEAS_BLOCK, buf, off, `measurement block ${out.length}`)
    const index = readNum(SPDM_MEAS_BLOCK, buf, 'index', off)
    const spec = readNum(SPDM_MEAS_BLOCK, buf, 'spec', off)
    const size = readNum(SPDM_MEAS_BLOCK, buf, 'size', off)
    const body = off + SPDM_MEAS_BLOCK.size
    if (body + size > buf.length) throw new ParseError('MEAS_BLOCK_OVERRUN', `measurement block index ${index} at offset ${off}: size ${size} runs past the record (${buf.length} bytes)`)
    if (spec !== SPDM_MEAS_SPEC_DMTF) throw new ParseError('MEAS_BLOCK_SPEC', `measurement block index ${index}: specification 0x${spec.toString(16)} is not DMTF`)
    if (size < SPDM_DMTF_MEAS.size) throw new ParseError('MEAS_BLOCK_SHORT', `measurement block index ${index}: size ${size} shorter than the DMTF header`)
    const valueType = readNum(SPDM_DMTF_MEAS, buf, 'value_type', body)
    const valueSize = readNum(SPDM_DMTF_MEAS, buf, 'value_size', body)
    if (valueSize + SPDM_DMTF_MEAS.size !== size) {
      throw new ParseError('MEAS_BLOCK_SIZE', `measurement block index ${index}: value size ${valueSize} + 3 does not equal measurement size ${size}`)
    }
    const vstart = body + SPDM_DMTF_MEAS.size
    out.push({index, spec, value_type: valueType, value: Buffer.from(buf.subarray(vstart, vstart + valueSize))})
    off = body + size
  }
  if (expectedBlocks !== undefined && expectedBlocks !== out.length) {
    throw new ParseError('MEAS_BLOCK_COUNT', `MEASUREMENTS says ${expectedBlocks} blocks, record holds ${out.length}`)
  }
  return out
}

/** A parsed MEASUREMENTS response. `signed_part` is everything before the signature (what L1/L2 includes). */
export interface MeasurementsResponse {
  header: SpdmHeader
  number_of_blocks: number
  record: Buffer
  blocks: MeasurementBlock[]
  nonce: Buffer
  opaque: Buffer
  /** 1.3+: the RequesterContext echoed from GET_MEASUREMENTS */
  requester_context?: Buffer
  signature: Buffer
  signed_part: Buffer
  /** bytes of the response proper (without transport padding) */
  size: number
  slot_id: number
  content_changed: number
}

/**
 * Parse a MEASUREMENTS response whose signature is `sigSize` bytes (0 when unsigned). Exact length.
 * From SPDM 1.3 (taken from the header's version byte) the 8-byte RequesterContext sits between the
 * opaque data and the signature, and is part of the signed bytes.
 */
export function parseMeasurementsResponse(msg: Uint8Array, sigSize: number, maxTrailing = 0): MeasurementsResponse {
  const buf = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength)
  const header = parseSpdmHeader(buf, 'MEASUREMENTS')
  if (header.code !== SpdmResponse.MEASUREMENTS) throw new ParseError('SPDM_UNEXPECTED_CODE', `expected MEASUREMENTS (0x60), got 0x${header.code.toString(16)}`)
  requireSize(SPDM_MEASUREMENTS_RSP, buf, 0, 'MEASUREMENTS')
  const nblocks = readNum(SPDM_MEASUREMENTS_RSP, buf, 'number_of_blocks')
  const recLen = readU24(buf, SPDM_MEASUREMENTS_RSP.fields.record_length.offset)
  let off = SPDM_MEASUREMENTS_RSP.size
  const need = (n: number, what: string) => {
    if (off + n > buf.length) throw new ParseError('TRUNCATED', `MEASUREMENTS: ${what} needs ${n} bytes at offset ${off}, message has ${buf.length}`)
  }
  need(recLen, 'measurement record')
  const record = Buffer.from(buf.subarray(off, off + recLen))
  off += recLen
  need(SPDM_NONCE_SIZE, 'nonce')
  const nonce = Buffer.from(buf.subarray(off, off + SPDM_NONCE_SIZE))
  off += SPDM_NONCE_SIZE
  need(SPDM_OPAQUE_LENGTH_SIZE, 'opaque length')
  const opaqueLen = buf.readUInt16LE(off)
  off += SPDM_OPAQUE_LENGTH_SIZE
  if (opaqueLen > SPDM_MAX_OPAQUE) throw new ParseError('SPDM_OPAQUE_TOO_LONG', `MEASUREMENTS: opaque data length ${opaqueLen} exceeds ${SPDM_MAX_OPAQUE}`)
  need(opaqueLen, 'opaque data')
  const opaque = Buffer.from(buf.subarray(off, off + opaqueLen))
  off += opaqueLen
  let requesterContext: Buffer | undefined
  if (header.version >= SPDM_VERSION_13) {
    need(SPDM_REQ_CONTEXT_SIZE, 'requester context')
    requesterContext = Buffer.from(buf.subarray(off, off + SPDM_REQ_CONTEXT_SIZE))
    off += SPDM_REQ_CONTEXT_SIZE
  }
  const signedPart = Buffer.from(buf.subarray(0, off))
  need(sigSize, 'signature')
  const signature = Buffer.from(buf.subarray(off, off + sigSize))
  off += sigSize
  if (off + maxTrailing < buf.length) throw new ParseError('SPDM_TRAILING', `MEASUREMENTS: ${buf.length - off} unexpected trailing bytes`)
  const blocks = decodeMeasurementRecord(record, nblocks)
  return {
    header,
    number_of_blocks: nblocks,
    record,
    blocks,
    nonce,
    opaque,
    requester_context: requesterContext,
    signature,
    signed_part: signedPart,
    size: off,
    slot_id: header.param2 & SPDM_MEAS_SLOT_MASK,
    content_changed: (header.param2 & SPDM_MEAS_CONTENT_CHANGED_MASK) >> SPDM_MEAS_CONTENT_CHANGED_SHIFT,
  }
}

/** A parsed GET_MEASUREMENTS request. */
export interface GetMeasurementsRequest {
  header: SpdmHeader
  signature_requested: boolean
  operation: number
  nonce: Buffer
  slot_id: number
  /** 1.3+: RequesterContext */
  requester_context?: Buffer
  /** bytes of the request proper (what the transcript holds) */
  size: number
}

/** Size of a GET_MEASUREMENTS for its version and attributes (nonce + slot when signed; 1.3 context). */
export function getMeasurementsSize(version: number, signed: boolean): number {
  const base = signed ? (version >= SPDM_VERSION_11 ? SPDM_GET_MEASUREMENTS.size : SPDM_GET_MEASUREMENTS.fields.slot_id.offset) : SPDM_HEADER.size
  return base + (version >= SPDM_VERSION_13 ? SPDM_REQ_CONTEXT_SIZE : 0)
}

/**
 * Parse GET_MEASUREMENTS. `exact` (the default, for evidence) refuses trailing bytes; a responder
 * passes false and reads the request prefix, as libspdm does.
 */
export function parseGetMeasurements(msg: Uint8Array, exact = true): GetMeasurementsRequest {
  const buf = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength)
  const header = parseSpdmHeader(buf, 'GET_MEASUREMENTS')
  if (header.code !== SpdmRequest.GET_MEASUREMENTS) throw new ParseError('SPDM_UNEXPECTED_CODE', `expected GET_MEASUREMENTS (0xE0), got 0x${header.code.toString(16)}`)
  const signed = (header.param1 & SPDM_GET_MEAS_ATTR_SIGNATURE) !== 0
  const size = getMeasurementsSize(header.version, signed)
  if (exact ? buf.length !== size : buf.length < size) throw new ParseError('SPDM_BAD_LENGTH', `GET_MEASUREMENTS (SPDM ${versionByteString(header.version)}, ${signed ? 'signed' : 'unsigned'}) must be ${size} bytes, got ${buf.length}`)
  const f = SPDM_GET_MEASUREMENTS.fields
  const ctxAt = size - SPDM_REQ_CONTEXT_SIZE
  return {
    header,
    signature_requested: signed,
    operation: header.param2,
    nonce: signed ? Buffer.from(buf.subarray(f.nonce.offset, f.nonce.offset + f.nonce.size)) : Buffer.alloc(0),
    slot_id: signed && header.version >= SPDM_VERSION_11 ? readNum(SPDM_GET_MEASUREMENTS, buf, 'slot_id') & SPDM_GET_MEAS_SLOT_MASK : 0,
    requester_context: header.version >= SPDM_VERSION_13 ? Buffer.from(buf.subarray(ctxAt, ctxAt + SPDM_REQ_CONTEXT_SIZE)) : undefined,
    size,
  }
}

/** Negotiated parameters recovered from a VCA transcript (GET_VERSION … ALGORITHMS). */
export interface VcaInfo {
  versions: number[]
  /** SPDMVersion byte of the CAPABILITIES/ALGORITHMS exchange (the negotiated version) */
  version: number
  responder_flags: number
  requester_flags: number
  measurement_spec: number
  measurement_hash_algo: number
  base_asym_sel: number
  base_hash_sel: number
  alg_structs: Array<{type: number; selected: number}>
  /** Byte ranges of each message, for display */
  messages: Array<{name: string; offset: number; length: number}>
}

/**
 * Split and decode a VCA transcript: GET_VERSION ‖ VERSION ‖ GET_CAPABILITIES ‖ CAPABILITIES ‖
 * NEGOTIATE_ALGORITHMS ‖ ALGORITHMS, each length derived from its own fields. Exact length.
 */
export function parseVca(vca: Uint8Array): VcaInfo {
  const buf = Buffer.from(vca.buffer, vca.byteOffset, vca.byteLength)
  const messages: VcaInfo['messages'] = []
  let off = 0
  const take = (name: string, code: number, len: (o: number) => number): number => {
    requireSize(SPDM_HEADER, buf, off, `VCA ${name}`)
    const h = parseSpdmHeader(buf.subarray(off))
    if (h.code !== code) throw new ParseError('VCA_UNEXPECTED_CODE', `VCA: expected ${name} (0x${code.toString(16)}) at offset ${off}, got 0x${h.code.toString(16)}`)
    const n = len(off)
    if (off + n > buf.length) throw new ParseError('TRUNCATED', `VCA ${name}: needs ${n} bytes at offset ${off}, transcript has ${buf.length}`)
    messages.push({name, offset: off, length: n})
    const at = off
    off += n
    return at
  }
  take('GET_VERSION', SpdmRequest.GET_VERSION, () => SPDM_HEADER.size)
  const vAt = take('VERSION', SpdmResponse.VERSION, (o) => {
    requireSize(SPDM_VERSION_RSP, buf, o, 'VERSION')
    return SPDM_VERSION_RSP.size + SPDM_VERSION_ENTRY_SIZE * readNum(SPDM_VERSION_RSP, buf, 'entry_count', o)
  })
  const versions: number[] = []
  for (let i = 0; i < readNum(SPDM_VERSION_RSP, buf, 'entry_count', vAt); i++) versions.push(buf.readUInt16LE(vAt + SPDM_VERSION_RSP.size + i * SPDM_VERSION_ENTRY_SIZE))
  const reqCapAt = take('GET_CAPABILITIES', SpdmRequest.GET_CAPABILITIES, () => SPDM_CAPABILITIES.size)
  const capAt = take('CAPABILITIES', SpdmResponse.CAPABILITIES, () => SPDM_CAPABILITIES.size)
  take('NEGOTIATE_ALGORITHMS', SpdmRequest.NEGOTIATE_ALGORITHMS, (o) => {
    requireSize(SPDM_NEGOTIATE_ALGORITHMS, buf, o, 'NEGOTIATE_ALGORITHMS')
    return readNum(SPDM_NEGOTIATE_ALGORITHMS, buf, 'length', o)
  })
  const algAt = take('ALGORITHMS', SpdmResponse.ALGORITHMS, (o) => {
    requireSize(SPDM_ALGORITHMS, buf, o, 'ALGORITHMS')
    return readNum(SPDM_ALGORITHMS, buf, 'length', o)
  })
  if (off !== buf.length) throw new ParseError('VCA_TRAILING', `VCA: ${buf.length - off} unexpected trailing bytes`)
  const algHdr = parseSpdmHeader(buf.subarray(algAt))
  const structs: VcaInfo['alg_structs'] = []
  const structBase = algAt + SPDM_ALGORITHMS.size
  for (let i = 0; i < algHdr.param1; i++) {
    const o = structBase + i * SPDM_ALG_STRUCT_SIZE
    if (o + SPDM_ALG_STRUCT_SIZE > algAt + readNum(SPDM_ALGORITHMS, buf, 'length', algAt)) throw new ParseError('VCA_ALG_STRUCT', 'ALGORITHMS: AlgStruct table runs past the message length')
    structs.push({type: readNum(SPDM_ALG_STRUCT, buf, 'alg_type', o), selected: readNum(SPDM_ALG_STRUCT, buf, 'alg_supported', o)})
  }
  return {
    versions,
    version: algHdr.version,
    responder_flags: readNum(SPDM_CAPABILITIES, buf, 'flags', capAt),
    requester_flags: readNum(SPDM_CAPABILITIES, buf, 'flags', reqCapAt),
    measurement_spec: readNum(SPDM_ALGORITHMS, buf, 'measurement_specification_sel', algAt),
    measurement_hash_algo: readNum(SPDM_ALGORITHMS, buf, 'measurement_hash_algo', algAt),
    base_asym_sel: readNum(SPDM_ALGORITHMS, buf, 'base_asym_sel', algAt),
    base_hash_sel: readNum(SPDM_ALGORITHMS, buf, 'base_hash_sel', algAt),
    alg_structs: structs,
    messages,
  }
}

/** Version entry u16 → "1.2" (bits 15:12 major, 11:8 minor). */
export const versionEntryString = (v: number): string => `${(v >> 12) & 0xf}.${(v >> 8) & 0xf}`
export const versionByteString = (v: number): string => `${v >> 4}.${v & 0xf}`

// ---------------------------------------------------------------------------------------------
// Authentication and session messages (DSP0274 1.1–1.3; DMTF/libspdm include/industry_standard/spdm.h)

/** CHALLENGE: header (param1 slot, param2 measurement summary hash type) ‖ nonce[32] (‖ 1.3 RequesterContext[8]). */
export const SPDM_CHALLENGE = defineLayout('SPDM_CHALLENGE', 36, {
  header: {offset: 0, size: 4},
  nonce: {offset: 4, size: SPDM_NONCE_SIZE},
})
/** CHALLENGE_AUTH param1: bits 3:0 slot id; bit 7 BasicMutAuthReq (not used by tdxkit). */
export const SPDM_CHALLENGE_AUTH_SLOT_MASK = 0x0f
/** Measurement summary hash types (CHALLENGE / KEY_EXCHANGE param). */
export const SpdmSummaryHash = {NONE: 0x00, TCB: 0x01, ALL: 0xff} as const

/** KEY_EXCHANGE fixed part; then ExchangeData[D] ‖ OpaqueDataLength u16 ‖ OpaqueData. param1 = summary hash type, param2 = slot. */
export const SPDM_KEY_EXCHANGE = defineLayout('SPDM_KEY_EXCHANGE', 40, {
  header: {offset: 0, size: 4},
  req_session_id: {offset: 4, size: 2, kind: 'u16'},
  session_policy: {offset: 6, size: 1, kind: 'u8', doc: 'SessionPolicy (1.2+)'},
  reserved: {offset: 7, size: 1, kind: 'u8'},
  random: {offset: 8, size: 32},
})
/**
 * KEY_EXCHANGE_RSP fixed part (param1 = heartbeat period); then ExchangeData[D] ‖
 * MeasurementSummaryHash[H or 0] ‖ OpaqueDataLength u16 ‖ OpaqueData ‖ Signature[S] ‖ ResponderVerifyData[H].
 */
export const SPDM_KEY_EXCHANGE_RSP = defineLayout('SPDM_KEY_EXCHANGE_RSP', 40, {
  header: {offset: 0, size: 4},
  rsp_session_id: {offset: 4, size: 2, kind: 'u16'},
  mut_auth_requested: {offset: 6, size: 1, kind: 'u8'},
  req_slot_id_param: {offset: 7, size: 1, kind: 'u8'},
  random: {offset: 8, size: 32},
})
export const SPDM_RANDOM_SIZE = 32
/** FINISH param1 bit 0: a requester signature follows (mutual authentication). */
export const SPDM_FINISH_ATTR_SIGNATURE = 0x01
/** KEY_UPDATE operations (param1); param2 is the tag echoed in KEY_UPDATE_ACK. */
export const SpdmKeyUpdateOp = {UPDATE_KEY: 1, UPDATE_ALL_KEYS: 2, VERIFY_NEW_KEY: 3} as const
/** END_SESSION param1 bit 0: preserve the negotiated state. */
export const SPDM_END_SESSION_PRESERVE_STATE = 0x01
/** ERROR param2 / ResponseNotReady data sizes are not used: tdxkit never answers "not ready". */

/** DHE public-key (ExchangeData) sizes: X ‖ Y for the NIST curves. */
export const DHE_PUBLIC_SIZE: Record<number, number> = {[SpdmDhe.SECP256R1]: 64, [SpdmDhe.SECP384R1]: 96, [SpdmDhe.SECP521R1]: 132}

// ---------------------------------------------------------------------------------------------
// Opaque data (general opaque data format 1) carrying the secured-message version (DSP0277)

/** OpaqueData header of format 1: TotalElements u8 ‖ Reserved[3]. */
export const SPDM_OPAQUE_HEADER = defineLayout('SPDM_GENERAL_OPAQUE_DATA_TABLE_HEADER', 4, {
  total_elements: {offset: 0, size: 1, kind: 'u8'},
  reserved: {offset: 1, size: 3},
})
/** One opaque element: ID (registry) ‖ VendorLen ‖ OpaqueElementDataLen u16; data padded to 4 bytes. */
export const SPDM_OPAQUE_ELEMENT = defineLayout('SPDM_OPAQUE_ELEMENT_TABLE_HEADER', 4, {
  id: {offset: 0, size: 1, kind: 'u8', doc: 'registry id (0 = DMTF)'},
  vendor_len: {offset: 1, size: 1, kind: 'u8'},
  data_length: {offset: 2, size: 2, kind: 'u16'},
})
export const SPDM_OPAQUE_ALIGN = 4
/** Secured-message opaque element data: SMDataVersion ‖ SMDataID, then a selection or a version list. */
export const SECURED_OPAQUE_ELEMENT_HEADER = defineLayout('SECURED_MESSAGE_OPAQUE_ELEMENT_HEADER', 2, {
  sm_data_version: {offset: 0, size: 1, kind: 'u8'},
  sm_data_id: {offset: 1, size: 1, kind: 'u8'},
})
export const SECURED_OPAQUE_DATA_VERSION = 1
export const SecuredOpaqueId = {VERSION_SELECTION: 0, SUPPORTED_VERSION_LIST: 1} as const
export const SPDM_REGISTRY_ID_DMTF = 0

// ---------------------------------------------------------------------------------------------
// VENDOR_DEFINED_REQUEST / RESPONSE (classic format)

/** Registry ids (StandardID) of VENDOR_DEFINED messages. */
export const SpdmRegistry = {DMTF: 0, TCG: 1, USB: 2, PCISIG: 3, IANA: 4, HDBASET: 5, MIPI: 6, CXL: 7, JEDEC: 8} as const
/** VENDOR_DEFINED fixed part: header ‖ StandardID u16 ‖ Len u8; then VendorID[Len] ‖ ReqLength/RespLength u16 ‖ payload. */
export const SPDM_VENDOR_DEFINED = defineLayout('SPDM_VENDOR_DEFINED', 7, {
  header: {offset: 0, size: 4},
  standard_id: {offset: 4, size: 2, kind: 'u16'},
  vendor_id_len: {offset: 6, size: 1, kind: 'u8'},
})
export const SPDM_VENDOR_PAYLOAD_LENGTH_SIZE = 2
/** 1.4 large VDM format (param1 bit 7): not offered by tdxkit (it negotiates at most 1.3). */
export const SPDM_VENDOR_LARGE_FLAG = 0x80

/** SPDM ERROR: header (param1 code, param2 data). */
export const SPDM_ERROR_SIZE = 4
