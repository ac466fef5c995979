/**
 * QuoteCollateralV3: the offline collateral bundle (field names of dcap-qvl's QuoteCollateralV3,
 * the shape of every collateral.json in the real test vectors and of `collateral export`).
 * - *_issuer_chain: PEM text (leaf first, root last)
 * - root_ca_crl, pck_crl: hex of the DER CRL
 * - tcb_info, qe_identity: the exact signed JSON text of the `tcbInfo` / `enclaveIdentity` object
 *   (signatures are over these bytes; never re-serialise)
 * - tcb_info_signature, qe_identity_signature: hex of the 64-byte raw r||s ECDSA-P256 signature
 * - pck_certificate_chain: optional PEM chain for quotes with certification data type 3
 */
export interface QuoteCollateralV3 {
  pck_crl_issuer_chain: string
  root_ca_crl: string
  pck_crl: string
  tcb_info_issuer_chain: string
  tcb_info: string
  tcb_info_signature: string
  qe_identity_issuer_chain: string
  qe_identity: string
  qe_identity_signature: string
  pck_certificate_chain?: string
}

export const COLLATERAL_FIELDS = [
  'pck_crl_issuer_chain',
  'root_ca_crl',
  'pck_crl',
  'tcb_info_issuer_chain',
  'tcb_info',
  'tcb_info_signature',
  'qe_identity_issuer_chain',
  'qe_identity',
  'qe_identity_signature',
] as const

/** Fields holding binary data: hex strings in QuoteCollateralV3, byte arrays in dcap-qvl's getCollateral output. */
export const COLLATERAL_BYTE_FIELDS = ['root_ca_crl', 'pck_crl', 'tcb_info_signature', 'qe_identity_signature'] as const
