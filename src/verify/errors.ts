/**
 * Named verification failures. Every distinct failure has a stable code, the step it belongs to and
 * the exit code of the CLI contract (3 authenticity, 4 collateral, 5 TCB). Callers and tests tell
 * failures apart by `code`, never by parsing messages.
 */
import {ExitCode, TdxkitError} from '../errors.js'

/** Verification steps in pipeline order (ids are stable; used in JSON output). */
export const STEPS = {
  parse: 'parse quote structure',
  header: 'header: version, key type, TEE type, QE vendor',
  pck_chain: 'PCK certificate chain to the trusted root',
  crls: 'CRLs: root CA CRL and PCK CRL (signature, issuer, validity)',
  pck_revocation: 'PCK chain not revoked',
  tcb_info: 'TCB info: signing chain, signature, validity, type, FMSPC/PCE-ID',
  qe_identity: 'QE identity: signing chain, signature, validity, type',
  qe_report_signature: 'QE report signed by the PCK key',
  qe_report_data: 'QE report data binds SHA-256(attestation key ‖ auth data)',
  qe_identity_match: 'QE report matches the QE identity',
  quote_signature: 'quote signed by the attestation key',
  tdx_module: 'TDX module identity (MRSIGNERSEAM, SEAMATTRIBUTES)',
  tcb_level: 'TCB level matching and status convergence',
} as const
export type StepId = keyof typeof STEPS
export const STEP_ORDER = Object.keys(STEPS) as StepId[]

const A = ExitCode.AUTHENTICITY
const C = ExitCode.COLLATERAL
const T = ExitCode.TCB

/** Every verification error code → [step, exit code]. */
export const VERIFY_ERRORS = {
  // header
  QE_VENDOR_MISMATCH: ['header', A],
  // PCK chain
  PCK_CHAIN_MISSING: ['pck_chain', A],
  PCK_CHAIN_MALFORMED: ['pck_chain', A],
  PCK_CHAIN_LENGTH: ['pck_chain', A],
  PCK_CHAIN_BAD_NAME: ['pck_chain', A],
  PCK_CHAIN_ISSUER_MISMATCH: ['pck_chain', A],
  PCK_CHAIN_BAD_SIGNATURE: ['pck_chain', A],
  PCK_CHAIN_UNTRUSTED_ROOT: ['pck_chain', A],
  PCK_CERT_EXPIRED: ['pck_chain', A],
  PCK_CERT_BAD_ALGORITHM: ['pck_chain', A],
  PCK_EXTENSION_MALFORMED: ['pck_chain', A],
  // CRLs
  CRL_MALFORMED: ['crls', C],
  CRL_BAD_SIGNATURE: ['crls', C],
  CRL_ISSUER_MISMATCH: ['crls', C],
  CRL_EXPIRED: ['crls', C],
  CRL_CHAIN_UNTRUSTED: ['crls', C],
  // revocation
  PCK_REVOKED: ['pck_revocation', A],
  PCK_CA_REVOKED: ['pck_revocation', A],
  ROOT_REVOKED: ['pck_revocation', A],
  // TCB info / QE identity
  COLLATERAL_MALFORMED: ['tcb_info', C],
  TCB_INFO_MALFORMED: ['tcb_info', C],
  TCB_INFO_SIGNATURE_INVALID: ['tcb_info', C],
  TCB_INFO_CHAIN_UNTRUSTED: ['tcb_info', C],
  TCB_INFO_SIGNER_REVOKED: ['tcb_info', C],
  TCB_INFO_EXPIRED: ['tcb_info', C],
  TCB_INFO_MISMATCH: ['tcb_info', C],
  FMSPC_MISMATCH: ['tcb_info', C],
  PCEID_MISMATCH: ['tcb_info', C],
  QE_IDENTITY_MALFORMED: ['qe_identity', C],
  QE_IDENTITY_SIGNATURE_INVALID: ['qe_identity', C],
  QE_IDENTITY_CHAIN_UNTRUSTED: ['qe_identity', C],
  QE_IDENTITY_SIGNER_REVOKED: ['qe_identity', C],
  QE_IDENTITY_EXPIRED: ['qe_identity', C],
  QE_IDENTITY_TYPE_MISMATCH: ['qe_identity', C],
  // QE / quote signatures
  QE_REPORT_SIGNATURE_INVALID: ['qe_report_signature', A],
  QE_REPORT_DATA_MISMATCH: ['qe_report_data', A],
  QE_IDENTITY_MISMATCH: ['qe_identity_match', A],
  QE_TCB_NOT_SUPPORTED: ['qe_identity_match', T],
  ATTESTATION_KEY_INVALID: ['quote_signature', A],
  QUOTE_SIGNATURE_INVALID: ['quote_signature', A],
  // TDX module / TCB
  TDX_MODULE_MISMATCH: ['tdx_module', A],
  TDX_MODULE_IDENTITY_NOT_FOUND: ['tdx_module', T],
  TCB_NOT_SUPPORTED: ['tcb_level', T],
  TCB_REVOKED: ['tcb_level', T],
  TCB_UNRECOGNIZED_STATUS: ['tcb_level', T],
} as const satisfies Record<string, readonly [StepId, ExitCode]>

export type VerifyErrorCode = keyof typeof VERIFY_ERRORS

/** A verification failure: stable code, step, exit code. */
export class VerifyError extends TdxkitError {
  declare readonly step: StepId
  constructor(code: VerifyErrorCode, message: string, detail?: Record<string, unknown>) {
    const [step, exit] = VERIFY_ERRORS[code]
    super(code, message, {exit, step, detail})
  }
}

export const fail = (code: VerifyErrorCode, message: string, detail?: Record<string, unknown>): never => {
  throw new VerifyError(code, message, detail)
}
