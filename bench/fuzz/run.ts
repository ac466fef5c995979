/**
 * Long fuzz campaigns over every parser target outside the quote verifier (and, with --tamper, the
 * full tamper sweeps). `npm run fuzz -- --runs N` (the script is `node --import tsx bench/fuzz/run.ts`).
 *
 *   --runs N        total inputs across the targets (default 100000), split by target weight
 *   --seed S        fast-check seed (default: time-based; printed, so any run can be repeated)
 *   --targets a,b   only these targets (names: see test/helpers/fuzz/targets.ts)
 *   --budget-ms M   an input slower than this is a hang (default 2000)
 *   --hang-ms M     the watchdog kills a worker stuck on one input this long (default 30000)
 *   --heap-mb M     worker heap limit; exceeding it is a memory blow-up (default 1024)
 *   --tamper        also run the full tamper sweeps (every byte and every bit of every object)
 *   --out FILE      write the figures as JSON
 *   --no-save       do not write findings to test/helpers/fuzz/regressions/
 *
 * The inputs run in a worker thread. Before each input the worker copies it into shared memory, so
 * when an input hangs (watchdog) or blows the heap (worker resource limits) the main thread still
 * has it. Every crash, hang and memory blow-up is saved as a regression file and listed at the end.
 */
import {Worker} from 'node:worker_threads'
import {writeFileSync} from 'node:fs'
import {TARGETS} from '../../test/helpers/fuzz/targets.js'
import {formatStats, type TargetStats} from '../../test/helpers/fuzz/harness.js'
import {saveRegression} from '../../test/helpers/fuzz/regressions.js'
import {SHARED_HEADER, type WorkerJob} from './shared.js'

interface Args {
  runs: number
  seed: number
  targets?: string[]
  budgetMs: number
  hangMs: number
  heapMb: number
  tamper: boolean
  out?: string
  save: boolean
}

function parseArgs(argv: string[]): Args {
  const a: Args = {runs: 100_000, seed: Date.now() % 2 ** 31, budgetMs: 2000, hangMs: 30_000, heapMb: 1024, tamper: false, save: true}
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      const x = argv[++i]
      if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`)
      return x
    }
    switch (argv[i]) {
      case '--runs': a.runs = Number(v()); break
      case '--seed': a.seed = Number(v()); break
      case '--targets': a.targets = v().split(','); break
      case '--budget-ms': a.budgetMs = Number(v()); break
      case '--hang-ms': a.hangMs = Number(v()); break
      case '--heap-mb': a.heapMb = Number(v()); break
      case '--tamper': a.tamper = true; break
      case '--out': a.out = v(); break
      case '--no-save': a.save = false; break
      case '--': break
      default: throw new Error(`unknown option ${argv[i]}`)
    }
  }
  if (!Number.isInteger(a.runs) || a.runs < 1) throw new Error('--runs must be a positive integer')
  return a
}

interface Finding {
  target: string
  kind: 'crash' | 'hang' | 'memory'
  detail: string
  input: Buffer
}

const MAX_INPUT = 2 * 1024 * 1024

/** Run a list of targets in a worker; on a hang or OOM, keep the input and continue with the next target. */
async function campaign(args: Args, plan: Array<{name: string; runs: number}>, stats: TargetStats[], findings: Finding[]): Promise<void> {
  let next = 0
  while (next < plan.length) {
    const shared = new SharedArrayBuffer(SHARED_HEADER + MAX_INPUT)
    const meta = new Int32Array(shared, 0, 4)
    const job: WorkerJob = {targets: plan.slice(next), seed: args.seed, budgetMs: args.budgetMs, shared}
    const w = new Worker(new URL('./worker-boot.mjs', import.meta.url), {workerData: job, resourceLimits: {maxOldGenerationSizeMb: args.heapMb}})
    const current = () => {
      const n = Atomics.load(meta, 2)
      return Buffer.from(new Uint8Array(shared, SHARED_HEADER, n))
    }
    const outcome = await new Promise<{kind: 'done'} | {kind: 'hang' | 'memory' | 'error'; at: number; detail: string}>((resolve) => {
      let last = -1
      let since = Date.now()
      const timer = setInterval(() => {
        const now = Atomics.load(meta, 0)
        if (now !== last) {
          last = now
          since = Date.now()
        } else if (Date.now() - since > args.hangMs) {
          clearInterval(timer)
          void w.terminate()
          resolve({kind: 'hang', at: next + Atomics.load(meta, 1), detail: `no progress for ${args.hangMs} ms`})
        }
      }, 500)
      w.on('message', (m: {type: string; stats?: TargetStats; findings?: Array<Omit<Finding, 'input'> & {input: string}>}) => {
        if (m.type === 'target') {
          stats.push(m.stats!)
          console.log(formatStats(m.stats!))
          for (const f of m.findings!) findings.push({...f, input: Buffer.from(f.input, 'hex')})
        } else if (m.type === 'done') {
          clearInterval(timer)
          resolve({kind: 'done'})
        }
      })
      w.on('error', (e: Error & {code?: string}) => {
        clearInterval(timer)
        resolve({kind: e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'error', at: next + Atomics.load(meta, 1), detail: `${e.code ?? e.name}: ${e.message}`})
      })
    })
    if (outcome.kind === 'done') return
    const name = plan[outcome.at].name
    if (outcome.kind === 'error') throw new Error(`worker failed on ${name}: ${outcome.detail}`)
    findings.push({target: name, kind: outcome.kind, detail: outcome.detail, input: current()})
    console.log(`${name}: ${outcome.kind.toUpperCase()} (${outcome.detail}); input kept, continuing with the next target`)
    next = outcome.at + 1
  }
}

async function tamperSweeps(): Promise<{tried: number; accepted: number; lines: string[]}> {
  const {corpora} = await import('../../test/helpers/fuzz/seeds.js')
  const {deviceTamperSweep, tdreportTamperSweep} = await import('../../test/helpers/fuzz/tamper.js')
  const {EvidenceObject} = await import('../../src/device/tsm.js')
  const c = await corpora()
  const lines: string[] = []
  let tried = 0
  let accepted = 0
  const add = (name: string, r: {tried: number; accepted: number; examples: string[]}) => {
    tried += r.tried
    accepted += r.accepted
    lines.push(`tamper ${name}: tried ${r.tried}, accepted ${r.accepted}${r.examples.length ? ` (${r.examples.join('; ')})` : ''}`)
    console.log(lines[lines.length - 1])
  }
  for (const [i, bundle] of c.evidence.entries()) {
    const reference = c.references[i]
    for (const k of [EvidenceObject.CERT0, EvidenceObject.VCA, EvidenceObject.MEASUREMENTS]) {
      add(`bundle ${i} object ${k} every byte, compromised TSM`, deviceTamperSweep(bundle, c, {object: k, mode: 'byte', redigest: true, reference}))
      add(`bundle ${i} object ${k} every byte, honest TSM`, deviceTamperSweep(bundle, c, {object: k, mode: 'byte', redigest: false, reference}))
    }
    add(`bundle ${i} report every byte, honest TSM`, deviceTamperSweep(bundle, c, {object: EvidenceObject.REPORT, mode: 'byte', redigest: false, reference}))
    if (i === 0) {
      add('bundle 0 VCA every bit, compromised TSM', deviceTamperSweep(bundle, c, {object: EvidenceObject.VCA, mode: 'bit', redigest: true, reference}))
      add('bundle 0 MEASUREMENTS every bit, compromised TSM', deviceTamperSweep(bundle, c, {object: EvidenceObject.MEASUREMENTS, mode: 'bit', redigest: true, reference}))
    }
  }
  for (const t of c.tdreport.slice(1)) {
    for (const mode of ['byte', 'bit'] as const) {
      // each simulated report against the platform that made it (only the last one is c.platformDoc's)
      if (t !== c.tdreport[c.tdreport.length - 1]) continue
      add(`TDREPORT every ${mode}`, tdreportTamperSweep(c.platformDoc, t, mode))
    }
  }
  return {tried, accepted, lines}
}

const args = parseArgs(process.argv.slice(2))
const selected = TARGETS.filter((t) => !args.targets || args.targets.includes(t.name))
if (selected.length === 0) throw new Error(`no targets match ${args.targets}`)
const totalWeight = selected.reduce((n, t) => n + (t.weight ?? 1), 0)
const plan = selected.map((t) => ({name: t.name, runs: Math.max(1, Math.round((args.runs * (t.weight ?? 1)) / totalWeight))}))
console.log(`tdxkit fuzz campaign: seed ${args.seed}, ${plan.reduce((n, p) => n + p.runs, 0)} inputs over ${plan.length} targets, budget ${args.budgetMs} ms/input, heap ${args.heapMb} MiB`)
const t0 = Date.now()
const stats: TargetStats[] = []
const findings: Finding[] = []
await campaign(args, plan, stats, findings)
const tried = stats.reduce((n, s) => n + s.tried, 0)
const crashes = stats.reduce((n, s) => n + s.crashes, 0)
const hangs = stats.reduce((n, s) => n + s.hangs, 0) + findings.filter((f) => f.kind === 'hang').length
const memory = findings.filter((f) => f.kind === 'memory').length
const saved: string[] = []
if (args.save) {
  const seen = new Set<string>()
  for (const f of findings) {
    const key = `${f.target} ${f.kind} ${f.detail.split('\n')[0].replace(/\d+/g, 'N')}`
    if (seen.has(key)) continue
    seen.add(key)
    saved.push(saveRegression(f.target, f.input, `fuzz campaign seed ${args.seed}: ${f.kind}: ${f.detail.split('\n')[0]}`))
  }
}
const fuzzSecs = (Date.now() - t0) / 1000
console.log(`\nfuzz: inputs tried ${tried}, crashes ${crashes}, hangs ${hangs}, memory blow-ups ${memory} (${fuzzSecs.toFixed(0)} s)`)
for (const p of saved) console.log(`  kept ${p}`)
const tamper = args.tamper ? await tamperSweeps() : undefined
const secs = (Date.now() - t0) / 1000
console.log(`\ninputs tried ${tried}, crashes ${crashes}, hangs ${hangs}, memory blow-ups ${memory}${tamper ? `, tamper mutants tried ${tamper.tried}, accepted ${tamper.accepted}` : ''} (${secs.toFixed(0)} s, seed ${args.seed})`)
for (const f of findings.slice(0, 20)) console.log(`  ${f.target} ${f.kind}: ${f.detail.split('\n').slice(0, 3).join(' | ')}`)
if (args.out) writeFileSync(args.out, JSON.stringify({seed: args.seed, seconds: secs, tried, crashes, hangs, memory, stats, tamper, findings: findings.map((f) => ({...f, input: f.input.toString('hex')}))}, null, 1))
process.exitCode = crashes + hangs + memory + (tamper?.accepted ?? 0) > 0 ? 1 : 0
