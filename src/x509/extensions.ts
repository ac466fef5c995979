/**
 * Certificate extension values decoded for chain rules: basic constraints, key usage, extended key
 * usage, key identifiers, subjectAltName otherNames and the DMTF SPDM extension. The certificate
 * reader has already checked the extension list itself (DER, no duplicates); these decoders are
 * lenient about a value that does not decode, answering "absent"/"none" so that the caller's rule
 * fails closed, and `extensionsDecode` tells whether every well-known value decodes (OpenSSL's
 * test before it lets a certificate take part in a chain).
 */
import {DER_CLASS, DER_TAG, decodeCanonicalDer, decodeDer, derBoolean, derChildren, derExplicit, derIntegerBytes, derOid, derString, isUniversal, type DerNode} from '../abi/der.js'
import {
  GeneralNameTag,
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_CRL_DISTRIBUTION_POINTS,
  OID_DMTF_DEVICE_INFO,
  OID_DMTF_SPDM_EXTENSION,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_NAME_CONSTRAINTS,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_ID,
} from './oids.js'

export interface CertExtension {
  oid: string
  critical: boolean
  /** The extnValue OCTET STRING's contents (itself DER). */
  value: Buffer
}

/** The value of extension `oid`, undefined when the certificate does not carry it. */
export const extensionValue = (extensions: readonly CertExtension[], oid: string): Buffer | undefined => extensions.find((e) => e.oid === oid)?.value

function fail(what: string): never {
  throw new Error(`${what} does not decode`)
}

/** A decoded value, or undefined when it does not decode. */
function lenient<T>(fn: () => T): T | undefined {
  try {
    return fn()
  } catch {
    return undefined
  }
}

/**
 * BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
 * Strict (the reader calls it while parsing): DER omits cA when FALSE, so an encoded FALSE is
 * malformed, reported through `malformed`.
 */
export function basicConstraintsCA(value: Buffer, what: string, malformed: (message: string) => Error): boolean {
  const parts = derChildren(decodeCanonicalDer(value, `${what} basic constraints`), `${what} basic constraints`, 0, 2)
  if (parts.length > 0 && isUniversal(parts[0], DER_TAG.BOOLEAN)) {
    if (!derBoolean(parts[0], `${what} cA`)) throw malformed(`${what}: basic constraints encode the default cA=FALSE`)
    return true
  }
  return false
}

/** Bits beyond a BIT STRING's declared length are not part of it: the first content octet counts them (0..7). */
const MAX_UNUSED_BITS = 7

/** A BIT STRING's bytes with the unused bits of the last byte cleared (as OpenSSL reads it); throws when it does not decode. */
function bitStringBits(v: Buffer, what: string): Buffer {
  const node = decodeDer(v, what)
  if (!isUniversal(node, DER_TAG.BIT_STRING) || typeof node.value !== 'string' || node.value.length === 0) fail(what)
  const unused = node.value.charCodeAt(0)
  const bits = Buffer.from(node.value.slice(1), 'latin1')
  if (unused > MAX_UNUSED_BITS || (unused > 0 && bits.length === 0)) fail(what)
  if (bits.length > 0) bits[bits.length - 1] &= 0xff << unused
  return bits
}

/** KeyUsage ::= BIT STRING: whether `bit` is set; undefined without the extension, false for every bit when it does not decode. */
export function keyUsageHas(extensions: readonly CertExtension[], bit: number): boolean | undefined {
  const v = extensionValue(extensions, OID_KEY_USAGE)
  if (!v) return undefined
  const byte = lenient(() => bitStringBits(v, 'key usage'))?.[bit >> 3] ?? 0
  return (byte & (0x80 >> (bit & 7))) !== 0
}

/** ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId: the OIDs; undefined without the extension, [] when it does not decode. */
export function extKeyUsage(extensions: readonly CertExtension[]): string[] | undefined {
  const v = extensionValue(extensions, OID_EXT_KEY_USAGE)
  if (!v) return undefined
  return lenient(() => derChildren(decodeDer(v, 'extended key usage'), 'extended key usage').filter((n) => isUniversal(n, DER_TAG.OID)).map((n) => derOid(n, 'key purpose'))) ?? []
}

/** Context tags of AuthorityKeyIdentifier's keyIdentifier and authorityCertSerialNumber. */
const AKI_KEY_ID_TAG = 0
const AKI_SERIAL_TAG = 2

/** AuthorityKeyIdentifier ::= SEQUENCE { [0] keyIdentifier, [1] authorityCertIssuer, [2] authorityCertSerialNumber } (all IMPLICIT, optional). */
function decodeAuthorityKeyId(v: Buffer): {keyId?: Buffer; serial?: Buffer} {
  const out: {keyId?: Buffer; serial?: Buffer} = {}
  let last = -1
  for (const n of derChildren(decodeDer(v, 'authority key identifier'), 'authority key identifier')) {
    if (n.tagClass !== DER_CLASS.CONTEXT || n.type <= last || n.type > AKI_SERIAL_TAG) throw new Error('authority key identifier: unexpected element')
    last = n.type
    const primitive = typeof n.value === 'string' ? Buffer.from(n.value, 'latin1') : undefined
    if (n.type === AKI_KEY_ID_TAG) out.keyId = primitive
    if (n.type === AKI_SERIAL_TAG) out.serial = primitive
  }
  return out
}

/** The keyIdentifier and authorityCertSerialNumber of the authority key identifier; {} without it or when it does not decode. */
export function authorityKeyId(extensions: readonly CertExtension[]): {keyId?: Buffer; serial?: Buffer} {
  const v = extensionValue(extensions, OID_AUTHORITY_KEY_ID)
  return (v && lenient(() => decodeAuthorityKeyId(v))) || {}
}

/** SubjectKeyIdentifier ::= OCTET STRING. */
export function subjectKeyId(extensions: readonly CertExtension[]): Buffer | undefined {
  const v = extensionValue(extensions, OID_SUBJECT_KEY_ID)
  if (!v) return undefined
  return lenient(() => {
    const node = decodeDer(v, 'subject key identifier')
    return isUniversal(node, DER_TAG.OCTET_STRING) && typeof node.value === 'string' ? Buffer.from(node.value, 'latin1') : undefined
  })
}

/** The string value of an otherName's [0] EXPLICIT value, when it is a directory string. */
function otherNameText(value: DerNode): string | undefined {
  return lenient(() => derString(derExplicit(value, 'otherName value'), 'otherName value'))
}

/**
 * The otherName entries of subjectAltName (GeneralName [0] AnotherName ::= SEQUENCE { type-id OID,
 * [0] EXPLICIT value }) whose value is a string, in order; [] when absent or not decodable.
 */
function otherNames(extensions: readonly CertExtension[]): Array<{oid: string; text: string}> {
  const v = extensionValue(extensions, OID_SUBJECT_ALT_NAME)
  if (!v) return []
  const out: Array<{oid: string; text: string}> = []
  const names = lenient(() => derChildren(decodeDer(v, 'subjectAltName'), 'subjectAltName')) ?? []
  for (const gn of names) {
    if (gn.tagClass !== DER_CLASS.CONTEXT || gn.type !== GeneralNameTag.otherName || !Array.isArray(gn.value)) continue
    const [type, value] = gn.value
    const oid = type && lenient(() => derOid(type, 'otherName type'))
    const text = value && oid ? otherNameText(value) : undefined
    if (oid && text !== undefined) out.push({oid, text})
  }
  return out
}

/** The DMTF device-info otherName ("VENDOR:MODEL:SERIAL", DSP0274 §10.8.2), if any. */
export const dmtfDeviceInfo = (extensions: readonly CertExtension[]): string | undefined => otherNames(extensions).find((n) => n.oid === OID_DMTF_DEVICE_INFO)?.text

/**
 * The OIDs listed in the DMTF SPDM extension: SEQUENCE OF SEQUENCE { id OID, … } (DSP0274 1.2+,
 * e.g. id-DMTF-hardware-identity), or the bare OID earlier libspdm certificates carry; [] when
 * absent or not decodable.
 */
export function spdmExtensionOids(extensions: readonly CertExtension[]): string[] {
  const v = extensionValue(extensions, OID_DMTF_SPDM_EXTENSION)
  if (!v) return []
  const oidOf = (n: DerNode) => derOid(isUniversal(n, DER_TAG.OID) ? n : derChildren(n, 'SPDM OID entry', 1)[0], 'SPDM OID')
  return (
    lenient(() => {
      const top = decodeDer(v, 'SPDM extension')
      return isUniversal(top, DER_TAG.OID) ? [oidOf(top)] : derChildren(top, 'SPDM extension').map(oidOf)
    }) ?? []
  )
}

/** Universal SEQUENCE of children each passing `check`. */
function sequenceOf(v: Buffer, what: string, check: (n: DerNode) => boolean): void {
  if (!derChildren(decodeDer(v, what), what).every(check)) throw new Error(`${what}: unexpected element`)
}

/**
 * GeneralName (RFC 5280 §4.2.1.6) by its context tag: the shape of the constructed choices
 * (otherName { OID, [0] value }, x400Address, directoryName { Name }, ediPartyName { [0]?, [1] }).
 * The string choices are not judged: BER (which OpenSSL reads here) may also encode them constructed.
 */
const GENERAL_NAME: ReadonlyArray<((children: DerNode[]) => boolean) | undefined> = [
  (c) => c.length === 2 && isUniversal(c[0], DER_TAG.OID) && c[1].tagClass === DER_CLASS.CONTEXT && c[1].type === 0 && c[1].constructed, // otherName
  undefined, // rfc822Name
  undefined, // dNSName
  () => true, // x400Address
  (c) => c.length === 1 && isUniversal(c[0], DER_TAG.SEQUENCE), // directoryName
  (c) => c.every((n) => n.tagClass === DER_CLASS.CONTEXT && n.type <= 1) && c.some((n) => n.type === 1), // ediPartyName
  undefined, // uniformResourceIdentifier
  undefined, // iPAddress
  undefined, // registeredID
]

function generalNameDecodes(n: DerNode): boolean {
  if (n.tagClass !== DER_CLASS.CONTEXT || n.type >= GENERAL_NAME.length) return false
  const shape = GENERAL_NAME[n.type]
  return !shape || (n.constructed && Array.isArray(n.value) && shape(n.value))
}

/** Structural decoders of the extensions OpenSSL decodes when it caches a certificate's extensions (v3_purp.c). */
const STRUCTURE: ReadonlyArray<[string, (v: Buffer) => void]> = [
  [OID_KEY_USAGE, (v) => void bitStringBits(v, 'key usage')],
  [OID_EXT_KEY_USAGE, (v) => sequenceOf(v, 'extended key usage', (n) => isUniversal(n, DER_TAG.OID))],
  [OID_SUBJECT_KEY_ID, (v) => void (isUniversal(decodeDer(v, 'subject key identifier'), DER_TAG.OCTET_STRING) || fail('subject key identifier'))],
  [OID_AUTHORITY_KEY_ID, (v) => void decodeAuthorityKeyId(v)],
  [OID_SUBJECT_ALT_NAME, (v) => sequenceOf(v, 'subjectAltName', generalNameDecodes)],
  [OID_CRL_DISTRIBUTION_POINTS, (v) => sequenceOf(v, 'CRL distribution points', (n) => isUniversal(n, DER_TAG.SEQUENCE))],
  [OID_NAME_CONSTRAINTS, (v) => void derChildren(decodeDer(v, 'name constraints'), 'name constraints')],
  [OID_BASIC_CONSTRAINTS, (v) => basicConstraintsPathLen(v)],
]

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN OPTIONAL, pathLenConstraint INTEGER OPTIONAL }: a pathLenConstraint needs cA TRUE and must not be negative. */
function basicConstraintsPathLen(v: Buffer): void {
  const parts = derChildren(decodeDer(v, 'basic constraints'), 'basic constraints', 0, 2)
  const hasCa = isUniversal(parts[0], DER_TAG.BOOLEAN)
  const pathLen = parts[hasCa ? 1 : 0]
  if (parts.length > (hasCa ? 1 : 0) + (pathLen ? 1 : 0) || (pathLen && !isUniversal(pathLen, DER_TAG.INTEGER))) fail('basic constraints')
  if (pathLen && (!(hasCa && derBoolean(parts[0], 'cA')) || derIntegerBytes(pathLen, 'pathLenConstraint')[0] & 0x80)) fail('basic constraints')
}

/**
 * Whether every extension a chain builder interprets decodes (OpenSSL marks a certificate whose
 * key usage, EKU, key identifiers, subjectAltName, CRL distribution points, name constraints or
 * basic constraints do not decode as invalid, and never accepts it as an issuer).
 */
export function extensionsDecode(extensions: readonly CertExtension[]): boolean {
  return STRUCTURE.every(([oid, check]) => {
    const v = extensionValue(extensions, oid)
    return v === undefined || lenient(() => (check(v), true)) === true
  })
}
