/**
 * `alloc compare` output: the side-by-side text table, the sweep table and the --json shape
 * (snake_case keys; strategy names become vmap_mapgpa / dma_pool as keys).
 */
import type {CompareRow, Comparison, SweepResult} from '../cost/compare.js'
import type {StrategyResult} from '../cost/engine.js'
import {describeWorkload} from '../cost/report.js'
import {fmtBytes, fmtNum, fmtUs} from '../cost/units.js'
import {STRATEGIES, type StrategyName} from '../cost/workload.js'
import {bold, dim, green, table} from './render.js'

const KEY: Record<StrategyName, 'vmap_mapgpa' | 'dma_pool'> = {'vmap-mapgpa': 'vmap_mapgpa', 'dma-pool': 'dma_pool'}

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
