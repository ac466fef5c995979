/** Object identifiers used by device certificates (DMTF SPDM arc, X.509, curves, algorithms). */

/** id-DMTF = 1.3.6.1.4.1.412; SPDM arc .274 (DMTF/libspdm include/industry_standard/spdm.h). */
export const OID_DMTF_DEVICE_INFO = '1.3.6.1.4.1.412.274.1'
export const OID_DMTF_HARDWARE_IDENTITY = '1.3.6.1.4.1.412.274.2'
export const OID_DMTF_EKU_RESPONDER_AUTH = '1.3.6.1.4.1.412.274.3'
export const OID_DMTF_EKU_REQUESTER_AUTH = '1.3.6.1.4.1.412.274.4'
export const OID_DMTF_MUTABLE_CERTIFICATE = '1.3.6.1.4.1.412.274.5'
export const OID_DMTF_SPDM_EXTENSION = '1.3.6.1.4.1.412.274.6'
/** TCG DiceTcbInfo extension. */
export const OID_TCG_DICE_TCB_INFO = '2.23.133.5.4.1'

export const OID_CN = '2.5.4.3'
export const OID_O = '2.5.4.10'
export const OID_C = '2.5.4.6'
export const OID_SUBJECT_KEY_ID = '2.5.29.14'
export const OID_KEY_USAGE = '2.5.29.15'
export const OID_SUBJECT_ALT_NAME = '2.5.29.17'
export const OID_BASIC_CONSTRAINTS = '2.5.29.19'
export const OID_AUTHORITY_KEY_ID = '2.5.29.35'
export const OID_EXT_KEY_USAGE = '2.5.29.37'

export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1'
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1'
export const OID_CURVE_P256 = '1.2.840.10045.3.1.7'
export const OID_CURVE_P384 = '1.3.132.0.34'
export const OID_CURVE_P521 = '1.3.132.0.35'
export const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2'
export const OID_ECDSA_SHA384 = '1.2.840.10045.4.3.3'

/** keyUsage bit numbers (bit 0 is the most significant bit of the first byte). */
export const KeyUsageBit = {digitalSignature: 0, nonRepudiation: 1, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6} as const
