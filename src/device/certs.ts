/**
 * The simulated device PKI: device-vendor root CA → intermediate → SPDM responder leaf, P-384 keys
 * derived from the platform seed, ECDSA-with-SHA384 signatures made with RFC 6979 (so every byte is
 * reproducible), the DMTF SPDM OIDs on the leaf (device-info otherName, responder-auth EKU, SPDM
 * extension with hardware-identity), and the SPDM certificate-chain slot format
 * (Length ‖ Reserved ‖ RootHash ‖ DER certs). X.509 encoding via pkijs/asn1js.
 */
import {asn1js, pkijs, type Asn1js, type Pkijs} from '../util/pkijs.js'
import {SPDM_CERT_CHAIN_HEADER, SPDM_MAX_CERT_CHAIN, type HashName} from '../abi/spdm.js'
import {deriveBytes} from '../util/seed.js'
import {deriveEcKey, ecSign, hash, type EcKeyPair} from './crypto.js'
import {
  KeyUsageBit,
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_CN,
  OID_DMTF_DEVICE_INFO,
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_DMTF_SPDM_EXTENSION,
  OID_ECDSA_SHA384,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_O,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_ID,
} from './oids.js'

/** Fixed validity so certificates are byte-identical across runs (UTCTime range). */
export const DEVICE_CERT_NOT_BEFORE = new Date(Date.UTC(2025, 0, 1))
export const DEVICE_CERT_NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59))
/** Marks everything the simulator issues. */
export const SIMULATED_ORG = 'tdxkit SIMULATED device vendor'

export interface CertSpec {
  subjectCN: string
  issuerCN: string
  subjectKey: EcKeyPair
  issuerKey: EcKeyPair
  serial: Buffer
  ca: boolean
  pathLen?: number
  /** leaf-only: DMTF device-info string "VENDOR:MODEL:SERIAL" */
  deviceInfo?: string
}

const keyUsageBits = (bits: number[]): Asn1js.BitString => {
  let v = 0
  for (const b of bits) v |= 0x80 >> b
  const unused = Math.min(7, 7 - Math.max(...bits))
  return new asn1js.BitString({valueHex: new Uint8Array([v]).buffer, unusedBits: unused})
}

const ext = (extnID: string, critical: boolean, value: Asn1js.BaseBlock): Pkijs.Extension =>
  new pkijs.Extension({extnID, critical, extnValue: value.toBER(false)})

/** A Name with one attribute per RDN (pkijs would otherwise build a single multi-valued RDN). */
const name = (cn: string): Pkijs.RelativeDistinguishedNames => {
  const rdn = (type: string, value: string) =>
    new asn1js.Set({value: [new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value: type}), new asn1js.Utf8String({value})]})]})
  const seq = new asn1js.Sequence({value: [rdn(OID_O, SIMULATED_ORG), rdn(OID_CN, cn)]})
  return pkijs.RelativeDistinguishedNames.fromBER(seq.toBER(false))
}

const keyId = (k: EcKeyPair): Buffer => hash('sha256', k.pub).subarray(0, 20)

/** Build and sign one certificate (DER). */
export function issueCertificate(spec: CertSpec): Buffer {
  const cert = new pkijs.Certificate()
  cert.version = 2
  const serial = Buffer.from(spec.serial)
  serial[0] = (serial[0] & 0x7f) | 0x01 // positive, non-zero, fixed length
  cert.serialNumber = new asn1js.Integer({valueHex: new Uint8Array(serial).buffer})
  cert.issuer = name(spec.issuerCN)
  cert.subject = name(spec.subjectCN)
  cert.notBefore = new pkijs.Time({type: 0, value: DEVICE_CERT_NOT_BEFORE})
  cert.notAfter = new pkijs.Time({type: 0, value: DEVICE_CERT_NOT_AFTER})
  cert.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(new Uint8Array(spec.subjectKey.spki))
  const exts: Pkijs.Extension[] = []
  const bc: Asn1js.BaseBlock[] = []
  if (spec.ca) {
    bc.push(new asn1js.Boolean({value: true}))
    if (spec.pathLen !== undefined) bc.push(new asn1js.Integer({value: spec.pathLen}))
  }
  exts.push(ext(OID_BASIC_CONSTRAINTS, true, new asn1js.Sequence({value: bc})))
  exts.push(ext(OID_KEY_USAGE, true, keyUsageBits(spec.ca ? [KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign] : [KeyUsageBit.digitalSignature])))
  exts.push(ext(OID_SUBJECT_KEY_ID, false, new asn1js.OctetString({valueHex: new Uint8Array(keyId(spec.subjectKey)).buffer})))
  if (spec.issuerKey !== spec.subjectKey) {
    exts.push(
      ext(
        OID_AUTHORITY_KEY_ID,
        false,
        new asn1js.Sequence({value: [new asn1js.Primitive({idBlock: {tagClass: 3, tagNumber: 0}, valueHex: new Uint8Array(keyId(spec.issuerKey)).buffer})]}),
      ),
    )
  }
  if (!spec.ca) {
    exts.push(ext(OID_EXT_KEY_USAGE, true, new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value: OID_DMTF_EKU_RESPONDER_AUTH})]})))
    if (spec.deviceInfo) {
      const otherName = new asn1js.Constructed({
        idBlock: {tagClass: 3, tagNumber: 0},
        value: [
          new asn1js.ObjectIdentifier({value: OID_DMTF_DEVICE_INFO}),
          new asn1js.Constructed({idBlock: {tagClass: 3, tagNumber: 0}, value: [new asn1js.Utf8String({value: spec.deviceInfo})]}),
        ],
      })
      exts.push(ext(OID_SUBJECT_ALT_NAME, false, new asn1js.Sequence({value: [otherName]})))
    }
    exts.push(
      ext(
        OID_DMTF_SPDM_EXTENSION,
        false,
        new asn1js.Sequence({value: [new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value: OID_DMTF_HARDWARE_IDENTITY})]})]}),
      ),
    )
  }
  cert.extensions = exts
  cert.signature = new pkijs.AlgorithmIdentifier({algorithmId: OID_ECDSA_SHA384})
  cert.signatureAlgorithm = new pkijs.AlgorithmIdentifier({algorithmId: OID_ECDSA_SHA384})
  const tbs = new Uint8Array(cert.encodeTBS().toBER(false))
  cert.tbsView = tbs
  const sig = ecSign(spec.issuerKey, tbs, 'der')
  cert.signatureValue = new asn1js.BitString({valueHex: new Uint8Array(sig).buffer})
  return Buffer.from(cert.toSchema(false).toBER(false))
}

export interface DeviceChain {
  root: Buffer
  intermediate: Buffer
  leaf: Buffer
  leafKey: EcKeyPair
  rootKey: EcKeyPair
}

export interface ChainIdentity {
  /** key-derivation label of the vendor root (same for every device of one vendor) */
  vendorLabel: string
  vendorName: string
  /** per-device label for intermediate/leaf */
  deviceLabel: string
  deviceInfo: string
}

/** The vendor root certificate (DER) and key for a vendor label. */
export function vendorRoot(seed: string, vendorLabel: string, vendorName: string): {cert: Buffer; key: EcKeyPair} {
  const key = deriveEcKey(seed, `device-vendor-root:${vendorLabel}`, 'P-384')
  const cn = `${vendorName} Root CA (SIMULATED)`
  const cert = issueCertificate({subjectCN: cn, issuerCN: cn, subjectKey: key, issuerKey: key, serial: deriveBytes(seed, `serial:root:${vendorLabel}`, 16), ca: true})
  return {cert, key}
}

/** root → intermediate → responder leaf for one device, all deterministic from the seed. */
export function buildDeviceChain(seed: string, id: ChainIdentity): DeviceChain {
  const root = vendorRoot(seed, id.vendorLabel, id.vendorName)
  const rootCN = `${id.vendorName} Root CA (SIMULATED)`
  const interKey = deriveEcKey(seed, `device-intermediate:${id.vendorLabel}:${id.deviceLabel}`, 'P-384')
  const interCN = `${id.vendorName} Device CA (SIMULATED)`
  const intermediate = issueCertificate({
    subjectCN: interCN,
    issuerCN: rootCN,
    subjectKey: interKey,
    issuerKey: root.key,
    serial: deriveBytes(seed, `serial:intermediate:${id.vendorLabel}:${id.deviceLabel}`, 16),
    ca: true,
    pathLen: 0,
  })
  const leafKey = deriveEcKey(seed, `device-leaf:${id.vendorLabel}:${id.deviceLabel}`, 'P-384')
  const leaf = issueCertificate({
    subjectCN: `${id.vendorName} SPDM responder ${id.deviceLabel} (SIMULATED)`,
    issuerCN: interCN,
    subjectKey: leafKey,
    issuerKey: interKey,
    serial: deriveBytes(seed, `serial:leaf:${id.vendorLabel}:${id.deviceLabel}`, 16),
    ca: false,
    deviceInfo: id.deviceInfo,
  })
  return {root: root.cert, intermediate, leaf, leafKey, rootKey: root.key}
}

/** The SPDM slot format: Length u16 ‖ Reserved u16 ‖ Hash(root DER) ‖ root ‖ … ‖ leaf. */
export function spdmCertChain(certs: readonly Buffer[], alg: HashName): Buffer {
  const rootHash = hash(alg, certs[0])
  const body = Buffer.concat([rootHash, ...certs])
  const total = SPDM_CERT_CHAIN_HEADER.size + body.length
  if (total > SPDM_MAX_CERT_CHAIN) throw new Error(`certificate chain of ${total} bytes exceeds the SPDM maximum`)
  const head = Buffer.alloc(SPDM_CERT_CHAIN_HEADER.size)
  head.writeUInt16LE(total, SPDM_CERT_CHAIN_HEADER.fields.length.offset)
  return Buffer.concat([head, body])
}
