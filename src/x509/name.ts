/**
 * X.501 Names: the first common name (what DCAP's rules look at) and a one-line rendering in
 * OpenSSL's form, the one Node's X509Certificate.subject prints (attributes by short name in
 * encoding order, RFC 2253 escaping, control characters as \XX, text as UTF-8), with its lines
 * joined by ", ".
 */
import {DER_CLASS, DER_TAG, decodeDer, derChildren, derOid, derString, type DerNode} from '../abi/der.js'
import {OID_CN} from './oids.js'

/** The first commonName of a Name (SEQUENCE OF SET OF AttributeTypeAndValue), '' when none. */
export function cnOf(name: DerNode, what: string): string {
  let cn: string | undefined
  for (const rdn of derChildren(name, what)) {
    for (const atv of derChildren(rdn, `${what} RDN`, 1, Infinity, DER_TAG.SET)) {
      const [type, value] = derChildren(atv, `${what} attribute`, 2, 2)
      if (derOid(type, `${what} attribute type`) === OID_CN && cn === undefined) cn = derString(value, `${what} CN`)
    }
  }
  return cn ?? ''
}

/** OpenSSL's short names of the attribute types certificates use (objects.txt); others print as dotted OIDs. */
const SHORT_NAME: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.41': 'name',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
}

/** Characters RFC 2253 escapes with a backslash anywhere in a value. */
const BACKSLASH_ESCAPED = new Set([...',+"\\<>;'].map((c) => c.charCodeAt(0)))
const SPACE = 0x20
const HASH = 0x23
const DEL = 0x7f
const MAX_CODE_POINT = 0x10ffff
/** Universal tags of two string types src/abi/der.ts does not name. */
const VISIBLE_STRING = 26
const UNIVERSAL_STRING = 28

/** The value's characters as code points, decoded by string type like OpenSSL (8-bit types are Latin-1). */
function codePoints(node: DerNode): number[] {
  const raw = typeof node.value === 'string' ? node.value : ''
  const universal = node.tagClass === DER_CLASS.UNIVERSAL
  if (universal && node.type === DER_TAG.UTF8_STRING) return [...Buffer.from(raw, 'latin1').toString('utf8')].map((c) => c.codePointAt(0)!)
  if (universal && node.type === UNIVERSAL_STRING) {
    const b = Buffer.from(raw, 'latin1')
    return Array.from({length: b.length >> 2}, (_, i) => b.readUInt32BE(i * 4))
  }
  // forge has already decoded a BMPString to UTF-16 text; every other type is one byte per character.
  return [...raw].map((c) => c.codePointAt(0)!)
}

/** One attribute value, escaped as OpenSSL does with ESC_2253 | ESC_CTRL | UTF8_CONVERT. */
function escapeValue(node: DerNode): string {
  const cps = codePoints(node)
  let out = ''
  cps.forEach((cp, i) => {
    if (cp > MAX_CODE_POINT) return void (out += `\\W${cp.toString(16).toUpperCase().padStart(8, '0')}`)
    const ch = String.fromCodePoint(cp)
    if (cp > DEL) out += ch
    else if (BACKSLASH_ESCAPED.has(cp) || (i === 0 && (cp === HASH || cp === SPACE)) || (i === cps.length - 1 && cp === SPACE)) out += `\\${ch}`
    else if (cp < SPACE || cp === DEL) out += `\\${cp.toString(16).toUpperCase().padStart(2, '0')}`
    else out += ch
  })
  return out
}

/**
 * A Name's DER as one line, e.g. "O=tdxkit SIMULATED device vendor, CN=… Root CA (SIMULATED)":
 * RDNs in encoding order joined by ", ", attributes of a multi-valued RDN by " + ".
 * Throws DerError when the bytes are not a Name.
 */
export function nameText(der: Uint8Array): string {
  const name = decodeDer(der, 'Name')
  return derChildren(name, 'Name')
    .map((rdn) =>
      derChildren(rdn, 'Name RDN', 1, Infinity, DER_TAG.SET)
        .map((atv) => {
          const [type, value] = derChildren(atv, 'Name attribute', 2, 2)
          const oid = derOid(type, 'Name attribute type')
          return `${SHORT_NAME[oid] ?? oid}=${escapeValue(value)}`
        })
        .join(' + '),
    )
    .join(', ')
}

/** Universal string types OpenSSL canonicalises before comparing names (ASN1_MASK_CANON). */
const CANON_TYPES = new Set<number>([DER_TAG.UTF8_STRING, DER_TAG.PRINTABLE_STRING, DER_TAG.T61_STRING, DER_TAG.IA5_STRING, DER_TAG.BMP_STRING, VISIBLE_STRING, UNIVERSAL_STRING])

/** A value in OpenSSL's canonical form: text lowercased (ASCII only), outer whitespace trimmed, inner runs collapsed to one space. */
function canonicalValue(node: DerNode): string {
  if (node.tagClass !== DER_CLASS.UNIVERSAL || !CANON_TYPES.has(node.type)) return `#${node.tagClass}/${node.type}:${Buffer.from(typeof node.value === 'string' ? node.value : '', 'latin1').toString('hex')}`
  const text = codePoints(node).map((cp) => (cp > MAX_CODE_POINT ? `\\W${cp}` : String.fromCodePoint(cp))).join('')
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '').replace(/[ \t\n\v\f\r]+/g, ' ')
}

/** A Name's canonical form: RDNs of (type, canonical value) pairs. */
function canonicalName(der: Uint8Array): string {
  const rdns = derChildren(decodeDer(der, 'Name'), 'Name').map((rdn) =>
    derChildren(rdn, 'Name RDN', 1, Infinity, DER_TAG.SET).map((atv) => {
      const [type, value] = derChildren(atv, 'Name attribute', 2, 2)
      return [derOid(type, 'Name attribute type'), canonicalValue(value)]
    }),
  )
  return JSON.stringify(rdns)
}

/**
 * Whether two Names are the same name (OpenSSL's X509_NAME_cmp, which chain building uses): equal
 * bytes, or equal after canonicalising each string value. False when either does not decode.
 */
export function sameName(a: Uint8Array, b: Uint8Array): boolean {
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)) return true
  try {
    return canonicalName(a) === canonicalName(b)
  } catch {
    return false
  }
}
