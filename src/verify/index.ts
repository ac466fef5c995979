/**
 * `tdxkit/verify`: the relying party's entry point. Quote bytes, collateral and a time in; one
 * result object out (pure: no file, clock or network). The build bundles this module into
 * dist/verify.js so that importing it costs one file, not the ~30 modules behind it (see README,
 * "Use as a library"); appraisal against a policy is `tdxkit/appraise`.
 *
 *   import {verifyQuote, defaultOptions, parseCollateralText} from 'tdxkit/verify'
 *   const result = verifyQuote(quoteBytes, {...defaultOptions(Date.now() / 1000), collateral})
 */
export {QuoteVerifier, verifyQuote, CN_ROOT_CA, CN_TCB_SIGNING, type StepRecord, type StepResult, type VerifyResult} from './verifier.js'
export {defaultOptions, DEFAULT_TRUSTED_ROOTS, type CollateralGetter, type CollateralUnavailable, type VerifyOptions} from './options.js'
export {PlatformVerifiers} from './platforms.js'
export {checkCollateralBundle, parseCollateralText, splitSignedBody} from './collateral-bundle.js'
export {INTEL_SGX_ROOT_CA_SHA256, fingerprintOf, normalizeFingerprint} from './roots.js'
export {STEPS, STEP_ORDER, VERIFY_ERRORS, VerifyError, type StepId, type VerifyErrorCode} from './errors.js'
export {collateralKeyString, describePckChain, quoteCollateralKey, type CollateralKey, type PckChainInfo} from './pck-info.js'
export type {TcbEvaluation} from './tcb.js'
export {parseQuote, decodeBody, type ParsedQuote} from '../abi/quote.js'
export {STATUS_RANK, type TcbStatus} from '../abi/tcb-info.js'
export type {QuoteCollateralV3} from '../abi/collateral.js'
export {ExitCode, TdxkitError} from '../errors.js'
