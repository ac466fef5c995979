/**
 * Allocator comparison: how fast the tool itself models requests. The bar: one million
 * modelled requests (both strategies) in under 10 s; plus the cost of driving every request
 * through the real guest path (no replay), per request.
 */
import {guestDriverFactory} from '../src/app/cost.js'
import {compareStrategies} from '../src/cost/compare.js'
import {builtinProfile} from '../src/cost/profiles.js'
import {parseWorkload} from '../src/cost/workload.js'
import type {BenchResult} from './index.js'

function timed(requests: number, calibrate?: number): {ms: number; cpu_ms: number} {
  const w = parseWorkload({requests, concurrency: 4, vcpus: 32})
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  compareStrategies(w, builtinProfile('granite-rapids')!, {driverFactory: guestDriverFactory(calibrate === undefined ? {} : {calibrate})})
  const cpu = process.cpuUsage(c0)
  return {ms: performance.now() - t0, cpu_ms: (cpu.user + cpu.system) / 1000}
}

export default async function (): Promise<BenchResult[]> {
  const exactN = 2000
  const exact = timed(exactN, Number.POSITIVE_INFINITY)
  const million = timed(1_000_000)
  return [
    {name: 'alloc compare: 1,000,000 modelled requests (both strategies)', value: Number((million.ms / 1000).toFixed(2)), unit: 's', note: `target < 10 s; CPU ${(million.cpu_ms / 1000).toFixed(2)} s`},
    {name: 'alloc compare: modelled requests per second (with replay)', value: Math.round(2_000_000 / (million.ms / 1000)), unit: 'req/s', note: 'both strategies counted'},
    {name: 'alloc compare: one request through the real guest path (--exact)', value: Number(((exact.ms * 1000) / (2 * exactN)).toFixed(1)), unit: 'µs', note: `${exactN} requests per strategy, no replay`},
  ]
}
