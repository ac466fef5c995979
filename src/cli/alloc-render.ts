/**
 * `alloc compare` output: the side-by-side text table, the sweep table and the --json shape
 * (snake_case keys; strategy names become vmap_mapgpa / swiotlb / dma_coherent / upstream /
 * preshared_pool as keys).
 */
import type {CompareRow, Comparison, SweepResult} from '../cost/compare.js'
import type {StrategyResult} from '../cost/engine.js'
import {describeWorkload, strategyKey} from '../cost/report.js'
import {fmtBytes, fmtNum, fmtUs} from '../cost/units.js'
import type {StrategyName} from '../cost/workload.js'
import {bold, dim, green, table} from './render.js'

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
