/**
 * Long fuzz campaign over the verifier-side parsers (quote v3/v4/v5, collateral, CRLs, certificates,
 * PEM chains, PCK extension, PCS bodies, policies). Usage:
 *
 *   node --import tsx bench/verify-fuzz/run.ts [--runs N] [--seed S] [--target NAME] [--budget-ms MS]
 *
 * --runs is the total number of inputs, split over the targets by weight (default 100000).
 * Prints one line per target and a total; exits 1 if any input crashed or hung, printing the
 * inputs (mutation descriptors) so they can become regression cases.
 */
import {buildTargets} from '../../test/verify-fuzz/lib/targets.js'
import {formatStats, fuzzTarget, type VFinding} from '../../test/verify-fuzz/lib/harness.js'
import {realSeeds, simPlatform, simSeeds} from '../../test/verify-fuzz/lib/seeds.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : undefined
}
const runs = Number(arg('runs') ?? 100000)
const seed = Number(arg('seed') ?? Date.now() % 0x7fffffff)
const only = arg('target')
const budgetMs = Number(arg('budget-ms') ?? 3000)

const sim = await simPlatform()
const real = realSeeds()
const seeds = [...real, ...(await simSeeds(sim))]
const targets = buildTargets({seeds, sim}).filter((t) => !only || t.name === only)
const total = targets.reduce((a, t) => a + (t.weight ?? 1), 0)
console.log(`verify-fuzz campaign: ${runs} inputs over ${targets.length} targets, seed ${seed}, ${seeds.length} seed quotes (${real.length} real, ${seeds.length - real.length} simulated), budget ${budgetMs} ms/input`)
const t0 = performance.now()
const all: VFinding[] = []
let tried = 0
let crashes = 0
let hangs = 0
let rssMax = 0
for (const t of targets) {
  const n = Math.max(1, Math.round((runs * (t.weight ?? 1)) / total))
  const {stats, findings} = fuzzTarget(t, {seed, runs: n, budgetMs})
  rssMax = Math.max(rssMax, process.memoryUsage().rss)
  console.log(formatStats(stats))
  tried += stats.tried
  crashes += stats.crashes
  hangs += stats.hangs
  all.push(...findings)
}
console.log(`total: inputs tried ${tried}, crashes ${crashes}, hangs ${hangs}; ${((performance.now() - t0) / 1000).toFixed(1)} s, max RSS ${(rssMax / 2 ** 20).toFixed(0)} MiB`)
for (const f of all) console.log(`\n${f.target} ${f.kind}: ${f.detail}\ninput: ${f.input}`)
process.exit(crashes + hangs ? 1 : 0)
