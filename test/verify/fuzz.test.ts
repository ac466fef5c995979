/**
 * Short deterministic fuzz run over the verifier side (part of `npm test`): quote v3/v4/v5 mutants
 * through the verifier and `quote show`'s decoder, collateral mutants (re-signed for the simulated
 * root), CRL / certificate / PEM / PCK-extension parsing, collateral JSON, PCS bodies and policies.
 * Property: a VerifyResult or the project's typed errors; no other exception, no input over the
 * time budget. Long campaigns: `node --import tsx bench/verify-fuzz/run.ts --runs N`.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {formatStats, fuzzTarget, type VFinding} from '../helpers/verify-fuzz/harness.js'
import {realSeeds, simPlatform, simSeeds} from '../helpers/verify-fuzz/seeds.js'
import {buildTargets} from '../helpers/verify-fuzz/targets.js'

const SEED = 0x5eed71
const RUNS = Number(process.env.TDXKIT_VFUZZ_RUNS ?? 2400)
const sim = await simPlatform()
const seeds = [...realSeeds(), ...(await simSeeds(sim))]
const targets = buildTargets({seeds, sim})
const weights = targets.reduce((a, t) => a + (t.weight ?? 1), 0)
const all: VFinding[] = []
let tried = 0

test('seeds: real vectors and simulated v4/v5 quotes', () => {
  const sims = seeds.filter((s) => s.attestationPriv)
  assert.is(sims.length, 2)
  assert.ok(sims.every((s) => s.verifies), 'simulated quotes verify with the simulated root')
  console.log(`  seeds: ${seeds.length} quotes (${seeds.length - sims.length} real, ${seeds.filter((s) => s.collateral).length} with collateral)`)
})

for (const t of targets) {
  test(`fuzz ${t.name}: ${t.what}`, () => {
    const runs = Math.max(20, Math.round((RUNS * (t.weight ?? 1)) / weights))
    const {stats, findings} = fuzzTarget(t, {seed: SEED, runs})
    console.log(`  ${formatStats(stats)}`)
    tried += stats.tried
    all.push(...findings)
    assert.is(stats.tried, runs)
    const f = findings[0]
    assert.is(stats.crashes + stats.hangs, 0, f ? `${f.kind}: ${f.detail}\ninput: ${f.input}` : '')
  })
}

test('verifier-side fuzz totals', () => {
  console.log(`  verify-fuzz: ${targets.length} targets, inputs tried ${tried}, crashes ${all.filter((f) => f.kind === 'crash').length}, hangs ${all.filter((f) => f.kind === 'hang').length} (seed 0x${SEED.toString(16)})`)
  assert.is(all.length, 0)
})

test.run()
