/**
 * `collateral fetch`: one platform's collateral from a PCS v4 / PCCS service, fetched once (no cache)
 * for offline verification later: the platform from a quote's PCK certificate or from an FMSPC.
 */
import type {PckCa} from '../abi/pcs.js'
import {InputError} from '../errors.js'
import {readBinaryInput} from './files.js'
import {PcsClient, type FetchedCollateral} from './pcs-client.js'
import {collateralValidity, type ValidityItem} from '../verify/validity.js'

/** FMSPC: 6 bytes, 12 hex digits. */
const FMSPC_HEX_DIGITS = 12

interface FetchRequest {
  pccsUrl: string
  /** A quote file (or '-'): the platform comes from its PCK certificate. */
  quote?: string
  /** Or the platform given directly. */
  fmspc?: string
  ca?: PckCa
  tee?: 'sgx' | 'tdx'
  timeoutMs?: number
  retries?: number
}

interface FetchOutcome extends FetchedCollateral {
  tee: 'sgx' | 'tdx'
  validity: ValidityItem[]
}

export async function fetchCollateral(req: FetchRequest): Promise<FetchOutcome> {
  if ((req.quote === undefined) === (req.fmspc === undefined)) throw new InputError('USAGE', 'give a QUOTE file or --fmspc HEX (one of them)')
  const client = new PcsClient({baseUrl: req.pccsUrl, ...(req.timeoutMs !== undefined ? {timeoutMs: req.timeoutMs} : {}), ...(req.retries !== undefined ? {retries: req.retries} : {})})
  let fetched: FetchedCollateral
  let tee: 'sgx' | 'tdx'
  if (req.quote !== undefined) {
    const {parseQuote} = await import('../abi/quote.js')
    const {quoteCollateralKey} = await import('../verify/pck-info.js')
    const key = quoteCollateralKey(parseQuote(readBinaryInput(req.quote, 'quote')))
    tee = key.tee
    fetched = await client.fetch(key.tee, key.fmspc, key.ca)
  } else {
    const fmspc = req.fmspc!.toLowerCase()
    if (!new RegExp(`^[0-9a-f]{${FMSPC_HEX_DIGITS}}$`).test(fmspc)) throw new InputError('BAD_FMSPC', `--fmspc: ${FMSPC_HEX_DIGITS} hex digits expected, got "${req.fmspc}"`)
    tee = req.tee ?? 'tdx'
    fetched = await client.fetch(tee, fmspc, req.ca ?? 'platform')
  }
  return {...fetched, tee, validity: collateralValidity(fetched.collateral)}
}

