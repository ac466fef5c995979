/**
 * The simulated host's Intel-shaped PKI: Intel's certificate profile (names, extensions and their
 * order, the PCK SGX extension) on the shared builder of src/x509/build.ts, signed with RFC 6979
 * deterministic ECDSA-P256, every key derived from the platform seed:
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
import {encodePckExtension, OID_SGX_EXTENSION, type PckExtension} from '../abi/pck-extension.js'
import {deriveBytes} from '../util/seed.js'
import {
  authorityKeyIdValue,
  basicConstraintsValue,
  buildCertificate,
  buildCrl,
  crlDistributionPointValue,
  crlNumberValue,
  crlReasonValue,
  keyUsageValue,
  subjectKeyIdValue,
  type ExtensionSpec,
  type NameAttribute,
} from '../x509/build.js'
import {deriveEcKey, type EcKeyPair} from '../x509/keys.js'
import {
  CrlReason,
  KeyUsageBit,
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_C,
  OID_CN,
  OID_CRL_DISTRIBUTION_POINTS,
  OID_CRL_NUMBER,
  OID_CRL_REASON,
  OID_KEY_USAGE,
  OID_L,
  OID_O,
  OID_ST,
  OID_SUBJECT_KEY_ID,
} from '../x509/oids.js'
import {derToPem} from '../x509/pem.js'

// ---------------------------------------------------------------- constants (names, times)

/** Common names: Intel's phrases ("SGX Root CA", "PCK Platform CA", …) prefixed with a SIMULATED marker. */
export const SIM_CN = {
  root: 'tdxkit SIMULATED SGX Root CA',
  platformCa: 'tdxkit SIMULATED SGX PCK Platform CA',
  pck: 'tdxkit SIMULATED SGX PCK Certificate',
  tcbSigning: 'tdxkit SIMULATED SGX TCB Signing',
} as const
const SIM_ORGANIZATION = 'tdxkit SIMULATED (not Intel Corporation)'
const SIM_DN_TAIL = {o: SIM_ORGANIZATION, l: 'Simulation', st: 'SIM', c: 'XX'}

/** CRL distribution points: the `.invalid` TLD never resolves (RFC 2606); paths mirror Intel PCS v4. */
const SIM_CRL_URL = {
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

// ---------------------------------------------------------------- keys

/** A P-256 key pair derived from the seed under `label` (HKDF, src/util/seed.ts). */
export const deriveP256Key = (seed: string, label: string): EcKeyPair => deriveEcKey(seed, label, 'P-256')

// ---------------------------------------------------------------- Intel's certificate profile

interface DistinguishedName {
  cn: string
  o?: string
  l?: string
  st?: string
  c?: string
}

/** Intel's attribute order (CN, O, L, ST, C), one per RDN; the country is a PrintableString. */
function nameOf(dn: DistinguishedName): NameAttribute[] {
  const attrs: NameAttribute[] = [{oid: OID_CN, value: dn.cn}]
  if (dn.o) attrs.push({oid: OID_O, value: dn.o})
  if (dn.l) attrs.push({oid: OID_L, value: dn.l})
  if (dn.st) attrs.push({oid: OID_ST, value: dn.st})
  if (dn.c) attrs.push({oid: OID_C, value: dn.c, printable: true})
  return attrs
}

/** Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
const keyIdentifier = (pub: Uint8Array): Buffer => createHash('sha1').update(pub).digest()

const authorityKeyId = (issuerPub: Uint8Array): ExtensionSpec => ({oid: OID_AUTHORITY_KEY_ID, critical: false, value: authorityKeyIdValue(keyIdentifier(issuerPub))})

interface CertificateSpec {
  serial: Buffer
  subject: DistinguishedName
  issuer: DistinguishedName
  subjectKey: Uint8Array
  issuerKey: EcKeyPair
  notBefore: Date
  notAfter: Date
  /** CA certificates: keyCertSign + cRLSign and basicConstraints CA:TRUE with this pathLen. */
  ca?: {pathLen: number}
  crlUrl: string
  /** The SGX extension (PCK leaf only). */
  sgx?: PckExtension
}

/**
 * DER of a signed certificate in Intel's shape: AKI, CRL distribution point, SKI, key usage
 * (critical), basic constraints (critical; CA:FALSE is the DEFAULT, so DER leaves it out, as Intel
 * does), then the SGX extension on a PCK leaf.
 */
function intelShapedCertificate(spec: CertificateSpec): Buffer {
  const extensions: ExtensionSpec[] = [
    authorityKeyId(spec.issuerKey.pub),
    {oid: OID_CRL_DISTRIBUTION_POINTS, critical: false, value: crlDistributionPointValue(spec.crlUrl)},
    {oid: OID_SUBJECT_KEY_ID, critical: false, value: subjectKeyIdValue(keyIdentifier(spec.subjectKey))},
    {
      oid: OID_KEY_USAGE,
      critical: true,
      value: keyUsageValue(spec.ca ? [KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign] : [KeyUsageBit.digitalSignature, KeyUsageBit.nonRepudiation]),
    },
    {oid: OID_BASIC_CONSTRAINTS, critical: true, value: basicConstraintsValue(spec.ca !== undefined, spec.ca?.pathLen)},
  ]
  if (spec.sgx) extensions.push({oid: OID_SGX_EXTENSION, critical: false, value: encodePckExtension(spec.sgx)})
  return buildCertificate({
    serial: spec.serial,
    subject: nameOf(spec.subject),
    issuer: nameOf(spec.issuer),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    subjectKey: {curve: 'P-256', pub: spec.subjectKey},
    signer: spec.issuerKey,
    extensions,
  })
}

interface CrlSpec {
  issuer: DistinguishedName
  issuerKey: EcKeyPair
  thisUpdate: Date
  nextUpdate: Date
  crlNumber: number
  revoked: Array<{serial: Buffer; date: Date}>
}

/** DER of a signed CRL in Intel's shape: entries with reason keyCompromise, then CRL number and AKI. */
function intelShapedCrl(spec: CrlSpec): Buffer {
  const reason: ExtensionSpec = {oid: OID_CRL_REASON, critical: false, value: crlReasonValue(CrlReason.keyCompromise)}
  return buildCrl({
    issuer: nameOf(spec.issuer),
    signer: spec.issuerKey,
    thisUpdate: spec.thisUpdate,
    nextUpdate: spec.nextUpdate,
    revoked: spec.revoked.map((r) => ({...r, extensions: [reason]})),
    extensions: [{oid: OID_CRL_NUMBER, critical: false, value: crlNumberValue(spec.crlNumber)}, authorityKeyId(spec.issuerKey.pub)],
  })
}

/** A positive 20-byte certificate serial number derived from the seed (minimal DER: no leading 0x00, top bit clear). */
function deriveSerial(seed: string, label: string): Buffer {
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
const SIM_OTHER_REVOKED = 3

interface SimPkiInput {
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

const rootDn = (): DistinguishedName => ({cn: SIM_CN.root, ...SIM_DN_TAIL})
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
    const der = intelShapedCertificate({...spec, serial})
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
  const rootCrl = intelShapedCrl({...window, issuer: rootDn(), issuerKey: rootKey, revoked: []})
  const revoked = Array.from({length: SIM_OTHER_REVOKED}, (_, i) => ({serial: deriveSerial(seed, `host/pki/revoked-other/${i}`), date: input.crlThisUpdate}))
  if (input.revokePck) revoked.push({serial: pck.serial, date: input.crlThisUpdate})
  const pckCrl = intelShapedCrl({...window, issuer: dn(SIM_CN.platformCa), issuerKey: caKey, revoked})
  return {root, platformCa, pck, tcbSigning, rootCrl, pckCrl}
}
