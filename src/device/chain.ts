/**
 * Device certificate-chain verification (SPDM slot chains with or without the SPDM header): the
 * device rules on top of the shared certificate reader (src/x509, open profile: any key and
 * signature algorithm Node's crypto verifies). Pure: bytes + trust anchors + time in, a result with
 * every check out.
 *
 * Checks (shared/reference/device-evidence.md §2.3, §2.6, §4.1 step 3): header length and
 * RootHash = Hash(first cert); every certificate parses; each is signed by the previous one
 * (the first by itself or by a pinned anchor) with issuer = previous subject; validity at `at`;
 * CA certificates carry basicConstraints CA:TRUE (and keyCertSign when keyUsage is present); the
 * leaf is not a CA, has digitalSignature, and is not requester-only by DMTF EKU; the leaf key
 * matches the negotiated BaseAsym; the chain ends in a pinned anchor (cert, SPKI or thumbprint).
 */
import {createHash, hash, type KeyObject} from 'node:crypto'
import {ParseError} from '../errors.js'
import {HASH_SIZE, SPDM_CERT_CHAIN_HEADER, SpdmBaseAsym, baseAsymName, type HashName} from '../abi/spdm.js'
import {certSignedBy, parseCert, type Cert} from '../x509/cert.js'
import {DER_SEQUENCE, issuedBy, splitDerCerts} from '../x509/chain.js'
import {dmtfDeviceInfo, extensionValue, extKeyUsage, keyUsageHas, spdmExtensionOids} from '../x509/extensions.js'
import {Lru} from '../x509/memo.js'
import {nameText} from '../x509/name.js'
import {
  KeyUsageBit,
  OID_BASIC_CONSTRAINTS,
  OID_CURVE_P256,
  OID_CURVE_P384,
  OID_CURVE_P521,
  OID_DMTF_EKU_REQUESTER_AUTH,
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_EC_PUBLIC_KEY,
} from '../x509/oids.js'
import {OPEN_PROFILE} from '../x509/profile.js'

interface ParsedCertChain {
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

interface ChainOptions {
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

const CURVE_NAME: Record<string, string> = {[OID_CURVE_P256]: 'prime256v1', [OID_CURVE_P384]: 'secp384r1', [OID_CURVE_P521]: 'secp521r1'}

/** The certificate's key as text and the BaseAsym bits it can serve (named EC curves from the SPKI's OIDs, without asking the key). */
function keyDescription(c: Cert): {text: string; asym: number[]} {
  if (c.keyAlgorithm === OID_EC_PUBLIC_KEY && CURVE_NAME[c.keyCurve]) return {text: `EC ${CURVE_NAME[c.keyCurve]}`, asym: [CURVE_ASYM[c.keyCurve]]}
  const k = c.publicKey
  const d = k.asymmetricKeyDetails ?? {}
  if (k.asymmetricKeyType === 'ec') return {text: `EC ${d.namedCurve ?? '?'}`, asym: []}
  if (k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'rsa-pss') return {text: `RSA ${d.modulusLength}`, asym: RSA_ASYM[d.modulusLength ?? 0] ?? []}
  return {text: String(k.asymmetricKeyType), asym: []}
}

/** basicConstraints cA: undefined without the extension. */
const basicConstraintsCa = (c: Cert): boolean | undefined => (extensionValue(c.extensions, OID_BASIC_CONSTRAINTS) ? c.isCA : undefined)

export const thumbprint = (alg: HashName, der: Uint8Array): Buffer => createHash(alg).update(der).digest()

const spkiOf = (c: Cert): Buffer => c.publicKey.export({type: 'spki', format: 'der'})

/** An anchor certificate, or undefined when it does not parse. */
function anchorCert(a: TrustAnchor): Cert | undefined {
  try {
    return a.cert ? parseCert(a.cert, OPEN_PROFILE) : undefined
  } catch {
    return undefined
  }
}

function anchorMatches(a: TrustAnchor, der: Buffer, c: Cert): boolean {
  if (a.cert) {
    if (a.cert.equals(der)) return true
    // same subject and key (a re-issued root with the same key also matches)
    const ac = anchorCert(a)
    return ac !== undefined && nameText(ac.subjectName) === nameText(c.subjectName) && spkiOf(ac).equals(spkiOf(c))
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

type AddCheck = (name: string, ok: boolean, detail: string) => void

/** Every certificate through the shared reader; undefined (and a failed parse check) at the first that does not parse. */
function parseCerts(ders: readonly Buffer[], add: AddCheck): Cert[] | undefined {
  const certs: Cert[] = []
  for (const [i, der] of ders.entries()) {
    try {
      certs.push(parseCert(der, OPEN_PROFILE))
    } catch (error) {
      add('parse', false, `certificate ${i} does not parse: ${(error as Error).message}`)
      return undefined
    }
  }
  return certs
}

/** The SPDM header's length covers the whole chain; RootHash is the first certificate's digest. */
function headerChecks(parsed: ParsedCertChain, chainLength: number, add: AddCheck): void {
  add('header_length', parsed.header_length === chainLength, `header length ${parsed.header_length}, chain ${chainLength} bytes`)
  const expect = thumbprint(parsed.root_hash_alg!, parsed.certs[0])
  add('root_hash', expect.equals(parsed.root_hash!), `RootHash ${parsed.root_hash_alg} ${expect.equals(parsed.root_hash!) ? 'matches' : 'does not match'} the first certificate`)
}

const certInfo = (c: Cert): CertInfo => ({
  subject: nameText(c.subjectName),
  issuer: nameText(c.issuerName),
  not_before: new Date(c.notBefore).toISOString(),
  not_after: new Date(c.notAfter).toISOString(),
  key: keyDescription(c).text,
  sha256: c.fingerprint,
})

/** The pinned anchor the first certificate matches, or (when it is not self-signed) was issued by. */
function anchorOf(first: Cert, selfSigned: boolean, anchors: readonly TrustAnchor[]): string | undefined {
  const direct = anchors.find((a) => anchorMatches(a, first.der, first))
  if (direct) return direct.source
  let anchorName: string | undefined
  if (!selfSigned) {
    for (const a of anchors) {
      const ac = anchorCert(a)
      if (ac && issuedBy(first, ac) && certSignedBy(first, ac)) anchorName = `${a.source} (issuer of the first certificate)`
    }
  }
  return anchorName
}

/** The leaf is not a CA, may sign (digitalSignature when keyUsage is present) and is not requester-only by DMTF EKU. */
function leafCheck(leaf: Cert): {ok: boolean; detail: string} {
  const leafCa = basicConstraintsCa(leaf)
  const ds = keyUsageHas(leaf.extensions, KeyUsageBit.digitalSignature)
  const eku = extKeyUsage(leaf.extensions)
  const requesterOnly = eku !== undefined && eku.includes(OID_DMTF_EKU_REQUESTER_AUTH) && !eku.includes(OID_DMTF_EKU_RESPONDER_AUTH)
  const hardwareIdentity = spdmExtensionOids(leaf.extensions).includes(OID_DMTF_HARDWARE_IDENTITY)
  return {
    // the reader accepts only X.509 v3
    ok: leafCa !== true && ds !== false && !requesterOnly,
    detail: `X.509 v3, CA ${leafCa ?? 'absent'}, digitalSignature ${ds ?? 'no keyUsage'}${requesterOnly ? ', EKU is requester-only' : ''}${hardwareIdentity ? ', hardware-identity' : ''}`,
  }
}

/**
 * What a chain's bytes decide on their own (the negotiated BaseHash fixes the header layout): the
 * parse, header, signature, CA and leaf checks, each certificate's summary and the leaf's key.
 * Validity (the time), the anchor (the caller's anchors) and the leaf key against the negotiated
 * BaseAsym are checked per call.
 */
interface ChainFacts {
  /** checks before self_signed_root: parse, then header_length and root_hash with a header */
  head: ChainCheck[]
  /** set when the chain does not parse: the result is `head` alone */
  unparsed?: {has_header: boolean}
  has_header: boolean
  certs: Cert[]
  info: CertInfo[]
  selfSigned: boolean
  /** signature[i] checks (i ≥ 1), then ca[i] checks */
  signatures: ChainCheck[]
  cas: ChainCheck[]
  leaf: ChainCheck
  leafKey: {text: string; asym: number[]}
  device_info?: string
}

/**
 * Chains already read, keyed by BaseHash and the SHA-256 of their bytes: a device presents the same
 * chain in every evidence bundle, and its certificates, signatures and extensions are a function of
 * those bytes (cleared with the other X.509 memos by clearX509Memo).
 */
const chainMemo = new Lru<ChainFacts>(64)

function readChain(chain: Uint8Array, hashAlg: HashName | undefined): ChainFacts {
  const key = `${hashAlg ?? ''}:${hash('sha256', chain, 'hex')}`
  let facts = chainMemo.get(key)
  if (!facts) chainMemo.set(key, (facts = chainFacts(chain, hashAlg)))
  return facts
}

function chainFacts(chain: Uint8Array, hashAlg: HashName | undefined): ChainFacts {
  const head: ChainCheck[] = []
  const add: AddCheck = (name, ok, detail) => head.push({name, ok, detail})
  const none = {has_header: false, certs: [], info: [], selfSigned: false, signatures: [], cas: [], leaf: {name: 'leaf', ok: false, detail: ''}, leafKey: {text: '', asym: []}}
  let parsed: ParsedCertChain
  try {
    parsed = parseCertChain(chain, hashAlg)
  } catch (error) {
    add('parse', false, (error as Error).message)
    return {head, unparsed: {has_header: false}, ...none}
  }
  add('parse', true, `${parsed.certs.length} certificate(s), ${parsed.has_header ? 'SPDM header' : 'bare DER list'}`)
  const certs = parseCerts(parsed.certs, add)
  if (!certs) return {head, unparsed: {has_header: parsed.has_header}, ...none}
  if (parsed.has_header) headerChecks(parsed, chain.length, add)
  const info = certs.map(certInfo)
  // Signatures and names: cert[i] by cert[i-1] (cert[0] by itself or a pinned anchor, per call).
  const selfSigned = issuedBy(certs[0], certs[0]) && certSignedBy(certs[0], certs[0])
  const signatures: ChainCheck[] = []
  for (let i = 1; i < certs.length; i++) {
    const issued = issuedBy(certs[i], certs[i - 1])
    const sig = certSignedBy(certs[i], certs[i - 1])
    signatures.push({name: `signature[${i}]`, ok: issued && sig, detail: `${info[i].subject} ${sig ? 'signed by' : 'NOT signed by'} ${info[i - 1].subject}${issued ? '' : ' (issuer name mismatch)'}`})
  }
  const cas: ChainCheck[] = []
  for (let i = 0; i < certs.length - 1; i++) {
    const ca = basicConstraintsCa(certs[i])
    const sign = keyUsageHas(certs[i].extensions, KeyUsageBit.keyCertSign)
    cas.push({name: `ca[${i}]`, ok: ca === true && sign !== false, detail: `${info[i].subject}: basicConstraints CA ${ca === undefined ? 'absent' : ca}${sign === false ? ', keyUsage lacks keyCertSign' : ''}`})
  }
  const leaf = certs[certs.length - 1]
  const lc = leafCheck(leaf)
  return {head, has_header: parsed.has_header, certs, info, selfSigned, signatures, cas, leaf: {name: 'leaf', ...lc}, leafKey: keyDescription(leaf), device_info: dmtfDeviceInfo(leaf.extensions)}
}

const copyCheck = (c: ChainCheck): ChainCheck => ({...c})

function verifyCertChainInner(chain: Uint8Array, opts: ChainOptions): ChainResult {
  const f = readChain(chain, opts.hashAlg)
  // Copies: the memo's check records stay as the chain's bytes decided them.
  const checks: ChainCheck[] = f.head.map(copyCheck)
  if (f.unparsed) return {ok: false, checks, certs: [], has_header: f.unparsed.has_header}
  const add: AddCheck = (name, ok, detail) => checks.push({name, ok, detail})
  const {info} = f
  const anchorName = anchorOf(f.certs[0], f.selfSigned, opts.anchors)
  add('self_signed_root', f.selfSigned || anchorName !== undefined, f.selfSigned ? 'first certificate is a self-signed root' : anchorName ? 'first certificate is issued by a pinned anchor' : 'first certificate is neither self-signed nor issued by a pinned anchor')
  checks.push(...f.signatures.map(copyCheck))
  const at = opts.at.getTime()
  const expired = f.certs.filter((c) => at < c.notBefore || at > c.notAfter)
  add('validity', expired.length === 0, expired.length === 0 ? `all certificates valid at ${opts.at.toISOString()}` : `${expired.map((c) => info[f.certs.indexOf(c)].subject).join('; ')} not valid at ${opts.at.toISOString()}`)
  checks.push(...f.cas.map(copyCheck), copyCheck(f.leaf))
  const kd = f.leafKey
  const leafAsym = opts.baseAsym !== undefined && kd.asym.includes(opts.baseAsym) ? opts.baseAsym : kd.asym[0]
  if (opts.baseAsym !== undefined) {
    add('leaf_key_alg', kd.asym.includes(opts.baseAsym), `leaf key ${kd.text}, negotiated ${baseAsymName(opts.baseAsym)}`)
  }
  add('anchor', anchorName !== undefined, anchorName ? `chain anchored at ${anchorName}` : opts.anchors.length === 0 ? 'no trust anchor given' : `root ${info[0].subject} (sha256 ${info[0].sha256.slice(0, 16)}…) matches no pinned anchor`)
  return {
    ok: checks.every((c) => c.ok),
    checks,
    certs: info.map((c) => ({...c})),
    has_header: f.has_header,
    leaf_key: f.certs[f.certs.length - 1].publicKey,
    leaf_asym: leafAsym,
    anchor: anchorName,
    device_info: f.device_info,
  }
}
