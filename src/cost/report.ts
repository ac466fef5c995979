/**
 * A comparison in words and as a picture (pure): the one-line workload description and the SVG
 * sweep chart. The text tables and the --json shape are src/cli/alloc-render.ts's.
 */
import {renderChart, type ChartPanel} from './chart.js'
import type {SweepResult} from './compare.js'
import type {StrategyResult} from './engine.js'
import {fmtBytes, fmtNum, fmtUs} from './units.js'
import {SWEEP_AXIS, pagesPerBuffer, type StrategyName, type Workload} from './workload.js'

/** The JSON key of a strategy. */
export const strategyKey = (s: StrategyName): string => s.replace(/-/g, '_')

const COLOR: Record<StrategyName, string> = {
  'vmap-mapgpa': '#d62728',
  swiotlb: '#2ca02c',
  'dma-coherent': '#ff7f0e',
  upstream: '#9467bd',
  'preshared-pool': '#1f77b4',
}

export function describeWorkload(w: Workload): string {
  const P = pagesPerBuffer(w)
  const slots = Math.floor(w.pool_bytes / w.buffer_bytes)
  const arrival = w.rate === undefined ? `closed loop, ${w.concurrency} caller${w.concurrency === 1 ? '' : 's'}` : `Poisson ${fmtNum(w.rate)}/s, ≤ ${fmtNum(w.concurrency)} in flight`
  const completion = w.completion === 'notify' ? 'notify interrupt' : `poll${w.poll_interval_us !== undefined ? ` every ${fmtUs(w.poll_interval_us)}` : ''}`
  const pool = w.strategies.includes('preshared-pool') ? `, pre-shared pool ${fmtBytes(w.pool_bytes)}${w.pool_rule === 'swiotlb' ? ' (SWIOTLB rule)' : ''} = ${slots} buffer${slots === 1 ? '' : 's'}` : ''
  const sw = w.strategies.includes('swiotlb') ? `, SWIOTLB ${fmtBytes(w.swiotlb_bytes)}${w.swiotlb_rule === 'coco' ? ' (CoCo rule)' : ''}` : ''
  const up = w.strategies.includes('upstream') ? `, upstream = tdx-guest v${w.upstream_kernel}` : ''
  return `${fmtNum(w.requests)} requests, ${fmtBytes(w.buffer_bytes)} buffers (P = ${P}), ${arrival}, ${w.vcpus} vCPUs, ${fmtBytes(w.memory_bytes)} TD${pool}${sw}${up}, ${completion}`
}

/** x-axis label: the swept flag and what its values are. */
function axisLabel(key: SweepResult['key']): string {
  const a = SWEEP_AXIS[key]
  return a.unit === 'bytes' ? `${a.label}, bytes` : a.unit === 'us' ? `${a.label}, µs` : a.label
}

/**
 * SVG: mean latency, allocator time, forced exits, direct-map splits and pool exhaustion per
 * strategy against the swept parameter; points where a strategy's pool ran out are ringed.
 */
export function sweepChart(sw: SweepResult): string {
  const first = sw.points[0].comparison
  const strategies = first.strategies
  const exhausted = (s: StrategyName) => sw.points.map((p) => (p.comparison.results[s]?.failures.pool_exhausted ?? 0) > 0)
  const series = (get: (r: StrategyResult) => number, mark = false) =>
    strategies.map((s) => ({name: s, color: COLOR[s], values: sw.points.map((p) => get(p.comparison.results[s]!)), ...(mark ? {marks: exhausted(s)} : {})}))
  const panels: ChartPanel[] = [
    {title: 'Mean request latency', yLabel: 'latency (ms)', series: series((r) => r.latency.mean_us / 1000, true)},
    {title: 'Allocator time per request', yLabel: 'alloc + free (µs)', series: series((r) => r.overhead_us.total)},
    {title: 'Forced exits of other vCPUs per request', yLabel: 'exits per request', series: series((r) => r.per_request.forced_exits)},
    {title: 'Direct-map splits (1 GiB + 2 MiB, incl. init)', yLabel: 'splits', series: series((r) => r.dm_splits['1g'] + r.dm_splits['2m'])},
    {title: 'Pool exhaustion: requests refused or made to wait', yLabel: 'per 1000 requests', series: series((r) => (1000 * r.failures.pool_exhausted) / Math.max(1, r.requests), true)},
  ]
  return renderChart({
    title: `GetQuote shared-buffer strategies by ${sw.key}`,
    subtitle: `profile ${first.profile.name}; ${describeWorkload(first.workload)}`,
    xLabel: axisLabel(sw.key),
    xs: sw.points.map((p) => p.x),
    xLabels: sw.points.map((p) => p.value),
    panels,
    columns: 3,
    markLabel: 'pool ran out at this point',
  })
}
