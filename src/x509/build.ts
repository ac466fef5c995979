/**
 * The one X.509 builder: certificates and CRLs encoded with pkijs + asn1js (loaded through
 * src/util/pkijs.ts) and signed with the RFC 6979 signer, so that the same inputs give the same
 * DER byte for byte. Callers bring their profile as data: names, extensions in their order (built
 * with the extension-value encoders below), serials, validity. The simulated Intel PKI
 * (src/host/pki.ts) and the simulated device identities (src/device/certs.ts) both build here.
 */
import {asn1js, pkijs, type Asn1js, type Pkijs} from '../util/pkijs.js'
import {CURVES, type CurveName} from './ecdsa.js'
import {ecSign, type EcKeyPair} from './keys.js'
import {OID_DMTF_DEVICE_INFO, OID_EC_PUBLIC_KEY, GeneralNameTag} from './oids.js'

/** One attribute of a Name: UTF8String unless `printable` (PrintableString, e.g. countryName). */
export interface NameAttribute {
  oid: string
  value: string
  printable?: boolean
}

export interface ExtensionSpec {
  oid: string
  critical: boolean
  /** The extnValue contents (DER), from the encoders below. */
  value: Uint8Array
}

export interface CertificateSpec {
  serial: Uint8Array
  subject: readonly NameAttribute[]
  issuer: readonly NameAttribute[]
  notBefore: Date
  notAfter: Date
  subjectKey: {curve: CurveName; pub: Uint8Array}
  /** The issuer's key pair: signs with ecdsa-with-SHA256 (P-256) or ecdsa-with-SHA384 (P-384). */
  signer: EcKeyPair
  /** In encoding order. */
  extensions: readonly ExtensionSpec[]
}

interface CrlSpec {
  issuer: readonly NameAttribute[]
  signer: EcKeyPair
  thisUpdate: Date
  nextUpdate: Date
  revoked: ReadonlyArray<{serial: Uint8Array; date: Date; extensions: readonly ExtensionSpec[]}>
  extensions: readonly ExtensionSpec[]
}

/** The first year RFC 5280 §4.1.2.5 writes as GeneralizedTime (UTCTime before). */
const GENERALIZED_TIME_FROM_YEAR = 2050
/** X.509 v3 and CRL v2 as encoded. */
const CERT_VERSION_V3 = 2
const CRL_VERSION_V2 = 1
/** Context tag [0] (the IMPLICIT/EXPLICIT tags of AKI keyIdentifier and otherName). */
const CONTEXT_CLASS = 3
const bytes = (b: Uint8Array): Uint8Array => Uint8Array.from(b)

/**
 * A Name with one attribute per RDN SET, in the given order. pkijs would put every attribute into a
 * single multi-valued RDN, so the SEQUENCE is built here and parsed back.
 */
function nameOf(attrs: readonly NameAttribute[]): Pkijs.RelativeDistinguishedNames {
  const rdn = (a: NameAttribute) =>
    new asn1js.Set({
      value: [
        new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value: a.oid}), a.printable ? new asn1js.PrintableString({value: a.value}) : new asn1js.Utf8String({value: a.value})]}),
      ],
    })
  return pkijs.RelativeDistinguishedNames.fromBER(new asn1js.Sequence({value: attrs.map(rdn)}).toBER())
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function x509Time(d: Date): Pkijs.Time {
  return new pkijs.Time({type: d.getUTCFullYear() < GENERALIZED_TIME_FROM_YEAR ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime, value: d})
}

const signatureAlgorithm = (signer: EcKeyPair) => new pkijs.AlgorithmIdentifier({algorithmId: CURVES[signer.curve].signatureOid})

/** SubjectPublicKeyInfo of an EC key: id-ecPublicKey with the named curve, the uncompressed point. */
function publicKeyInfo(key: CertificateSpec['subjectKey']): Pkijs.PublicKeyInfo {
  return new pkijs.PublicKeyInfo({
    algorithm: new pkijs.AlgorithmIdentifier({algorithmId: OID_EC_PUBLIC_KEY, algorithmParams: new asn1js.ObjectIdentifier({value: CURVES[key.curve].oid})}),
    subjectPublicKey: new asn1js.BitString({valueHex: bytes(key.pub)}),
  })
}

const extensionsOf = (list: readonly ExtensionSpec[]) =>
  list.map((e) => new pkijs.Extension({extnID: e.oid, critical: e.critical, extnValue: bytes(e.value).buffer as ArrayBuffer}))

const signatureValue = (signer: EcKeyPair, tbs: Uint8Array) => new asn1js.BitString({valueHex: bytes(ecSign(signer, tbs, 'der'))})

/** DER of a signed X.509 v3 certificate. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const cert = new pkijs.Certificate()
  cert.version = CERT_VERSION_V3
  cert.serialNumber = new asn1js.Integer({valueHex: bytes(spec.serial)})
  cert.signature = signatureAlgorithm(spec.signer)
  cert.signatureAlgorithm = signatureAlgorithm(spec.signer)
  cert.issuer = nameOf(spec.issuer)
  cert.subject = nameOf(spec.subject)
  cert.notBefore = x509Time(spec.notBefore)
  cert.notAfter = x509Time(spec.notAfter)
  cert.subjectPublicKeyInfo = publicKeyInfo(spec.subjectKey)
  cert.extensions = extensionsOf(spec.extensions)
  cert.tbsView = new Uint8Array(cert.encodeTBS().toBER())
  cert.signatureValue = signatureValue(spec.signer, cert.tbsView)
  return Buffer.from(cert.toSchema().toBER())
}

/** DER of a signed X.509 v2 CRL. */
export function buildCrl(spec: CrlSpec): Buffer {
  const crl = new pkijs.CertificateRevocationList()
  crl.version = CRL_VERSION_V2
  crl.signature = signatureAlgorithm(spec.signer)
  crl.signatureAlgorithm = signatureAlgorithm(spec.signer)
  crl.issuer = nameOf(spec.issuer)
  crl.thisUpdate = x509Time(spec.thisUpdate)
  crl.nextUpdate = x509Time(spec.nextUpdate)
  if (spec.revoked.length > 0) {
    crl.revokedCertificates = spec.revoked.map(
      (r) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({valueHex: bytes(r.serial)}),
          revocationDate: x509Time(r.date),
          crlEntryExtensions: new pkijs.Extensions({extensions: extensionsOf(r.extensions)}),
        }),
    )
  }
  crl.crlExtensions = new pkijs.Extensions({extensions: extensionsOf(spec.extensions)})
  // encodeTBS() is protected on CRLs in pkijs' typings: take the TBS from a field-encoded schema instead.
  crl.tbsView = new Uint8Array((crl.toSchema(true) as Asn1js.Sequence).valueBlock.value[0].toBER())
  crl.signatureValue = signatureValue(spec.signer, crl.tbsView)
  return Buffer.from(crl.toSchema().toBER())
}

// ---- extension values (DER) ---------------------------------------------------------------------

const der = (v: Asn1js.AsnType | Pkijs.PkiObject): Buffer => Buffer.from((v instanceof pkijs.PkiObject ? v.toSchema() : v).toBER())
const keyIdentifierOf = (id: Uint8Array) => new asn1js.Primitive({idBlock: {tagClass: CONTEXT_CLASS, tagNumber: 0}, valueHex: bytes(id)})

/** KeyUsage BIT STRING with the given bits set; DER declares the trailing zero bits of the last byte unused. */
export function keyUsageValue(bits: readonly number[]): Buffer {
  let v = 0
  for (const b of bits) v |= 0x80 >> b
  let unused = 0
  while (unused < 7 && ((v >> unused) & 1) === 0) unused++
  return der(new asn1js.BitString({valueHex: Uint8Array.of(v), unusedBits: unused}))
}

/** BasicConstraints: cA TRUE (with an optional pathLenConstraint), or the empty SEQUENCE for cA FALSE (the DEFAULT, left out in DER). */
export function basicConstraintsValue(ca: boolean, pathLen?: number): Buffer {
  const fields: Asn1js.AsnType[] = []
  if (ca) fields.push(new asn1js.Boolean({value: true}))
  if (ca && pathLen !== undefined) fields.push(new asn1js.Integer({value: pathLen}))
  return der(new asn1js.Sequence({value: fields}))
}

/** SubjectKeyIdentifier ::= OCTET STRING. */
export const subjectKeyIdValue = (id: Uint8Array): Buffer => der(new asn1js.OctetString({valueHex: bytes(id)}))

/** AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier }. */
export const authorityKeyIdValue = (id: Uint8Array): Buffer => der(new asn1js.Sequence({value: [keyIdentifierOf(id)]}))

/** CRLDistributionPoints with one distribution point: a fullName URI. */
export const crlDistributionPointValue = (url: string): Buffer =>
  der(new pkijs.CRLDistributionPoints({distributionPoints: [new pkijs.DistributionPoint({distributionPoint: [new pkijs.GeneralName({type: GeneralNameTag.uniformResourceIdentifier, value: url})]})]}))

/** ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId. */
export const extKeyUsageValue = (oids: readonly string[]): Buffer => der(new asn1js.Sequence({value: oids.map((value) => new asn1js.ObjectIdentifier({value}))}))

/** subjectAltName with one otherName { type-id, [0] EXPLICIT UTF8String } (e.g. the DMTF device-info name). */
export function otherNameAltNameValue(text: string, oid = OID_DMTF_DEVICE_INFO): Buffer {
  const tagged = (value: Asn1js.AsnType[]) => new asn1js.Constructed({idBlock: {tagClass: CONTEXT_CLASS, tagNumber: GeneralNameTag.otherName}, value})
  return der(new asn1js.Sequence({value: [tagged([new asn1js.ObjectIdentifier({value: oid}), tagged([new asn1js.Utf8String({value: text})])])]}))
}

/** The DMTF SPDM extension: SEQUENCE OF SEQUENCE { id OID } (e.g. id-DMTF-hardware-identity). */
export const spdmExtensionValue = (oids: readonly string[]): Buffer =>
  der(new asn1js.Sequence({value: oids.map((value) => new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value})]}))}))

/** CRLNumber ::= INTEGER. */
export const crlNumberValue = (n: number): Buffer => der(new asn1js.Integer({value: n}))

/** CRLReason ::= ENUMERATED. */
export const crlReasonValue = (reason: number): Buffer => der(new asn1js.Enumerated({value: reason}))
