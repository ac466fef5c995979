/** Object identifiers of the certificate stack: X.509 names and extensions, key and signature algorithms, the DMTF SPDM arc. */

// ---- names (X.520)
export const OID_CN = '2.5.4.3'
export const OID_C = '2.5.4.6'
export const OID_L = '2.5.4.7'
export const OID_ST = '2.5.4.8'
export const OID_O = '2.5.4.10'

// ---- certificate and CRL extensions (RFC 5280 §4.2, §5.2, §5.3)
export const OID_SUBJECT_KEY_ID = '2.5.29.14'
export const OID_KEY_USAGE = '2.5.29.15'
export const OID_SUBJECT_ALT_NAME = '2.5.29.17'
export const OID_BASIC_CONSTRAINTS = '2.5.29.19'
export const OID_CRL_NUMBER = '2.5.29.20'
export const OID_CRL_REASON = '2.5.29.21'
export const OID_INVALIDITY_DATE = '2.5.29.24'
export const OID_DELTA_CRL_INDICATOR = '2.5.29.27'
export const OID_ISSUING_DISTRIBUTION_POINT = '2.5.29.28'
export const OID_NAME_CONSTRAINTS = '2.5.29.30'
export const OID_CRL_DISTRIBUTION_POINTS = '2.5.29.31'
export const OID_AUTHORITY_KEY_ID = '2.5.29.35'
export const OID_EXT_KEY_USAGE = '2.5.29.37'

// ---- public keys (RFC 5480, RFC 8017, RFC 8410)
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1'
export const OID_CURVE_P256 = '1.2.840.10045.3.1.7'
export const OID_CURVE_P384 = '1.3.132.0.34'
export const OID_CURVE_P521 = '1.3.132.0.35'
export const OID_RSASSA_PSS = '1.2.840.113549.1.1.10'
export const OID_ED25519 = '1.3.101.112'
export const OID_ED448 = '1.3.101.113'

// ---- signature algorithms (RFC 5758, RFC 4055, RFC 8410)
export const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2'
export const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3'
export const OID_ECDSA_SHA512 = '1.2.840.10045.4.3.4'
export const OID_RSA_SHA256 = '1.2.840.113549.1.1.11'
export const OID_RSA_SHA384 = '1.2.840.113549.1.1.12'
export const OID_RSA_SHA512 = '1.2.840.113549.1.1.13'
export const OID_MGF1 = '1.2.840.113549.1.1.8'
export const OID_SHA1 = '1.3.14.3.2.26'
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1'
export const OID_SHA384 = '2.16.840.1.101.3.4.2.2'
export const OID_SHA512 = '2.16.840.1.101.3.4.2.3'
/** SM2 signature with SM3 (GB/T 35276; SPDM's TPM_ALG_SM2_ECC_SM2_P256). */
export const OID_SM2_SM3 = '1.2.156.10197.1.501'

// ---- DMTF SPDM: id-DMTF = 1.3.6.1.4.1.412, SPDM arc .274 (DSP0274 §10.8; libspdm industry_standard/spdm.h)
export const OID_DMTF_DEVICE_INFO = '1.3.6.1.4.1.412.274.1'
export const OID_DMTF_HARDWARE_IDENTITY = '1.3.6.1.4.1.412.274.2'
export const OID_DMTF_EKU_RESPONDER_AUTH = '1.3.6.1.4.1.412.274.3'
export const OID_DMTF_EKU_REQUESTER_AUTH = '1.3.6.1.4.1.412.274.4'
export const OID_DMTF_SPDM_EXTENSION = '1.3.6.1.4.1.412.274.6'

/** keyUsage bit numbers (bit 0 is the most significant bit of the first byte; RFC 5280 §4.2.1.3). */
export const KeyUsageBit = {digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6} as const

/** CRLReason values (RFC 5280 §5.3.1). */
export const CrlReason = {unspecified: 0, keyCompromise: 1} as const

/** GeneralName choice tags (RFC 5280 §4.2.1.6). */
export const GeneralNameTag = {otherName: 0, uniformResourceIdentifier: 6} as const
