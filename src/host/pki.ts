/**
 * The simulated host's Intel-shaped PKI, built with pkijs + asn1js and signed with RFC 6979
 * deterministic ECDSA-P256 (@noble/curves), every key derived from the platform seed:
 *
 *   tdxkit SIMULATED SGX Root CA (self-signed, pathLen 1)
 *     ├── tdxkit SIMULATED SGX PCK Platform CA (pathLen 0)
 *     │     └── tdxkit SIMULATED SGX PCK Certificate (leaf, SGX extension 1.2.840.113741.1.13.1)
 *     ├── tdxkit SIMULATED SGX TCB Signing (leaf; signs TCB info and QE identity)
 *     ├── Root CA CRL (issued by the root)
 *   PCK Platform CA CRL (issued by the Platform CA)
 *
 * Field layout, extension set and order mirror the real Intel certificates (AKI, CRL distribution
 * point, SKI, key usage critical, basic constraints critical). Subject names say SIMULATED so the
 * chain can never be mistaken for Intel's. Same seed + same inputs ⇒ byte-identical DER.
 */
import {createHash} from 'node:crypto'
import {asn1js, pkijs, type Asn1js, type Pkijs} from '../util/pkijs.js'
import {p256} from '@noble/curves/nist.js'
import {encodePckExtension, OID_SGX_EXTENSION, type PckExtension} from '../abi/pck-extension.js'
import {deriveBytes, deriveScalar} from '../util/seed.js'

// ---------------------------------------------------------------- constants (names, OIDs, times)

export const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  countryName: '2.5.4.6',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  crlReason: '2.5.29.21',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
} as const

/** Common names: Intel's phrases ("SGX Root CA", "PCK Platform CA", …) prefixed with a SIMULATED marker. */
export const SIM_CN = {
  root: 'tdxkit SIMULATED SGX Root CA',
  platformCa: 'tdxkit SIMULATED SGX PCK Platform CA',
  pck: 'tdxkit SIMULATED SGX PCK Certificate',
  tcbSigning: 'tdxkit SIMULATED SGX TCB Signing',
} as const
/** Marker every simulated subject carries; verifiers and `quote verify` can test for it. */
export const SIMULATED_MARKER = 'SIMULATED'
export const SIM_ORGANIZATION = 'tdxkit SIMULATED (not Intel Corporation)'
const SIM_DN_TAIL = {o: SIM_ORGANIZATION, l: 'Simulation', st: 'SIM', c: 'XX'}

/** CRL distribution points: the `.invalid` TLD never resolves (RFC 2606); paths mirror Intel PCS v4. */
export const SIM_CRL_URL = {
  root: 'https://pcs.tdxkit.invalid/sgx/certification/v4/rootcacrl',
  platform: 'https://pcs.tdxkit.invalid/sgx/certification/v4/pckcrl?ca=platform&encoding=der',
} as const

/**
 * Validity: fixed instants (never the wall clock) so output is reproducible. Certificates and the
 * collateral are valid from SIM_NOT_BEFORE to SIM_NOT_AFTER (the last UTCTime instant, like Intel's
 * root), long enough for any CI run; the "expired collateral" scenario instead ends the TCB info,
 * QE identity and CRL windows SIM_EXPIRED_WINDOW_DAYS after SIM_NOT_BEFORE.
 */
export const SIM_NOT_BEFORE = new Date('2024-01-01T00:00:00Z')
export const SIM_NOT_AFTER = new Date('2049-12-31T23:59:59Z')
export const SIM_EXPIRED_WINDOW_DAYS = 30

const KEY_USAGE = {digitalSignature: 0, nonRepudiation: 1, keyCertSign: 5, cRLSign: 6} as const
const CRL_REASON_KEY_COMPROMISE = 1

// ---------------------------------------------------------------- keys and signatures

export interface P256Key {
  /** 32-byte private scalar. */
  priv: Buffer
  /** 65-byte uncompressed public point (0x04 ‖ X ‖ Y). */
  pub: Buffer
}

/** Order n of the P-256 group. */
export const P256_ORDER = p256.Point.CURVE().n

/** A P-256 key pair derived from the seed under `label` (HKDF, src/util/seed.ts). */
export function deriveP256Key(seed: string, label: string): P256Key {
  const priv = deriveScalar(seed, label, P256_ORDER, 32)
  return {priv, pub: Buffer.from(p256.getPublicKey(priv, false))}
}

/** ECDSA-P256-SHA256 over `msg`, RFC 6979 deterministic nonce; raw 64-byte r ‖ s. */
export function signP256(msg: Uint8Array, priv: Uint8Array): Buffer {
  return Buffer.from(p256.sign(msg, priv, {prehash: true, format: 'compact'}))
}

/** DER ECDSA-Sig-Value from raw r ‖ s. */
export function rawSignatureToDer(sig: Uint8Array): Buffer {
  return Buffer.from(p256.Signature.fromBytes(sig, 'compact').toBytes('der'))
}

/** The 64-byte X ‖ Y form quotes carry (uncompressed point without the 0x04 prefix). */
export const rawPublicKey = (pub: Uint8Array): Buffer => Buffer.from(pub.subarray(pub.length - 64))

// ---------------------------------------------------------------- PEM

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64')
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`
}

/** All DER blobs of a PEM text with the given label, in order. */
export function pemToDers(pem: string, label = 'CERTIFICATE'): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g')
  return [...pem.matchAll(re)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'))
}

// ---------------------------------------------------------------- certificate / CRL builders

export interface DistinguishedName {
  cn: string
  o?: string
  l?: string
  st?: string
  c?: string
}

/**
 * An X.509 Name with one attribute per RDN SET, in Intel's order (CN, O, L, ST, C). pkijs would put
 * every attribute into a single multi-valued RDN, so the SEQUENCE is built here and parsed back.
 */
function nameOf(dn: DistinguishedName): Pkijs.RelativeDistinguishedNames {
  const rdn = (type: string, value: Pkijs.AttributeValueType) =>
    new asn1js.Set({value: [new pkijs.AttributeTypeAndValue({type, value}).toSchema()]})
  const sets = [rdn(OID.commonName, new asn1js.Utf8String({value: dn.cn}))]
  if (dn.o) sets.push(rdn(OID.organizationName, new asn1js.Utf8String({value: dn.o})))
  if (dn.l) sets.push(rdn(OID.localityName, new asn1js.Utf8String({value: dn.l})))
  if (dn.st) sets.push(rdn(OID.stateOrProvinceName, new asn1js.Utf8String({value: dn.st})))
  if (dn.c) sets.push(rdn(OID.countryName, new asn1js.PrintableString({value: dn.c})))
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({value: sets}).toBER())
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function x509Time(d: Date): Pkijs.Time {
  return new pkijs.Time({type: d.getUTCFullYear() < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime, value: d})
}

const ecdsaSha256 = () => new pkijs.AlgorithmIdentifier({algorithmId: OID.ecdsaWithSha256})

/** Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
export const keyIdentifier = (pub: Uint8Array): Buffer => createHash('sha1').update(pub).digest()

function publicKeyInfo(pub: Uint8Array): Pkijs.PublicKeyInfo {
  return new pkijs.PublicKeyInfo({
    algorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID.ecPublicKey,
      algorithmParams: new asn1js.ObjectIdentifier({value: OID.prime256v1}),
    }),
    subjectPublicKey: new asn1js.BitString({valueHex: Uint8Array.from(pub)}),
  })
}

function keyUsage(bits: number[]): Asn1js.BitString {
  let v = 0
  for (const b of bits) v |= 0x80 >> b
  // DER: trailing zero bits of the last byte are declared unused.
  let unused = 0
  while (unused < 7 && ((v >> unused) & 1) === 0) unused++
  return new asn1js.BitString({valueHex: Uint8Array.of(v), unusedBits: unused})
}

const ext = (extnID: string, critical: boolean, value: Asn1js.AsnType | Pkijs.PkiObject | Uint8Array) =>
  new pkijs.Extension({
    extnID,
    critical,
    extnValue: value instanceof Uint8Array ? Uint8Array.from(value).buffer : (value instanceof pkijs.PkiObject ? value.toSchema() : value).toBER(),
  })

const authorityKeyId = (issuerPub: Uint8Array) =>
  ext(OID.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({keyIdentifier: new asn1js.OctetString({valueHex: Uint8Array.from(keyIdentifier(issuerPub))})}))

const crlDistributionPoint = (url: string) =>
  ext(
    OID.crlDistributionPoints,
    false,
    new pkijs.CRLDistributionPoints({
      distributionPoints: [new pkijs.DistributionPoint({distributionPoint: [new pkijs.GeneralName({type: 6, value: url})]})],
    }),
  )

export interface CertificateSpec {
  serial: Buffer
  subject: DistinguishedName
  issuer: DistinguishedName
  subjectKey: Uint8Array
  issuerKey: P256Key
  notBefore: Date
  notAfter: Date
  /** CA certificates: keyCertSign + cRLSign and basicConstraints CA:TRUE with this pathLen. */
  ca?: {pathLen: number}
  crlUrl: string
  /** The SGX extension (PCK leaf only). */
  sgx?: PckExtension
}

/** DER of a signed X.509 v3 certificate. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const cert = new pkijs.Certificate()
  cert.version = 2
  cert.serialNumber = new asn1js.Integer({valueHex: Uint8Array.from(spec.serial)})
  cert.signature = ecdsaSha256()
  cert.signatureAlgorithm = ecdsaSha256()
  cert.issuer = nameOf(spec.issuer)
  cert.subject = nameOf(spec.subject)
  cert.notBefore = x509Time(spec.notBefore)
  cert.notAfter = x509Time(spec.notAfter)
  cert.subjectPublicKeyInfo = publicKeyInfo(spec.subjectKey)
  const extensions = [
    authorityKeyId(spec.issuerKey.pub),
    crlDistributionPoint(spec.crlUrl),
    ext(OID.subjectKeyIdentifier, false, new asn1js.OctetString({valueHex: Uint8Array.from(keyIdentifier(spec.subjectKey))})),
    ext(OID.keyUsage, true, keyUsage(spec.ca ? [KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign] : [KEY_USAGE.digitalSignature, KEY_USAGE.nonRepudiation])),
    ext(
      OID.basicConstraints,
      true,
      spec.ca ? new pkijs.BasicConstraints({cA: true, pathLenConstraint: spec.ca.pathLen}) : new asn1js.Sequence({value: []}), // CA:FALSE is the DEFAULT, so DER leaves it out (as Intel does)
    ),
  ]
  if (spec.sgx) extensions.push(ext(OID_SGX_EXTENSION, false, encodePckExtension(spec.sgx)))
  cert.extensions = extensions
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER())
  cert.signatureValue = new asn1js.BitString({valueHex: Uint8Array.from(rawSignatureToDer(signP256(cert.tbsView, spec.issuerKey.priv)))})
  return Buffer.from(cert.toSchema().toBER())
}

export interface CrlSpec {
  issuer: DistinguishedName
  issuerKey: P256Key
  thisUpdate: Date
  nextUpdate: Date
  crlNumber: number
  revoked: Array<{serial: Buffer; date: Date}>
}

/** DER of a signed X.509 v2 CRL (revoked entries carry reason keyCompromise, as Intel's do). */
export function buildCrl(spec: CrlSpec): Buffer {
  const crl = new pkijs.CertificateRevocationList()
  crl.version = 1
  crl.signature = ecdsaSha256()
  crl.signatureAlgorithm = ecdsaSha256()
  crl.issuer = nameOf(spec.issuer)
  crl.thisUpdate = x509Time(spec.thisUpdate)
  crl.nextUpdate = x509Time(spec.nextUpdate)
  if (spec.revoked.length > 0) {
    crl.revokedCertificates = spec.revoked.map(
      (r) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({valueHex: Uint8Array.from(r.serial)}),
          revocationDate: x509Time(r.date),
          crlEntryExtensions: new pkijs.Extensions({
            extensions: [ext(OID.crlReason, false, new asn1js.Enumerated({value: CRL_REASON_KEY_COMPROMISE}))],
          }),
        }),
    )
  }
  crl.crlExtensions = new pkijs.Extensions({
    extensions: [ext(OID.crlNumber, false, new asn1js.Integer({value: spec.crlNumber})), authorityKeyId(spec.issuerKey.pub)],
  })
  // encodeTBS() is protected on CRLs in pkijs' typings: take the TBS from a field-encoded schema instead.
  crl.tbsView = new Uint8Array((crl.toSchema(true) as Asn1js.Sequence).valueBlock.value[0].toBER())
  crl.signatureValue = new asn1js.BitString({valueHex: Uint8Array.from(rawSignatureToDer(signP256(crl.tbsView, spec.issuerKey.priv)))})
  return Buffer.from(crl.toSchema().toBER())
}

/** A positive 20-byte certificate serial number derived from the seed (minimal DER: no leading 0x00, top bit clear). */
export function deriveSerial(seed: string, label: string): Buffer {
  const b = deriveBytes(seed, `serial/${label}`, 20)
  b[0] = b[0] & 0x7f || 0x01
  return b
}

// ---------------------------------------------------------------- the simulated chain

/** Derivation labels (changing one changes every artefact made from it). */
export const KEY_LABEL = {
  root: 'host/pki/root-ca',
  platformCa: 'host/pki/pck-platform-ca',
  pck: 'host/pki/pck',
  tcbSigning: 'host/pki/tcb-signing',
} as const

/** How many unrelated (simulated) PCK serials the platform CRL lists, so revocation checks have work to do. */
export const SIM_OTHER_REVOKED = 3

export interface SimPkiInput {
  seed: string
  /** SGX extension of the PCK leaf. */
  sgx: PckExtension
  /** List the PCK leaf in the PCK CRL ("revoked PCK" scenario). */
  revokePck: boolean
  /** CRL validity window. */
  crlThisUpdate: Date
  crlNextUpdate: Date
}

export interface SimCert {
  der: Buffer
  pem: string
  serial: Buffer
}

export interface SimPki {
  root: SimCert
  platformCa: SimCert
  pck: SimCert
  tcbSigning: SimCert
  rootCrl: Buffer
  pckCrl: Buffer
}

export const rootDn = (): DistinguishedName => ({cn: SIM_CN.root, ...SIM_DN_TAIL})
const dn = (cn: string): DistinguishedName => ({cn, ...SIM_DN_TAIL})

/** Build the whole simulated chain and both CRLs (pure, deterministic in its input). */
export function buildSimPki(input: SimPkiInput): SimPki {
  const {seed} = input
  const rootKey = deriveP256Key(seed, KEY_LABEL.root)
  const caKey = deriveP256Key(seed, KEY_LABEL.platformCa)
  const pckKey = deriveP256Key(seed, KEY_LABEL.pck)
  const tcbKey = deriveP256Key(seed, KEY_LABEL.tcbSigning)
  const validity = {notBefore: SIM_NOT_BEFORE, notAfter: SIM_NOT_AFTER}
  const make = (label: string, spec: Omit<CertificateSpec, 'serial'>): SimCert => {
    const serial = deriveSerial(seed, label)
    const der = buildCertificate({...spec, serial})
    return {der, pem: derToPem(der), serial}
  }
  const root = make(KEY_LABEL.root, {
    ...validity,
    subject: rootDn(),
    issuer: rootDn(),
    subjectKey: rootKey.pub,
    issuerKey: rootKey,
    ca: {pathLen: 1},
    crlUrl: SIM_CRL_URL.root,
  })
  const platformCa = make(KEY_LABEL.platformCa, {
    ...validity,
    subject: dn(SIM_CN.platformCa),
    issuer: rootDn(),
    subjectKey: caKey.pub,
    issuerKey: rootKey,
    ca: {pathLen: 0},
    crlUrl: SIM_CRL_URL.root,
  })
  const pck = make(KEY_LABEL.pck, {
    ...validity,
    subject: dn(SIM_CN.pck),
    issuer: dn(SIM_CN.platformCa),
    subjectKey: pckKey.pub,
    issuerKey: caKey,
    crlUrl: SIM_CRL_URL.platform,
    sgx: input.sgx,
  })
  const tcbSigning = make(KEY_LABEL.tcbSigning, {
    ...validity,
    subject: dn(SIM_CN.tcbSigning),
    issuer: rootDn(),
    subjectKey: tcbKey.pub,
    issuerKey: rootKey,
    crlUrl: SIM_CRL_URL.root,
  })
  const window = {thisUpdate: input.crlThisUpdate, nextUpdate: input.crlNextUpdate, crlNumber: 1}
  const rootCrl = buildCrl({...window, issuer: rootDn(), issuerKey: rootKey, revoked: []})
  const revoked = Array.from({length: SIM_OTHER_REVOKED}, (_, i) => ({serial: deriveSerial(seed, `host/pki/revoked-other/${i}`), date: input.crlThisUpdate}))
  if (input.revokePck) revoked.push({serial: pck.serial, date: input.crlThisUpdate})
  const pckCrl = buildCrl({...window, issuer: dn(SIM_CN.platformCa), issuerKey: caKey, revoked})
  return {root, platformCa, pck, tcbSigning, rootCrl, pckCrl}
}
