/**
 * Demo steps for the allocator comparison: the reference's three TD sizes through both real
 * allocators, and what the numbers say.
 */
import {guestDriverFactory} from '../app/cost.js'
import {compareSweep} from '../cost/compare.js'
import {builtinProfile} from '../cost/profiles.js'
import {sweepChart} from '../cost/report.js'
import {fmtUs} from '../cost/units.js'
import {writeOutputFile} from '../app/files.js'
import {join} from 'node:path'
import type {DemoStep} from './index.js'

export const ALLOC_STEPS: DemoStep[] = [
  {
    id: 'alloc-compare',
    title: 'Allocator comparison: vmap + MapGPA vs the pre-shared pool at 8, 32 and 248 vCPUs',
    async run(ctx) {
      const sw = compareSweep({requests: 200}, {key: 'vcpus', values: ['8', '32', '248']}, builtinProfile('granite-rapids')!, {driverFactory: guestDriverFactory()})
      const chart = join(ctx.workDir, 'alloc-compare.svg')
      writeOutputFile(chart, sweepChart(sw))
      const lines = sw.points.map((p) => {
        const A = p.comparison.results['vmap-mapgpa']
        const B = p.comparison.results['dma-pool']
        return (
          `${p.value.padStart(3)} vCPUs: vmap-mapgpa ${fmtUs(A.overhead_us.total)} and ${A.per_request.forced_exits} forced exits per request; ` +
          `dma-pool ${fmtUs(B.overhead_us.total)} and ${B.per_request.forced_exits} (converted ${B.init.ops.pages_to_shared} pages once)`
        )
      })
      const last = sw.points[sw.points.length - 1].comparison
      lines.push(`breakpoint: vmap-mapgpa's overhead reaches 10 % of the 4 ms quote time from ≈ ${last.breakpoints.vmap_overhead_10pct_of_tq_at_vcpus ?? '—'} vCPUs`)
      lines.push(`chart: ${chart}`)
      return {
        lines,
        data: {
          chart,
          points: sw.points.map((p) => ({
            vcpus: p.x,
            vmap_mapgpa_overhead_us: p.comparison.results['vmap-mapgpa'].overhead_us.total,
            dma_pool_overhead_us: p.comparison.results['dma-pool'].overhead_us.total,
            vmap_mapgpa_forced_exits_per_request: p.comparison.results['vmap-mapgpa'].per_request.forced_exits,
          })),
        },
      }
    },
  },
]
