/**
 * Device certificate-chain verification (SPDM slot chains with or without the SPDM header).
 * Pure: bytes + trust anchors + time in, a result with every check out. Parsing with pkijs,
 * signature checks with Node's crypto (X509Certificate.verify: ECDSA P-256/P-384, RSA, RSA-PSS).
 *
 * Checks (shared/reference/device-evidence.md §2.3, §2.6, §4.1 step 3): header length and
 * RootHash = Hash(first cert); every certificate parses; each is signed by the previous one
 * (the first by itself or by a pinned anchor) with issuer = previous subject; validity at `at`;
 * CA certificates carry basicConstraints CA:TRUE (and keyCertSign when keyUsage is present); the
 * leaf is not a CA, has digitalSignature, and is not requester-only by DMTF EKU; the leaf key
 * matches the negotiated BaseAsym; the chain ends in a pinned anchor (cert, SPKI or thumbprint).
 */
import {X509Certificate, createHash, type KeyObject} from 'node:crypto'
import {asn1js, pkijs, type Asn1js, type Pkijs} from '../util/pkijs.js'
import {ParseError} from '../errors.js'
import {HASH_SIZE, SPDM_CERT_CHAIN_HEADER, SpdmBaseAsym, baseAsymName, type HashName} from '../abi/spdm.js'
import {
  KeyUsageBit,
  OID_BASIC_CONSTRAINTS,
  OID_CURVE_P256,
  OID_CURVE_P384,
  OID_CURVE_P521,
  OID_DMTF_DEVICE_INFO,
  OID_DMTF_EKU_REQUESTER_AUTH,
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_DMTF_SPDM_EXTENSION,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_SUBJECT_ALT_NAME,
} from './oids.js'

const DER_SEQUENCE = 0x30

/** Split a concatenation of DER SEQUENCEs (certificates) by their TLV lengths. */
export function splitDerCerts(buf: Uint8Array): Buffer[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const out: Buffer[] = []
  let off = 0
  while (off < b.length) {
    if (b[off] !== DER_SEQUENCE) throw new ParseError('CERT_NOT_DER', `certificate ${out.length} at offset ${off} does not start with a DER SEQUENCE`)
    if (off + 2 > b.length) throw new ParseError('CERT_TRUNCATED', `certificate ${out.length} at offset ${off} is truncated`)
    let len = b[off + 1]
    let hdr = 2
    if (len & 0x80) {
      const n = len & 0x7f
      if (n === 0 || n > 4 || off + 2 + n > b.length) throw new ParseError('CERT_BAD_LENGTH', `certificate ${out.length} at offset ${off} has an invalid DER length`)
      len = 0
      for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i]
      hdr = 2 + n
    }
    if (off + hdr + len > b.length) throw new ParseError('CERT_TRUNCATED', `certificate ${out.length} at offset ${off} needs ${hdr + len} bytes, ${b.length - off} left`)
    out.push(Buffer.from(b.subarray(off, off + hdr + len)))
    off += hdr + len
  }
  if (out.length === 0) throw new ParseError('CERT_CHAIN_EMPTY', 'certificate chain holds no certificate')
  return out
}

export interface ParsedCertChain {
  has_header: boolean
  header_length?: number
  root_hash?: Buffer
  root_hash_alg?: HashName
  certs: Buffer[]
}

/**
 * Parse a device chain: SPDM slot format (Length ‖ Reserved ‖ RootHash ‖ certs) or a bare DER
 * concatenation. `hashAlg` (the negotiated BaseHash) fixes the RootHash size; without it the
 * size is inferred (32/48/64) from where the first certificate starts.
 */
export function parseCertChain(buf: Uint8Array, hashAlg?: HashName): ParsedCertChain {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (b.length === 0) throw new ParseError('CERT_CHAIN_EMPTY', 'certificate chain is empty')
  if (b[0] === DER_SEQUENCE) {
    try {
      return {has_header: false, certs: splitDerCerts(b)}
    } catch {
      // fall through: may be an SPDM header whose length happens to start with 0x30
    }
  }
  if (b.length < SPDM_CERT_CHAIN_HEADER.size) throw new ParseError('CERT_CHAIN_TRUNCATED', 'certificate chain shorter than the SPDM header')
  const len16 = b.readUInt16LE(SPDM_CERT_CHAIN_HEADER.fields.length.offset)
  const reserved = b.readUInt16LE(SPDM_CERT_CHAIN_HEADER.fields.reserved.offset)
  // SPDM 1.4 reads the same 4 bytes as one u32 length.
  const headerLength = reserved === 0 ? len16 : b.readUInt32LE(0)
  const sizes: HashName[] = hashAlg ? [hashAlg] : ['sha384', 'sha256', 'sha512']
  for (const alg of sizes) {
    const start = SPDM_CERT_CHAIN_HEADER.size + HASH_SIZE[alg]
    if (b.length <= start || b[start] !== DER_SEQUENCE) continue
    const certs = splitDerCerts(b.subarray(start))
    return {has_header: true, header_length: headerLength, root_hash: Buffer.from(b.subarray(SPDM_CERT_CHAIN_HEADER.size, start)), root_hash_alg: alg, certs}
  }
  throw new ParseError('CERT_CHAIN_UNRECOGNISED', 'not a DER certificate list nor an SPDM certificate chain (no certificate after the header and root hash)')
}

/** A trust anchor: a pinned root certificate (DER) or the SHA-256/384/512 thumbprint of one. */
export interface TrustAnchor {
  /** DER of a pinned certificate */
  cert?: Buffer
  /** thumbprint of the pinned certificate's DER */
  thumbprint?: {alg: HashName; digest: Buffer}
  /** where it came from, for the verdict */
  source: string
}

export interface ChainCheck {
  name: string
  ok: boolean
  detail: string
}

export interface CertInfo {
  subject: string
  issuer: string
  not_before: string
  not_after: string
  key: string
  sha256: string
}

export interface ChainResult {
  ok: boolean
  checks: ChainCheck[]
  certs: CertInfo[]
  has_header: boolean
  leaf_key?: KeyObject
  /** BaseAsym bit matching the leaf key (ECDSA curve / RSA size) */
  leaf_asym?: number
  anchor?: string
  device_info?: string
}

export interface ChainOptions {
  anchors: readonly TrustAnchor[]
  /** time for validity checks */
  at: Date
  /** negotiated BaseHash (RootHash size/algorithm) */
  hashAlg?: HashName
  /** negotiated BaseAsym: the leaf key must match */
  baseAsym?: number
}

const CURVE_ASYM: Record<string, number> = {[OID_CURVE_P256]: SpdmBaseAsym.ECDSA_P256, [OID_CURVE_P384]: SpdmBaseAsym.ECDSA_P384, [OID_CURVE_P521]: SpdmBaseAsym.ECDSA_P521}
const RSA_ASYM: Record<number, number[]> = {
  2048: [SpdmBaseAsym.RSASSA_2048, SpdmBaseAsym.RSAPSS_2048],
  3072: [SpdmBaseAsym.RSASSA_3072, SpdmBaseAsym.RSAPSS_3072],
  4096: [SpdmBaseAsym.RSASSA_4096, SpdmBaseAsym.RSAPSS_4096],
}

function keyDescription(x: X509Certificate): {text: string; asym: number[]} {
  const k = x.publicKey
  const d = k.asymmetricKeyDetails ?? {}
  if (k.asymmetricKeyType === 'ec') {
    const curve = d.namedCurve ?? '?'
    const oid = curve === 'prime256v1' ? OID_CURVE_P256 : curve === 'secp384r1' ? OID_CURVE_P384 : curve === 'secp521r1' ? OID_CURVE_P521 : ''
    return {text: `EC ${curve}`, asym: CURVE_ASYM[oid] ? [CURVE_ASYM[oid]] : []}
  }
  if (k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss') return {text: `RSA ${d.modulusLength}`, asym: RSA_ASYM[d.modulusLength ?? 0] ?? []}
  return {text: String(k.asymmetricKeyType), asym: []}
}

interface Parsed {
  x: X509Certificate
  p: Pkijs.Certificate
}

function extension(p: Pkijs.Certificate, oid: string): Pkijs.Extension | undefined {
  return p.extensions?.find((e) => e.extnID === oid)
}

function keyUsageHas(p: Pkijs.Certificate, bit: number): boolean | undefined {
  const e = extension(p, OID_KEY_USAGE)
  if (!e) return undefined
  const asn = asn1js.fromBER(e.extnValue.valueBlock.valueHexView)
  if (asn.offset === -1 || !(asn.result instanceof asn1js.BitString)) return false
  const bytes = asn.result.valueBlock.valueHexView
  const byte = bytes[bit >> 3] ?? 0
  return (byte & (0x80 >> (bit & 7))) !== 0
}

function basicConstraintsCa(p: Pkijs.Certificate): boolean | undefined {
  const e = extension(p, OID_BASIC_CONSTRAINTS)
  if (!e) return undefined
  const asn = asn1js.fromBER(e.extnValue.valueBlock.valueHexView)
  if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) return false
  const first = asn.result.valueBlock.value[0]
  return first instanceof asn1js.Boolean ? first.valueBlock.value : false
}

function ekuOids(p: Pkijs.Certificate): string[] | undefined {
  const e = extension(p, OID_EXT_KEY_USAGE)
  if (!e) return undefined
  const asn = asn1js.fromBER(e.extnValue.valueBlock.valueHexView)
  if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) return []
  return asn.result.valueBlock.value.filter((v) => v instanceof asn1js.ObjectIdentifier).map((v) => (v as Asn1js.ObjectIdentifier).valueBlock.toString())
}

/** The DMTF device-info otherName in subjectAltName, if any. */
function deviceInfo(p: Pkijs.Certificate): string | undefined {
  const e = extension(p, OID_SUBJECT_ALT_NAME)
  if (!e) return undefined
  const asn = asn1js.fromBER(e.extnValue.valueBlock.valueHexView)
  if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) return undefined
  for (const gn of asn.result.valueBlock.value) {
    if (gn.idBlock.tagClass !== 3 || gn.idBlock.tagNumber !== 0 || !(gn instanceof asn1js.Constructed)) continue
    const [oid, val] = gn.valueBlock.value
    if (!(oid instanceof asn1js.ObjectIdentifier) || oid.valueBlock.toString() !== OID_DMTF_DEVICE_INFO) continue
    const inner = val instanceof asn1js.Constructed ? val.valueBlock.value[0] : undefined
    if (inner instanceof asn1js.Utf8String || inner instanceof asn1js.PrintableString || inner instanceof asn1js.IA5String) return inner.valueBlock.value
  }
  return undefined
}

function hasHardwareIdentity(p: Pkijs.Certificate): boolean {
  const e = extension(p, OID_DMTF_SPDM_EXTENSION)
  if (!e) return false
  return Buffer.from(e.extnValue.valueBlock.valueHexView).includes(Buffer.from(new asn1js.ObjectIdentifier({value: OID_DMTF_HARDWARE_IDENTITY}).valueBlock.toBER(false)))
}

export const thumbprint = (alg: HashName, der: Uint8Array): Buffer => createHash(alg).update(der).digest()

function anchorMatches(a: TrustAnchor, der: Buffer, x: X509Certificate): boolean {
  if (a.cert) {
    if (a.cert.equals(der)) return true
    try {
      // same subject and key (a re-issued root with the same key also matches)
      const ax = new X509Certificate(a.cert)
      return ax.subject === x.subject && ax.publicKey.export({type: 'spki', format: 'der'}).equals(x.publicKey.export({type: 'spki', format: 'der'}))
    } catch {
      return false
    }
  }
  if (a.thumbprint) return thumbprint(a.thumbprint.alg, der).equals(a.thumbprint.digest)
  return false
}

/** Verify a device certificate chain. Never throws for bad input: failures are checks. */
export function verifyCertChain(chain: Uint8Array, opts: ChainOptions): ChainResult {
  try {
    return verifyCertChainInner(chain, opts)
  } catch (error) {
    return {ok: false, checks: [{name: 'parse', ok: false, detail: `certificate chain unusable: ${(error as Error).message}`}], certs: [], has_header: false}
  }
}

function verifyCertChainInner(chain: Uint8Array, opts: ChainOptions): ChainResult {
  const checks: ChainCheck[] = []
  const add = (name: string, ok: boolean, detail: string) => checks.push({name, ok, detail})
  let parsed: ParsedCertChain
  try {
    parsed = parseCertChain(chain, opts.hashAlg)
  } catch (error) {
    add('parse', false, (error as Error).message)
    return {ok: false, checks, certs: [], has_header: false}
  }
  add('parse', true, `${parsed.certs.length} certificate(s), ${parsed.has_header ? 'SPDM header' : 'bare DER list'}`)
  const certs: Parsed[] = []
  for (const [i, der] of parsed.certs.entries()) {
    try {
      const x = new X509Certificate(der)
      void x.publicKey // throws when the key does not decode
      certs.push({x, p: pkijs.Certificate.fromBER(der)})
    } catch (error) {
      add('parse', false, `certificate ${i} does not parse: ${(error as Error).message}`)
      return {ok: false, checks, certs: [], has_header: parsed.has_header}
    }
  }
  if (parsed.has_header) {
    add('header_length', parsed.header_length === chain.length, `header length ${parsed.header_length}, chain ${chain.length} bytes`)
    const expect = thumbprint(parsed.root_hash_alg!, parsed.certs[0])
    add('root_hash', expect.equals(parsed.root_hash!), `RootHash ${parsed.root_hash_alg} ${expect.equals(parsed.root_hash!) ? 'matches' : 'does not match'} the first certificate`)
  }
  const info: CertInfo[] = certs.map(({x}, i) => ({
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    not_before: new Date(x.validFrom).toISOString(),
    not_after: new Date(x.validTo).toISOString(),
    key: keyDescription(x).text,
    sha256: thumbprint('sha256', parsed.certs[i]).toString('hex'),
  }))
  // Signatures and names: cert[0] self-signed or issued by a pinned anchor; cert[i] by cert[i-1].
  const first = certs[0]
  const selfSigned = first.x.checkIssued(first.x) && first.x.verify(first.x.publicKey)
  let anchorName: string | undefined
  const direct = opts.anchors.find((a) => anchorMatches(a, parsed.certs[0], first.x))
  if (direct) anchorName = direct.source
  else if (!selfSigned) {
    for (const a of opts.anchors) {
      if (!a.cert) continue
      try {
        const ax = new X509Certificate(a.cert)
        if (first.x.checkIssued(ax) && first.x.verify(ax.publicKey)) anchorName = `${a.source} (issuer of the first certificate)`
      } catch {}
    }
  }
  add('self_signed_root', selfSigned || anchorName !== undefined, selfSigned ? 'first certificate is a self-signed root' : anchorName ? 'first certificate is issued by a pinned anchor' : 'first certificate is neither self-signed nor issued by a pinned anchor')
  for (let i = 1; i < certs.length; i++) {
    const issued = certs[i].x.checkIssued(certs[i - 1].x)
    const sig = certs[i].x.verify(certs[i - 1].x.publicKey)
    add(`signature[${i}]`, issued && sig, `${info[i].subject} ${sig ? 'signed by' : 'NOT signed by'} ${info[i - 1].subject}${issued ? '' : ' (issuer name mismatch)'}`)
  }
  const at = opts.at.getTime()
  const expired = info.filter((c) => at < Date.parse(c.not_before) || at > Date.parse(c.not_after))
  add('validity', expired.length === 0, expired.length === 0 ? `all certificates valid at ${opts.at.toISOString()}` : `${expired.map((c) => c.subject).join('; ')} not valid at ${opts.at.toISOString()}`)
  for (let i = 0; i < certs.length - 1; i++) {
    const ca = basicConstraintsCa(certs[i].p)
    const sign = keyUsageHas(certs[i].p, KeyUsageBit.keyCertSign)
    add(`ca[${i}]`, ca === true && sign !== false, `${info[i].subject}: basicConstraints CA ${ca === undefined ? 'absent' : ca}${sign === false ? ', keyUsage lacks keyCertSign' : ''}`)
  }
  const leaf = certs[certs.length - 1]
  const leafCa = basicConstraintsCa(leaf.p)
  const ds = keyUsageHas(leaf.p, KeyUsageBit.digitalSignature)
  const eku = ekuOids(leaf.p)
  const requesterOnly = eku !== undefined && eku.includes(OID_DMTF_EKU_REQUESTER_AUTH) && !eku.includes(OID_DMTF_EKU_RESPONDER_AUTH)
  const leafOk = leaf.p.version === 2 && leafCa !== true && ds !== false && !requesterOnly
  add(
    'leaf',
    leafOk,
    `X.509 v${leaf.p.version + 1}, CA ${leafCa ?? 'absent'}, digitalSignature ${ds ?? 'no keyUsage'}${requesterOnly ? ', EKU is requester-only' : ''}${hasHardwareIdentity(leaf.p) ? ', hardware-identity' : ''}`,
  )
  const kd = keyDescription(leaf.x)
  const leafAsym = opts.baseAsym !== undefined && kd.asym.includes(opts.baseAsym) ? opts.baseAsym : kd.asym[0]
  if (opts.baseAsym !== undefined) {
    add('leaf_key_alg', kd.asym.includes(opts.baseAsym), `leaf key ${kd.text}, negotiated ${baseAsymName(opts.baseAsym)}`)
  }
  add('anchor', anchorName !== undefined, anchorName ? `chain anchored at ${anchorName}` : opts.anchors.length === 0 ? 'no trust anchor given' : `root ${info[0].subject} (sha256 ${info[0].sha256.slice(0, 16)}…) matches no pinned anchor`)
  return {
    ok: checks.every((c) => c.ok),
    checks,
    certs: info,
    has_header: parsed.has_header,
    leaf_key: leaf.x.publicKey,
    leaf_asym: leafAsym,
    anchor: anchorName,
    device_info: deviceInfo(leaf.p),
  }
}
