/**
 * Certificate extension values decoded for chain rules: basic constraints, key usage, extended key
 * usage, key identifiers, subjectAltName otherNames and the DMTF SPDM extension. The certificate
 * reader has already checked the extension list itself (DER, no duplicates); these decoders are
 * lenient about a value that does not decode, answering "absent"/"none" so that the caller's rule
 * fails closed.
 */
import {DER_CLASS, DER_TAG, decodeCanonicalDer, decodeDer, derBoolean, derChildren, derExplicit, derOid, derString, isUniversal, type DerNode} from '../abi/der.js'
import {OID_AUTHORITY_KEY_ID, OID_DMTF_DEVICE_INFO, OID_DMTF_SPDM_EXTENSION, OID_EXT_KEY_USAGE, OID_KEY_USAGE, OID_SUBJECT_ALT_NAME, OID_SUBJECT_KEY_ID, GeneralNameTag} from './oids.js'

export interface CertExtension {
  oid: string
  critical: boolean
  /** The extnValue OCTET STRING's contents (itself DER). */
  value: Buffer
}

/** The value of extension `oid`, undefined when the certificate does not carry it. */
export const extensionValue = (extensions: readonly CertExtension[], oid: string): Buffer | undefined => extensions.find((e) => e.oid === oid)?.value

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

/** KeyUsage ::= BIT STRING: whether `bit` is set; undefined without the extension, false for every bit when it does not decode. */
export function keyUsageHas(extensions: readonly CertExtension[], bit: number): boolean | undefined {
  const v = extensionValue(extensions, OID_KEY_USAGE)
  if (!v) return undefined
  const bits = lenient(() => {
    const node = decodeDer(v, 'key usage')
    if (!isUniversal(node, DER_TAG.BIT_STRING) || typeof node.value !== 'string' || node.value.length === 0) return undefined
    return Buffer.from(node.value.slice(1), 'latin1') // the first octet counts the unused bits
  })
  const byte = bits?.[bit >> 3] ?? 0
  return (byte & (0x80 >> (bit & 7))) !== 0
}

/** ExtKeyUsageSyntax ::= SEQUENCE OF KeyPurposeId: the OIDs; undefined without the extension, [] when it does not decode. */
export function extKeyUsage(extensions: readonly CertExtension[]): string[] | undefined {
  const v = extensionValue(extensions, OID_EXT_KEY_USAGE)
  if (!v) return undefined
  return lenient(() => derChildren(decodeDer(v, 'extended key usage'), 'extended key usage').filter((n) => isUniversal(n, DER_TAG.OID)).map((n) => derOid(n, 'key purpose'))) ?? []
}

/** The [0] keyIdentifier of an AuthorityKeyIdentifier ::= SEQUENCE { [0] IMPLICIT OCTET STRING OPTIONAL, … }. */
export function authorityKeyId(extensions: readonly CertExtension[]): Buffer | undefined {
  const v = extensionValue(extensions, OID_AUTHORITY_KEY_ID)
  if (!v) return undefined
  return lenient(() => {
    const id = derChildren(decodeDer(v, 'authority key identifier'), 'authority key identifier').find((n) => n.tagClass === DER_CLASS.CONTEXT && n.type === 0 && !n.constructed)
    return id && typeof id.value === 'string' ? Buffer.from(id.value, 'latin1') : undefined
  })
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
export function otherNames(extensions: readonly CertExtension[]): Array<{oid: string; text: string}> {
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
 * The OIDs listed in the DMTF SPDM extension (id-DMTF-SPDM-extension: SEQUENCE OF SEQUENCE
 * { id OID, … }, e.g. id-DMTF-hardware-identity); [] when absent or not decodable.
 */
export function spdmExtensionOids(extensions: readonly CertExtension[]): string[] {
  const v = extensionValue(extensions, OID_DMTF_SPDM_EXTENSION)
  if (!v) return []
  return lenient(() => derChildren(decodeDer(v, 'SPDM extension'), 'SPDM extension').map((e) => derOid(derChildren(e, 'SPDM OID entry', 1)[0], 'SPDM OID'))) ?? []
}
