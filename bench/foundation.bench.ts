/**
 * Foundation benchmarks: CLI start-up (median wall time of N sequential spawns of the built CLI)
 * and in-process TDREPORT throughput. A bare `node -e 0` spawn is measured alongside so that the
 * CLI's own cost (median minus the node baseline) can be read even on a loaded machine.
 *
 * Env: TDXKIT_BENCH_N (spawns per measure, default 15), TDXKIT_BENCH_ROOT (package root whose
 * bin/run.js + dist/ are spawned; default the repository).
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createPlatformDoc, Platform} from '../src/module/platform.js'
import {getTdReport} from '../src/guest/tdx-guest.js'
import {StateStore} from '../src/state/store.js'
import type {BenchResult} from './index.js'
import {median} from './lib.js'

const ROOT = resolve(process.env.TDXKIT_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const N = Math.max(3, Number(process.env.TDXKIT_BENCH_N) || 15)


function spawnMedian(argv: string[], env: NodeJS.ProcessEnv = {}): number {
  const times: number[] = []
  for (let i = 0; i < N + 2; i++) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, argv, {cwd: ROOT, env: {...process.env, NO_COLOR: '1', ...env}, stdio: ['ignore', 'ignore', 'pipe']})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.toString().trim()}`)
    if (i >= 2) times.push(ms) // two warm-up runs
  }
  return median(times)
}

export default async function foundation(): Promise<BenchResult[]> {
  const out: BenchResult[] = []
  const bin = join(ROOT, 'bin/run.js')
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-bench-'))
  try {
    const store = new StateStore(dir)
    await store.withLock(() => store.save(createPlatformDoc({profile: 'tdx-1.5', seed: 'bench'})))
    const baseline = spawnMedian(['-e', '0'])
    out.push({name: 'node -e 0 (baseline)', value: baseline, unit: 'ms', note: `median of ${N} spawns`})
    if (!existsSync(join(ROOT, 'dist'))) throw new Error(`no dist/ under ${ROOT}: build first (npm run build)`)
    const manifest = existsSync(join(ROOT, 'oclif.manifest.json')) ? 'with oclif.manifest.json' : 'NO oclif.manifest.json'
    const version = spawnMedian([bin, '--version'])
    out.push({name: 'tdxkit --version', value: version, unit: 'ms', note: `median of ${N}; +${(version - baseline).toFixed(0)} ms over node; ${manifest}`})
    const report = spawnMedian([bin, 'report', '--report-data', '00'], {TDXKIT_STATE_DIR: dir})
    out.push({name: 'tdxkit report', value: report, unit: 'ms', note: `median of ${N}; +${(report - baseline).toFixed(0)} ms over node`})
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }

  // In-process TDREPORT throughput: TDG.MR.REPORT through guest memory, incl. SHA-384 ×2 and HMAC.
  const p = new Platform(createPlatformDoc({profile: 'tdx-1.5', seed: 'bench'}))
  const data = Buffer.alloc(64, 1)
  for (let i = 0; i < 200; i++) getTdReport(p, data)
  let n = 0
  const t0 = process.hrtime.bigint()
  let elapsed = 0
  while (elapsed < 1000) {
    for (let i = 0; i < 100; i++) getTdReport(p, data)
    n += 100
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6
  }
  out.push({name: 'TDREPORT in-process', value: (n / elapsed) * 1000, unit: 'reports/s', note: `${n} reports in ${elapsed.toFixed(0)} ms`})
  return out
}
