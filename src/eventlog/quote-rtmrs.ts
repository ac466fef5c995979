/** RTMR0–3 from a TD quote's body (v4 TD10 or v5 TD10/TD15), via the quote-format layouts. */
import {parseQuote} from '../abi/quote.js'
import {InputError} from '../errors.js'

export function quoteRtmrs(quote: Uint8Array): Buffer[] {
  const q = parseQuote(quote)
  if (!q.td) throw new InputError('NOT_A_TD_QUOTE', `quote v${q.version} carries no TD report body, so it has no RTMRs`)
  return [q.td.rtmr0, q.td.rtmr1, q.td.rtmr2, q.td.rtmr3].map((b) => Buffer.from(b))
}
