/**
 * The X.509 certificate and CRL reader: strict canonical DER (src/abi/der.ts), walked field by field per RFC 5280; keys imported and signatures checked with
 * Node's crypto. A profile (src/x509/profile.ts) narrows the algorithms and critical extensions a
 * caller accepts. Parsed objects are memoised by (profile, DER digest), bounded, because the same
 * Intel certificates and CRLs appear in every quote and collateral bundle.
 *
 * pkijs, which the verifier used first, spent ~0.9 ms per certificate and ~7.5 ms per PCK CRL on
 * schema matching, plus as much again on the re-encoding that proves canonical DER; that alone was
 * several times the whole single-quote budget. pkijs remains the reference in the tests: every
 * real certificate and CRL must decode to the same fields through both (test/x509/cert.test.ts).
 */
import {createPublicKey, hash, type KeyObject} from 'node:crypto'
import {ParseError} from '../errors.js'
import {
  DerError,
  DER_TAG,
  decodeCanonicalDer,
  derBitString,
  derBoolean,
  derBytesOf,
  derChildren,
  derEqual,
  derExpect,
  derIntegerHex,
  derExplicit,
  derOctets,
  derOid,
  derSmallInt,
  derTime,
  encodeDer,
  hexWithoutLeadingZeros,
  isContext,
  isTime,
  isUniversal,
  type DerNode,
} from '../abi/der.js'
import {CURVES, EC_POINT_UNCOMPRESSED, ecPublicKey, type CurveName} from './ecdsa.js'
import {basicConstraintsCA, type CertExtension} from './extensions.js'
import {Lru, onClearMemo} from './memo.js'
import {cnOf} from './name.js'
import {
  OID_BASIC_CONSTRAINTS,
  OID_CURVE_P256,
  OID_CURVE_P384,
  OID_DELTA_CRL_INDICATOR,
  OID_EC_PUBLIC_KEY,
  OID_CRL_NUMBER,
  OID_CRL_REASON,
  OID_INVALIDITY_DATE,
  OID_ISSUING_DISTRIBUTION_POINT,
} from './oids.js'
import type {X509Profile} from './profile.js'
import {verifySignature, type AlgorithmId} from './signature.js'

export type {CertExtension} from './extensions.js'

/** X.509 v3 is encoded as version INTEGER 2. */
const X509_V3 = 2
/** CRL v2 is encoded as version INTEGER 1. */
const CRL_V2 = 1
/** CRL and CRL-entry extensions that may be critical: issuing distribution point, reason code, invalidity date, CRL number, delta CRL indicator. */
const KNOWN_CRITICAL_CRL = new Set([OID_ISSUING_DISTRIBUTION_POINT, OID_CRL_REASON, OID_INVALIDITY_DATE, OID_CRL_NUMBER, OID_DELTA_CRL_INDICATOR])
/** Named curves whose uncompressed points are imported from their coordinates (the fast path). */
const CURVE_OF_OID: Readonly<Record<string, CurveName>> = {[OID_CURVE_P256]: 'P-256', [OID_CURVE_P384]: 'P-384'}

/** A certificate or CRL that does not parse, or uses an algorithm the caller's profile does not allow (typed, exit 2). */
export class X509Error extends ParseError {
  constructor(
    readonly kind: 'malformed' | 'algorithm',
    message: string,
  ) {
    super(kind === 'algorithm' ? 'X509_ALGORITHM' : 'X509_MALFORMED', message)
  }
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
  /** SubjectPublicKeyInfo algorithm OID, and the named-curve OID for EC keys ('' otherwise). */
  keyAlgorithm: string
  keyCurve: string
  tbs: Buffer
  signatureAlgorithm: AlgorithmId
  /** The signatureValue BIT STRING's contents (DER ECDSA-Sig-Value for ECDSA). */
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
  signatureAlgorithm: AlgorithmId
  signature: Buffer
}

/** One-shot SHA-256 (crypto.hash: no Hash object per call). */
const sha256hex = (b: Uint8Array): string => hash('sha256', b, 'hex')

/** A serial number as lowercase hex without leading zero bytes (how Cert.serial and Crl.revoked hold it). */
export const normalisedSerial = (v: Uint8Array): string => hexWithoutLeadingZeros(v)

/**
 * The outer signature AlgorithmIdentifier, allowed by the profile (which requires absent
 * parameters, RFC 5758 §3.2), and the one inside the signed part is the same (RFC 5280 §4.1.1.2,
 * §5.1.1.2).
 */
function signatureAlgorithm(inner: DerNode, outer: DerNode, what: string, profile: X509Profile): AlgorithmId {
  const parts = derChildren(outer, `${what} algorithm`, 1, 2)
  const oid = derOid(parts[0], `${what} algorithm`)
  const allowed = profile.signature
  if (allowed && (!allowed.oids.has(oid) || parts.length !== 1)) throw new X509Error('algorithm', `${what} is not signed with ${allowed.text} (${oid})`)
  if (!derEqual(inner, outer)) throw new X509Error('malformed', `${what}: inner and outer signature algorithms differ`)
  return parts.length === 2 ? {oid, params: encodeDer(parts[1])} : {oid}
}

/** One Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }, its id not seen before; the value is left as a node. */
function extensionParts(ext: DerNode, what: string, seen: Set<string>): {oid: string; critical: boolean; value: DerNode} {
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
  return {oid, critical, value: parts[parts.length - 1]}
}

function parseExtensions(list: DerNode, what: string): CertExtension[] {
  const seen = new Set<string>()
  return derChildren(list, `${what} extensions`, 1).map((ext) => {
    const {oid, critical, value} = extensionParts(ext, what, seen)
    return {oid, critical, value: derOctets(value, `${what} extension ${oid} value`)}
  })
}

interface PublicKeyInfo {
  key: KeyObject
  algorithm: string
  curve: string
}

/**
 * SubjectPublicKeyInfo: the profile's key type first, then the key itself. An uncompressed P-256 or
 * P-384 point is imported from its coordinates (about 60 % of the cost of decoding the SPKI DER in
 * Node 20); anything else goes through OpenSSL's SPKI decoder.
 */
function publicKeyInfo(spki: DerNode, what: string, profile: X509Profile): PublicKeyInfo {
  const [alg, bits] = derChildren(spki, `${what} public key`, 2, 2)
  const algParts = derChildren(alg, `${what} key algorithm`, 1, 2)
  const algorithm = derOid(algParts[0], `${what} key algorithm`)
  const curve = algParts.length === 2 && isUniversal(algParts[1], DER_TAG.OID) ? derOid(algParts[1], `${what} curve`) : ''
  const want = profile.key
  if (want && (algorithm !== want.algorithm || curve !== want.curve)) throw new X509Error('algorithm', `${what}: key is not ${want.text}`)
  const point = derBitString(bits, `${what} public key`)
  const fast = algorithm === OID_EC_PUBLIC_KEY ? CURVE_OF_OID[curve] : undefined
  try {
    const key =
      fast && point.length === 1 + 2 * CURVES[fast].size && point[0] === EC_POINT_UNCOMPRESSED
        ? ecPublicKey(fast, point)
        : createPublicKey({key: encodeDer(spki), format: 'der', type: 'spki'})
    return {key, algorithm, curve}
  } catch {
    // OpenSSL rejects a point that is not on the curve, and keys it cannot decode.
    throw new X509Error('malformed', `${what}: unusable public key`)
  }
}

const certMemo = new Lru<Cert>(512)
const crlMemo = new Lru<Crl>(64)

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
 * profile and DER digest; any decoding failure becomes X509Error('malformed').
 */
function parseSigned<T>(memo: Lru<T>, der: Uint8Array, what: 'certificate' | 'CRL', profile: X509Profile, body: (p: SignedParts) => T): T {
  const fingerprint = sha256hex(der)
  const memoKey = `${profile.name}:${fingerprint}`
  const hit = memo.get(memoKey)
  if (hit) return hit
  const bytes = Buffer.from(der)
  let out: T
  try {
    const [tbs, algorithm, sigValue] = derChildren(decodeCanonicalDer(bytes, what), what, 3, 3)
    const fields = derChildren(tbs, `${what} to-be-signed part`)
    out = body({bytes, fingerprint, fields, tbs: derBytesOf(tbs), algorithm, signature: derBitString(sigValue, `${what} signature`)})
  } catch (e) {
    if (e instanceof X509Error) throw e
    if (e instanceof DerError) throw new X509Error('malformed', e.message)
    throw new X509Error('malformed', `${what} does not parse: ${(e as Error).message}`)
  }
  memo.set(memoKey, out)
  return out
}

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { [0] EXPLICIT version, serialNumber, signature, issuer, validity,
 *   subject, subjectPublicKeyInfo, [1] issuerUniqueID OPTIONAL, [2] subjectUniqueID OPTIONAL,
 *   [3] EXPLICIT extensions OPTIONAL }   (RFC 5280 §4.1; only v3, without unique identifiers)
 */
export function parseCert(der: Uint8Array, profile: X509Profile): Cert {
  return parseSigned(certMemo, der, 'certificate', profile, ({bytes, fingerprint, fields: f, tbs, algorithm, signature}): Cert => {
    if (f.length < 7 || f.length > 10) throw new X509Error('malformed', `TBSCertificate: ${f.length} elements, expected 7..10`)
    if (!isContext(f[0], 0) || derSmallInt(derExplicit(f[0], 'version'), 'version') !== X509_V3) throw new X509Error('malformed', 'certificate is not X.509 v3')
    const subjectCN = cnOf(f[5], 'subject')
    const what = `certificate "${subjectCN}"`
    const signatureAlg = signatureAlgorithm(f[2], algorithm, what, profile)
    const [notBefore, notAfter] = derChildren(f[4], 'validity', 2, 2).map((t, i) => derTime(t, i ? 'notAfter' : 'notBefore'))
    if (notAfter < notBefore) throw new X509Error('malformed', `${what}: notAfter precedes notBefore`)
    let extensions: CertExtension[] = []
    for (const opt of f.slice(7)) {
      if (isContext(opt, 3)) extensions = parseExtensions(derExplicit(opt, 'extensions'), what)
      else throw new X509Error('malformed', `${what}: unexpected unique identifier or element`)
    }
    const known = profile.criticalExtensions
    const unknownCritical = known && extensions.find((e) => e.critical && !known.has(e.oid))
    if (unknownCritical) throw new X509Error('malformed', `${what}: unrecognised critical extension ${unknownCritical.oid}`)
    const bc = extensions.find((e) => e.oid === OID_BASIC_CONSTRAINTS)
    // Field by field in certificate order, so that the first defect is the one reported.
    const issuerCN = cnOf(f[3], 'issuer')
    const serial = derIntegerHex(f[1], 'serial number')
    const spki = publicKeyInfo(f[6], what, profile)
    return {
      der: bytes,
      fingerprint,
      subjectCN,
      issuerCN,
      subjectName: encodeDer(f[5]),
      issuerName: encodeDer(f[3]),
      notBefore,
      notAfter,
      serial,
      publicKey: spki.key,
      keyAlgorithm: spki.algorithm,
      keyCurve: spki.curve,
      tbs,
      signatureAlgorithm: signatureAlg,
      signature,
      isCA: bc ? basicConstraintsCA(bc.value, what, (m) => new X509Error('malformed', m)) : false,
      extensions,
    }
  })
}

/** CRL or CRL-entry extensions: well formed, and the critical ones among those RFC 5280 defines for CRLs (values are not used). */
function checkCrlExtensions(list: DerNode, what: string): void {
  const seen = new Set<string>()
  let unknownCritical: string | undefined
  for (const ext of derChildren(list, `${what} extensions`, 1)) {
    const {oid, critical, value} = extensionParts(ext, what, seen)
    derExpect(value, DER_TAG.OCTET_STRING, `${what} extension ${oid} value`)
    if (critical && !KNOWN_CRITICAL_CRL.has(oid)) unknownCritical ??= oid
  }
  // Reported after the whole list has been read, so that a malformed extension anywhere is reported first.
  if (unknownCritical) throw new X509Error('malformed', `${what}: unrecognised critical extension ${unknownCritical}`)
}

/**
 * CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertList ::= SEQUENCE { version OPTIONAL, signature, issuer, thisUpdate, nextUpdate OPTIONAL,
 *   revokedCertificates SEQUENCE OF SEQUENCE { userCertificate, revocationDate,
 *   crlEntryExtensions OPTIONAL } OPTIONAL, [0] EXPLICIT crlExtensions OPTIONAL }   (RFC 5280 §5.1)
 */
export function parseCrl(der: Uint8Array, profile: X509Profile): Crl {
  return parseSigned(crlMemo, der, 'CRL', profile, ({bytes, fingerprint, fields: f, tbs, algorithm, signature}): Crl => {
    if (f.length < 3 || f.length > 7) throw new X509Error('malformed', `TBSCertList: ${f.length} elements, expected 3..7`)
    let i = 0
    if (isUniversal(f[0], DER_TAG.INTEGER) && derSmallInt(f[i++], 'CRL version') !== CRL_V2) throw new X509Error('malformed', 'CRL is not v2')
    const signatureAlg = signatureAlgorithm(f[i++], algorithm, 'CRL', profile)
    const issuer = f[i++]
    const issuerCN = cnOf(issuer, 'CRL issuer')
    const thisUpdate = derTime(f[i++], 'thisUpdate')
    const nextUpdate = isTime(f[i]) ? derTime(f[i++], 'nextUpdate') : undefined
    const revoked = new Set<string>()
    if (isUniversal(f[i], DER_TAG.SEQUENCE)) {
      for (const entry of derChildren(f[i++], 'revokedCertificates', 1)) {
        const e = derChildren(entry, 'revoked certificate', 2, 3)
        revoked.add(derIntegerHex(e[0], 'revoked serial'))
        // The revocation date is not used (a listed serial is revoked whatever the date): only its type is checked.
        if (!isTime(e[1])) throw new X509Error('malformed', 'CRL: revocationDate is not a time')
        if (e.length === 3) checkCrlExtensions(e[2], 'CRL entry')
      }
    }
    if (isContext(f[i], 0)) checkCrlExtensions(derExplicit(f[i++], 'CRL extensions'), 'CRL')
    if (i !== f.length) throw new X509Error('malformed', 'CRL: unexpected element in TBSCertList')
    return {der: bytes, fingerprint, issuerCN, issuerName: encodeDer(issuer), thisUpdate, nextUpdate, revoked, tbs, signatureAlgorithm: signatureAlg, signature}
  })
}

/**
 * Signature results per signed object and signer object: a pure function of their bytes, since
 * parsed certificates and CRLs are memoised per DER (parseSigned). Keyed by the objects, not by
 * strings of their digests: hashing two 64-character keys per check cost more than the lookup saves.
 */
let verifiedBy = new WeakMap<object, WeakMap<Cert, boolean>>()
onClearMemo(() => (verifiedBy = new WeakMap()))
function memoSig(signed: object, signer: Cert, check: () => boolean): boolean {
  let bySigner = verifiedBy.get(signed)
  if (!bySigner) verifiedBy.set(signed, (bySigner = new WeakMap()))
  let ok = bySigner.get(signer)
  if (ok === undefined) {
    ok = check()
    bySigner.set(signer, ok)
  }
  return ok
}

/** Whether `child`'s signature verifies with `parent`'s key (under the child's own signature algorithm). */
export const certSignedBy = (child: Cert, parent: Cert): boolean =>
  memoSig(child, parent, () => verifySignature(child.signatureAlgorithm, child.tbs, child.signature, parent.publicKey))

/** Whether `crl`'s signature verifies with `issuer`'s key. */
export const crlSignedBy = (crl: Crl, issuer: Cert): boolean => memoSig(crl, issuer, () => verifySignature(crl.signatureAlgorithm, crl.tbs, crl.signature, issuer.publicKey))
