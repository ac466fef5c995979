/**
 * Chain helpers shared by every chain rule set: splitting a concatenation of DER certificates, and
 * "is this certificate issued by that one" as OpenSSL's X509_check_issued decides it (names,
 * key identifiers, signature algorithm against the issuer's key type, keyCertSign).
 */
import {ParseError} from '../errors.js'
import {DER_SEQUENCE} from '../abi/der.js'
import {normalisedSerial, type Cert} from './cert.js'
import {authorityKeyId, extensionsDecode, keyUsageHas, subjectKeyId} from './extensions.js'
import {sameName} from './name.js'
import {KeyUsageBit} from './oids.js'
import {signatureFitsKey} from './signature.js'

export {DER_SEQUENCE}
/** Long-form lengths: the low 7 bits count the length octets; certificates never need more than 4. */
const DER_LONG_LENGTH = 0x80
const DER_MAX_LENGTH_OCTETS = 4

/** Split a concatenation of DER SEQUENCEs (certificates) by their TLV lengths; each is read strictly later. */
export function splitDerCerts(buf: Uint8Array): Buffer[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const out: Buffer[] = []
  let off = 0
  while (off < b.length) {
    if (b[off] !== DER_SEQUENCE) throw new ParseError('CERT_NOT_DER', `certificate ${out.length} at offset ${off} does not start with a DER SEQUENCE`)
    if (off + 2 > b.length) throw new ParseError('CERT_TRUNCATED', `certificate ${out.length} at offset ${off} is truncated`)
    let len = b[off + 1]
    let hdr = 2
    if (len & DER_LONG_LENGTH) {
      const n = len & ~DER_LONG_LENGTH
      if (n === 0 || n > DER_MAX_LENGTH_OCTETS || off + 2 + n > b.length) throw new ParseError('CERT_BAD_LENGTH', `certificate ${out.length} at offset ${off} has an invalid DER length`)
      len = 0
      for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i]
      hdr = 2 + n
    }
    if (off + hdr + len > b.length) throw new ParseError('CERT_TRUNCATED', `certificate ${out.length} at offset ${off} needs ${hdr + len} bytes, ${b.length - off} left`)
    out.push(Buffer.from(b.subarray(off, off + hdr + len)))
    off += hdr + len
  }
  if (out.length === 0) throw new ParseError('CERT_CHAIN_EMPTY', 'certificate chain holds no certificate')
  return out
}

/**
 * Whether `parent` is a plausible issuer of `child` (OpenSSL's X509_check_issued): child's issuer
 * name is parent's subject, child's authority key id (when both ids are present) is parent's
 * subject key id (and its serial, when given, parent's serial), child's signature algorithm fits
 * parent's key type, and parent's key usage (when
 * present) allows keyCertSign; a certificate whose well-known extensions do not decode is never an
 * issuer (nor issued). The signature itself is `certSignedBy`.
 */
export function issuedBy(child: Cert, parent: Cert): boolean {
  if (!sameName(child.issuerName, parent.subjectName)) return false
  if (!extensionsDecode(child.extensions) || !extensionsDecode(parent.extensions)) return false
  const aki = authorityKeyId(child.extensions)
  const skid = subjectKeyId(parent.extensions)
  if (aki.keyId && skid && !aki.keyId.equals(skid)) return false
  if (aki.serial && normalisedSerial(aki.serial) !== parent.serial) return false
  if (!signatureFitsKey(child.signatureAlgorithm, parent.publicKey)) return false
  return keyUsageHas(parent.extensions, KeyUsageBit.keyCertSign) !== false
}
