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
import {simSeeds} from './lib/seeds.js'
import {formatSweep, sweep} from './lib/tamper.js'

const seeds = await simSeeds()
let tried = 0
let accepted = 0

for (const s of seeds) {
  test(`${s.name}: verifies with the simulated root; every byte flipped is rejected`, () => {
    assert.ok(s.verifies)
    const st = sweep(s, 'bytes')
    console.log(`  ${formatSweep(st)}`)
    tried += st.tried
    accepted += st.accepted.length
    assert.is(st.tried, parseQuote(s.quote).length)
    assert.equal(st.crashes, [])
    assert.equal(st.accepted, [], `offsets still verifying: ${st.accepted.join(', ')}`)
    assert.equal(st.bad_exit, [])
  })
}

test('sim-v5: every bit of the signed region flipped is rejected', () => {
  const s = seeds.find((x) => x.name === 'sim-v5')!
  const st = sweep(s, 'signed-bits')
  console.log(`  ${formatSweep(st)}`)
  tried += st.tried
  accepted += st.accepted.length
  assert.is(st.tried, parseQuote(s.quote).signed_region.length * 8)
  assert.equal(st.crashes, [])
  assert.equal(st.accepted, [])
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
  console.log(`  tamper (simulated): mutants tried ${tried}, accepted ${accepted}`)
  assert.is(accepted, 0)
})

test.run()
