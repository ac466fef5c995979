/**
 * What a verification trusts and when it happens: the options object every caller builds with
 * `defaultOptions(now)` and then narrows (go-tdx-guest's verify.Options, without its I/O: the
 * verifier reads no clock, no file and no network, so the time and the collateral come in here).
 *
 *   field          default                         meaning
 *   now            (required)                      verification time, unix seconds
 *   trustedRoots   [INTEL_SGX_ROOT_CA_SHA256]      roots: SHA-256 fingerprints of their DER, PEM text or DER bytes
 *   collateral     none: mode "signatures-only"    one QuoteCollateralV3 bundle for every quote
 *   getCollateral  none                            collateral per platform (see PlatformVerifiers)
 */
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {TdxkitError} from '../errors.js'
import type {CollateralKey} from './pck-info.js'
import {INTEL_SGX_ROOT_CA_SHA256, rootFingerprints, type TrustedRoot} from './roots.js'

/** Why a platform has no usable collateral (e.g. its fetch failed); reported for that platform's quotes. */
export interface CollateralUnavailable {
  error: {code: string; message: string; exit_code: number}
}

/**
 * Collateral for one platform, chosen by the quote's PCK certificate (TEE, FMSPC, PCK CA type). A
 * pure lookup: callers fetch first (src/app) and hand the verifier what they got. Undefined: none
 * was fetched for that platform.
 */
export type CollateralGetter = (key: CollateralKey) => QuoteCollateralV3 | CollateralUnavailable | undefined

export interface VerifyOptions {
  /** Verification time, unix seconds (certificates, CRLs, TCB info and QE identity must be valid then). */
  now: number
  /**
   * Accepted roots, each a SHA-256 fingerprint of the certificate DER (hex, colons and case ignored),
   * PEM text (every certificate in it) or DER bytes. Default: the Intel SGX Root CA.
   */
  trustedRoots?: readonly TrustedRoot[]
  /** One collateral bundle for every quote; without it (and without getCollateral) only signatures and the PCK chain are checked. */
  collateral?: QuoteCollateralV3
  /** Collateral per platform, for batches over quotes of several platforms (used by PlatformVerifiers; a QuoteVerifier uses `collateral`). */
  getCollateral?: CollateralGetter
}

/** The roots trusted when `trustedRoots` is not given: Intel's production SGX Root CA. */
export const DEFAULT_TRUSTED_ROOTS: readonly TrustedRoot[] = Object.freeze([INTEL_SGX_ROOT_CA_SHA256])

/** The options every caller starts from: Intel's root pinned, at `now` (unix seconds), no collateral. */
export function defaultOptions(now: number): VerifyOptions {
  return {now, trustedRoots: [...DEFAULT_TRUSTED_ROOTS]}
}

/** Options with defaults applied and checked, as the checks use them. */
export interface ResolvedOptions {
  now: number
  nowMs: number
  roots: ReadonlySet<string>
  collateral?: QuoteCollateralV3
}

/** Apply the defaults: a finite `now` (else BAD_TIME), roots as fingerprints (else BAD_FINGERPRINT / BAD_ROOT). */
export function resolveOptions(opts: VerifyOptions): ResolvedOptions {
  if (!Number.isFinite(opts.now)) throw new TdxkitError('BAD_TIME', 'verification time must be a finite number of unix seconds')
  return {
    now: opts.now,
    nowMs: Math.round(opts.now * 1000),
    roots: new Set((opts.trustedRoots ?? DEFAULT_TRUSTED_ROOTS).flatMap(rootFingerprints)),
    ...(opts.collateral ? {collateral: opts.collateral} : {}),
  }
}
