/**
 * X.509 certificates and CRLs for DCAP, decoded as strict canonical DER with node-forge's ASN.1
 * codec (src/abi/der.ts) and walked field by field per RFC 5280; keys and signatures go through
 * Node's crypto (ECDSA P-256 / SHA-256). Parsed objects are memoised by DER digest (bounded),
 * because the same Intel certificates and CRLs appear in every quote and collateral bundle.
 *
 * pkijs, which this module used first, spent ~0.9 ms per certificate and ~7.5 ms per PCK CRL on
 * schema matching, plus as much again on the re-encoding that proves canonical DER; that alone was
 * several times the whole single-quote budget. pkijs remains the reference in the tests: every
 * real certificate and CRL must decode to the same fields through both.
 */
import {createHash, createPublicKey, verify as cryptoVerify, type KeyObject} from 'node:crypto'
import {ParseError} from '../errors.js'
import {
  DerError,
  DER_TAG,
  decodeCanonicalDer,
  derBitString,
  derBoolean,
  derChildSpans,
  derChildren,
  derExplicit,
  derIntegerBytes,
  derOctets,
  derOid,
  derSmallInt,
  derString,
  derTime,
  encodeDer,
  isContext,
  isTime,
  isUniversal,
  type DerNode,
} from '../abi/der.js'

export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1'
export const OID_PRIME256V1 = '1.2.840.10045.3.1.7'
export const OID_COMMON_NAME = '2.5.4.3'
export const OID_BASIC_CONSTRAINTS = '2.5.29.19'
export const OID_KEY_USAGE = '2.5.29.15'
/** X.509 v3 is encoded as version INTEGER 2. */
const X509_V3 = 2
/** CRL v2 is encoded as version INTEGER 1. */
const CRL_V2 = 1
/**
 * Extensions this verifier understands, so may be marked critical (RFC 5280 §4.2: a certificate
 * with an unrecognised critical extension must be rejected). Intel's DCAP certificates mark only
 * basic constraints and key usage critical.
 */
const KNOWN_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE])
/** CRL and CRL-entry extensions that may be critical: issuing distribution point, reason code, invalidity date, CRL number, delta CRL indicator. */
const KNOWN_CRITICAL_CRL = new Set(['2.5.29.28', '2.5.29.21', '2.5.29.24', '2.5.29.20', '2.5.29.27'])

/** A certificate or CRL that does not parse, or uses an algorithm DCAP does not allow (typed, exit 2). */
export class X509Error extends ParseError {
  constructor(
    readonly kind: 'malformed' | 'algorithm',
    message: string,
  ) {
    super(kind === 'algorithm' ? 'X509_ALGORITHM' : 'X509_MALFORMED', message)
  }
}

export interface CertExtension {
  oid: string
  critical: boolean
  /** The extnValue OCTET STRING's contents (itself DER). */
  value: Buffer
}

export interface Cert {
  der: Buffer
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string
  subjectCN: string
  issuerCN: string
  /** DER of the subject and issuer Names, compared byte for byte to chain certificates. */
  subjectName: Buffer
  issuerName: Buffer
  notBefore: number
  notAfter: number
  /** Serial number, lowercase hex without leading zero bytes. */
  serial: string
  publicKey: KeyObject
  tbs: Buffer
  /** DER-encoded ECDSA signature. */
  signature: Buffer
  isCA: boolean
  extensions: CertExtension[]
}

export interface Crl {
  der: Buffer
  fingerprint: string
  issuerCN: string
  issuerName: Buffer
  thisUpdate: number
  nextUpdate?: number
  revoked: Set<string>
  tbs: Buffer
  signature: Buffer
}

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function normSerial(v: Uint8Array): string {
  let i = 0
  while (i < v.length - 1 && v[i] === 0) i++
  return Buffer.from(v.subarray(i)).toString('hex')
}

/** The first commonName of a Name (SEQUENCE OF SET OF AttributeTypeAndValue), '' when none. */
function cnOf(name: DerNode, what: string): string {
  let cn: string | undefined
  for (const rdn of derChildren(name, what)) {
    for (const atv of derChildren(rdn, `${what} RDN`, 1, Infinity, DER_TAG.SET)) {
      const [type, value] = derChildren(atv, `${what} attribute`, 2, 2)
      if (derOid(type, `${what} attribute type`) === OID_COMMON_NAME && cn === undefined) cn = derString(value, `${what} CN`)
    }
  }
  return cn ?? ''
}

/**
 * The outer signature AlgorithmIdentifier is ecdsa-with-SHA256 (parameters absent, RFC 5758 §3.2)
 * and the one inside the signed part is the same (RFC 5280 §4.1.1.2, §5.1.1.2).
 */
function checkAlgorithms(inner: DerNode, outer: DerNode, what: string): void {
  const parts = derChildren(outer, `${what} algorithm`, 1, 2)
  const oid = derOid(parts[0], `${what} algorithm`)
  if (oid !== OID_ECDSA_WITH_SHA256 || parts.length !== 1) throw new X509Error('algorithm', `${what} is not signed with ecdsa-with-SHA256 (${oid})`)
  if (!encodeDer(inner).equals(encodeDer(outer))) throw new X509Error('malformed', `${what}: inner and outer signature algorithms differ`)
}

function parseExtensions(list: DerNode, what: string): CertExtension[] {
  const out: CertExtension[] = []
  const seen = new Set<string>()
  for (const ext of derChildren(list, `${what} extensions`, 1)) {
    const parts = derChildren(ext, `${what} extension`, 2, 3)
    const oid = derOid(parts[0], `${what} extension id`)
    if (seen.has(oid)) throw new X509Error('malformed', `${what}: extension ${oid} appears twice`)
    seen.add(oid)
    let critical = false
    if (parts.length === 3) {
      critical = derBoolean(parts[1], `${what} extension ${oid} critical`)
      // DER: a BOOLEAN DEFAULT FALSE is omitted when false (X.690 §11.5).
      if (!critical) throw new X509Error('malformed', `${what}: extension ${oid} encodes the default critical=FALSE`)
    }
    out.push({oid, critical, value: derOctets(parts[parts.length - 1], `${what} extension ${oid} value`)})
  }
  return out
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL } */
function basicConstraintsCA(value: Buffer, what: string): boolean {
  const parts = derChildren(decodeCanonicalDer(value, `${what} basic constraints`), `${what} basic constraints`, 0, 2)
  if (parts.length > 0 && isUniversal(parts[0], DER_TAG.BOOLEAN)) {
    if (!derBoolean(parts[0], `${what} cA`)) throw new X509Error('malformed', `${what}: basic constraints encode the default cA=FALSE`)
    return true
  }
  return false
}

function p256Key(spki: DerNode, what: string): KeyObject {
  const [alg, bits] = derChildren(spki, `${what} public key`, 2, 2)
  const algParts = derChildren(alg, `${what} key algorithm`, 1, 2)
  const keyType = derOid(algParts[0], `${what} key algorithm`)
  const curve = algParts.length === 2 && isUniversal(algParts[1], DER_TAG.OID) ? derOid(algParts[1], `${what} curve`) : ''
  if (keyType !== OID_EC_PUBLIC_KEY || curve !== OID_PRIME256V1) throw new X509Error('algorithm', `${what}: key is not ECDSA P-256`)
  const point = derBitString(bits, `${what} public key`)
  try {
    return point.length === P256_POINT_SIZE && point[0] === EC_POINT_UNCOMPRESSED
      ? p256KeyFromXY(point.subarray(1))
      : createPublicKey({key: encodeDer(spki), format: 'der', type: 'spki'})
  } catch {
    // OpenSSL rejects a point that is not on the curve.
    throw new X509Error('malformed', `${what}: unusable public key`)
  }
}

/** An uncompressed SEC1 P-256 point: 0x04 ‖ x ‖ y. */
const EC_POINT_UNCOMPRESSED = 0x04
const P256_COORD = 32
const P256_POINT_SIZE = 1 + 2 * P256_COORD

/**
 * A P-256 public key from x ‖ y. Imported as a JWK: OpenSSL builds the key from the coordinates
 * directly (and still rejects points off the curve), which costs about 60 % of decoding the
 * equivalent SPKI DER in Node 20.
 */
function p256KeyFromXY(xy: Uint8Array): KeyObject {
  const b = Buffer.from(xy.buffer, xy.byteOffset, xy.byteLength)
  return createPublicKey({key: {kty: 'EC', crv: 'P-256', x: b.toString('base64url', 0, P256_COORD), y: b.toString('base64url', P256_COORD)}, format: 'jwk'})
}

/** The to-be-signed element's bytes exactly as received (the input is canonical DER by now). */
function signedPart(der: Buffer): Buffer {
  const [start, end] = derChildSpans(der)[0]
  return der.subarray(start, end)
}

class Lru<V> {
  private m = new Map<string, V>()
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k)
    if (v !== undefined) {
      this.m.delete(k)
      this.m.set(k, v)
    }
    return v
  }
  set(k: string, v: V): void {
    this.m.set(k, v)
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string)
  }
  clear(): void {
    this.m.clear()
  }
}

const certMemo = new Lru<Cert>(512)
const crlMemo = new Lru<Crl>(64)

/** Drop memoised parses (benchmarks measure cold verification with this). */
export function clearX509Memo(): void {
  certMemo.clear()
  crlMemo.clear()
  keyMemo.clear()
  sigMemo.clear()
}

/** A SIGNED{} object (certificate or CRL) as decoded so far. */
interface SignedParts {
  bytes: Buffer
  fingerprint: string
  /** The to-be-signed element's fields, its bytes exactly as received, the outer algorithm, the signature. */
  fields: DerNode[]
  tbs: Buffer
  algorithm: DerNode
  signature: Buffer
}

/**
 * The envelope shared by certificates and CRLs (RFC 5280: { toBeSigned, signatureAlgorithm,
 * signatureValue BIT STRING }), decoded as canonical DER, then `body` for the rest. Memoised by
 * DER digest; any decoding failure becomes X509Error('malformed').
 */
function parseSigned<T>(memo: Lru<T>, der: Uint8Array, what: 'certificate' | 'CRL', body: (p: SignedParts) => T): T {
  const fingerprint = sha256hex(der)
  const hit = memo.get(fingerprint)
  if (hit) return hit
  const bytes = Buffer.from(der)
  let out: T
  try {
    const [tbs, algorithm, sigValue] = derChildren(decodeCanonicalDer(bytes, what), what, 3, 3)
    const fields = derChildren(tbs, `${what} to-be-signed part`)
    out = body({bytes, fingerprint, fields, tbs: signedPart(bytes), algorithm, signature: derBitString(sigValue, `${what} signature`)})
  } catch (e) {
    if (e instanceof X509Error) throw e
    if (e instanceof DerError) throw new X509Error('malformed', e.message)
    throw new X509Error('malformed', `${what} does not parse: ${(e as Error).message}`)
  }
  memo.set(fingerprint, out)
  return out
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { [0] EXPLICIT version, serialNumber, signature, issuer, validity,
 *   subject, subjectPublicKeyInfo, [1] issuerUniqueID OPTIONAL, [2] subjectUniqueID OPTIONAL,
 *   [3] EXPLICIT extensions OPTIONAL }   (RFC 5280 §4.1)
 */
export function parseCert(der: Uint8Array): Cert {
  return parseSigned(certMemo, der, 'certificate', ({bytes, fingerprint, fields: f, tbs, algorithm, signature}): Cert => {
    if (f.length < 7 || f.length > 10) throw new X509Error('malformed', `TBSCertificate: ${f.length} elements, expected 7..10`)
    if (!isContext(f[0], 0) || derSmallInt(derExplicit(f[0], 'version'), 'version') !== X509_V3) throw new X509Error('malformed', 'certificate is not X.509 v3')
    const subjectCN = cnOf(f[5], 'subject')
    checkAlgorithms(f[2], algorithm, `certificate "${subjectCN}"`)
    const [notBefore, notAfter] = derChildren(f[4], 'validity', 2, 2).map((t, i) => derTime(t, i ? 'notAfter' : 'notBefore'))
    if (notAfter < notBefore) throw new X509Error('malformed', `certificate "${subjectCN}": notAfter precedes notBefore`)
    let extensions: CertExtension[] = []
    for (const opt of f.slice(7)) {
      if (isContext(opt, 3)) extensions = parseExtensions(derExplicit(opt, 'extensions'), `certificate "${subjectCN}"`)
      else throw new X509Error('malformed', `certificate "${subjectCN}": unexpected unique identifier or element`)
    }
    const unknownCritical = extensions.find((e) => e.critical && !KNOWN_CRITICAL.has(e.oid))
    if (unknownCritical) throw new X509Error('malformed', `certificate "${subjectCN}": unrecognised critical extension ${unknownCritical.oid}`)
    const bc = extensions.find((e) => e.oid === OID_BASIC_CONSTRAINTS)
    return {
      der: bytes,
      fingerprint,
      subjectCN,
      issuerCN: cnOf(f[3], 'issuer'),
      subjectName: encodeDer(f[5]),
      issuerName: encodeDer(f[3]),
      notBefore,
      notAfter,
      serial: normSerial(derIntegerBytes(f[1], 'serial number')),
      publicKey: p256Key(f[6], `certificate "${subjectCN}"`),
      tbs,
      signature,
      isCA: bc ? basicConstraintsCA(bc.value, `certificate "${subjectCN}"`) : false,
      extensions,
    }
  })
}

/**
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertList ::= SEQUENCE { version OPTIONAL, signature, issuer, thisUpdate, nextUpdate OPTIONAL,
 *   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate, revocationDate,
 *   crlEntryExtensions OPTIONAL } OPTIONAL, [0] EXPLICIT crlExtensions OPTIONAL }   (RFC 5280 §5.1)
 */
export function parseCrl(der: Uint8Array): Crl {
  return parseSigned(crlMemo, der, 'CRL', ({bytes, fingerprint, fields: f, tbs, algorithm, signature}): Crl => {
    if (f.length < 3 || f.length > 7) throw new X509Error('malformed', `TBSCertList: ${f.length} elements, expected 3..7`)
    let i = 0
    if (isUniversal(f[0], DER_TAG.INTEGER) && derSmallInt(f[i++], 'CRL version') !== CRL_V2) throw new X509Error('malformed', 'CRL is not v2')
    checkAlgorithms(f[i++], algorithm, 'CRL')
    const issuer = f[i++]
    const issuerCN = cnOf(issuer, 'CRL issuer')
    const thisUpdate = derTime(f[i++], 'thisUpdate')
    const nextUpdate = isTime(f[i]) ? derTime(f[i++], 'nextUpdate') : undefined
    const revoked = new Set<string>()
    const criticalExt = (list: DerNode, what: string) => {
      const bad = parseExtensions(list, what).find((e) => e.critical && !KNOWN_CRITICAL_CRL.has(e.oid))
      if (bad) throw new X509Error('malformed', `${what}: unrecognised critical extension ${bad.oid}`)
    }
    if (isUniversal(f[i], DER_TAG.SEQUENCE)) {
      for (const entry of derChildren(f[i++], 'revokedCertificates', 1)) {
        const e = derChildren(entry, 'revoked certificate', 2, 3)
        revoked.add(normSerial(derIntegerBytes(e[0], 'revoked serial')))
        // The revocation date is not used (a listed serial is revoked whatever the date): only its type is checked.
        if (!isTime(e[1])) throw new X509Error('malformed', 'CRL: revocationDate is not a time')
        if (e.length === 3) criticalExt(e[2], 'CRL entry')
      }
    }
    if (isContext(f[i], 0)) criticalExt(derExplicit(f[i++], 'CRL extensions'), 'CRL')
    if (i !== f.length) throw new X509Error('malformed', 'CRL: unexpected element in TBSCertList')
    return {der: bytes, fingerprint, issuerCN, issuerName: encodeDer(issuer), thisUpdate, nextUpdate, revoked, tbs, signature}
  })
}

/** ECDSA P-256 / SHA-256 over `data` with a DER signature (certificates, CRLs). */
export function verifyDerSig(data: Uint8Array, sigDer: Uint8Array, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', data, {key, dsaEncoding: 'der'}, sigDer)
  } catch {
    return false
  }
}

/** ECDSA P-256 / SHA-256 with a raw 64-byte r‖s signature (quotes, QE reports, TCB info). */
export function verifyRawSig(data: Uint8Array, sig: Uint8Array, key: KeyObject): boolean {
  if (sig.length !== 64) return false
  try {
    return cryptoVerify('sha256', data, {key, dsaEncoding: 'ieee-p1363'}, sig)
  } catch {
    return false
  }
}

/** A P-256 public key from the 64-byte x‖y form used in quotes. Throws on a point not on the curve. */
const keyMemo = new Lru<KeyObject>(1024)
export function keyFromRawXY(xy: Uint8Array): KeyObject {
  if (xy.length !== 2 * P256_COORD) throw new Error('attestation key must be 64 bytes')
  const id = Buffer.from(xy).toString('hex')
  const hit = keyMemo.get(id)
  if (hit) return hit
  const key = p256KeyFromXY(xy)
  keyMemo.set(id, key)
  return key
}

/** Signature results memoised by (signed object digest, signer digest): a pure function of the bytes. */
const sigMemo = new Lru<boolean>(1024)
function memoSig(id: string, check: () => boolean): boolean {
  const hit = sigMemo.get(id)
  if (hit !== undefined) return hit
  const ok = check()
  sigMemo.set(id, ok)
  return ok
}
export const certSignedBy = (child: Cert, parent: Cert): boolean =>
  memoSig(`c:${child.fingerprint}:${parent.fingerprint}`, () => verifyDerSig(child.tbs, child.signature, parent.publicKey))
export const crlSignedBy = (crl: Crl, issuer: Cert): boolean =>
  memoSig(`l:${crl.fingerprint}:${issuer.fingerprint}`, () => verifyDerSig(crl.tbs, crl.signature, issuer.publicKey))

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\n((?:[A-Za-z0-9+/=]+\n)+)-----END CERTIFICATE-----/y
const PEM_LOOSE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g

/**
 * Certificates from a PEM chain. `strict` (the quote's own certification data): blocks separated by
 * single newlines, 64-column-free base64 lines of only base64 characters, canonical base64, and
 * nothing after the last block but an optional newline and one NUL. Loose (collateral issuer
 * chains): any whitespace. Throws X509Error on anything else.
 */
export function parsePemChain(text: string, strict: boolean): Buffer[] {
  const out: Buffer[] = []
  const decode = (b64raw: string) => {
    const b64 = b64raw.replace(/\s+/g, '')
    const der = Buffer.from(b64, 'base64')
    if (der.length === 0 || der.toString('base64') !== b64) throw new X509Error('malformed', 'PEM certificate is not canonical base64')
    out.push(der)
  }
  if (!strict) {
    const rest = text.replace(PEM_LOOSE, (_m, b64: string) => {
      decode(b64)
      return ''
    })
    if (rest.replace(/\0$/, '').trim() !== '') throw new X509Error('malformed', 'unexpected text in PEM chain')
    return out
  }
  let pos = 0
  for (;;) {
    PEM_BLOCK.lastIndex = pos
    const m = PEM_BLOCK.exec(text)
    if (!m) break
    decode(m[1])
    pos = PEM_BLOCK.lastIndex
    if (text[pos] === '\n') pos++
  }
  const tail = text.slice(pos)
  if (out.length === 0 || (tail !== '' && tail !== '\0')) throw new X509Error('malformed', 'PCK chain PEM is malformed')
  return out
}
