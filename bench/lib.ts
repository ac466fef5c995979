/**
 * Helpers shared by the benchmarks: timing (best of rounds; interleaved rounds of several
 * functions), target rows (a measure as a ratio to an anchor measured in the same run, with its
 * limit and MET/MISSED), and child processes measured for wall time, CPU time and peak memory.
 */
import {spawnSync, type SpawnSyncOptions} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/**
 * Per-call time (ms) of `fn`: the best of `rounds` rounds of `n` calls each. On a shared machine
 * the best round is the one least disturbed by other processes, which is what a comparison of two
 * implementations measured side by side needs.
 */
export function bestOf(rounds: number, n: number, fn: () => void): number {
  let best = Infinity
  for (let r = 0; r < rounds; r++) {
    const t = performance.now()
    for (let i = 0; i < n; i++) fn()
    best = Math.min(best, (performance.now() - t) / n)
  }
  return best
}

/** A measure over rounds: the best (least disturbed) and the median round. */
export interface Sample {
  best: number
  median: number
}

export const sampleOf = (xs: number[]): Sample => ({best: Math.min(...xs), median: median(xs)})

/**
 * Per-call time (ms) of each function, rounds interleaved (a b c a b c …) so that every function
 * sees the same machine: best and median of the rounds. `n` calls per round, per function.
 */
export function interleaved<K extends string>(rounds: number, n: Record<K, number>, fns: Record<K, () => void>): Record<K, Sample> {
  const keys = Object.keys(fns) as K[]
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>
  for (let r = 0; r < rounds; r++) {
    for (const k of keys) {
      const t = performance.now()
      for (let i = 0; i < n[k]; i++) fns[k]()
      times[k].push((performance.now() - t) / n[k])
    }
  }
  return Object.fromEntries(keys.map((k) => [k, sampleOf(times[k])])) as Record<K, Sample>
}

/** A target: the measure divided by its anchor (measured in the same run) must be ≤ or ≥ `limit`. */
export interface Target {
  anchor: string
  anchorValue: number
  /** value / anchor ('×'), or value - anchor (in the row's unit) for a target on a difference. */
  ratio: number
  kind: 'ratio' | 'over' | 'absolute'
  limit: number
  direction: '≤' | '≥'
  met: boolean
}

/** The row's target from a value, its anchor and the limit on their ratio. */
export function target(value: number, anchor: {name: string; value: number}, direction: '≤' | '≥', limit: number): Target {
  const ratio = value / anchor.value
  return {anchor: anchor.name, anchorValue: anchor.value, ratio, kind: 'ratio', limit, direction, met: direction === '≤' ? ratio <= limit : ratio >= limit}
}

/** A target on an absolute difference (e.g. ms over bare node): `ratio` is then the difference itself. */
export function targetOver(value: number, anchor: {name: string; value: number}, limit: number): Target {
  const over = value - anchor.value
  return {anchor: anchor.name, anchorValue: anchor.value, ratio: over, kind: 'over', limit, direction: '≤', met: over <= limit}
}

/** A target on the value itself (e.g. peak memory ≤ 150 MB): no anchor. */
export function targetAbsolute(value: number, direction: '≤' | '≥', limit: number): Target {
  return {anchor: '', anchorValue: NaN, ratio: value, kind: 'absolute', limit, direction, met: direction === '≤' ? value <= limit : value >= limit}
}

/** The machine's load averages (1, 5, 15 min), for the notes. */
export const loadNote = (): string => `load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`

const PRELOAD = join(dirname(fileURLToPath(import.meta.url)), 'cpu-report.cjs')

/** What a measured child process used. */
export interface Measured {
  status: number | null
  stdout: Buffer
  stderr: string
  wallMs: number
  /** User + system CPU time of the whole process (every thread), from its own getrusage at exit. */
  cpuMs: number
  /** Peak resident set size. */
  maxRssMb: number
}

/**
 * Run `node [nodeArgs] args` with a --require preload that reports the process's own CPU time and
 * peak RSS at exit (wall time is measured here). The preload adds the same ~1 ms to every process,
 * bare node included.
 */
export function measuredNode(args: string[], opts: SpawnSyncOptions = {}): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-bench-m-'))
  const report = join(dir, 'usage.json')
  writeFileSync(report, '')
  try {
    const t = performance.now()
    const r = spawnSync(process.execPath, ['--require', PRELOAD, ...args], {maxBuffer: 1 << 30, ...opts, env: {...(opts.env ?? process.env), TDXKIT_BENCH_USAGE: report}})
    const wallMs = performance.now() - t
    const text = readFileSync(report, 'utf8')
    const usage = text ? (JSON.parse(text) as {cpuMs: number; maxRssKb: number}) : {cpuMs: NaN, maxRssKb: NaN}
    return {status: r.status, stdout: Buffer.isBuffer(r.stdout) ? r.stdout : Buffer.from(r.stdout ?? ''), stderr: String(r.stderr ?? ''), wallMs, cpuMs: usage.cpuMs, maxRssMb: usage.maxRssKb / 1024}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
