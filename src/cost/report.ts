/**
 * Presentation of comparisons: the side-by-side text table, the sweep table, the SVG chart and the
 * --json shape (snake_case keys; strategy names become vmap_mapgpa / swiotlb / dma_coherent /
 * upstream / preshared_pool as keys).
 */
import {bold, dim, green, table} from '../cli/render.js'
import {renderChart, type ChartPanel} from './chart.js'
import type {CompareRow, Comparison, SweepResult} from './compare.js'
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

function fmtValue(v: number | undefined, unit: string): string {
  if (v === undefined) return '—'
  switch (unit) {
    case 'us':
      return fmtUs(v)
    case 'bytes':
      return fmtBytes(Math.round(v))
    case 'req/s':
      return `${fmtNum(Number(v.toPrecision(4)))}/s`
    default:
      return fmtNum(Number.isInteger(v) ? v : Number(v.toFixed(2)))
  }
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

function winnerCell(r: CompareRow, all: number): string {
  if (r.winners.length === all) return dim('tie')
  return green(r.winners.join(', '))
}

export function renderComparisonText(cmp: Comparison): string {
  const out: string[] = []
  out.push(bold('Allocator comparison: ') + describeWorkload(cmp.workload))
  out.push(dim(`profile ${cmp.profile.name}: ${cmp.profile.title}`))
  out.push('')
  out.push(table(['metric', ...cmp.strategies, 'winner'], cmp.rows.map((r) => [r.label, ...cmp.strategies.map((s) => fmtValue(r.values[s], r.unit)), winnerCell(r, cmp.strategies.length)])))
  out.push('')
  out.push(bold('Reading'))
  for (const l of cmp.reading) out.push(`  • ${l}`)
  return out.join('\n')
}

/** Sweep table, one row per (point, strategy): the figures a chart shows. */
export function renderSweepText(sw: SweepResult): string {
  const first = sw.points[0].comparison
  const out: string[] = []
  out.push(bold(`Allocator comparison, sweep over ${sw.key}: `) + dim(describeWorkload(first.workload).replace(/^/, 'first point: ')))
  out.push(dim(`profile ${first.profile.name}: ${first.profile.title}`))
  out.push('')
  const rows: string[][] = []
  for (const p of sw.points) {
    const lat = p.comparison.rows.find((r) => r.id === 'latency_mean')!
    p.comparison.strategies.forEach((s, i) => {
      const R = p.comparison.results[s]!
      rows.push([
        i === 0 ? p.value : '',
        s,
        fmtUs(R.latency.mean_us),
        fmtUs(R.overhead_us.total),
        fmtNum(Number(R.per_request.forced_exits.toFixed(1))),
        `${R.dm_splits['1g']}/${R.dm_splits['2m']}`,
        fmtNum(R.failures.pool_exhausted),
        lat.winners.length < p.comparison.strategies.length && lat.winners.includes(s) ? green('◀') : '',
      ])
    })
  }
  out.push(table([sw.key, 'strategy', 'latency', 'alloc+free', 'exits/req', 'splits 1G/2M', 'pool full', 'fastest'], rows))
  out.push('')
  out.push(bold('Reading (last point)'))
  for (const l of sw.points[sw.points.length - 1].comparison.reading) out.push(`  • ${l}`)
  return out.join('\n')
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

function resultJson(r: StrategyResult): Record<string, unknown> {
  return {...r}
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null)

export function comparisonJson(cmp: Comparison): Record<string, unknown> {
  const results: Record<string, unknown> = {}
  for (const s of cmp.strategies) results[strategyKey(s)] = resultJson(cmp.results[s]!)
  const capacity: Record<string, number> = {}
  for (const [s, v] of Object.entries(cmp.breakpoints.capacity)) capacity[strategyKey(s as StrategyName)] = v
  return {
    workload: cmp.workload,
    strategies: cmp.strategies,
    pages_per_buffer: cmp.pages_per_buffer,
    profile: cmp.profile,
    results,
    rows: cmp.rows.map((r) => {
      const values: Record<string, number | undefined> = {}
      for (const s of cmp.strategies) values[strategyKey(s)] = r.values[s]
      return {id: r.id, label: r.label, unit: r.unit, better: r.better, ...values, winner: r.winner, winners: r.winners}
    }),
    breakpoints: {
      ...cmp.breakpoints,
      capacity,
      pool_slots: finiteOrNull(cmp.breakpoints.pool_slots),
      pool_exhausts_above_in_flight: finiteOrNull(cmp.breakpoints.pool_exhausts_above_in_flight),
    },
    reading: cmp.reading,
  }
}

export function sweepJson(sw: SweepResult): Record<string, unknown> {
  return {sweep: {key: sw.key, points: sw.points.map((p) => ({value: p.value, x: p.x, ...comparisonJson(p.comparison)}))}}
}
