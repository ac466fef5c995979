/**
 * The short deterministic fuzz run of `npm test`: every parser target outside the quote verifier,
 * fixed fast-check seed, a few hundred structure-aware mutants each (seeded from the real vectors
 * and the simulator). Property: each input returns or throws a TdxkitError; no other exception and
 * no input slower than the time budget. Prints the counts; long campaigns: `npm run fuzz -- --runs N`.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {corpora} from '../helpers/fuzz/seeds.js'
import {TARGETS} from '../helpers/fuzz/targets.js'
import {fuzzTarget, formatStats, type Finding} from '../helpers/fuzz/harness.js'

const SEED = 0x7d5c17
const RUNS = Number(process.env.TDXKIT_FUZZ_RUNS ?? 300)
const c = await corpora()
const all: Finding[] = []
let tried = 0

for (const t of TARGETS) {
  test(`fuzz ${t.name}: ${t.what}`, async () => {
    const runs = Math.max(10, Math.round(RUNS * (t.weight ?? 1)))
    const {stats, findings} = await fuzzTarget(t, c, {seed: SEED, runs})
    console.log(`  ${formatStats(stats)}`)
    tried += stats.tried
    all.push(...findings)
    assert.is(stats.tried, runs)
    const first = findings[0]
    assert.is(stats.crashes + stats.hangs, 0, first ? `${first.kind}: ${first.detail}\ninput (hex): ${first.input.toString('hex').slice(0, 4000)}` : '')
  })
}

test('fuzz totals', () => {
  console.log(`  fuzz: ${TARGETS.length} targets, inputs tried ${tried}, crashes ${all.filter((f) => f.kind === 'crash').length}, hangs ${all.filter((f) => f.kind === 'hang').length} (seed 0x${SEED.toString(16)}; ${c.vectorFiles.length} real vector files in the corpora)`)
  assert.is(all.length, 0)
})

test.run()
