/**
 * A comparison in words and as a picture (pure): the one-line workload description and the SVG
 * sweep chart. The text tables and the --json shape are src/cli/alloc-render.ts's.
 */
import {renderChart} from './chart.js'
import type {SweepResult} from './compare.js'
import type {StrategyResult} from './engine.js'
import {fmtBytes, fmtNum, fmtUs} from './units.js'
import {STRATEGIES, pagesPerBuffer, type StrategyName, type Workload} from './workload.js'

const COLOR: Record<StrategyName, string> = {'vmap-mapgpa': '#d62728', 'dma-pool': '#1f77b4'}

/** The workload in one line (the tables' heading, the chart's subtitle). */
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
