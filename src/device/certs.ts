/**
 * The simulated device PKI: device-vendor root CA → intermediate → SPDM responder leaf, P-384 keys
 * derived from the platform seed, ECDSA-with-SHA384 signatures made with RFC 6979 (so every byte is
 * reproducible), the DMTF SPDM OIDs on the leaf (device-info otherName, responder-auth EKU, SPDM
 * extension with hardware-identity). This is the device profile; encoding and signing are the
 * shared builder's (src/x509/build.ts), the SPDM slot format the chain is served in is
 * src/spdm/context.ts's spdmCertChain.
 */
import {deriveBytes} from '../util/seed.js'
import {
  authorityKeyIdValue,
  basicConstraintsValue,
  buildCertificate,
  extKeyUsageValue,
  keyUsageValue,
  otherNameAltNameValue,
  spdmExtensionValue,
  subjectKeyIdValue,
  type ExtensionSpec,
  type NameAttribute,
} from '../x509/build.js'
import {deriveEcKey, type EcKeyPair} from '../x509/keys.js'
import {
  KeyUsageBit,
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_CN,
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_DMTF_SPDM_EXTENSION,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_O,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_ID,
} from '../x509/oids.js'
import {hashOf} from '../spdm/crypto.js'

/** Fixed validity so certificates are byte-identical across runs (UTCTime range). */
export const DEVICE_CERT_NOT_BEFORE = new Date(Date.UTC(2025, 0, 1))
export const DEVICE_CERT_NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59))
/** Marks everything the simulator issues. */
export const SIMULATED_ORG = 'tdxkit SIMULATED device vendor'
/** Key identifiers: the first 20 bytes of SHA-256 over the public point (RFC 7093 §2 method 1). */
const KEY_ID_SIZE = 20

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

/** The device profile's Name: O = the simulated vendor marker, then CN. */
const name = (cn: string): NameAttribute[] => [
  {oid: OID_O, value: SIMULATED_ORG},
  {oid: OID_CN, value: cn},
]

const keyId = (k: EcKeyPair): Buffer => hashOf('sha256', k.pub).subarray(0, KEY_ID_SIZE)

/**
 * The device profile's extensions: basic constraints and key usage (critical), SKI, AKI (not on a
 * self-signed root); a leaf adds the DMTF responder-auth EKU (critical), the device-info otherName
 * and the SPDM extension naming hardware-identity.
 */
function deviceExtensions(spec: CertSpec): ExtensionSpec[] {
  const exts: ExtensionSpec[] = [
    {oid: OID_BASIC_CONSTRAINTS, critical: true, value: basicConstraintsValue(spec.ca, spec.pathLen)},
    {oid: OID_KEY_USAGE, critical: true, value: keyUsageValue(spec.ca ? [KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign] : [KeyUsageBit.digitalSignature])},
    {oid: OID_SUBJECT_KEY_ID, critical: false, value: subjectKeyIdValue(keyId(spec.subjectKey))},
  ]
  if (spec.issuerKey !== spec.subjectKey) exts.push({oid: OID_AUTHORITY_KEY_ID, critical: false, value: authorityKeyIdValue(keyId(spec.issuerKey))})
  if (!spec.ca) {
    exts.push({oid: OID_EXT_KEY_USAGE, critical: true, value: extKeyUsageValue([OID_DMTF_EKU_RESPONDER_AUTH])})
    if (spec.deviceInfo) exts.push({oid: OID_SUBJECT_ALT_NAME, critical: false, value: otherNameAltNameValue(spec.deviceInfo)})
    exts.push({oid: OID_DMTF_SPDM_EXTENSION, critical: false, value: spdmExtensionValue([OID_DMTF_HARDWARE_IDENTITY])})
  }
  return exts
}

/** Build and sign one certificate (DER). */
export function issueCertificate(spec: CertSpec): Buffer {
  const serial = Buffer.from(spec.serial)
  serial[0] = (serial[0] & 0x7f) | 0x01 // positive, non-zero, fixed length
  return buildCertificate({
    serial,
    subject: name(spec.subjectCN),
    issuer: name(spec.issuerCN),
    notBefore: DEVICE_CERT_NOT_BEFORE,
    notAfter: DEVICE_CERT_NOT_AFTER,
    subjectKey: spec.subjectKey,
    signer: spec.issuerKey,
    extensions: deviceExtensions(spec),
  })
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
