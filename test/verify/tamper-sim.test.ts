/**
 * Tamper sweep over simulated v4 and v5 (TD15) quotes with the simulated root and collateral: every
 * byte flipped, and every bit of the signed region (header ‖ [descriptor] ‖ body) of the v5 quote.
 * Verification must never pass and never throw. Also: a simulated quote never verifies against the
 * Intel root.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../src/abi/quote.js'
import {QuoteVerifier} from '../../src/verify/verifier.js'
import {simSeeds} from '../helpers/verify-fuzz/seeds.js'
import {assertSweepRejects} from '../helpers/verify-fuzz/tamper.js'

const seeds = await simSeeds()
const totals = {tried: 0, accepted: 0}

for (const s of seeds) {
  test(`${s.name}: verifies with the simulated root; every byte flipped is rejected`, () => {
    assert.ok(s.verifies)
    assertSweepRejects(s, 'bytes', parseQuote(s.quote).length, totals)
  })
}

test('sim-v5: every bit of the signed region flipped is rejected', () => {
  const s = seeds.find((x) => x.name === 'sim-v5')!
  assertSweepRejects(s, 'signed-bits', parseQuote(s.quote).signed_region.length * 8, totals)
})

test('a simulated quote never verifies against the Intel root (with or without collateral)', () => {
  for (const s of seeds) {
    for (const collateral of [s.collateral, undefined]) {
      const r = new QuoteVerifier({now: s.at, ...(collateral ? {collateral} : {})}).verify(s.quote)
      assert.not.ok(r.ok)
      assert.is(r.error?.code, 'PCK_CHAIN_UNTRUSTED_ROOT')
      assert.is(r.exit_code, 3)
    }
  }
})

test('simulated tamper totals', () => {
  console.log(`  tamper (simulated): mutants tried ${totals.tried}, accepted ${totals.accepted}`)
  assert.is(totals.accepted, 0)
})

test.run()
