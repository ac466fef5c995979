/**
 * Structure-aware quote mutators. Each mutation is plain data (so fast-check can generate, shrink
 * and print it) applied to a seed quote: byte and bit flips in a named region, absurd values in the
 * declared length/type fields, truncation and extension, QE authentication data and PCK-chain PEM
 * replaced with the nested sizes fixed up (so the parser gets past the size checks), and for
 * simulated seeds header/body/QE-report edits that are re-signed so the checks behind the
 * signatures run. Offsets come from the parsed quote's spans and the src/abi layouts.
 */
import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {
  BODY_DESCRIPTOR,
  CERT_DATA_HEADER,
  QE_REPORT_CERT_DATA,
  QUOTE_HEADER,
  SGX_REPORT_BODY,
  SIG_DATA_LENGTH,
  SIG_DATA_V3,
  SIG_DATA_V4,
  parseQuote,
  type ParsedQuote,
} from '../../../src/abi/quote.js'
import {writeField, type Layout} from '../../../src/abi/layout.js'
import {signP256} from '../../../src/x509/ecdsa.js'

const REGIONS = ['any', 'header', 'body', 'signature_data', 'qe_report', 'qe_auth_data', 'pck_cert_data'] as const
export type Region = (typeof REGIONS)[number]

export const LENGTH_FIELDS = [
  'version',
  'att_key_type',
  'tee_type',
  'body_type',
  'body_size',
  'sig_data_len',
  'cert_data_type',
  'cert_data_size',
  'qe_auth_data_size',
  'inner_cert_type',
  'inner_cert_size',
] as const
export type LengthField = (typeof LENGTH_FIELDS)[number]

const PEM_EDITS = ['drop_first', 'drop_last', 'duplicate', 'reverse', 'crlf', 'no_trailing_nul', 'extra_text', 'cut_base64', 'bad_base64_char', 'many_certs', 'empty', 'high_bytes', 'wrap_76', 'swap_middle'] as const
export type PemEdit = (typeof PEM_EDITS)[number]

export const RESIGN_FIELDS = ['tee_tcb_svn', 'mrsignerseam', 'seam_attributes', 'td_attributes', 'tee_tcb_svn2', 'mr_servicetd', 'report_data', 'qe_vendor_id'] as const

export type QuoteMutation =
  | {kind: 'flip'; region: Region; at: number; xor: number}
  | {kind: 'bits'; region: Region; at: number; bit: number}
  | {kind: 'field'; field: LengthField; value: number}
  | {kind: 'field_delta'; field: LengthField; delta: number}
  | {kind: 'truncate'; keep: number}
  | {kind: 'extend'; bytes: number[]; repeat: number}
  | {kind: 'auth_data'; length: number; fill: number}
  | {kind: 'pem'; edit: PemEdit; n: number}
  | {kind: 'resign_body'; field: (typeof RESIGN_FIELDS)[number]; bytes: number[]}
  | {kind: 'resign_qe'; field: 'isvsvn' | 'isvprodid' | 'mrsigner' | 'attributes' | 'miscselect' | 'report_data' | 'cpusvn'; bytes: number[]; rebind: boolean}
  | {kind: 'replace_key'; bytes: number[]}

/** Interesting values for a declared length or type field. */
const INTERESTING = [0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]

const arbRegion = fc.constantFrom(...REGIONS)
const arbQuoteMutation: fc.Arbitrary<QuoteMutation> = fc.oneof(
  {weight: 4, arbitrary: fc.record({kind: fc.constant('flip' as const), region: arbRegion, at: fc.nat(), xor: fc.integer({min: 1, max: 255})})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('bits' as const), region: arbRegion, at: fc.nat(), bit: fc.integer({min: 0, max: 7})})},
  {weight: 3, arbitrary: fc.record({kind: fc.constant('field' as const), field: fc.constantFrom(...LENGTH_FIELDS), value: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat({max: 0xffffffff}))})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('field_delta' as const), field: fc.constantFrom(...LENGTH_FIELDS), delta: fc.integer({min: -8, max: 8})})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('truncate' as const), keep: fc.nat()})},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('extend' as const), bytes: fc.array(fc.nat({max: 255}), {minLength: 1, maxLength: 8}), repeat: fc.integer({min: 1, max: 4096})})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('auth_data' as const), length: fc.oneof(fc.constantFrom(0, 1, 31, 32, 33, 0xfffe, 0xffff), fc.nat({max: 0xffff})), fill: fc.nat({max: 255})})},
  {weight: 3, arbitrary: fc.record({kind: fc.constant('pem' as const), edit: fc.constantFrom(...PEM_EDITS), n: fc.nat({max: 10000})})},
  {weight: 3, arbitrary: fc.record({kind: fc.constant('resign_body' as const), field: fc.constantFrom(...RESIGN_FIELDS), bytes: fc.array(fc.nat({max: 255}), {minLength: 1, maxLength: 64})})},
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('resign_qe' as const),
      field: fc.constantFrom('isvsvn' as const, 'isvprodid' as const, 'mrsigner' as const, 'attributes' as const, 'miscselect' as const, 'report_data' as const, 'cpusvn' as const),
      bytes: fc.array(fc.nat({max: 255}), {minLength: 1, maxLength: 64}),
      rebind: fc.boolean(),
    }),
  },
  {weight: 1, arbitrary: fc.record({kind: fc.constant('replace_key' as const), bytes: fc.array(fc.nat({max: 255}), {minLength: 64, maxLength: 64})})},
)
/** One to three mutations applied in order. */
export const arbQuoteMutations = fc.array(arbQuoteMutation, {minLength: 1, maxLength: 3})

function span(q: ParsedQuote, region: Region): {offset: number; size: number} {
  if (region === 'any') return {offset: 0, size: q.raw.length}
  return q.spans[region]
}

/** Absolute offset and layout of each declared field (undefined when the quote's version lacks it). */
function fieldLoc(q: ParsedQuote, f: LengthField): {layout: Layout<string>; name: string; base: number} | undefined {
  const sig = q.spans.signature_data.offset
  const v3 = q.version === 3
  const qeBase = q.spans.qe_report.offset - (v3 ? SIG_DATA_V3.fields.qe_report.offset : QE_REPORT_CERT_DATA.fields.qe_report.offset)
  const inner = q.spans.pck_cert_data.offset - CERT_DATA_HEADER.size
  switch (f) {
    case 'version':
    case 'att_key_type':
    case 'tee_type':
      return {layout: QUOTE_HEADER, name: f, base: 0}
    case 'body_type':
    case 'body_size':
      return q.spans.descriptor ? {layout: BODY_DESCRIPTOR, name: f, base: q.spans.descriptor.offset} : undefined
    case 'sig_data_len':
      return {layout: SIG_DATA_LENGTH, name: 'signature_data_len', base: sig - SIG_DATA_LENGTH.size}
    case 'cert_data_type':
      return v3 ? {layout: CERT_DATA_HEADER, name: 'type', base: inner} : {layout: SIG_DATA_V4, name: 'cert_data_type', base: sig}
    case 'cert_data_size':
      return v3 ? {layout: CERT_DATA_HEADER, name: 'size', base: inner} : {layout: SIG_DATA_V4, name: 'cert_data_size', base: sig}
    case 'qe_auth_data_size':
      return v3 ? {layout: SIG_DATA_V3, name: 'qe_auth_data_size', base: sig} : {layout: QE_REPORT_CERT_DATA, name: 'qe_auth_data_size', base: qeBase}
    case 'inner_cert_type':
      return {layout: CERT_DATA_HEADER, name: 'type', base: inner}
    case 'inner_cert_size':
      return {layout: CERT_DATA_HEADER, name: 'size', base: inner}
  }
}

const maxOf = (size: number) => (size >= 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff)

function setField(q: ParsedQuote, buf: Buffer, f: LengthField, value: number | ((old: number) => number)): void {
  const loc = fieldLoc(q, f)
  if (!loc) return
  const spec = loc.layout.fields[loc.name]
  const off = loc.base + spec.offset
  const old = spec.size === 4 ? buf.readUInt32LE(off) : spec.size === 2 ? buf.readUInt16LE(off) : buf[off]
  const raw = typeof value === 'function' ? value(old) : value
  const v = ((raw % (maxOf(spec.size) + 1)) + (maxOf(spec.size) + 1)) % (maxOf(spec.size) + 1)
  writeField(loc.layout, buf, loc.name, v, loc.base)
}

/** Replace [offset, offset+size) with `bytes`, fixing sig_data_len and (v4/v5) the outer cert size. */
function splice(q: ParsedQuote, offset: number, size: number, bytes: Buffer): {buf: Buffer; q: ParsedQuote} {
  const delta = bytes.length - size
  const buf = Buffer.concat([q.raw.subarray(0, offset), bytes, q.raw.subarray(offset + size)])
  setField(q, buf, 'sig_data_len', (v) => v + delta)
  if (q.version !== 3) setField(q, buf, 'cert_data_size', (v) => v + delta)
  return {buf, q}
}

const certBlocks = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? []

function editPem(pem: string, edit: PemEdit, n: number): string {
  const blocks = certBlocks(pem)
  const tail = pem.endsWith('\0') ? '\0' : ''
  switch (edit) {
    case 'drop_first':
      return blocks.slice(1).join('') + tail
    case 'drop_last':
      return blocks.slice(0, -1).join('') + tail
    case 'duplicate':
      return [...blocks, blocks[n % Math.max(1, blocks.length)] ?? ''].join('') + tail
    case 'reverse':
      return [...blocks].reverse().join('') + tail
    case 'swap_middle':
      return blocks.length >= 3 ? [blocks[0], blocks[2], blocks[1], ...blocks.slice(3)].join('') + tail : pem
    case 'crlf':
      return pem.replace(/\n/g, '\r\n')
    case 'no_trailing_nul':
      return pem.replace(/\0$/, '')
    case 'extra_text':
      return pem.replace(/\0$/, '') + 'x'.repeat(1 + (n % 200))
    case 'cut_base64': {
      const at = pem.indexOf('\n', pem.indexOf('BEGIN') + 30 + (n % 500))
      return at < 0 ? pem.slice(0, n % pem.length) : pem.slice(0, at) + pem.slice(at + 1 + (n % 40))
    }
    case 'bad_base64_char': {
      const at = 40 + (n % Math.max(1, pem.length - 80))
      return pem.slice(0, at) + '*' + pem.slice(at + 1)
    }
    case 'many_certs':
      return blocks.join('').repeat(1 + (n % 300)) + tail
    case 'empty':
      return ''
    case 'high_bytes':
      return pem.slice(0, n % pem.length) + '\u00ff\u00fe\u0080' + pem.slice(n % pem.length)
    case 'wrap_76':
      return pem.replace(/([A-Za-z0-9+/=]{64})\n([A-Za-z0-9+/=]{12})/g, '$1$2\n')
  }
}

const sha256 = (...b: Uint8Array[]) => {
  const h = createHash('sha256')
  for (const x of b) h.update(x)
  return h.digest()
}

/** Re-sign header ‖ [descriptor] ‖ body with the seed's attestation key. */
function resignQuote(buf: Buffer, priv: Buffer): Buffer {
  let q: ParsedQuote
  try {
    q = parseQuote(buf)
  } catch {
    return buf
  }
  const sig = signP256(q.signed_region, priv)
  const out = Buffer.from(buf)
  writeField(SIG_DATA_V4, out, 'signature', sig, q.spans.signature_data.offset)
  return out
}

interface MutationKeys {
  attestationPriv?: Buffer
  pckPriv?: Buffer
}

/** Apply one mutation; returns the new bytes (the input is never modified). */
export function applyQuoteMutation(input: Buffer, m: QuoteMutation, keys: MutationKeys = {}): Buffer {
  let q: ParsedQuote
  try {
    q = parseQuote(input)
  } catch {
    // An earlier mutation broke the structure: fall back to raw byte edits.
    const b = Buffer.from(input)
    if (b.length === 0) return b
    if (m.kind === 'flip') b[m.at % b.length] ^= m.xor
    else if (m.kind === 'bits') b[m.at % b.length] ^= 1 << m.bit
    else if (m.kind === 'truncate') return b.subarray(0, m.keep % (b.length + 1))
    return b
  }
  switch (m.kind) {
    case 'flip':
    case 'bits': {
      const s = span(q, m.region)
      if (s.size === 0) return Buffer.from(input)
      const b = Buffer.from(input)
      b[s.offset + (m.at % s.size)] ^= m.kind === 'flip' ? m.xor : 1 << m.bit
      return b
    }
    case 'field': {
      const b = Buffer.from(input)
      setField(q, b, m.field, m.value)
      return b
    }
    case 'field_delta': {
      const b = Buffer.from(input)
      setField(q, b, m.field, (v) => v + m.delta)
      return b
    }
    case 'truncate':
      return Buffer.from(input.subarray(0, m.keep % (q.length + 1)))
    case 'extend': {
      const tail = Buffer.from(m.bytes)
      return Buffer.concat([input, ...Array.from({length: m.repeat}, () => tail)])
    }
    case 'auth_data': {
      const {buf} = splice(q, q.spans.qe_auth_data.offset, q.spans.qe_auth_data.size, Buffer.alloc(m.length, m.fill))
      setField(q, buf, 'qe_auth_data_size', m.length)
      return buf
    }
    case 'pem': {
      const pem = q.pck_chain_pem ?? q.pck_cert_data.toString('latin1')
      const next = Buffer.from(editPem(pem, m.edit, m.n), 'latin1')
      const {buf} = splice(q, q.spans.pck_cert_data.offset, q.spans.pck_cert_data.size, next)
      setField(q, buf, 'inner_cert_size', next.length)
      if (q.version === 3) setField(q, buf, 'cert_data_size', next.length)
      return buf
    }
    case 'resign_body': {
      const b = Buffer.from(input)
      if (m.field === 'qe_vendor_id') {
        Buffer.from(m.bytes).copy(b, QUOTE_HEADER.fields.qe_vendor_id.offset, 0, QUOTE_HEADER.fields.qe_vendor_id.size)
      } else {
        const fld = q.td?.[m.field]
        if (!fld) return b
        Buffer.from(m.bytes).copy(b, fld.byteOffset - q.raw.byteOffset, 0, fld.length)
      }
      return keys.attestationPriv ? resignQuote(b, keys.attestationPriv) : b
    }
    case 'resign_qe': {
      const b = Buffer.from(input)
      const spec = SGX_REPORT_BODY.fields[m.field]
      const off = q.spans.qe_report.offset + spec.offset
      Buffer.from(m.bytes).copy(b, off, 0, spec.size)
      const qeReport = b.subarray(q.spans.qe_report.offset, q.spans.qe_report.offset + SGX_REPORT_BODY.size)
      if (m.rebind) {
        sha256(q.attestation_key, q.qe_auth_data).copy(qeReport, SGX_REPORT_BODY.fields.report_data.offset)
      }
      if (keys.pckPriv) {
        const sigOff = q.spans.qe_report.offset + SGX_REPORT_BODY.size
        signP256(qeReport, keys.pckPriv).copy(b, sigOff)
      }
      return b
    }
    case 'replace_key': {
      const b = Buffer.from(input)
      Buffer.from(m.bytes).copy(b, q.spans.signature_data.offset + SIG_DATA_V4.fields.attestation_key.offset)
      return b
    }
  }
}

export function applyQuoteMutations(input: Buffer, ms: QuoteMutation[], keys: MutationKeys = {}): Buffer {
  return ms.reduce((b, m) => applyQuoteMutation(b, m, keys), input)
}
