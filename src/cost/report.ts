/**
 * Presentation of comparisons: the side-by-side text table, the sweep table, the SVG chart and the
 * --json shape (snake_case keys; strategy names become vmap_mapgpa / dma_pool as keys).
 */
import {bold, dim, green, table} from '../cli/render.js'
import {renderChart} from './chart.js'
import type {CompareRow, Comparison, SweepResult} from './compare.js'
import type {StrategyResult} from './engine.js'
import {fmtBytes, fmtNum, fmtUs} from './units.js'
import {STRATEGIES, pagesPerBuffer, type StrategyName, type Workload} from './workload.js'

const KEY: Record<StrategyName, 'vmap_mapgpa' | 'dma_pool'> = {'vmap-mapgpa': 'vmap_mapgpa', 'dma-pool': 'dma_pool'}
const COLOR: Record<StrategyName, string> = {'vmap-mapgpa': '#d62728', 'dma-pool': '#1f77b4'}

function fmtValue(v: number, unit: string): string {
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
  return (
    `${fmtNum(w.requests)} requests, ${fmtBytes(w.buffer_bytes)} buffers (P = ${P}), ${arrival}, ${w.vcpus} vCPUs, ${fmtBytes(w.memory_bytes)} TD, ` +
    `pool ${fmtBytes(w.pool_bytes)}${w.pool_rule === 'swiotlb' ? ' (SWIOTLB rule)' : ''} = ${slots} buffer${slots === 1 ? '' : 's'}, ${completion}`
  )
}

function winnerCell(r: CompareRow): string {
  return r.winner === 'tie' ? dim('tie') : green(r.winner)
}

export function renderComparisonText(cmp: Comparison): string {
  const out: string[] = []
  out.push(bold('Allocator comparison: ') + describeWorkload(cmp.workload))
  out.push(dim(`profile ${cmp.profile.name}: ${cmp.profile.title}`))
  out.push('')
  out.push(
    table(
      ['metric', 'vmap-mapgpa', 'dma-pool', 'winner'],
      cmp.rows.map((r) => [r.label, fmtValue(r.values['vmap-mapgpa'], r.unit), fmtValue(r.values['dma-pool'], r.unit), winnerCell(r)]),
    ),
  )
  out.push('')
  out.push(bold('Reading'))
  for (const l of cmp.reading) out.push(`  • ${l}`)
  return out.join('\n')
}

export function renderSweepText(sw: SweepResult): string {
  const first = sw.points[0].comparison
  const out: string[] = []
  out.push(bold(`Allocator comparison, sweep over ${sw.key}: `) + dim(describeWorkload(first.workload).replace(/^/, 'first point: ')))
  out.push(dim(`profile ${first.profile.name}: ${first.profile.title}`))
  out.push('')
  const rows = sw.points.map((p) => {
    const A = p.comparison.results['vmap-mapgpa']
    const B = p.comparison.results['dma-pool']
    const lat = p.comparison.rows.find((r) => r.id === 'latency_mean')!
    return [
      p.value,
      fmtUs(A.latency.mean_us),
      fmtUs(B.latency.mean_us),
      fmtUs(A.overhead_us.total),
      fmtUs(B.overhead_us.total),
      fmtNum(Number(A.per_request.forced_exits.toFixed(1))),
      fmtNum(Number(B.per_request.forced_exits.toFixed(1))),
      fmtNum(B.failures.pool_exhausted),
      winnerCell(lat),
    ]
  })
  out.push(
    table([sw.key, 'latency vmap', 'latency pool', 'alloc vmap', 'alloc pool', 'exits/req vmap', 'exits/req pool', 'pool exhausted', 'latency winner'], rows),
  )
  out.push('')
  out.push(bold('Reading (last point)'))
  for (const l of sw.points[sw.points.length - 1].comparison.reading) out.push(`  • ${l}`)
  return out.join('\n')
}

/** SVG: mean latency, allocator time and forced exits per request against the swept parameter. */
export function sweepChart(sw: SweepResult): string {
  const series = (get: (r: StrategyResult) => number) =>
    STRATEGIES.map((s) => ({name: s, color: COLOR[s], values: sw.points.map((p) => get(p.comparison.results[s]))}))
  const first = sw.points[0].comparison
  return renderChart({
    title: `Shared GetQuote buffer: vmap + MapGPA vs pre-shared pool, by ${sw.key}`,
    subtitle: `profile ${first.profile.name}; ${describeWorkload(first.workload)}`,
    xLabel: sw.key,
    xs: sw.points.map((p) => p.x),
    xLabels: sw.points.map((p) => p.value),
    panels: [
      {title: 'Mean request latency', yLabel: 'latency (ms)', series: series((r) => r.latency.mean_us / 1000)},
      {title: 'Allocator time per request', yLabel: 'alloc + free (µs)', series: series((r) => r.overhead_us.total)},
      {title: 'Forced exits of other vCPUs per request', yLabel: 'exits per request', series: series((r) => r.per_request.forced_exits)},
    ],
  })
}

function resultJson(r: StrategyResult): Record<string, unknown> {
  return {...r}
}

export function comparisonJson(cmp: Comparison): Record<string, unknown> {
  const results: Record<string, unknown> = {}
  for (const s of STRATEGIES) results[KEY[s]] = resultJson(cmp.results[s])
  return {
    workload: cmp.workload,
    pages_per_buffer: cmp.pages_per_buffer,
    profile: cmp.profile,
    results,
    rows: cmp.rows.map((r) => ({id: r.id, label: r.label, unit: r.unit, better: r.better, vmap_mapgpa: r.values['vmap-mapgpa'], dma_pool: r.values['dma-pool'], winner: r.winner})),
    breakpoints: {...cmp.breakpoints, pool_slots: finiteOrNull(cmp.breakpoints.pool_slots), pool_exhausts_above_in_flight: finiteOrNull(cmp.breakpoints.pool_exhausts_above_in_flight)},
    reading: cmp.reading,
  }
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null)

export function sweepJson(sw: SweepResult): Record<string, unknown> {
  return {sweep: {key: sw.key, points: sw.points.map((p) => ({value: p.value, x: p.x, ...comparisonJson(p.comparison)}))}}
}
