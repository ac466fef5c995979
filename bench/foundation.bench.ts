/**
 * Foundation benchmarks: CLI start-up and in-process TDREPORT throughput. Start-up is the median
 * wall time of N spawns of the built CLI, interleaved with bare `node -e 0` (the anchor), for
 * `--version`, `report` and `quote verify FILE` (one real quote with its collateral): targets
 * 1.3×, 1.8× and 1.8× bare node. Each process also reports its own CPU time (bench/lib.ts
 * measuredNode), given in the notes: CPU ratios barely move with the machine's load.
 *
 * Env: TDXKIT_BENCH_N (spawns per measure, default 15), TDXKIT_BENCH_ROOT (package root whose
 * bin/run.js + dist/ are spawned; default the repository), TDXKIT_VECTORS.
 */
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createPlatformDoc, Platform} from '../src/module/platform.js'
import {getTdReport} from '../src/guest/tdx-guest.js'
import {StateStore} from '../src/state/store.js'
import type {BenchResult} from './index.js'
import {measuredNode, median, target} from './lib.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(process.env.TDXKIT_BENCH_ROOT ?? join(HERE, '..'))
const VECTORS = process.env.TDXKIT_VECTORS ?? resolve(HERE, '../../shared/testvectors')
const N = Math.max(3, Number(process.env.TDXKIT_BENCH_N) || 15)
const AT = '1752919234'

async function startupRows(): Promise<BenchResult[]> {
  if (!existsSync(join(ROOT, 'dist'))) throw new Error(`no dist/ under ${ROOT}: build first (npm run build)`)
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-bench-'))
  try {
    const store = new StateStore(dir)
    await store.withLock(() => store.save(createPlatformDoc({profile: 'tdx-1.5', seed: 'bench'})))
    const bin = join(ROOT, 'bin/run.js')
    const vector = join(VECTORS, 'real', 'dcapqvl-tdx-v4-uptodate')
    const cases: Record<string, string[]> = {
      bare: ['-e', '0'],
      version: [bin, '--version'],
      report: [bin, 'report', '--report-data', '00'],
      verify: [bin, 'quote', 'verify', join(vector, 'quote.bin'), '--collateral', join(vector, 'collateral.json'), '--at', AT],
    }
    const wall: Record<string, number[]> = {}
    const cpu: Record<string, number[]> = {}
    for (let i = 0; i < N + 2; i++) {
      for (const [k, args] of Object.entries(cases)) {
        const r = measuredNode(args, {cwd: ROOT, env: {...process.env, NO_COLOR: '1', TDXKIT_STATE_DIR: dir}, stdio: ['ignore', 'ignore', 'pipe']})
        if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`)
        if (i < 2) continue // warm-up: file cache
        ;(wall[k] ??= []).push(r.wallMs)
        ;(cpu[k] ??= []).push(r.cpuMs)
      }
    }
    const w = (k: string) => median(wall[k])
    const c = (k: string) => median(cpu[k])
    const bare = {name: 'node -e 0', value: w('bare')}
    const row = (k: string, name: string, limit: number): BenchResult => ({
      name,
      value: w(k),
      unit: 'ms',
      target: target(w(k), bare, '≤', limit),
      note: `median of ${N} interleaved; +${(w(k) - w('bare')).toFixed(0)} ms over node; CPU ${c(k).toFixed(0)} ms = ${(c(k) / c('bare')).toFixed(2)}× bare node's`,
    })
    return [
      {name: 'node -e 0 (baseline)', value: w('bare'), unit: 'ms', note: `median of ${N} spawns; CPU ${c('bare').toFixed(0)} ms`},
      row('version', 'tdxkit --version', 1.3),
      row('report', 'tdxkit report', 1.8),
      row('verify', 'tdxkit quote verify FILE (one real quote, its collateral)', 1.8),
    ]
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/** In-process TDREPORT throughput: TDG.MR.REPORT through guest memory, incl. SHA-384 ×2 and HMAC. */
function tdreportRow(): BenchResult {
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
  return {name: 'TDREPORT in-process', value: (n / elapsed) * 1000, unit: 'reports/s', note: `${n} reports in ${elapsed.toFixed(0)} ms`}
}

export default async function foundation(): Promise<BenchResult[]> {
  return [...(await startupRows()), tdreportRow()]
}
