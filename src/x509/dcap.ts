/**
 * Intel DCAP's certificate profile, and the reader bound to it for the quote verifier: every PCK,
 * CA and TCB signing certificate and every CRL is signed with ecdsa-with-SHA256 (no parameters)
 * and certificates carry an ECDSA P-256 key; only basic constraints and key usage may be critical
 * (Intel's PCK Certificate and CRL Profile). Quotes, QE reports and signed collateral carry raw
 * r ‖ s P-256 / SHA-256 signatures. src/verify/x509.ts re-exports this module.
 */
import type {KeyObject} from 'node:crypto'
import {parseCert as parseCertWith, parseCrl as parseCrlWith, type Cert, type Crl} from './cert.js'
import {CURVES, verifyEcdsa} from './ecdsa.js'
import {OID_BASIC_CONSTRAINTS, OID_CURVE_P256, OID_EC_PUBLIC_KEY, OID_ECDSA_SHA256, OID_KEY_USAGE} from './oids.js'
import type {X509Profile} from './profile.js'

const DCAP_PROFILE: X509Profile = Object.freeze({
  name: 'dcap',
  signature: {oids: new Set([OID_ECDSA_SHA256]), text: 'ecdsa-with-SHA256'},
  key: {algorithm: OID_EC_PUBLIC_KEY, curve: OID_CURVE_P256, text: 'ECDSA P-256'},
  criticalExtensions: new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE]),
})

/** Bytes of a raw r ‖ s P-256 signature. */
const P256_RAW_SIGNATURE_SIZE = 2 * CURVES['P-256'].size

/** A certificate read under DCAP's profile (memoised). */
export const parseCert = (der: Uint8Array): Cert => parseCertWith(der, DCAP_PROFILE)
/** A CRL read under DCAP's profile (memoised). */
export const parseCrl = (der: Uint8Array): Crl => parseCrlWith(der, DCAP_PROFILE)

/** ECDSA P-256 / SHA-256 with a raw 64-byte r ‖ s signature (quotes, QE reports, TCB info, QE identity). */
export const verifyRawSig = (data: Uint8Array, sig: Uint8Array, key: KeyObject): boolean => sig.length === P256_RAW_SIGNATURE_SIZE && verifyEcdsa(key, 'sha256', data, sig, 'raw')

export {X509Error, certSignedBy, crlSignedBy, type Cert, type Crl} from './cert.js'
export {keyFromRawXY} from './keys.js'
export {clearX509Memo} from './memo.js'
export {parsePemChain} from './pem.js'
export {OID_BASIC_CONSTRAINTS}
