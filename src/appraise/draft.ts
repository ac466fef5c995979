/** `policy draft QUOTE`: a policy that pins the measurements of a known-good quote. */
import {BODY_TYPE_SGX, TD_ATTR, parseQuote} from '../abi/quote.js'
import {defaultPolicy, type ExpectableField, type Policy} from './policy.js'

/**
 * TD body fields pinned by a draft (REPORTDATA is a per-quote nonce and is left out). With the header's
 * QE vendor ID and minimum QE / PCE SVN and TEE_TCB_SVN, a draft covers go-tdx-guest `check`'s pins.
 */
export const DRAFT_FIELDS: readonly ExpectableField[] = ['mrtd', 'mrconfigid', 'mrowner', 'mrownerconfig', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3', 'xfam', 'td_attributes', 'mrseam', 'mrsignerseam']

export interface Draft {
  policy: Policy
  /** Human notes (e.g. "this quote is a DEBUG TD"). */
  notes: string[]
}

export function draftPolicy(quote: Uint8Array): Draft {
  const q = parseQuote(quote)
  const p = defaultPolicy()
  const notes: string[] = []
  p.expected.qe_vendor_id = [q.header.qe_vendor_id.toString('hex')]
  p.min_qe_svn = q.header.qe_svn
  p.min_pce_svn = q.header.pce_svn
  if (q.body_type === BODY_TYPE_SGX) {
    notes.push('SGX quote: only the header (QE vendor ID, QE / PCE SVN) is pinned; the enclave body is not')
    return {policy: p, notes}
  }
  const td = q.td!
  for (const f of DRAFT_FIELDS) p.expected[f] = [(td as Record<string, Buffer>)[f].toString('hex')]
  p.min_tee_tcb_svn = td.tee_tcb_svn.toString('hex')
  const attrs = td.td_attributes.readBigUInt64LE(0)
  const bit = (n: bigint) => ((attrs >> n) & 1n) === 1n
  if (bit(TD_ATTR.DEBUG)) {
    p.allow_debug = true
    notes.push('the quote is from a DEBUG TD: allow_debug is true — set it to false for production')
  }
  if (!bit(TD_ATTR.SEPT_VE_DISABLE)) {
    p.allow_missing_sept_ve_disable = true
    notes.push('SEPT_VE_DISABLE is not set in the quote: allow_missing_sept_ve_disable is true')
  }
  if (bit(TD_ATTR.PERFMON)) {
    p.allow_perfmon = true
    notes.push('PERFMON is set in the quote: allow_perfmon is true')
  }
  if (td.mr_servicetd && td.mr_servicetd.some((b) => b !== 0)) {
    p.allow_service_td = true
    p.expected.mr_servicetd = [td.mr_servicetd.toString('hex')]
    notes.push('MR_SERVICETD is non-zero: allow_service_td is true and MR_SERVICETD is pinned')
  }
  return {policy: p, notes}
}
