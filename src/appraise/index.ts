/**
 * `tdxkit/appraise`: a policy applied to a verification result from `tdxkit/verify` (pure). The
 * build bundles this module into dist/appraise.js, like the verifier (see README, "Use as a
 * library").
 *
 *   import {appraise, defaultPolicy, parsePolicy} from 'tdxkit/appraise'
 *   const appraisal = appraise(result, quoteBytes, defaultPolicy())   // appraisal.ok, .violations
 */
export {appraise, combinedExit, type Appraisal, type Violation} from './appraise.js'
export {DEFAULT_POLICY, EXPECTABLE_FIELDS, defaultPolicy, parsePolicy, policyToJson, type ExpectableField, type Policy} from './policy.js'
export {applyPolicyFlags, type PolicyFlags} from './flags.js'
export {draftPolicy, DRAFT_FIELDS, type Draft} from './draft.js'
