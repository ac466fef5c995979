/**
 * The queueing / time model of the engine, checked against closed-form results (cost-model §3.8):
 * a deterministic server with polled completion, closed-loop latency C·S, the M/D/1 waiting time.
 * The allocator here is a zero-cost test double so only the time model is under test; the real
 * allocators are driven in compare.test.ts.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import type {AllocatorDriver} from '../../src/cost/driver.js'
import {EXACT_LATENCIES, LatencyRecorder, runStrategy, seededUniform} from '../../src/cost/engine.js'
import {zeroOps} from '../../src/cost/ops.js'
import {applyOverrides} from '../../src/cost/profile-load.js'
import {builtinProfile} from '../../src/cost/profiles.js'
import {parseWorkload, type WorkloadInput} from '../../src/cost/workload.js'

/** A driver that costs nothing and never runs out (capacity = slots, Infinity by default). */
function nullDriver(slots = Infinity): AllocatorDriver<number> & {maxInFlight: number} {
  let inFlight = 0
  const d = {
    strategy: 'preshared-pool' as const,
    maxInFlight: 0,
    init: () => zeroOps(),
    begin() {
      if (inFlight >= slots) return {ok: false as const, reason: 'pool_exhausted' as const, ops: zeroOps()}
      inFlight++
      d.maxInFlight = Math.max(d.maxInFlight, inFlight)
      return {ok: true as const, handle: inFlight, alloc: zeroOps(), path: zeroOps()}
    },
    finish() {
      inFlight--
      return {path: zeroOps(), free: zeroOps()}
    },
    sharedBytes: () => inFlight * 8192,
    capacity: () => slots,
  }
  return d
}

// Interrupt delivery priced at zero so the host service time stands alone.
const profile = applyOverrides(builtinProfile('granite-rapids')!, ['t_notify=0'])
const wl = (x: WorkloadInput) => parseWorkload({'quote-time': '4ms', ...x})

test('one caller, notify: latency is exactly the host service time (+ t_notify)', () => {
  const withIrq = runStrategy(nullDriver(), wl({requests: 5, notify: true}), builtinProfile('granite-rapids')!)
  assert.is(withIrq.latency.mean_us, 4000 + builtinProfile('granite-rapids')!.scalars.t_notify.value)
  assert.is(withIrq.ops.notifies, 5)
  const r = runStrategy(nullDriver(), wl({requests: 50, notify: true}), profile)
  assert.is(r.completed, 50)
  assert.is(r.latency.mean_us, 4000)
  assert.is(r.latency.p99_us, 4000)
  assert.ok(Math.abs(r.throughput_per_s - 250) < 1e-9)
})

test('polled completion rounds up to the poll interval (Δ·ceil(T_q/Δ))', () => {
  const r5 = runStrategy(nullDriver(), wl({requests: 20, 'poll-interval': '5ms'}), profile)
  assert.is(r5.latency.mean_us, 5000)
  assert.is(r5.ops.polls, 20, 'one status check per request when T_q < Δ')
  const r1 = runStrategy(nullDriver(), wl({requests: 3, 'poll-interval': '1s'}), profile)
  assert.is(r1.latency.p50_us, 1_000_000) // mainline 1 s poll: the ≈ 1 s floor per quote
  const r3 = runStrategy(nullDriver(), wl({requests: 10, 'poll-interval': '3ms'}), profile)
  assert.is(r3.latency.mean_us, 6000) // ceil(4/3) = 2 polls
  assert.is(r3.ops.polls, 20)
})

test('closed loop with C callers and one host worker: latency → C·S, throughput stays 1/S', () => {
  const r = runStrategy(nullDriver(), wl({requests: 4000, concurrency: 8, notify: true}), profile)
  assert.ok(Math.abs(r.latency.p50_us - 8 * 4000) < 1e-6, `p50 ${r.latency.p50_us}`)
  assert.ok(Math.abs(r.throughput_per_s - 250) / 250 < 0.001, `throughput ${r.throughput_per_s}`)
  const r2 = runStrategy(nullDriver(), wl({requests: 4000, concurrency: 8, notify: true, 'host-workers': 8}), profile)
  assert.is(r2.latency.p50_us, 4000)
  assert.ok(Math.abs(r2.throughput_per_s - 2000) / 2000 < 0.001)
})

test('open loop Poisson arrivals match the M/D/1 waiting time', () => {
  // λ = 100/s, S = 4 ms: W = S + λS²/(2(1 − λS)) = 4 ms + 1.333 ms.
  const lambda = 100
  const S = 4000
  const expected = S + ((lambda / 1e6) * S * S) / (2 * (1 - (lambda / 1e6) * S))
  const r = runStrategy(nullDriver(), wl({requests: 100_000, rate: lambda, concurrency: 1_000_000, notify: true}), profile)
  const err = Math.abs(r.latency.mean_us - expected) / expected
  assert.ok(err < 0.03, `mean ${r.latency.mean_us} vs M/D/1 ${expected} (${(err * 100).toFixed(2)} %)`)
  assert.ok(Math.abs(r.throughput_per_s - lambda) / lambda < 0.02)
})

test('a full pool makes requests wait (FIFO) and counts each refusal', () => {
  const d = nullDriver(2)
  const r = runStrategy(d, wl({requests: 100, concurrency: 5, notify: true, 'host-workers': 5}), profile)
  assert.is(r.completed, 100)
  assert.is(d.maxInFlight, 2)
  assert.ok(r.failures.pool_exhausted > 0)
  assert.ok(r.queue_wait_us > 0)
  const ok = runStrategy(nullDriver(5), wl({requests: 100, concurrency: 5, notify: true}), profile)
  assert.is(ok.failures.pool_exhausted, 0)
  assert.is(ok.queue_wait_us, 0)
})

test('on-exhaustion=fail fails the refused requests instead of waiting', () => {
  const r = runStrategy(nullDriver(1), wl({requests: 40, concurrency: 2, notify: true, 'on-exhaustion': 'fail'}), profile)
  assert.ok(r.failures.failed_requests > 0)
  assert.is(r.completed + r.failures.failed_requests, 40)
})

test('memory held shared: time-weighted mean and peak', () => {
  const r = runStrategy(nullDriver(), wl({requests: 10, notify: true}), profile)
  assert.is(r.shared_bytes.peak, 8192)
  // One buffer held for the whole run (zero-cost alloc/free): mean = 8 KiB.
  assert.ok(Math.abs(r.shared_bytes.mean - 8192) < 1e-6, String(r.shared_bytes.mean))
})

test('seeded arrivals are deterministic and uniform-looking', () => {
  const a = seededUniform('x')
  const b = seededUniform('x')
  const xs = Array.from({length: 10_000}, () => a())
  assert.equal(xs.slice(0, 5), Array.from({length: 5}, () => b()))
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  assert.ok(Math.abs(mean - 0.5) < 0.02)
  assert.not.equal(seededUniform('y')(), xs[0])
})

test('latencies: exact nearest-rank percentiles while few, a bounded histogram beyond (within 0.1 %, exact mean and max)', () => {
  const values = (n: number) => Array.from({length: n}, (_, i) => 1000 + ((i * 7919) % n))
  const exact = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.max(1, Math.ceil(q * xs.length)) - 1]
  const small = new LatencyRecorder()
  const few = values(1000)
  for (const v of few) small.add(v)
  const s = small.stats()
  assert.is(s.p50_us, exact(few, 0.5))
  assert.is(s.p99_us, exact(few, 0.99))
  const big = new LatencyRecorder()
  const many = values(EXACT_LATENCIES * 2 + 1)
  for (const v of many) big.add(v)
  const b = big.stats()
  for (const [got, q] of [[b.p50_us, 0.5], [b.p99_us, 0.99]] as const) {
    const want = exact(many, q)
    assert.ok(Math.abs(got - want) / want <= 1e-3, `p${q * 100}: ${got} vs ${want}`)
  }
  assert.is(b.max_us, many.reduce((m, x) => Math.max(m, x), 0))
  assert.ok(Math.abs(b.mean_us - many.reduce((a, x) => a + x, 0) / many.length) < 1e-6)
  // a repeated value is reported exactly whatever the count
  const flat = new LatencyRecorder()
  for (let i = 0; i < EXACT_LATENCIES + 10; i++) flat.add(4000)
  assert.equal(flat.stats(), {mean_us: 4000, p50_us: 4000, p99_us: 4000, max_us: 4000})
})

test('a refusal that does not block (SWIOTLB full, -EBUSY) fails the request even under on-exhaustion=wait', () => {
  const d = nullDriver(1)
  const begin = d.begin.bind(d)
  d.begin = () => {
    const r = begin()
    return r.ok ? r : {...r, blocking: false}
  }
  const r = runStrategy(d, wl({requests: 30, concurrency: 3, notify: true}), profile)
  assert.ok(r.failures.failed_requests > 0)
  assert.is(r.completed + r.failures.failed_requests, 30)
  assert.is(r.queue_wait_us, 0, 'nobody waited')
})

test.run()
