/**
 * The validity windows of a collateral bundle's four dated items (TCB info and QE identity
 * issueDate..nextUpdate, both CRLs thisUpdate..nextUpdate), for display (`collateral fetch`, the
 * `quote verify` timeline). Pure and tolerant: an item that does not decode is left out here; the
 * verifier is what rejects it.
 */
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {parseCrl} from '../x509/dcap.js'

export interface ValidityItem {
  item: 'tcb_info' | 'qe_identity' | 'pck_crl' | 'root_ca_crl'
  /** ISO 8601 start (issueDate / thisUpdate) and end (nextUpdate; absent for a CRL with none). */
  from: string
  until?: string
}

/** A time as ISO 8601 UTC, without milliseconds when they are zero. */
export const isoOf = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')

function jsonWindow(item: ValidityItem['item'], text: string): ValidityItem | undefined {
  try {
    const o = JSON.parse(text) as {issueDate?: string; nextUpdate?: string}
    const from = Date.parse(o.issueDate ?? '')
    const until = Date.parse(o.nextUpdate ?? '')
    return Number.isNaN(from) || Number.isNaN(until) ? undefined : {item, from: isoOf(from), until: isoOf(until)}
  } catch {
    return undefined
  }
}

function crlWindow(item: ValidityItem['item'], hex: string): ValidityItem | undefined {
  try {
    const crl = parseCrl(Buffer.from(hex, 'hex'))
    return {item, from: isoOf(crl.thisUpdate), ...(crl.nextUpdate !== undefined ? {until: isoOf(crl.nextUpdate)} : {})}
  } catch {
    return undefined
  }
}

/** The windows of the items that decode, in the order tcb_info, qe_identity, pck_crl, root_ca_crl. */
export function collateralValidity(c: QuoteCollateralV3): ValidityItem[] {
  return [jsonWindow('tcb_info', c.tcb_info), jsonWindow('qe_identity', c.qe_identity), crlWindow('pck_crl', c.pck_crl), crlWindow('root_ca_crl', c.root_ca_crl)].filter(
    (x): x is ValidityItem => x !== undefined,
  )
}
