/**
 * The per-quote checks, one function each, in the order Intel's QVL runs them (QuoteVerifier::verify,
 * TdxModuleCheck); each throws a VerifyError with its stable code and returns what the next ones
 * need. QuoteVerifier calls them in this order and records each as a step:
 *
 *   checkQeVendor → (PCK chain: pck-chain.ts) → checkCollateralFitsTee → checkPckCrlIssuer →
 *   checkNotRevoked → checkTcbInfoMatchesPck → checkQeReportSignature → checkQeReportData →
 *   checkQeIdentity → checkQuoteSignature → checkTdxModule → (TCB level: tcb.ts)
 */
import {hash} from 'node:crypto'
import type {PckExtension} from '../abi/pck-extension.js'
import {INTEL_QE_VENDOR_ID, QE_REPORT_DATA_BINDING_SIZE, TEE_TCB_SVN_BYTE, type ParsedQuote, type SgxReportField} from '../abi/quote.js'
import {
  QE_IDENTITY_ID_SGX,
  QE_IDENTITY_ID_TDX,
  QE_IDENTITY_VERSION,
  TCB_INFO_ID_SGX,
  TCB_INFO_ID_TDX,
  TCB_INFO_VERSION_TDX,
  tdxModuleIdentityId,
  type QeIdentity,
  type TcbInfo,
  type TdxModule,
} from '../abi/tcb-info.js'
import type {CheckedCollateral} from './collateral-checks.js'
import {fail} from './errors.js'
import type {PckChain} from './pck-chain.js'
import {evaluateQe, findModuleIdentity, type QeEvaluation} from './tcb.js'
import {keyFromRawXY, verifyRawSig} from '../x509/dcap.js'

/** Oldest SGX TCB info version an SGX quote accepts. */
const TCB_INFO_MIN_VERSION_SGX = 2
/** Verified (QE report ‖ signature) pairs remembered per PCK chain before the memo starts over. */
const MAX_VERIFIED_QE_REPORTS = 256

/** Header: the quote comes from Intel's quoting enclave. */
export function checkQeVendor(q: ParsedQuote): void {
  if (!q.header.qe_vendor_id.equals(INTEL_QE_VENDOR_ID)) fail('QE_VENDOR_MISMATCH', `QE vendor ID ${q.header.qe_vendor_id.toString('hex')} is not Intel's`)
}

/** Collateral type fits the TEE: TDX ⇔ TCB info "TDX" v3 and QE identity "TD_QE"; SGX ⇔ "SGX" (v2+) and "QE". */
export function checkCollateralFitsTee(tcbInfo: TcbInfo, qeIdentity: QeIdentity, isTdx: boolean): void {
  const wantId = isTdx ? TCB_INFO_ID_TDX : TCB_INFO_ID_SGX
  if (tcbInfo.id !== wantId || (isTdx && tcbInfo.version !== TCB_INFO_VERSION_TDX) || (!isTdx && tcbInfo.version < TCB_INFO_MIN_VERSION_SGX)) {
    fail('TCB_INFO_MISMATCH', `TCB info is id "${tcbInfo.id}" v${tcbInfo.version} but a ${isTdx ? 'TDX quote needs id "TDX" v3' : 'SGX quote needs id "SGX"'}`)
  }
  const wantQe = isTdx ? QE_IDENTITY_ID_TDX : QE_IDENTITY_ID_SGX
  if (qeIdentity.id !== wantQe || qeIdentity.version !== QE_IDENTITY_VERSION) {
    fail('QE_IDENTITY_TYPE_MISMATCH', `QE identity is id "${qeIdentity.id}" v${qeIdentity.version} but a ${isTdx ? 'TDX' : 'SGX'} quote needs "${wantQe}" v${QE_IDENTITY_VERSION}`)
  }
}

/** The PCK CRL comes from the PCK's issuer (same name, same key) under the same root. */
export function checkPckCrlIssuer(col: CheckedCollateral, chain: PckChain): void {
  if (!col.pckCrl.issuerName.equals(chain.leaf.issuerName) || !col.root.subjectName.equals(chain.root.subjectName)) {
    fail('CRL_ISSUER_MISMATCH', `PCK CRL issuer "${col.pckCrl.issuerCN}" is not the PCK issuer "${chain.leaf.issuerCN}"`)
  }
  if (col.pckCrlIssuer.fingerprint !== chain.intermediate.fingerprint && !col.pckCrlIssuer.publicKey.equals(chain.intermediate.publicKey)) {
    fail('CRL_ISSUER_MISMATCH', 'PCK CRL is signed by a different key than the PCK issuer')
  }
}

/** Nothing in the PCK chain is revoked: root and CA by the root CA CRL, the PCK by the PCK CRL. */
export function checkNotRevoked(col: CheckedCollateral, chain: PckChain): void {
  if (col.rootCrl.revoked.has(chain.root.serial)) fail('ROOT_REVOKED', 'the root CA is listed in the root CA CRL')
  if (col.rootCrl.revoked.has(chain.intermediate.serial)) fail('PCK_CA_REVOKED', `"${chain.intermediate.subjectCN}" (serial ${chain.intermediate.serial}) is revoked`)
  if (col.pckCrl.revoked.has(chain.leaf.serial)) fail('PCK_REVOKED', `PCK certificate (serial ${chain.leaf.serial}) is revoked`)
}

/** The TCB info is for this platform: FMSPC and PCE-ID equal the PCK certificate's. */
export function checkTcbInfoMatchesPck(tcbInfo: TcbInfo, ext: PckExtension): void {
  if (!tcbInfo.fmspc.equals(ext.fmspc)) fail('FMSPC_MISMATCH', `TCB info FMSPC ${tcbInfo.fmspc.toString('hex')} is not the PCK's ${ext.fmspc.toString('hex')}`)
  if (!tcbInfo.pceid.equals(ext.pceid)) fail('PCEID_MISMATCH', `TCB info PCE-ID ${tcbInfo.pceid.toString('hex')} is not the PCK's ${ext.pceid.toString('hex')}`)
}

/**
 * The QE report is signed by the PCK key. A QE signs one report per attestation key, so identical
 * (report, signature) pairs under one PCK chain are checked once.
 */
export function checkQeReportSignature(q: ParsedQuote, chain: PckChain): void {
  const sig = q.qe_report_signature.toString('latin1')
  if (chain.verifiedQeReports.get(sig)?.equals(q.qe_report)) return
  if (!verifyRawSig(q.qe_report, q.qe_report_signature, chain.leaf.publicKey)) fail('QE_REPORT_SIGNATURE_INVALID', 'QE report signature does not verify with the PCK key')
  if (chain.verifiedQeReports.size > MAX_VERIFIED_QE_REPORTS) chain.verifiedQeReports.clear()
  // A copy: the caller may reuse the quote's buffer.
  chain.verifiedQeReports.set(sig, Buffer.from(q.qe_report))
}

/** The QE report's REPORTDATA binds SHA-256(attestation key ‖ QE auth data); returns that digest. */
export function checkQeReportData(q: ParsedQuote, qe: Record<SgxReportField, Buffer>): Buffer {
  const binding = hash('sha256', Buffer.concat([q.attestation_key, q.qe_auth_data]), 'buffer')
  if (!binding.equals(qe.report_data.subarray(0, QE_REPORT_DATA_BINDING_SIZE))) fail('QE_REPORT_DATA_MISMATCH', 'QE report data does not bind SHA-256(attestation key ‖ QE auth data)')
  return binding
}

/** Bytes equal under a mask: (a & mask) = (b & mask), byte by byte over the mask's length. */
const maskedEqual = (a: Uint8Array, b: Uint8Array, mask: Uint8Array): boolean => {
  for (let i = 0; i < mask.length; i++) if ((a[i] & mask[i]) !== (b[i] & mask[i])) return false
  return true
}

/** The QE report matches the QE identity (MISCSELECT and ATTRIBUTES under their masks, MRSIGNER, ISVPRODID); its ISVSVN gives the QE's TCB level. */
export function checkQeIdentity(qe: Record<SgxReportField, Buffer>, qi: QeIdentity): QeEvaluation {
  const misc = qe.miscselect.readUInt32LE(0)
  const mask = qi.miscselect_mask.readUInt32BE(0)
  if (((misc & mask) >>> 0) !== ((qi.miscselect.readUInt32BE(0) & mask) >>> 0)) fail('QE_IDENTITY_MISMATCH', 'QE MISCSELECT does not match the QE identity')
  if (!maskedEqual(qe.attributes, qi.attributes, qi.attributes_mask)) fail('QE_IDENTITY_MISMATCH', 'QE ATTRIBUTES do not match the QE identity')
  if (!qe.mrsigner.equals(qi.mrsigner)) fail('QE_IDENTITY_MISMATCH', `QE MRSIGNER ${qe.mrsigner.toString('hex')} is not the QE identity's`)
  const prodid = qe.isvprodid.readUInt16LE(0)
  if (prodid !== qi.isvprodid) fail('QE_IDENTITY_MISMATCH', `QE ISVPRODID ${prodid} is not ${qi.isvprodid}`)
  return evaluateQe(qi, qe.isvsvn.readUInt16LE(0))
}

/** The quote (header ‖ [descriptor] ‖ body) is signed by the attestation key, which must be a P-256 point. */
export function checkQuoteSignature(q: ParsedQuote): void {
  let key
  try {
    key = keyFromRawXY(q.attestation_key)
  } catch {
    fail('ATTESTATION_KEY_INVALID', 'attestation key is not a valid P-256 point')
  }
  if (!verifyRawSig(q.signed_region, q.signature, key!)) fail('QUOTE_SIGNATURE_INVALID', 'quote signature does not verify with the attestation key')
}

/** The TDX module identity a TD body's TEE_TCB_SVN selects, checked against MRSIGNERSEAM and SEAMATTRIBUTES. */
interface ModuleMatch {
  /** TEE_TCB_SVN module major version (0: the base tdxModule entry applies). */
  major: number
  /** TEE_TCB_SVN module SVN. */
  svn: number
  identity: TdxModule
}

/**
 * TDX module: TEE_TCB_SVN's major version selects the module identity TDX_%02X (0: the base
 * tdxModule); MRSIGNERSEAM must equal its signer and SEAMATTRIBUTES its attributes under the mask.
 */
export function checkTdxModule(td: Pick<NonNullable<ParsedQuote['td']>, 'tee_tcb_svn' | 'mrsignerseam' | 'seam_attributes'>, tcbInfo: TcbInfo): ModuleMatch {
  const major = td.tee_tcb_svn[TEE_TCB_SVN_BYTE.MODULE_MAJOR]
  const ident = major > 0 ? findModuleIdentity(tcbInfo, major) : tcbInfo.tdx_module
  if (!ident) {
    fail(major > 0 ? 'TDX_MODULE_IDENTITY_NOT_FOUND' : 'TDX_MODULE_MISMATCH', major > 0 ? `TCB info has no TDX module identity ${tdxModuleIdentityId(major)}` : 'TCB info has no tdxModule entry')
  }
  if (!td.mrsignerseam.equals(ident!.mrsigner)) fail('TDX_MODULE_MISMATCH', `MRSIGNERSEAM ${td.mrsignerseam.toString('hex').slice(0, 16)}… is not the TDX module signer`)
  if (!maskedEqual(td.seam_attributes, ident!.attributes, ident!.attributes_mask)) fail('TDX_MODULE_MISMATCH', 'SEAMATTRIBUTES do not match the TDX module identity')
  return {major, svn: td.tee_tcb_svn[TEE_TCB_SVN_BYTE.MODULE_SVN], identity: ident!}
}
