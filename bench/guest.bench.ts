/**
 * Quote generation: in-process throughput of the whole simulated path per allocator strategy
 * (TDG.MR.REPORT → shared buffer → GetQuote → QGS → quoting enclave signature → quote back), and
 * the CLI wall time of one `tdxkit quote generate` (median of N spawns of the built CLI).
 * Target (issue 3): ≥ 300 quotes/s on one core for the simulator itself.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createPlatformDoc, Platform} from '../src/module/platform.js'
import {initPlatform} from '../src/app/platform.js'
import {ensureHostPki} from '../src/host/qe.js'
import {openAllocator, requestQuote} from '../src/guest/quote.js'
import {openSession} from '../src/app/session.js'
import {StateStore} from '../src/state/store.js'
import type {BenchResult} from './index.js'

const ROOT = resolve(process.env.TDXKIT_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const N = Math.max(3, Number(process.env.TDXKIT_BENCH_N) || 9)

function throughput(strategy: 'vmap-mapgpa' | 'preshared-pool'): BenchResult {
  const p = new Platform(createPlatformDoc({profile: 'tdx-1.5', seed: 'bench'}))
  ensureHostPki(p.doc)
  const td = openSession(p)
  const alloc = openAllocator(td, p.doc, {strategy})
  alloc.init()
  const reportData = Buffer.alloc(64, 7)
  for (let i = 0; i < 50; i++) requestQuote(td, alloc, {reportData})
  let n = 0
  const t0 = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < 1500) {
    for (let i = 0; i < 25; i++) requestQuote(td, alloc, {reportData})
    n += 25
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6
  }
  return {name: `quote generation in-process (${strategy})`, value: (n / elapsed) * 1000, unit: 'quotes/s', note: `${n} quotes in ${elapsed.toFixed(0)} ms, one core; target ≥ 300`}
}

export default async function guest(): Promise<BenchResult[]> {
  const out = [throughput('vmap-mapgpa'), throughput('preshared-pool')]
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-bench-q-'))
  try {
    await initPlatform(new StateStore(dir), {seed: 'bench'})
    const times: number[] = []
    for (let i = 0; i < N + 1; i++) {
      const t0 = process.hrtime.bigint()
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/run.js'), 'quote', 'generate', '--report-data', '00', '--format', 'hex'], {
        env: {...process.env, TDXKIT_STATE_DIR: dir},
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      if (r.status !== 0) throw new Error(`quote generate exited ${r.status}: ${r.stderr}`)
      if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
    times.sort((a, b) => a - b)
    out.push({name: 'tdxkit quote generate (CLI)', value: times[Math.floor(times.length / 2)], unit: 'ms', note: `median of ${N} spawns (state loaded, preshared-pool reused)`})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return out
}
