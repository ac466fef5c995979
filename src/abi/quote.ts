/**
 * Intel DCAP quote format: SGX v3, TDX v4 (TD10 body) and TDX v5 (body descriptor + TD10/TD15 body).
 *
 *   v3: header(48) ‖ SGX report body(384)            ‖ u32 sig_len ‖ sig data v3
 *   v4: header(48) ‖ TD10 body(584)                  ‖ u32 sig_len ‖ sig data v4
 *   v5: header(48) ‖ u16 type ‖ u32 size ‖ body(584|648) ‖ u32 sig_len ‖ sig data v4
 *
 * v4/v5 signature data: ECDSA sig(64) ‖ attestation key(64) ‖ cert data type 6 (u16) ‖ size (u32) ‖
 *   QE report(384) ‖ QE report sig(64) ‖ u16 auth len ‖ auth data ‖ inner cert type 5 (u16) ‖ size (u32) ‖ PEM.
 * v3 signature data: ECDSA sig(64) ‖ attestation key(64) ‖ QE report(384) ‖ QE report sig(64) ‖
 *   u16 auth len ‖ auth data ‖ cert type (u16) ‖ size (u32) ‖ cert data.
 *
 * Parsing reads exactly the declared signature-data length; bytes after it (zero padding, text) are
 * tolerated and reported as `trailing_bytes`, never hashed. All nested sizes must add up exactly.
 */
import {ParseError} from '../errors.js'
import {decodeAll, defineLayout, requireSize, writeField, type Layout} from './layout.js'

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

export const QUOTE_VERSION_SGX = 3
export const QUOTE_VERSION_TDX = 4
export const QUOTE_VERSION_TDX_V5 = 5
export const ATT_KEY_TYPE_ECDSA_P256 = 2
export const TEE_TYPE_SGX = 0x00
export const TEE_TYPE_TDX = 0x81
/** v5 body descriptor types. */
export const BODY_TYPE_SGX = 1
export const BODY_TYPE_TD10 = 2
export const BODY_TYPE_TD15 = 3
/** Certification data types (Intel DCAP quote library spec). */
export const CERT_DATA_TYPE_PPID_CLEARTEXT = 1
export const CERT_DATA_TYPE_PPID_RSA2048 = 2
export const CERT_DATA_TYPE_PPID_RSA3072 = 3
export const CERT_DATA_TYPE_PCK_CERT = 4
export const CERT_DATA_TYPE_PCK_CHAIN = 5
export const CERT_DATA_TYPE_QE_REPORT = 6
/** Intel's QE vendor ID (939a7233-f79c-4ca9-940a-0db3957f0607). */
export const INTEL_QE_VENDOR_ID = Buffer.from('939a7233f79c4ca9940a0db3957f0607', 'hex')
export const ECDSA_SIG_SIZE = 64
export const ECDSA_PUBKEY_SIZE = 64
/** The QE report's REPORTDATA starts with SHA-256(attestation key ‖ QE auth data): this many bytes. */
export const QE_REPORT_DATA_BINDING_SIZE = 32

/**
 * Byte indices into TEE_TCB_SVN and TEE_TCB_SVN2 (16 bytes each; Intel's TCB info labels the
 * matching tdxtcbcomponents the same way).
 */
export const TEE_TCB_SVN_BYTE = {
  /** TDX module SVN (minor): compared with a module identity level's isvsvn. */
  MODULE_SVN: 0,
  /** TDX module major version: > 0 selects the TCB info's module identity TDX_%02X. */
  MODULE_MAJOR: 1,
  /** TDX late microcode SVN. */
  LATE_MICROCODE_SVN: 2,
} as const
/** The first TEE_TCB_SVN index compared with a level's tdxtcbcomponents when a module identity applies (Intel skips the module's own bytes). */
export const TDX_COMPONENTS_FIRST_WITH_MODULE_IDENTITY = 2

/** TD_ATTRIBUTES bits (TDX module ABI). */
export const TD_ATTR = {
  DEBUG: 0n,
  SEPT_VE_DISABLE: 28n,
  PKS: 30n,
  KL: 31n,
  PERFMON: 63n,
} as const
/** TUD reserved bits 1..7 (byte 0 of TD_ATTRIBUTES besides DEBUG). */
export const TD_ATTR_TUD_RESERVED_MASK = 0xfen
/** SGX enclave ATTRIBUTES.DEBUG (bit 1 of the flags qword). */
export const SGX_ATTR_DEBUG = 1n << 1n

// ---------------------------------------------------------------------------------------------
// Layouts
// ---------------------------------------------------------------------------------------------

export const QUOTE_HEADER = defineLayout('QUOTE_HEADER', 48, {
  version: {offset: 0, size: 2, kind: 'u16', doc: 'quote version (3 SGX, 4 TDX, 5 TDX with body descriptor)'},
  att_key_type: {offset: 2, size: 2, kind: 'u16', doc: 'attestation key type (2 = ECDSA-256 P-256)'},
  tee_type: {offset: 4, size: 4, kind: 'u32', doc: 'TEE type (0x00 SGX, 0x81 TDX)'},
  qe_svn: {offset: 8, size: 2, kind: 'u16', doc: 'QE SVN (v3) / reserved (v4, v5)'},
  pce_svn: {offset: 10, size: 2, kind: 'u16', doc: 'PCE SVN (v3) / reserved (v4, v5)'},
  qe_vendor_id: {offset: 12, size: 16, doc: 'QE vendor ID (Intel 939a7233f79c4ca9940a0db3957f0607)'},
  user_data: {offset: 28, size: 20, doc: 'user data (first 16 bytes: QE ID)'},
})

export const BODY_DESCRIPTOR = defineLayout('BODY_DESCRIPTOR', 6, {
  body_type: {offset: 0, size: 2, kind: 'u16', doc: 'body type (1 SGX, 2 TD10, 3 TD15)'},
  body_size: {offset: 2, size: 4, kind: 'u32', doc: 'body size in bytes'},
})

const TD10_FIELDS = {
  tee_tcb_svn: {offset: 0, size: 16, doc: 'TEE_TCB_SVN ([0] module SVN, [1] module major version, [2] late microcode SVN)'},
  mrseam: {offset: 16, size: 48, doc: 'MRSEAM (TDX module measurement)'},
  mrsignerseam: {offset: 64, size: 48, doc: 'MRSIGNERSEAM (zero for Intel module)'},
  seam_attributes: {offset: 112, size: 8, doc: 'SEAMATTRIBUTES'},
  td_attributes: {offset: 120, size: 8, doc: 'TD_ATTRIBUTES (bit 0 DEBUG, 28 SEPT_VE_DISABLE, 30 PKS, 31 KL, 63 PERFMON)'},
  xfam: {offset: 128, size: 8, doc: 'XFAM'},
  mrtd: {offset: 136, size: 48, doc: 'MRTD (initial TD measurement)'},
  mrconfigid: {offset: 184, size: 48, doc: 'MRCONFIGID'},
  mrowner: {offset: 232, size: 48, doc: 'MROWNER'},
  mrownerconfig: {offset: 280, size: 48, doc: 'MROWNERCONFIG'},
  rtmr0: {offset: 328, size: 48, doc: 'RTMR0'},
  rtmr1: {offset: 376, size: 48, doc: 'RTMR1'},
  rtmr2: {offset: 424, size: 48, doc: 'RTMR2'},
  rtmr3: {offset: 472, size: 48, doc: 'RTMR3'},
  report_data: {offset: 520, size: 64, doc: 'REPORTDATA'},
} as const

export const TD10_BODY = defineLayout('TD10_BODY', 584, TD10_FIELDS)

export const TD15_BODY = defineLayout('TD15_BODY', 648, {
  ...TD10_FIELDS,
  tee_tcb_svn2: {offset: 584, size: 16, doc: 'TEE_TCB_SVN2 (module after a TD-preserving update)'},
  mr_servicetd: {offset: 600, size: 48, doc: 'MR_SERVICETD'},
})

/** SGX enclave report body (384 bytes): the SGX v3 quote body and the QE report. */
export const SGX_REPORT_BODY = defineLayout('SGX_REPORT_BODY', 384, {
  cpusvn: {offset: 0, size: 16, doc: 'CPUSVN'},
  miscselect: {offset: 16, size: 4, kind: 'u32', doc: 'MISCSELECT'},
  reserved1: {offset: 20, size: 28, doc: 'reserved'},
  attributes: {offset: 48, size: 16, doc: 'ATTRIBUTES (flags ‖ xfrm)'},
  mrenclave: {offset: 64, size: 32, doc: 'MRENCLAVE'},
  reserved2: {offset: 96, size: 32, doc: 'reserved'},
  mrsigner: {offset: 128, size: 32, doc: 'MRSIGNER'},
  reserved3: {offset: 160, size: 96, doc: 'reserved'},
  isvprodid: {offset: 256, size: 2, kind: 'u16', doc: 'ISVPRODID'},
  isvsvn: {offset: 258, size: 2, kind: 'u16', doc: 'ISVSVN'},
  reserved4: {offset: 260, size: 60, doc: 'reserved'},
  report_data: {offset: 320, size: 64, doc: 'REPORTDATA'},
})
/** The QE's report in a quote's signature data is an SGX report body (same layout, its own name). @alias */
export const QE_REPORT = SGX_REPORT_BODY

export const SIG_DATA_LENGTH = defineLayout('SIG_DATA_LENGTH', 4, {
  signature_data_len: {offset: 0, size: 4, kind: 'u32', doc: 'signature data length'},
})

/** v4/v5 signature data up to (and including) the outer certification data header. */
export const SIG_DATA_V4 = defineLayout('SIG_DATA_V4', 134, {
  signature: {offset: 0, size: 64, doc: 'ECDSA P-256 signature r‖s over header ‖ [descriptor] ‖ body'},
  attestation_key: {offset: 64, size: 64, doc: 'attestation public key x‖y'},
  cert_data_type: {offset: 128, size: 2, kind: 'u16', doc: 'certification data type (6 = QE report)'},
  cert_data_size: {offset: 130, size: 4, kind: 'u32', doc: 'certification data size'},
})

/** Type-6 certification data up to the QE authentication data. */
export const QE_REPORT_CERT_DATA = defineLayout('QE_REPORT_CERT_DATA', 450, {
  qe_report: {offset: 0, size: 384, doc: 'QE report (SGX report body of the quoting enclave)'},
  qe_report_signature: {offset: 384, size: 64, doc: 'QE report signature r‖s (PCK key)'},
  qe_auth_data_size: {offset: 448, size: 2, kind: 'u16', doc: 'QE authentication data size'},
})

/** v3 signature data up to the QE authentication data. */
export const SIG_DATA_V3 = defineLayout('SIG_DATA_V3', 578, {
  signature: {offset: 0, size: 64, doc: 'ECDSA P-256 signature r‖s over header ‖ body'},
  attestation_key: {offset: 64, size: 64, doc: 'attestation public key x‖y'},
  qe_report: {offset: 128, size: 384, doc: 'QE report'},
  qe_report_signature: {offset: 512, size: 64, doc: 'QE report signature r‖s (PCK key)'},
  qe_auth_data_size: {offset: 576, size: 2, kind: 'u16', doc: 'QE authentication data size'},
})

/** Header of a certification data block (inner type-5 block in v4/v5; the only block in v3). */
export const CERT_DATA_HEADER = defineLayout('CERT_DATA_HEADER', 6, {
  type: {offset: 0, size: 2, kind: 'u16', doc: 'certification data type'},
  size: {offset: 2, size: 4, kind: 'u32', doc: 'certification data size'},
})

export const BODY_LAYOUT_BY_TYPE: Record<number, Layout<string>> = {
  [BODY_TYPE_SGX]: SGX_REPORT_BODY,
  [BODY_TYPE_TD10]: TD10_BODY,
  [BODY_TYPE_TD15]: TD15_BODY,
}

/** Smallest thing that can be a quote: v4 header + TD10 body + sig length. */
export const MIN_QUOTE_SIZE = QUOTE_HEADER.size + SGX_REPORT_BODY.size + SIG_DATA_LENGTH.size

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export type TdBodyField = keyof typeof TD10_FIELDS | 'tee_tcb_svn2' | 'mr_servicetd'
export type SgxReportField = (typeof SGX_REPORT_BODY.order)[number]

export interface QuoteHeader {
  version: number
  att_key_type: number
  tee_type: number
  qe_svn: number
  pce_svn: number
  qe_vendor_id: Buffer
  user_data: Buffer
}

/** Byte range of a piece of the quote (absolute offsets). */
export interface Span {
  offset: number
  size: number
}

export interface ParsedQuote {
  version: 3 | 4 | 5
  header: QuoteHeader
  /** 1 SGX enclave report, 2 TD10, 3 TD15 (from the v5 descriptor, or implied by v3/v4). */
  body_type: 1 | 2 | 3
  body: Buffer
  /** TD body fields (TDX quotes) as views into the body. */
  td?: Partial<Record<TdBodyField, Buffer>> & Record<keyof typeof TD10_FIELDS, Buffer>
  /** SGX enclave report fields (v3 quotes). */
  sgx?: Record<SgxReportField, Buffer>
  /** header ‖ [descriptor] ‖ body: what the attestation key signs. */
  signed_region: Buffer
  signature_data_len: number
  signature: Buffer
  attestation_key: Buffer
  /** Outer certification data type (6 for v4/v5; the certification type itself for v3). */
  cert_data_type: number
  qe_report: Buffer
  qe_report_signature: Buffer
  qe_auth_data: Buffer
  /** The innermost certification data (5 = PEM chain in all real quotes). */
  pck_cert_data_type: number
  pck_cert_data: Buffer
  /** The PEM text when pck_cert_data_type is 5. */
  pck_chain_pem?: string
  /** Bytes consumed (header through end of signature data). */
  length: number
  /** Bytes after the declared signature data (ignored; reported). */
  trailing_bytes: number
  spans: {
    header: Span
    descriptor?: Span
    body: Span
    signature_data: Span
    qe_report: Span
    qe_auth_data: Span
    pck_cert_data: Span
  }
  raw: Buffer
}

export interface QuoteParts {
  version: 4 | 5
  header: {att_key_type: number; tee_type: number; qe_svn: number; pce_svn: number; qe_vendor_id: Buffer; user_data: Buffer}
  /** v5 only: 2 = TD10, 3 = TD15 (default from the body length). */
  body_type?: 2 | 3
  body: Buffer
  signature: Buffer
  attestation_key: Buffer
  qe_report: Buffer
  qe_report_signature: Buffer
  qe_auth_data: Buffer
  pck_chain_pem: string
}

// ---------------------------------------------------------------------------------------------
// Parse
// ---------------------------------------------------------------------------------------------

const asBuf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength))

/** A field of `layout` in `buf` at `base`, as a view (one object per field; layout.field, for any Uint8Array, makes two). */
function view<F extends string>(layout: Layout<F>, buf: Buffer, name: F, base = 0): Buffer {
  const f = layout.fields[name]
  return buf.subarray(base + f.offset, base + f.offset + f.size)
}

/** An unsigned little-endian integer field (u8, u16 or u32) of `layout` in `buf` at `base`. */
function uint<F extends string>(layout: Layout<F>, buf: Buffer, name: F, base = 0): number {
  const f = layout.fields[name]
  return buf.readUIntLE(base + f.offset, f.size)
}

function fieldsOf<F extends string>(layout: Layout<F>, buf: Buffer): Record<F, Buffer> {
  const out = {} as Record<F, Buffer>
  for (const name of layout.order) out[name] = view(layout, buf, name)
  return out
}

function need(buf: Buffer, off: number, n: number, what: string): void {
  if (off + n > buf.length) {
    throw new ParseError('QUOTE_TRUNCATED', `quote truncated: ${what} needs ${n} bytes at offset ${off}, only ${Math.max(0, buf.length - off)} left`)
  }
}

/** The signature-data pieces every quote version carries (views into the signature data), and where they sit in it. */
type SignatureParts = Pick<
  ParsedQuote,
  'signature' | 'attestation_key' | 'cert_data_type' | 'qe_report' | 'qe_report_signature' | 'qe_auth_data' | 'pck_cert_data_type' | 'pck_cert_data'
> & {qe_report_offset: number; qe_auth_data_offset: number; pck_cert_data_offset: number}

/** Where the body is: the v5 descriptor (if any), the body type and its span. */
interface BodyPlacement {
  body_type: 1 | 2 | 3
  descriptor?: Span
  body: Span
}

/** Step 1: the 48-byte header; version, key type and TEE type must be ones this parser knows, and agree. */
function parseHeader(raw: Buffer): QuoteHeader & {version: 3 | 4 | 5} {
  need(raw, 0, QUOTE_HEADER.size, 'quote header')
  const version = uint(QUOTE_HEADER, raw, 'version')
  if (version !== QUOTE_VERSION_SGX && version !== QUOTE_VERSION_TDX && version !== QUOTE_VERSION_TDX_V5) {
    throw new ParseError('UNSUPPORTED_QUOTE_VERSION', `unsupported quote version ${version} (supported: 3 SGX, 4 and 5 TDX)`)
  }
  const header = {
    version: version as 3 | 4 | 5,
    att_key_type: uint(QUOTE_HEADER, raw, 'att_key_type'),
    tee_type: uint(QUOTE_HEADER, raw, 'tee_type'),
    qe_svn: uint(QUOTE_HEADER, raw, 'qe_svn'),
    pce_svn: uint(QUOTE_HEADER, raw, 'pce_svn'),
    qe_vendor_id: view(QUOTE_HEADER, raw, 'qe_vendor_id'),
    user_data: view(QUOTE_HEADER, raw, 'user_data'),
  }
  if (header.att_key_type !== ATT_KEY_TYPE_ECDSA_P256) {
    throw new ParseError('UNSUPPORTED_ATT_KEY_TYPE', `unsupported attestation key type ${header.att_key_type} (only 2 = ECDSA P-256)`)
  }
  if (header.tee_type !== TEE_TYPE_TDX && header.tee_type !== TEE_TYPE_SGX) {
    throw new ParseError('UNSUPPORTED_TEE_TYPE', `unsupported TEE type 0x${header.tee_type.toString(16)} (0x0 SGX, 0x81 TDX)`)
  }
  if (version === QUOTE_VERSION_SGX && header.tee_type !== TEE_TYPE_SGX) throw new ParseError('TEE_TYPE_MISMATCH', 'quote v3 must have TEE type SGX (0x0)')
  if (version !== QUOTE_VERSION_SGX && header.tee_type !== TEE_TYPE_TDX) throw new ParseError('TEE_TYPE_MISMATCH', `quote v${version} must have TEE type TDX (0x81)`)
  return header
}

/** Step 2: the body's type and span (v5: from its descriptor, whose size must match the type; v3/v4: implied). */
function placeBody(raw: Buffer, version: 3 | 4 | 5): BodyPlacement {
  let off = QUOTE_HEADER.size
  let bodyType: 1 | 2 | 3
  let descriptor: Span | undefined
  if (version === QUOTE_VERSION_TDX_V5) {
    need(raw, off, BODY_DESCRIPTOR.size, 'v5 body descriptor')
    const t = uint(BODY_DESCRIPTOR, raw, 'body_type', off)
    const size = uint(BODY_DESCRIPTOR, raw, 'body_size', off)
    if (t !== BODY_TYPE_TD10 && t !== BODY_TYPE_TD15) {
      throw new ParseError('BAD_BODY_TYPE', `v5 body type ${t} is not a TDX body (2 = TD10, 3 = TD15)`)
    }
    if (size !== BODY_LAYOUT_BY_TYPE[t].size) {
      throw new ParseError('BODY_SIZE_MISMATCH', `v5 body size ${size} does not match body type ${t} (${BODY_LAYOUT_BY_TYPE[t].size} bytes)`)
    }
    descriptor = {offset: off, size: BODY_DESCRIPTOR.size}
    bodyType = t
    off += BODY_DESCRIPTOR.size
  } else {
    bodyType = version === QUOTE_VERSION_SGX ? BODY_TYPE_SGX : BODY_TYPE_TD10
  }
  const bodyLayout = BODY_LAYOUT_BY_TYPE[bodyType]
  need(raw, off, bodyLayout.size, `${bodyLayout.name} body`)
  return {body_type: bodyType, ...(descriptor ? {descriptor} : {}), body: {offset: off, size: bodyLayout.size}}
}

/** Step 3: the declared signature data (its length must fit in what follows; extra bytes after it are tolerated). */
function signatureDataSpan(raw: Buffer, bodyEnd: number): Span {
  need(raw, bodyEnd, SIG_DATA_LENGTH.size, 'signature data length')
  const sigLen = uint(SIG_DATA_LENGTH, raw, 'signature_data_len', bodyEnd)
  const off = bodyEnd + SIG_DATA_LENGTH.size
  if (sigLen > raw.length - off) {
    throw new ParseError('SIG_DATA_LENGTH', `signature data length ${sigLen} exceeds the ${raw.length - off} bytes that follow it`)
  }
  return {offset: off, size: sigLen}
}

/** A bounds check inside the signature data. */
function needInSig(sig: Buffer, what: string, at: number, n: number): void {
  if (at + n > sig.length) {
    throw new ParseError('SIG_DATA_LENGTH', `signature data (${sig.length} bytes) too short for ${what} (${n} bytes at ${at})`)
  }
}

/** How the innermost certification data block is named in errors (v3: the only block; v4/v5: inside type 6). */
interface CertDataNames {
  header: string
  type: string
  size: string
  container: string
}

const V3_CERT_DATA: CertDataNames = {header: 'certification data header', type: 'v3 certification data type', size: 'certification data size', container: 'signature data'}
const V4_INNER_CERT_DATA: CertDataNames = {
  header: 'inner certification data header',
  type: 'inner certification data type',
  size: 'inner certification data size',
  container: 'QE report certification data',
}

/** The innermost certification data block at `at`: a type in 1..5 whose size fills the signature data exactly. */
function readCertData(sig: Buffer, at: number, names: CertDataNames): {type: number; offset: number; data: Buffer} {
  needInSig(sig, names.header, at, CERT_DATA_HEADER.size)
  const type = uint(CERT_DATA_HEADER, sig, 'type', at)
  if (type < CERT_DATA_TYPE_PPID_CLEARTEXT || type > CERT_DATA_TYPE_PCK_CHAIN) {
    throw new ParseError('CERT_DATA_TYPE', `${names.type} ${type} not supported (1..5)`)
  }
  const size = uint(CERT_DATA_HEADER, sig, 'size', at)
  const offset = at + CERT_DATA_HEADER.size
  if (offset + size !== sig.length) {
    throw new ParseError('CERT_DATA_SIZE', `${names.size} ${size} does not fill the ${names.container} (${sig.length - offset} bytes left)`)
  }
  return {type, offset, data: sig.subarray(offset, offset + size)}
}

/** The QE authentication data: `length` bytes (its declared u16 size) starting at `at`. */
function readAuthData(sig: Buffer, length: number, at: number): Buffer {
  needInSig(sig, 'QE authentication data', at, length)
  return sig.subarray(at, at + length)
}

/** Step 4 (v3): signature ‖ key ‖ QE report ‖ QE report signature ‖ auth data ‖ certification data (types 1..5). */
function parseSignatureDataV3(sig: Buffer): SignatureParts {
  needInSig(sig, 'v3 signature data', 0, SIG_DATA_V3.size)
  const authOff = SIG_DATA_V3.size
  const auth = readAuthData(sig, uint(SIG_DATA_V3, sig, 'qe_auth_data_size'), authOff)
  const cert = readCertData(sig, authOff + auth.length, V3_CERT_DATA)
  return {
    signature: view(SIG_DATA_V3, sig, 'signature'),
    attestation_key: view(SIG_DATA_V3, sig, 'attestation_key'),
    cert_data_type: cert.type,
    qe_report: view(SIG_DATA_V3, sig, 'qe_report'),
    qe_report_signature: view(SIG_DATA_V3, sig, 'qe_report_signature'),
    qe_auth_data: auth,
    pck_cert_data_type: cert.type,
    pck_cert_data: cert.data,
    qe_report_offset: SIG_DATA_V3.fields.qe_report.offset,
    qe_auth_data_offset: authOff,
    pck_cert_data_offset: cert.offset,
  }
}

/** Step 4 (v4/v5): signature ‖ key ‖ type-6 block (QE report ‖ its signature ‖ auth data ‖ inner certification data). */
function parseSignatureDataV4(sig: Buffer): SignatureParts {
  needInSig(sig, 'v4 signature data', 0, SIG_DATA_V4.size)
  const certType = uint(SIG_DATA_V4, sig, 'cert_data_type')
  if (certType !== CERT_DATA_TYPE_QE_REPORT) {
    throw new ParseError('CERT_DATA_TYPE', `certification data type ${certType}, expected 6 (QE report certification data)`)
  }
  const outerSize = uint(SIG_DATA_V4, sig, 'cert_data_size')
  const outerOff = SIG_DATA_V4.size
  if (outerOff + outerSize !== sig.length) {
    throw new ParseError('CERT_DATA_SIZE', `QE report certification data size ${outerSize} does not fill the signature data (${sig.length - outerOff} bytes left)`)
  }
  needInSig(sig, 'QE report certification data', outerOff, QE_REPORT_CERT_DATA.size)
  const authOff = outerOff + QE_REPORT_CERT_DATA.size
  const auth = readAuthData(sig, uint(QE_REPORT_CERT_DATA, sig, 'qe_auth_data_size', outerOff), authOff)
  const inner = readCertData(sig, authOff + auth.length, V4_INNER_CERT_DATA)
  return {
    signature: view(SIG_DATA_V4, sig, 'signature'),
    attestation_key: view(SIG_DATA_V4, sig, 'attestation_key'),
    cert_data_type: certType,
    qe_report: view(QE_REPORT_CERT_DATA, sig, 'qe_report', outerOff),
    qe_report_signature: view(QE_REPORT_CERT_DATA, sig, 'qe_report_signature', outerOff),
    qe_auth_data: auth,
    pck_cert_data_type: inner.type,
    pck_cert_data: inner.data,
    qe_report_offset: outerOff + QE_REPORT_CERT_DATA.fields.qe_report.offset,
    qe_auth_data_offset: authOff,
    pck_cert_data_offset: inner.offset,
  }
}

/** Where a parsed quote keeps its PEM text once decoded. */
const PEM_TEXT = Symbol('pck_chain_pem')
/**
 * `pck_chain_pem`, decoded when first read: a verifier that already knows a chain compares bytes and
 * never needs the text. One getter function shared by every quote: a closure per quote would give
 * each its own hidden class, and V8 would then keep every quote's pieces alive past the young
 * generation (measured: ~4 KB promoted per verified quote, a third of warm verification time in GC).
 */
const PCK_CHAIN_PEM_PROPERTY: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: ParsedQuote & {[PEM_TEXT]?: string}): string {
    return (this[PEM_TEXT] ??= this.pck_cert_data.toString('latin1'))
  },
}

/** Where a parsed quote keeps its body's field views once made. */
const BODY_FIELDS = Symbol('body fields')
/**
 * `td` (TD10/TD15 body) or `sgx` (SGX body): the body's fields as views, made when first read
 * (a verifier reads four of them, through tdBodyField). One shared getter, like pck_chain_pem's.
 */
const BODY_FIELDS_PROPERTY: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: ParsedQuote & {[BODY_FIELDS]?: Record<string, Buffer>}): Record<string, Buffer> {
    return (this[BODY_FIELDS] ??= fieldsOf(BODY_LAYOUT_BY_TYPE[this.body_type], this.body))
  },
}

/** One field of a TD body (undefined for an SGX body, or a TD15 field of a TD10 body), as a view, without making the others. */
export function tdBodyField(q: ParsedQuote, name: TdBodyField): Buffer | undefined {
  if (q.body_type === BODY_TYPE_SGX) return undefined
  const f = (BODY_LAYOUT_BY_TYPE[q.body_type] as Layout<TdBodyField>).fields[name]
  return f ? q.body.subarray(f.offset, f.offset + f.size) : undefined
}

/** Decode a quote. Throws ParseError (exit 2) with a stable code on any structural problem. */
export function parseQuote(input: Uint8Array): ParsedQuote {
  const raw = asBuf(input)
  const header = parseHeader(raw)
  const version = header.version
  const placed = placeBody(raw, version)
  const bodyEnd = placed.body.offset + placed.body.size
  const sigSpan = signatureDataSpan(raw, bodyEnd)
  const sig = raw.subarray(sigSpan.offset, sigSpan.offset + sigSpan.size)
  const parts = version === QUOTE_VERSION_SGX ? parseSignatureDataV3(sig) : parseSignatureDataV4(sig)
  const body = raw.subarray(placed.body.offset, bodyEnd)
  const end = sigSpan.offset + sigSpan.size
  const q: ParsedQuote = {
    version,
    header,
    body_type: placed.body_type,
    body,
    signed_region: raw.subarray(0, bodyEnd),
    signature_data_len: sigSpan.size,
    signature: parts.signature,
    attestation_key: parts.attestation_key,
    cert_data_type: parts.cert_data_type,
    qe_report: parts.qe_report,
    qe_report_signature: parts.qe_report_signature,
    qe_auth_data: parts.qe_auth_data,
    pck_cert_data_type: parts.pck_cert_data_type,
    pck_cert_data: parts.pck_cert_data,
    length: end,
    trailing_bytes: raw.length - end,
    spans: {
      header: {offset: 0, size: QUOTE_HEADER.size},
      ...(placed.descriptor ? {descriptor: placed.descriptor} : {}),
      body: placed.body,
      signature_data: sigSpan,
      qe_report: {offset: sigSpan.offset + parts.qe_report_offset, size: QE_REPORT.size},
      qe_auth_data: {offset: sigSpan.offset + parts.qe_auth_data_offset, size: parts.qe_auth_data.length},
      pck_cert_data: {offset: sigSpan.offset + parts.pck_cert_data_offset, size: parts.pck_cert_data.length},
    },
    raw,
  }
  if (parts.pck_cert_data_type === CERT_DATA_TYPE_PCK_CHAIN) Object.defineProperty(q, 'pck_chain_pem', PCK_CHAIN_PEM_PROPERTY)
  Object.defineProperty(q, placed.body_type === BODY_TYPE_SGX ? 'sgx' : 'td', BODY_FIELDS_PROPERTY)
  return q
}

/** Decode the QE report (or any SGX report body) into named field views. */
export function parseSgxReport(buf: Uint8Array): Record<SgxReportField, Buffer> {
  requireSize(SGX_REPORT_BODY, buf)
  return fieldsOf(SGX_REPORT_BODY, asBuf(buf))
}

// ---------------------------------------------------------------------------------------------
// Encode
// ---------------------------------------------------------------------------------------------

/** What the attestation key signs: header ‖ [v5 body descriptor] ‖ body. */
export type SignedQuoteParts = Pick<QuoteParts, 'version' | 'header' | 'body_type' | 'body'>

function encodeHeaderAndBody(q: SignedQuoteParts): Buffer {
  const h = Buffer.alloc(QUOTE_HEADER.size)
  writeField(QUOTE_HEADER, h, 'version', q.version)
  writeField(QUOTE_HEADER, h, 'att_key_type', q.header.att_key_type)
  writeField(QUOTE_HEADER, h, 'tee_type', q.header.tee_type)
  writeField(QUOTE_HEADER, h, 'qe_svn', q.header.qe_svn)
  writeField(QUOTE_HEADER, h, 'pce_svn', q.header.pce_svn)
  writeField(QUOTE_HEADER, h, 'qe_vendor_id', q.header.qe_vendor_id)
  writeField(QUOTE_HEADER, h, 'user_data', q.header.user_data)
  if (q.version === 4) {
    if (q.body.length !== TD10_BODY.size) throw new ParseError('BODY_SIZE_MISMATCH', `quote v4 needs a ${TD10_BODY.size}-byte TD10 body, got ${q.body.length}`)
    return Buffer.concat([h, q.body])
  }
  const type = q.body_type ?? (q.body.length === TD15_BODY.size ? BODY_TYPE_TD15 : BODY_TYPE_TD10)
  const expected = BODY_LAYOUT_BY_TYPE[type]?.size
  if (q.body.length !== expected) throw new ParseError('BODY_SIZE_MISMATCH', `body type ${type} needs ${expected} bytes, got ${q.body.length}`)
  const d = Buffer.alloc(BODY_DESCRIPTOR.size)
  writeField(BODY_DESCRIPTOR, d, 'body_type', type)
  writeField(BODY_DESCRIPTOR, d, 'body_size', q.body.length)
  return Buffer.concat([h, d, q.body])
}

/** header ‖ [v5 body descriptor] ‖ body: the bytes the attestation key signs. */
export function quoteSignedRegion(q: SignedQuoteParts | ParsedQuote): Buffer {
  if ('signed_region' in q) return q.signed_region
  return encodeHeaderAndBody(q)
}

/** What a quoting enclave puts after the quote signature, the same in each of its quotes. */
export type SignatureDataTailParts = Pick<QuoteParts, 'attestation_key' | 'qe_report' | 'qe_report_signature' | 'qe_auth_data' | 'pck_chain_pem'>

/**
 * The v4/v5 signature data after the signature: attestation key ‖ type-6 certification data (QE
 * report ‖ its signature ‖ auth data ‖ type-5 PEM chain). A QE encodes it once and reuses it.
 */
export function encodeSignatureDataTail(q: SignatureDataTailParts): Buffer {
  const fixed = (b: Buffer, n: number, what: string) => {
    if (b.length !== n) throw new ParseError('BAD_LENGTH', `${what} must be ${n} bytes, got ${b.length}`)
  }
  fixed(q.attestation_key, ECDSA_PUBKEY_SIZE, 'attestation_key')
  fixed(q.qe_report, QE_REPORT.size, 'qe_report')
  fixed(q.qe_report_signature, ECDSA_SIG_SIZE, 'qe_report_signature')
  if (q.qe_auth_data.length > 0xffff) throw new ParseError('BAD_LENGTH', 'qe_auth_data longer than 65535 bytes')
  const pem = Buffer.from(q.pck_chain_pem, 'latin1')

  const inner = Buffer.alloc(CERT_DATA_HEADER.size)
  writeField(CERT_DATA_HEADER, inner, 'type', CERT_DATA_TYPE_PCK_CHAIN)
  writeField(CERT_DATA_HEADER, inner, 'size', pem.length)
  const qeFixed = Buffer.alloc(QE_REPORT_CERT_DATA.size)
  writeField(QE_REPORT_CERT_DATA, qeFixed, 'qe_report', q.qe_report)
  writeField(QE_REPORT_CERT_DATA, qeFixed, 'qe_report_signature', q.qe_report_signature)
  writeField(QE_REPORT_CERT_DATA, qeFixed, 'qe_auth_data_size', q.qe_auth_data.length)
  const outerData = Buffer.concat([qeFixed, q.qe_auth_data, inner, pem])

  // SIG_DATA_V4 without its leading signature: attestation key, certification data type and size.
  const sigFixed = Buffer.alloc(SIG_DATA_V4.size)
  writeField(SIG_DATA_V4, sigFixed, 'attestation_key', q.attestation_key)
  writeField(SIG_DATA_V4, sigFixed, 'cert_data_type', CERT_DATA_TYPE_QE_REPORT)
  writeField(SIG_DATA_V4, sigFixed, 'cert_data_size', outerData.length)
  return Buffer.concat([sigFixed.subarray(SIG_DATA_V4.fields.signature.size), outerData])
}

/** A v4/v5 quote from its signed part (header ‖ [descriptor] ‖ body), its signature and the signature data's tail. */
export function assembleQuote(signed: Buffer, signature: Buffer, tail: Buffer): Buffer {
  if (signature.length !== ECDSA_SIG_SIZE) throw new ParseError('BAD_LENGTH', `signature must be ${ECDSA_SIG_SIZE} bytes, got ${signature.length}`)
  const len = Buffer.alloc(SIG_DATA_LENGTH.size)
  writeField(SIG_DATA_LENGTH, len, 'signature_data_len', signature.length + tail.length)
  return Buffer.concat([signed, len, signature, tail])
}

/** Encode a v4/v5 quote with type-6 certification data wrapping a type-5 PEM chain. */
export function encodeQuote(q: QuoteParts): Buffer {
  const signed = encodeHeaderAndBody(q)
  if (q.signature.length !== ECDSA_SIG_SIZE) throw new ParseError('BAD_LENGTH', `signature must be ${ECDSA_SIG_SIZE} bytes, got ${q.signature.length}`)
  return assembleQuote(signed, q.signature, encodeSignatureDataTail(q))
}

// ---------------------------------------------------------------------------------------------
// Describe (quote show)
// ---------------------------------------------------------------------------------------------

export interface QuoteFieldRow {
  /** Dotted name, e.g. `td_body.mrtd`, `signature_data.qe_report.isvsvn`. */
  name: string
  offset: number
  size: number
  /** Hex for byte fields, decimal for integers. */
  value: string
  doc: string
}

function rowsOf(prefix: string, layout: Layout<string>, buf: Buffer, base: number, absBase: number): QuoteFieldRow[] {
  const dec = decodeAll(layout, buf, base)
  return layout.order.map((n) => ({
    name: `${prefix}.${n}`,
    offset: absBase + layout.fields[n].offset,
    size: layout.fields[n].size,
    value: dec[n],
    doc: layout.fields[n].doc,
  }))
}

/** Every field of a parsed quote, named, with its absolute offset (for `quote show`). */
export function describeQuote(q: ParsedQuote): QuoteFieldRow[] {
  const raw = q.raw
  const rows: QuoteFieldRow[] = rowsOf('header', QUOTE_HEADER, raw, 0, 0)
  if (q.spans.descriptor) rows.push(...rowsOf('body_descriptor', BODY_DESCRIPTOR, raw, q.spans.descriptor.offset, q.spans.descriptor.offset))
  const bodyName = q.body_type === BODY_TYPE_SGX ? 'sgx_body' : 'td_body'
  rows.push(...rowsOf(bodyName, BODY_LAYOUT_BY_TYPE[q.body_type], raw, q.spans.body.offset, q.spans.body.offset))
  const sdOff = q.spans.signature_data.offset
  rows.push({name: 'signature_data_len', offset: sdOff - SIG_DATA_LENGTH.size, size: SIG_DATA_LENGTH.size, value: String(q.signature_data_len), doc: SIG_DATA_LENGTH.fields.signature_data_len.doc})
  if (q.version === 3) {
    rows.push(...rowsOf('signature_data', SIG_DATA_V3, raw, sdOff, sdOff).filter((r) => !r.name.endsWith('.qe_report')))
  } else {
    rows.push(...rowsOf('signature_data', SIG_DATA_V4, raw, sdOff, sdOff))
    const qeOff = q.spans.qe_report.offset
    rows.push(...rowsOf('signature_data.qe_cert_data', QE_REPORT_CERT_DATA, raw, qeOff, qeOff).filter((r) => !r.name.endsWith('.qe_report')))
  }
  rows.push(...rowsOf('signature_data.qe_report', QE_REPORT, raw, q.spans.qe_report.offset, q.spans.qe_report.offset))
  rows.push({name: 'signature_data.qe_auth_data', offset: q.spans.qe_auth_data.offset, size: q.spans.qe_auth_data.size, value: q.qe_auth_data.toString('hex'), doc: 'QE authentication data'})
  const ch = q.spans.pck_cert_data.offset - CERT_DATA_HEADER.size
  rows.push(...rowsOf('signature_data.pck_cert_data_header', CERT_DATA_HEADER, raw, ch, ch))
  rows.push({
    name: 'signature_data.pck_cert_data',
    offset: q.spans.pck_cert_data.offset,
    size: q.spans.pck_cert_data.size,
    value: q.pck_cert_data_type === CERT_DATA_TYPE_PCK_CHAIN ? `PEM, ${q.pck_cert_data.length} bytes` : q.pck_cert_data.toString('hex'),
    doc: 'certification data (type 5: PCK leaf ‖ intermediate CA ‖ root CA, PEM)',
  })
  rows.sort((a, b) => a.offset - b.offset)
  return rows
}

/** The TD body (or SGX body) fields as {name: hex | decimal integer} for JSON output (layout.decodeAll's form, read in place). */
export function decodeBody(q: ParsedQuote): Record<string, string> {
  const layout = BODY_LAYOUT_BY_TYPE[q.body_type]
  // One hex conversion of the whole body, cut into fields (a conversion per field costs more than the bytes).
  const hex = q.body.toString('hex')
  const out: Record<string, string> = {}
  for (const name of layout.order) {
    const f = layout.fields[name]
    out[name] = f.kind === 'bytes' ? hex.slice(2 * f.offset, 2 * (f.offset + f.size)) : f.kind === 'u64' ? q.body.readBigUInt64LE(f.offset).toString() : String(q.body.readUIntLE(f.offset, f.size))
  }
  return out
}

/** TD_ATTRIBUTES as a 64-bit integer (little-endian in the body). */
export function tdAttributes(q: ParsedQuote): bigint {
  if (!q.td) return 0n
  return q.td.td_attributes.readBigUInt64LE(0)
}
