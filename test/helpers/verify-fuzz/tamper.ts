/**
 * Tamper sweeps: every byte (XOR 0x01) of a quote's declared extent — header, body, signature data
 * including the PCK chain text — and optionally every bit of the signed region, each verified with a
 * verifier that already holds the seed's collateral (verified once, chains cached). A mutant that
 * verifies is "accepted"; a mutant that makes the verifier throw is a crash.
 */
import * as assert from 'uvu/assert'
import {parseQuote} from '../../../src/abi/quote.js'
import {QuoteVerifier} from '../../../src/verify/verifier.js'
import type {QuoteSeed} from './seeds.js'

interface SweepStats {
  name: string
  tried: number
  accepted: number[]
  crashes: Array<{offset: number; error: string}>
  /** Mutants rejected with an exit code outside 2..5 (authenticity / collateral / TCB / input). */
  bad_exit: number[]
  ms: number
}

function sweep(seed: QuoteSeed, mode: 'bytes' | 'signed-bits', verifier = new QuoteVerifier({now: seed.at, trustedRoots: seed.trustedRoots, ...(seed.collateral ? {collateral: seed.collateral} : {})})): SweepStats {
  const q = parseQuote(seed.quote)
  const stats: SweepStats = {name: `${seed.name} (${mode})`, tried: 0, accepted: [], crashes: [], bad_exit: [], ms: 0}
  const t0 = performance.now()
  const buf = Buffer.from(seed.quote)
  const end = mode === 'bytes' ? q.length : q.signed_region.length
  for (let off = 0; off < end; off++) {
    for (const x of mode === 'bytes' ? [0x01] : [1, 2, 4, 8, 16, 32, 64, 128]) {
      buf[off] ^= x
      stats.tried++
      try {
        const r = verifier.verify(buf)
        if (r.ok) stats.accepted.push(off)
        else if (r.exit_code < 2 || r.exit_code > 5) stats.bad_exit.push(off)
      } catch (e) {
        stats.crashes.push({offset: off, error: String(e)})
      }
      buf[off] ^= x
    }
  }
  stats.ms = performance.now() - t0
  return stats
}

const formatSweep = (s: SweepStats): string =>
  `${s.name}: mutants tried ${s.tried}, accepted ${s.accepted.length}, crashes ${s.crashes.length}; ${(s.ms / 1000).toFixed(1)} s (${Math.round(s.tried / (s.ms / 1000))}/s)`

/**
 * Run a sweep, print it, and assert what every sweep must hold: `expectTried` mutants, none of them
 * verifying, throwing, or answered with an exit code outside its error's. Adds to `totals`.
 */
export function assertSweepRejects(seed: QuoteSeed, mode: 'bytes' | 'signed-bits', expectTried: number, totals: {tried: number; accepted: number}): SweepStats {
  const st = sweep(seed, mode)
  console.log(`  ${formatSweep(st)}`)
  totals.tried += st.tried
  totals.accepted += st.accepted.length
  assert.is(st.tried, expectTried)
  assert.equal(st.crashes, [])
  assert.equal(st.accepted, [], `offsets still verifying: ${st.accepted.join(', ')}`)
  assert.equal(st.bad_exit, [])
  return st
}
