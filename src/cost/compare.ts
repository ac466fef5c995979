/**
 * Side-by-side comparison of the shared-buffer strategies on one workload (or a sweep of
 * workloads): runs the engine once per strategy, lays the figures out as rows with a winner each,
 * and writes the plain-language reading of where each strategy breaks.
 */
import {InputError} from '../errors.js'
import type {DriverFactory} from './driver.js'
import {runStrategy, type StrategyResult} from './engine.js'
import {priceOps, scaleOps, type OpCounts} from './ops.js'
import {curveAt, describeProfile, resolveCosts, type CostProfile} from './profiles.js'
import {fmtBytes, fmtNum, fmtUs} from './units.js'
import {MAX_VCPUS, pagesPerBuffer, sweepWorkloads, sweepX, type StrategyName, type SweepSpec, type Workload, type WorkloadInput} from './workload.js'

export type Better = 'lower' | 'higher'
export type Winner = StrategyName | 'tie'

export interface CompareRow {
  id: string
  label: string
  unit: string
  better: Better
  values: Partial<Record<StrategyName, number>>
  /** The best strategy, or 'tie' when several share the best value. */
  winner: Winner
  /** Every strategy within 0.5 % of the best value. */
  winners: StrategyName[]
}

export interface Breakpoints {
  /** Smallest vCPU count at which vmap-mapgpa's overhead reaches 10 % of the host quote time (null: never up to the module's MAX_VCPUS_PER_TD). */
  vmap_overhead_10pct_of_tq_at_vcpus: number | null
  /** The vCPU bound searched (the module's MAX_VCPUS_PER_TD when known). */
  max_vcpus_searched: number
  /** Buffers each bounded strategy can have in flight (absent: unbounded). */
  capacity: Partial<Record<StrategyName, number>>
  /** The pre-shared pool's slots (kept from before issue 16; = capacity['preshared-pool']). */
  pool_slots: number
  pool_exhausts_above_in_flight: number
}

export interface Comparison {
  workload: Workload
  strategies: StrategyName[]
  pages_per_buffer: number
  profile: {name: string; title: string; origin: string; primitives: ReturnType<typeof describeProfile>}
  results: Partial<Record<StrategyName, StrategyResult>>
  rows: CompareRow[]
  breakpoints: Breakpoints
  reading: string[]
}

export interface CompareOptions {
  driverFactory: DriverFactory
  onProgress?: (strategy: StrategyName, done: number, total: number) => void
  /** The module's MAX_VCPUS_PER_TD (from sysinfo): the breakpoint search stops there. */
  maxVcpus?: number
}

/** Relative difference under which two figures count as a tie. */
const TIE_REL = 0.005

/** Every strategy whose value is within 0.5 % of the best one on a row. */
export function pickWinners(values: Partial<Record<StrategyName, number>>, better: Better): StrategyName[] {
  const entries = Object.entries(values) as Array<[StrategyName, number]>
  if (entries.length === 0) return []
  const best = entries.reduce((b, e) => ((better === 'lower' ? e[1] < b[1] : e[1] > b[1]) ? e : b))[1]
  return entries.filter(([, v]) => v === best || Math.abs(v - best) <= TIE_REL * Math.max(Math.abs(v), Math.abs(best))).map(([s]) => s)
}

/** The best strategy on a row, or 'tie' when the best value is shared. */
export function pickWinner(values: Partial<Record<StrategyName, number>>, better: Better): Winner {
  const w = pickWinners(values, better)
  return w.length === 1 ? w[0] : 'tie'
}

type RowSpec = [id: string, label: string, unit: string, better: Better, get: (r: StrategyResult) => number]

const ROWS: readonly RowSpec[] = [
  ['latency_mean', 'latency, mean', 'us', 'lower', (r) => r.latency.mean_us],
  ['latency_p50', 'latency, p50', 'us', 'lower', (r) => r.latency.p50_us],
  ['latency_p99', 'latency, p99', 'us', 'lower', (r) => r.latency.p99_us],
  ['throughput', 'throughput', 'req/s', 'higher', (r) => r.throughput_per_s],
  ['overhead', 'allocator time per request (alloc + free)', 'us', 'lower', (r) => r.overhead_us.total],
  ['queue_wait', 'wait for a buffer per request', 'us', 'lower', (r) => r.queue_wait_us],
  ['init_time', 'one-time init (boot / driver-init conversion)', 'us', 'lower', (r) => r.init.time_us],
  ['init_amortised', 'one-time init amortised over the requests', 'us', 'lower', (r) => (r.completed > 0 ? r.init.time_us / r.completed : r.init.time_us)],
  ['tdvmcalls', 'TDVMCALLs per request', 'count', 'lower', (r) => r.per_request.tdvmcalls],
  ['mapgpa', 'MapGPA calls per request', 'count', 'lower', (r) => r.per_request.mapgpa_calls],
  ['pages_converted', 'pages converted per request (both ways)', 'count', 'lower', (r) => r.per_request.pages_converted],
  ['pages_accepted', 'pages accepted per request', 'count', 'lower', (r) => r.per_request.pages_accepted],
  ['sept_changes', 'S-EPT changes per request', 'count', 'lower', (r) => r.per_request.sept_changes],
  ['forced_exits', 'forced exits of other vCPUs per request', 'count', 'lower', (r) => r.per_request.forced_exits],
  ['tlb_flushes', 'TLB shootdowns per request', 'count', 'lower', (r) => r.per_request.tlb_flushes],
  ['bounce_bytes', 'bytes bounced per request', 'bytes', 'lower', (r) => (r.completed > 0 ? r.ops.bounce_bytes / r.completed : 0)],
  ['slot_searches', 'SWIOTLB slots examined per request', 'count', 'lower', (r) => (r.completed > 0 ? r.ops.slots_scanned / r.completed : 0)],
  ['dm_splits_1g', 'direct-map 1 GiB splits (total)', 'count', 'lower', (r) => r.dm_splits['1g']],
  ['dm_splits_2m', 'direct-map 2 MiB splits (total)', 'count', 'lower', (r) => r.dm_splits['2m']],
  ['dm_splits_runtime', 'direct-map splits at run time (after init)', 'count', 'lower', (r) => r.dm_splits['1g'] - r.dm_splits.init_1g + r.dm_splits['2m'] - r.dm_splits.init_2m],
  ['shared_mean', 'memory held shared, mean', 'bytes', 'lower', (r) => r.shared_bytes.mean],
  ['shared_peak', 'memory held shared, peak', 'bytes', 'lower', (r) => r.shared_bytes.peak],
  ['pool_exhausted', 'pool exhaustions', 'count', 'lower', (r) => r.failures.pool_exhausted],
  ['failed', 'failed requests', 'count', 'lower', (r) => r.failures.failed_requests],
  ['mapgpa_retries', 'MapGPA retries', 'count', 'lower', (r) => r.failures.mapgpa_retries],
]

function rowsOf(res: Partial<Record<StrategyName, StrategyResult>>, strategies: readonly StrategyName[]): CompareRow[] {
  return ROWS.map(([id, label, unit, better, get]) => {
    const values: Partial<Record<StrategyName, number>> = {}
    for (const s of strategies) values[s] = get(res[s]!)
    const winners = pickWinners(values, better)
    return {id, label, unit, better, values, winner: winners.length === 1 ? winners[0] : 'tie', winners}
  })
}

/**
 * The smallest V at which vmap-mapgpa's per-request allocator operations (as recorded) cost ≥ 10 %
 * of T_q. Operation counts do not depend on V; only t_kick(V) does, so the recorded counts are
 * repriced at each V up to the module's MAX_VCPUS_PER_TD.
 */
function vmapBreakpoint(r: StrategyResult | undefined, profile: CostProfile, tq: number, maxV: number): number | null {
  if (!r || r.completed === 0) return null
  const per = scaleOps(r.allocator_ops, 1 / r.completed) as OpCounts
  for (let v = 1; v <= maxV; v++) {
    if (priceOps(per, resolveCosts(profile, v)) >= 0.1 * tq) return v
  }
  return null
}

function pct(part: number, whole: number): string {
  if (whole <= 0) return '—'
  const p = (100 * part) / whole
  return p >= 10 ? `${p.toFixed(0)} %` : p >= 0.1 ? `${p.toFixed(1)} %` : `${p.toFixed(2)} %`
}

const splits = (r: StrategyResult): string => `${r.dm_splits['1g']} × 1 GiB + ${r.dm_splits['2m']} × 2 MiB`

/** One line per strategy: what a request costs the caller and the whole TD, and where it breaks. */
function strategyLine(s: StrategyName, r: StrategyResult, w: Workload, cap: number | undefined): string {
  const head = `${s}: ${fmtUs(r.overhead_us.total)} of allocator time per request, ${fmtNum(Number(r.per_request.forced_exits.toFixed(1)))} forced exits, ${fmtNum(r.per_request.sept_changes)} S-EPT changes`
  const dm = `direct map ${splits(r)}${r.dm_splits['1g'] + r.dm_splits['2m'] > 0 ? (r.dm_splits.init_1g + r.dm_splits.init_2m === r.dm_splits['1g'] + r.dm_splits['2m'] ? ' (all at init)' : ' (at run time)') : ''}`
  const initPart = r.init.ops.pages_to_shared > 0 ? `; converted ${fmtNum(r.init.ops.pages_to_shared)} pages once (${fmtUs(r.init.time_us)}, ${fmtNum(Math.round(r.init.forced_exits))} forced exits)` : ''
  const full =
    r.failures.pool_exhausted > 0
      ? `; full ${fmtNum(r.failures.pool_exhausted)} times at ${w.concurrency} in flight (capacity ${fmtNum(cap ?? 0)})${r.failures.failed_requests > 0 ? `, ${fmtNum(r.failures.failed_requests)} requests failed` : `, requests waited ${fmtUs(r.queue_wait_us)} on average`}`
      : cap !== undefined && Number.isFinite(cap)
        ? `; full only above ${fmtNum(cap)} in flight`
        : ''
  return `${head}; ${dm}${initPart}${full}.`
}

const STRATEGY_NOTES: Readonly<Record<StrategyName, string>> = {
  'vmap-mapgpa': 'leaves the private direct-map alias of each shared page in place (touching it kills the TD)',
  swiotlb: 'needs a platform device for the DMA API; its pool is converted at boot and shared with virtio, so attestation adds no conversion of its own',
  'dma-coherent': 'decrypts direct-map pages per allocation (GFP_KERNEL dma_alloc_coherent in a TDX guest); the splits stay (no re-collapse for enc/dec changes)',
  upstream: 'holds one buffer and serves one request at a time (quote_lock); a timed-out request leaves the buffer with the VMM and later requests get -EBUSY',
  'preshared-pool': 'is tdxkit\'s pool: the upstream buffer generalised to several slots, converted once at init',
}

function reading(w: Workload, profile: CostProfile, strategies: readonly StrategyName[], res: Partial<Record<StrategyName, StrategyResult>>, bp: Breakpoints): string[] {
  const c = resolveCosts(profile, w.vcpus)
  const tq = w.quote_time_us ?? c.t_quote
  const P = pagesPerBuffer(w)
  const kick = curveAt(profile.curves.t_kick, w.vcpus)
  const lines: string[] = []
  const first = res[strategies[0]]!
  lines.push(
    `Caller latency is dominated by the host: T_q = ${fmtUs(tq)}${w.completion === 'poll' ? `, polled every ${fmtUs(w.poll_interval_us ?? c.poll_interval)}` : ', notify interrupt'}; ` +
      `mean latency ${strategies.map((s) => `${s} ${fmtUs(res[s]!.latency.mean_us)}`).join(', ')} (${first.completed} requests each).`,
  )
  for (const s of strategies) lines.push(`${strategyLine(s, res[s]!, w, bp.capacity[s])} It ${STRATEGY_NOTES[s]}.`)
  const A = res['vmap-mapgpa']
  if (A) {
    lines.push(
      `Whole TD: vmap-mapgpa's exits are (P + φ)·(V − 1) per request with P = ${P}, φ = ${c.phi}; at t_kick(${w.vcpus}) = ${fmtUs(kick.value)} (${kick.kind}) ` +
        (bp.vmap_overhead_10pct_of_tq_at_vcpus === null
          ? `its overhead stays under 10 % of T_q up to ${bp.max_vcpus_searched} vCPUs (the module's MAX_VCPUS_PER_TD) on this profile.`
          : `its overhead reaches 10 % of T_q from about ${bp.vmap_overhead_10pct_of_tq_at_vcpus} vCPUs on this profile (${pct(A.overhead_us.total, A.latency.mean_us)} of its mean latency here).`),
    )
  }
  const retries = strategies.filter((s) => res[s]!.failures.mapgpa_retries > 0)
  if (retries.length > 0) lines.push(`MapGPA retries (host asked the guest to retry): ${retries.map((s) => `${s} ${fmtNum(res[s]!.failures.mapgpa_retries)}`).join(', ')}.`)
  const swiotlb = res.swiotlb
  if (swiotlb) {
    lines.push(
      `Memory: swiotlb holds its whole pool shared (${fmtBytes(w.swiotlb_bytes)}, ${w.swiotlb_rule === 'coco' ? '6 % of RAM in [64 MiB, 1 GiB], rounded to a power of two' : 'as given'}) for the TD's lifetime; the pools of preshared-pool and upstream are small and permanent; vmap-mapgpa and dma-coherent return theirs after each request.`,
    )
  }
  const estimated = describeProfile(profile, w.vcpus).filter((p) => p.kind === 'estimated')
  if (estimated.length > 0) lines.push(`Estimated (not measured) primitives in this profile: ${estimated.map((p) => p.key).join(', ')}; see --json "profile" for sources.`)
  return lines
}

/** Run every strategy of the workload (w.strategies) on it. */
export function compareStrategies(w: Workload, profile: CostProfile, opts: CompareOptions): Comparison {
  const results: Partial<Record<StrategyName, StrategyResult>> = {}
  const capacity: Partial<Record<StrategyName, number>> = {}
  for (const s of w.strategies) {
    const driver = opts.driverFactory(s, {
      vcpus: w.vcpus,
      memory_bytes: w.memory_bytes,
      buffer_bytes: w.buffer_bytes,
      pool_bytes: w.pool_bytes,
      swiotlb_bytes: w.swiotlb_bytes,
      upstream_kernel: w.upstream_kernel,
      request_bytes: w.request_bytes,
      response_bytes: w.response_bytes,
      completion: w.completion,
      seed: w.seed,
    })
    const cap = driver.capacity()
    if (Number.isFinite(cap)) capacity[s] = cap
    results[s] = runStrategy(driver, w, profile, {onProgress: opts.onProgress ? (d, t) => opts.onProgress!(s, d, t) : undefined})
  }
  const tq = w.quote_time_us ?? profile.scalars.t_quote.value
  const maxV = opts.maxVcpus ?? MAX_VCPUS
  const poolSlots = capacity['preshared-pool'] ?? Number.POSITIVE_INFINITY
  const bp: Breakpoints = {
    vmap_overhead_10pct_of_tq_at_vcpus: vmapBreakpoint(results['vmap-mapgpa'], profile, tq, maxV),
    max_vcpus_searched: maxV,
    capacity,
    pool_slots: poolSlots,
    pool_exhausts_above_in_flight: poolSlots,
  }
  return {
    workload: w,
    strategies: [...w.strategies],
    pages_per_buffer: pagesPerBuffer(w),
    profile: {name: profile.name, title: profile.title, origin: profile.origin, primitives: describeProfile(profile, w.vcpus)},
    results,
    rows: rowsOf(results, w.strategies),
    breakpoints: bp,
    reading: reading(w, profile, w.strategies, results, bp),
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
