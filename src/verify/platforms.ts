/**
 * Quotes of several platforms in one run (e.g. `quote verify --pccs-url` over quotes of different
 * FMSPCs): one QuoteVerifier per platform, its collateral looked up through the options'
 * getCollateral by the quote's collateral key (TEE, FMSPC, PCK CA type). Without a getter every
 * quote goes to the one verifier of `options.collateral`.
 */
import {parseQuote, type ParsedQuote} from '../abi/quote.js'
import {ExitCode, TdxkitError} from '../errors.js'
import type {CollateralUnavailable, VerifyOptions} from './options.js'
import {collateralKeyString, quoteCollateralKey, type CollateralKey} from './pck-info.js'
import {QuoteVerifier} from './verifier.js'

/** Distinct PCK chains whose collateral key is remembered before the memo starts over. */
const MAX_MEMO_KEYS = 4096

/**
 * The collateral key of a quote's bytes, memoised by its PCK chain text (quotes of one platform
 * share it, so the certificates are parsed once). Undefined when the quote does not parse: the
 * verifier then reports that itself.
 */
export function collateralKeyOfBytes(bytes: Uint8Array, memo: Map<string, CollateralKey>, parsed?: ParsedQuote): CollateralKey | undefined {
  let q: ParsedQuote
  try {
    q = parsed ?? parseQuote(bytes)
  } catch {
    return undefined
  }
  const pem = q.pck_chain_pem ?? ''
  const hit = memo.get(pem)
  if (hit !== undefined) return hit
  const key = quoteCollateralKey(q)
  if (memo.size > MAX_MEMO_KEYS) memo.clear()
  memo.set(pem, key)
  return key
}

export class PlatformVerifiers {
  /** The verifier of `options.collateral` (or of none): every quote's without a getter, and unparsable quotes'. */
  readonly verifier: QuoteVerifier
  private readonly byPlatform = new Map<string, QuoteVerifier>()
  private readonly keys = new Map<string, CollateralKey>()

  constructor(private readonly options: VerifyOptions) {
    this.verifier = new QuoteVerifier(options)
  }

  /** Check the shared collateral now (batch workers warm up with this before taking work). */
  prepare(): void {
    this.verifier.prepare()
  }

  /** The verifier for this quote's platform, or why that platform has no collateral (`parsed`: the bytes' parseQuote, when the caller has it). */
  forQuote(bytes: Uint8Array, parsed?: ParsedQuote): QuoteVerifier | CollateralUnavailable['error'] {
    const get = this.options.getCollateral
    if (!get) return this.verifier
    let k: CollateralKey | undefined
    try {
      k = collateralKeyOfBytes(bytes, this.keys, parsed)
    } catch (e) {
      if (!(e instanceof TdxkitError)) throw e
      return {code: e.code, message: e.message, exit_code: e.exit}
    }
    if (k === undefined) return this.verifier
    const key = collateralKeyString(k)
    let v = this.byPlatform.get(key)
    if (!v) {
      const c = get(k)
      if (!c) return {code: 'COLLATERAL_MISSING', message: `no collateral was fetched for platform ${key}`, exit_code: ExitCode.COLLATERAL}
      if ('error' in c) return c.error
      v = new QuoteVerifier({...this.options, collateral: c})
      this.byPlatform.set(key, v)
    }
    return v
  }
}
