/**
 * Side-by-side comparison of the two shared-buffer strategies on one workload (or a sweep of
 * workloads): runs the engine once per strategy, lays the figures out as rows with a winner each,
 * and writes the plain-language reading of where each strategy breaks.
 */
import {InputError} from '../errors.js'
import type {DriverFactory} from './driver.js'
import {runStrategy, type StrategyResult} from './engine.js'
import {priceOps, scaleOps, type OpCounts} from './ops.js'
import {curveAt, describeProfile, resolveCosts, type CostProfile} from './profiles.js'
import {fmtBytes, fmtNum, fmtUs} from './units.js'
import {MAX_VCPUS, STRATEGIES, pagesPerBuffer, sweepWorkloads, sweepX, type StrategyName, type SweepSpec, type Workload, type WorkloadInput} from './workload.js'

export type Better = 'lower' | 'higher'
export type Winner = StrategyName | 'tie'

export interface CompareRow {
  id: string
  label: string
  unit: string
  better: Better
  values: Record<StrategyName, number>
  winner: Winner
}

export interface Breakpoints {
  /** Smallest vCPU count at which vmap-mapgpa's overhead reaches 10 % of the host quote time (null: never up to MAX_VCPUS). */
  vmap_overhead_10pct_of_tq_at_vcpus: number | null
  /** Requests in flight beyond which dma-pool runs out of buffers. */
  pool_slots: number
  pool_exhausts_above_in_flight: number
}

export interface Comparison {
  workload: Workload
  pages_per_buffer: number
  profile: {name: string; title: string; origin: string; primitives: ReturnType<typeof describeProfile>}
  results: Record<StrategyName, StrategyResult>
  rows: CompareRow[]
  breakpoints: Breakpoints
  reading: string[]
}

export interface CompareOptions {
  driverFactory: DriverFactory
  onProgress?: (strategy: StrategyName, done: number, total: number) => void
}

/** Relative difference under which two figures count as a tie. */
const TIE_REL = 0.005

export function pickWinner(values: Record<StrategyName, number>, better: Better): Winner {
  const a = values['vmap-mapgpa']
  const b = values['dma-pool']
  const scale = Math.max(Math.abs(a), Math.abs(b))
  if (scale === 0 || Math.abs(a - b) <= TIE_REL * scale) return 'tie'
  const aWins = better === 'lower' ? a < b : a > b
  return aWins ? 'vmap-mapgpa' : 'dma-pool'
}

function rowsOf(res: Record<StrategyName, StrategyResult>): CompareRow[] {
  const rows: CompareRow[] = []
  const add = (id: string, label: string, unit: string, better: Better, get: (r: StrategyResult) => number) => {
    const values = {'vmap-mapgpa': get(res['vmap-mapgpa']), 'dma-pool': get(res['dma-pool'])}
    rows.push({id, label, unit, better, values, winner: pickWinner(values, better)})
  }
  add('latency_mean', 'latency, mean', 'us', 'lower', (r) => r.latency.mean_us)
  add('latency_p50', 'latency, p50', 'us', 'lower', (r) => r.latency.p50_us)
  add('latency_p99', 'latency, p99', 'us', 'lower', (r) => r.latency.p99_us)
  add('throughput', 'throughput', 'req/s', 'higher', (r) => r.throughput_per_s)
  add('overhead', 'allocator time per request (alloc + free)', 'us', 'lower', (r) => r.overhead_us.total)
  add('queue_wait', 'wait for a buffer per request', 'us', 'lower', (r) => r.queue_wait_us)
  add('init_time', 'one-time init (pool conversion)', 'us', 'lower', (r) => r.init.time_us)
  add('tdvmcalls', 'TDVMCALLs per request', 'count', 'lower', (r) => r.per_request.tdvmcalls)
  add('mapgpa', 'MapGPA calls per request', 'count', 'lower', (r) => r.per_request.mapgpa_calls)
  add('pages_converted', 'pages converted per request (both ways)', 'count', 'lower', (r) => r.per_request.pages_converted)
  add('pages_accepted', 'pages accepted per request', 'count', 'lower', (r) => r.per_request.pages_accepted)
  add('sept_changes', 'S-EPT changes per request', 'count', 'lower', (r) => r.per_request.sept_changes)
  add('forced_exits', 'forced exits of other vCPUs per request', 'count', 'lower', (r) => r.per_request.forced_exits)
  add('tlb_flushes', 'TLB shootdowns per request', 'count', 'lower', (r) => r.per_request.tlb_flushes)
  add('dm_splits_1g', 'direct-map 1 GiB splits (total)', 'count', 'lower', (r) => r.dm_splits['1g'])
  add('dm_splits_2m', 'direct-map 2 MiB splits (total)', 'count', 'lower', (r) => r.dm_splits['2m'])
  add('shared_mean', 'memory held shared, mean', 'bytes', 'lower', (r) => r.shared_bytes.mean)
  add('shared_peak', 'memory held shared, peak', 'bytes', 'lower', (r) => r.shared_bytes.peak)
  add('pool_exhausted', 'pool exhaustions', 'count', 'lower', (r) => r.failures.pool_exhausted)
  add('failed', 'failed requests', 'count', 'lower', (r) => r.failures.failed_requests)
  add('mapgpa_retries', 'MapGPA retries', 'count', 'lower', (r) => r.failures.mapgpa_retries)
  return rows
}

/**
 * The smallest V at which vmap-mapgpa's per-request allocator operations (as recorded) cost ≥ 10 %
 * of T_q. Operation counts do not depend on V; only t_kick(V) does, so the recorded counts are
 * repriced at each V.
 */
function vmapBreakpoint(r: StrategyResult, profile: CostProfile, tq: number): number | null {
  if (r.completed === 0) return null
  const per = scaleOps(r.allocator_ops, 1 / r.completed) as OpCounts
  for (let v = 1; v <= MAX_VCPUS; v++) {
    if (priceOps(per, resolveCosts(profile, v)) >= 0.1 * tq) return v
  }
  return null
}

function pct(part: number, whole: number): string {
  if (whole <= 0) return '—'
  const p = (100 * part) / whole
  return p >= 10 ? `${p.toFixed(0)} %` : p >= 0.1 ? `${p.toFixed(1)} %` : `${p.toFixed(2)} %`
}

function reading(w: Workload, profile: CostProfile, res: Record<StrategyName, StrategyResult>, bp: Breakpoints): string[] {
  const A = res['vmap-mapgpa']
  const B = res['dma-pool']
  const c = resolveCosts(profile, w.vcpus)
  const tq = w.quote_time_us ?? c.t_quote
  const P = pagesPerBuffer(w)
  const kick = curveAt(profile.curves.t_kick, w.vcpus)
  const lines: string[] = []
  lines.push(
    `Caller latency: vmap-mapgpa spends ${fmtUs(A.overhead_us.total)} per request on the buffer (alloc ${fmtUs(A.overhead_us.alloc)} + free ${fmtUs(A.overhead_us.free)}), ` +
      `dma-pool ${fmtUs(B.overhead_us.total)}; that is ${pct(A.overhead_us.total, A.latency.mean_us)} of vmap-mapgpa's mean latency of ${fmtUs(A.latency.mean_us)} ` +
      `(host quote time T_q = ${fmtUs(tq)}${w.completion === 'poll' ? `, polled every ${fmtUs(w.poll_interval_us ?? c.poll_interval)}` : ', notify interrupt'}).`,
  )
  lines.push(
    `Whole TD: each vmap-mapgpa request converts ${fmtNum(A.per_request.pages_converted)} pages and forces ${fmtNum(A.per_request.forced_exits)} exits of the other ${w.vcpus - 1} vCPUs ` +
      `(one "kick everyone" per page made shared plus the vunmap TLB shootdown: (P + φ)·(V − 1) with P = ${P}, φ = ${c.phi}); ` +
      `at t_kick(${w.vcpus}) = ${fmtUs(kick.value)} (${kick.kind}) ` +
      (bp.vmap_overhead_10pct_of_tq_at_vcpus === null
        ? `its overhead stays under 10 % of T_q up to ${MAX_VCPUS} vCPUs on this profile.`
        : `its overhead reaches 10 % of T_q from about ${bp.vmap_overhead_10pct_of_tq_at_vcpus} vCPUs on this profile.`) +
      ` dma-pool forces ${fmtNum(B.per_request.forced_exits)} per request after its one-time conversion (${fmtNum(B.init.ops.pages_to_shared)} pages, ${fmtUs(B.init.time_us)}, ${fmtNum(B.init.forced_exits)} forced exits once).`,
  )
  lines.push(
    `Host: vmap-mapgpa makes ${fmtNum(A.per_request.sept_changes)} S-EPT changes per request (removals and AUGs, each under the host's MMU lock) and ${fmtNum(A.per_request.mapgpa_calls)} MapGPA calls; ` +
      `dma-pool makes ${fmtNum(B.per_request.sept_changes)}.`,
  )
  const slots = bp.pool_slots
  if (B.failures.pool_exhausted > 0) {
    lines.push(
      `Where dma-pool breaks: its ${slots} buffer${slots === 1 ? '' : 's'} ran out ${fmtNum(B.failures.pool_exhausted)} times with up to ${w.concurrency} requests in flight; ` +
        (w.on_exhaustion === 'wait'
          ? `requests waited ${fmtUs(B.queue_wait_us)} on average for a buffer (the mainline driver serialises the same way).`
          : `${fmtNum(B.failures.failed_requests)} requests failed.`) +
        ` Size the pool for the peak number of concurrent quotes (≥ ${w.concurrency} × ${fmtBytes(w.buffer_bytes)}).`,
    )
  } else {
    lines.push(`Where dma-pool breaks: only when more than ${slots} request${slots === 1 ? ' is' : 's are'} in flight (pool ${fmtBytes(w.pool_bytes)} / ${fmtBytes(w.buffer_bytes)} buffers); this workload never exceeded it.`)
  }
  lines.push(
    `Memory: dma-pool keeps ${fmtBytes(B.shared_bytes.peak)} shared for the TD's lifetime; vmap-mapgpa holds ${fmtBytes(A.shared_bytes.mean)} on average (peak ${fmtBytes(A.shared_bytes.peak)}) but returns it after each request.`,
  )
  lines.push(
    `Direct map: vmap-mapgpa split ${A.dm_splits['1g']} × 1 GiB and ${A.dm_splits['2m']} × 2 MiB mappings (it leaves the private direct-map alias of each shared page in place, which the kernel must never touch); ` +
      `dma-pool split ${B.dm_splits['1g']} × 1 GiB and ${B.dm_splits['2m']} × 2 MiB, all at init, and never again.`,
  )
  if (A.failures.mapgpa_retries > 0 || B.failures.mapgpa_retries > 0) {
    lines.push(`MapGPA retries (host asked the guest to retry): vmap-mapgpa ${fmtNum(A.failures.mapgpa_retries)}, dma-pool ${fmtNum(B.failures.mapgpa_retries)}.`)
  }
  const estimated = describeProfile(profile, w.vcpus).filter((p) => p.kind === 'estimated')
  if (estimated.length > 0) lines.push(`Estimated (not measured) primitives in this profile: ${estimated.map((p) => p.key).join(', ')}; see --json "profile" for sources.`)
  return lines
}

/** Run both strategies on one workload. */
export function compareStrategies(w: Workload, profile: CostProfile, opts: CompareOptions): Comparison {
  const results = {} as Record<StrategyName, StrategyResult>
  const slots = {value: Infinity}
  for (const s of STRATEGIES) {
    const driver = opts.driverFactory(s, {
      vcpus: w.vcpus,
      memory_bytes: w.memory_bytes,
      buffer_bytes: w.buffer_bytes,
      pool_bytes: w.pool_bytes,
      request_bytes: w.request_bytes,
      response_bytes: w.response_bytes,
      completion: w.completion,
      seed: w.seed,
    })
    if (s === 'dma-pool') slots.value = driver.capacity()
    results[s] = runStrategy(driver, w, profile, {onProgress: opts.onProgress ? (d, t) => opts.onProgress!(s, d, t) : undefined})
  }
  const tq = w.quote_time_us ?? profile.scalars.t_quote.value
  const bp: Breakpoints = {
    vmap_overhead_10pct_of_tq_at_vcpus: vmapBreakpoint(results['vmap-mapgpa'], profile, tq),
    pool_slots: slots.value,
    pool_exhausts_above_in_flight: slots.value,
  }
  return {
    workload: w,
    pages_per_buffer: pagesPerBuffer(w),
    profile: {name: profile.name, title: profile.title, origin: profile.origin, primitives: describeProfile(profile, w.vcpus)},
    results,
    rows: rowsOf(results),
    breakpoints: bp,
    reading: reading(w, profile, results, bp),
  }
}

export interface SweepPoint {
  value: string
  x: number
  comparison: Comparison
}

export interface SweepResult {
  key: SweepSpec['key']
  points: SweepPoint[]
}

export function compareSweep(base: WorkloadInput, sweep: SweepSpec, profile: CostProfile, opts: CompareOptions & {onPoint?: (i: number, n: number, value: string) => void}): SweepResult {
  const workloads = sweepWorkloads(base, sweep) // validates every point before running any
  const seen = new Set<string>()
  for (const p of workloads) {
    if (seen.has(p.value)) throw new InputError('BAD_SWEEP', `--sweep ${sweep.key} lists '${p.value}' twice`)
    seen.add(p.value)
  }
  const points: SweepPoint[] = []
  workloads.forEach((p, i) => {
    opts.onPoint?.(i, workloads.length, p.value)
    points.push({value: p.value, x: sweepX(p.workload, sweep.key), comparison: compareStrategies(p.workload, profile, opts)})
  })
  return {key: sweep.key, points}
}
