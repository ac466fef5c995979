/** The every-byte tamper sweep over real quotes with collateral, shared by tamper-real-{1,2}.test.ts. */
import type {Test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../../src/abi/quote.js'
import {QuoteVerifier} from '../../../src/verify/verifier.js'
import {vectorTest} from '../vectors.js'
import {realSeeds, realVerifyingWithCollateral} from './seeds.js'
import {assertSweepRejects} from './tamper.js'

/**
 * Register the real-quote tamper sweep for one of two parts (even / odd vectors), so that each test
 * file stays short: every byte of each quote flipped in turn must never verify nor throw.
 */
export function registerRealTamperPart(test: Test, PART: 0 | 1): void {
  /** The sweep is split over two files (even / odd vectors) to keep each file's run time short. */
  const all = realVerifyingWithCollateral(realSeeds())
  const seeds = all.filter((_s, i) => i % 2 === PART)
  const totals = {tried: 0, accepted: 0}

  vectorTest(test, 'the two parts cover every real vector quote that verifies with collateral (v3, v4, v5)', () => {
    assert.ok(all.length >= 8, `only ${all.length} real quotes with collateral verify`)
    assert.ok(all.some((s) => parseQuote(s.quote).version === 3) && all.some((s) => parseQuote(s.quote).version === 5))
    console.log(`  part ${PART + 1}/2: ${seeds.map((s) => s.name).join(', ')}`)
  })

  for (const s of seeds) {
    test(`${s.name}: every byte flipped is rejected`, () => {
      const q = parseQuote(s.quote)
      assertSweepRejects(s, 'bytes', q.length, totals)
      if (q.trailing_bytes > 0) {
        const t = Buffer.from(s.quote)
        t[q.length] ^= 0xff
        assert.ok(new QuoteVerifier({now: s.at, trustedRoots: s.trustedRoots, collateral: s.collateral}).verify(t).ok, 'trailing padding is ignored')
      }
    })
  }

  test('real-quote tamper totals', () => {
    console.log(`  tamper (real, part ${PART + 1}/2): ${seeds.length} quotes, mutants tried ${totals.tried}, accepted ${totals.accepted}`)
    assert.is(totals.accepted, 0)
  })
}
