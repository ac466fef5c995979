/** Demo steps for quote verification: the quote an earlier step stored in ctx.bag.get('quote'). */
import {appraise} from '../appraise/appraise.js'
import {defaultPolicy} from '../appraise/policy.js'
import {TdxkitError} from '../errors.js'
import {loadSimCollateral} from '../app/sim-collateral.js'
import {fingerprintOf} from '../verify/roots.js'
import {QuoteVerifier, defaultOptions} from '../verify/verifier.js'
import type {DemoStep} from './index.js'

export const VERIFY_STEPS: DemoStep[] = [
  {
    id: 'verify-quote',
    title: "Verify the quote by Intel's rules (simulated root, simulated collateral)",
    async run(ctx) {
      const quote = ctx.bag.get('quote')
      if (!Buffer.isBuffer(quote)) throw new TdxkitError('DEMO_NO_QUOTE', 'no quote in the demo bag (the quote generation step must run first)')
      const sim = await loadSimCollateral(ctx.store)
      const now = Math.floor(Date.now() / 1000)
      const r = new QuoteVerifier({...defaultOptions(now), trustedRoots: [fingerprintOf(sim.root_ca_der)], collateral: sim.collateral}).verify(quote)
      const a = r.ok ? appraise(r, quote, defaultPolicy()) : undefined
      const intel = new QuoteVerifier({...defaultOptions(now), collateral: sim.collateral}).verify(quote)
      const lines = r.steps.map((s) => `${s.result === 'pass' ? '✔' : s.result === 'fail' ? '✘' : '–'} ${s.title}`)
      lines.push(r.ok ? `status ${r.status}${r.advisory_ids.length ? ` [${r.advisory_ids.join(', ')}]` : ''}` : `FAILED: ${r.error?.code} ${r.error?.message}`)
      if (a) lines.push(a.ok ? 'default policy: accepted' : `default policy: ${a.violations.map((v) => v.rule).join(', ')}`)
      lines.push(`against the Intel root instead: ${intel.ok ? 'ACCEPTED (unexpected!)' : `rejected (${intel.error?.code})`}`)
      if (!r.ok) throw new TdxkitError(r.error!.code, `demo quote did not verify: ${r.error!.message}`, {exit: r.exit_code as 3})
      return {
        lines,
        data: {ok: r.ok, status: r.status, advisory_ids: r.advisory_ids, policy_ok: a?.ok ?? null, intel_root_rejected: !intel.ok, intel_root_error: intel.error?.code ?? null},
      }
    },
  },
]
