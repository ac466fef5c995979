/**
 * Demo steps for the allocator comparison: the reference's three TD sizes through every real
 * strategy, and what the numbers say.
 */
import {guestDriverFactory, simulatedMaxVcpus} from '../app/cost.js'
import {compareSweep} from '../cost/compare.js'
import {builtinProfile} from '../cost/profiles.js'
import {strategyKey, sweepChart} from '../cost/report.js'
import {fmtUs} from '../cost/units.js'
import {writeOutputFile} from '../app/files.js'
import {join} from 'node:path'
import type {DemoStep} from './index.js'

export const ALLOC_STEPS: DemoStep[] = [
  {
    id: 'alloc-compare',
    title: 'Allocator comparison: every GetQuote buffer strategy at 8, 32 and 248 vCPUs',
    async run(ctx) {
      const sw = compareSweep({requests: 200}, {key: 'vcpus', values: ['8', '32', '248']}, builtinProfile('granite-rapids')!, {
        driverFactory: guestDriverFactory(),
        maxVcpus: simulatedMaxVcpus(),
      })
      const chart = join(ctx.workDir, 'alloc-compare.svg')
      writeOutputFile(chart, sweepChart(sw))
      const lines = sw.points.map((p) => {
        const parts = p.comparison.strategies.map((s) => {
          const r = p.comparison.results[s]!
          return `${s} ${fmtUs(r.overhead_us.total)}/${r.per_request.forced_exits} exits`
        })
        return `${p.value.padStart(3)} vCPUs: ${parts.join('; ')}`
      })
      const last = sw.points[sw.points.length - 1].comparison
      const sw248 = last.results.swiotlb!
      lines.push(`swiotlb: ${sw248.dm_splits['1g'] + sw248.dm_splits['2m']} direct-map splits, all at boot (${sw248.init.ops.pages_to_shared} pages converted once); dma-coherent splits at run time`)
      lines.push(`breakpoint: vmap-mapgpa's overhead reaches 10 % of the 4 ms quote time from ≈ ${last.breakpoints.vmap_overhead_10pct_of_tq_at_vcpus ?? '—'} vCPUs`)
      lines.push(`chart: ${chart}`)
      return {
        lines,
        data: {
          chart,
          points: sw.points.map((p) => {
            const per: Record<string, unknown> = {vcpus: p.x}
            for (const s of p.comparison.strategies) {
              const r = p.comparison.results[s]!
              per[`${strategyKey(s)}_overhead_us`] = r.overhead_us.total
              per[`${strategyKey(s)}_forced_exits_per_request`] = r.per_request.forced_exits
            }
            return per
          }),
        },
      }
    },
  },
]
