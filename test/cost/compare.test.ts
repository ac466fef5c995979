/**
 * The engine driving the REAL allocators (src/guest/alloc) through the real quote request path,
 * pinned to the reference's worked numbers (shared/reference/cost-model.md §3.3, P = 2, φ = 1) and
 * to the counters of a real `quote generate` run.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {guestDriverFactory, opsFromCounters} from '../../src/app/cost.js'
import {compareStrategies} from '../../src/cost/compare.js'
import {OP_KEYS} from '../../src/cost/ops.js'
import {builtinProfile} from '../../src/cost/profiles.js'
import {parseWorkload, type WorkloadInput} from '../../src/cost/workload.js'
import {generateQuote} from '../../src/app/quote.js'
import {StateStore} from '../../src/state/store.js'

const profile = builtinProfile('granite-rapids')!
const exact = guestDriverFactory({calibrate: Number.POSITIVE_INFINITY})
const run = (x: WorkloadInput, factory = exact) => compareStrategies(parseWorkload(x), profile, {driverFactory: factory})

// cost-model.md §3.3 table: V → A_alloc, A_free, A total (µs), forced exits per request.
const TABLE = [
  {v: 8, alloc: 41, free: 41, total: 82, exits: 21},
  {v: 32, alloc: 49, free: 45, total: 94, exits: 93},
  {v: 248, alloc: 371, free: 206, total: 580, exits: 741},
]
const within = (got: number, want: number, rel: number) => Math.abs(got - want) <= rel * want

for (const row of TABLE) {
  test(`vmap-mapgpa overhead at ${row.v} vCPUs is within 10 % of the reference (${row.total} µs)`, () => {
    const cmp = run({requests: 20, vcpus: row.v})
    const A = cmp.results['vmap-mapgpa']!
    assert.is(cmp.pages_per_buffer, 2)
    assert.ok(within(A.overhead_us.total, row.total, 0.1), `total ${A.overhead_us.total} vs ${row.total}`)
    assert.ok(within(A.overhead_us.alloc, row.alloc, 0.1), `alloc ${A.overhead_us.alloc} vs ${row.alloc}`)
    assert.ok(within(A.overhead_us.free, row.free, 0.1), `free ${A.overhead_us.free} vs ${row.free}`)
    assert.ok(within(A.per_request.forced_exits, row.exits, 0.1), `forced exits ${A.per_request.forced_exits} vs ${row.exits}`)
    // §3.7: 2·P S-EPT transitions and two MapGPA calls per request.
    assert.is(A.per_request.sept_changes, 4)
    assert.is(A.per_request.mapgpa_calls, 2)
    assert.is(A.per_request.pages_accepted, 2)
  })
}

test('preshared-pool (formerly dma-pool) converts once at init and never per request', () => {
  const cmp = run({requests: 50, concurrency: 4, vcpus: 32})
  const B = cmp.results['preshared-pool']!
  assert.is(B.init.ops.pages_to_shared, 16) // 64 KiB pool
  assert.ok(B.init.ops.mapgpa_calls >= 1)
  for (const k of ['pages_converted', 'pages_accepted', 'mapgpa_calls', 'sept_changes', 'forced_exits', 'tlb_flushes'] as const) {
    assert.is(B.per_request[k], 0, k)
  }
  assert.is(B.ops.pages_to_shared + B.ops.pages_to_private + B.ops.pages_accepted, 0)
  assert.is(B.per_request.tdvmcalls, 1) // GetQuote only
})

test('pool exhaustion appears exactly when in-flight requests exceed the slots', () => {
  for (const slots of [1, 3]) {
    const pool = `${slots * 8}KiB`
    const at = run({requests: 40, concurrency: slots, 'pool-size': pool, 'host-workers': 8})
    assert.is(at.results['preshared-pool']!.failures.pool_exhausted, 0, `C = ${slots} = slots`)
    assert.is(at.breakpoints.pool_slots, slots)
    const over = run({requests: 40, concurrency: slots + 1, 'pool-size': pool, 'host-workers': 8})
    assert.ok(over.results['preshared-pool']!.failures.pool_exhausted > 0, `C = ${slots + 1} > slots`)
    assert.is(over.results['preshared-pool']!.completed, 40)
    assert.ok(over.results['preshared-pool']!.queue_wait_us > 0)
    // vmap-mapgpa has no pool: never exhausted.
    assert.is(over.results['vmap-mapgpa']!.failures.pool_exhausted, 0)
  }
})

test('direct-map splits follow the documented bounds', () => {
  // vmap leaves the direct map alone; B0 (one 8 KiB buffer) splits ≤ 1 × 1G + ≤ 1 × 2M at init only.
  const b0 = run({requests: 30, 'pool-size': '8KiB'})
  const A = b0.results['vmap-mapgpa']!
  assert.equal([A.dm_splits['1g'], A.dm_splits['2m']], [0, 0])
  const B = b0.results['preshared-pool']!
  assert.ok(B.dm_splits['1g'] <= 1 && B.dm_splits['2m'] <= 1, JSON.stringify(B.dm_splits))
  assert.is(B.dm_splits['1g'], B.dm_splits.init_1g)
  assert.is(B.dm_splits['2m'], B.dm_splits.init_2m)
  // B1 (SWIOTLB-sized, 2 MiB aligned): ≤ 2 + 2 edge splits, all at init.
  const b1 = run({requests: 10, memory: '4GiB', 'pool-size': 'swiotlb'})
  const P = b1.results['preshared-pool']!
  // Issue 16: the kernel rounds the CoCo size to a power of two once the areas are set
  // (swiotlb_adjust_nareas): 6 % of 4 GiB → 256 MiB, as a 4 GiB TD's dmesg says ("roundup to 256MB", intel/tdx-linux #5).
  assert.is(b1.workload.pool_bytes, 256 * 1024 * 1024)
  assert.ok(P.dm_splits['1g'] <= 2 && P.dm_splits['2m'] <= 2, JSON.stringify(P.dm_splits))
  assert.is(P.dm_splits['1g'] + P.dm_splits['2m'], P.dm_splits.init_1g + P.dm_splits.init_2m)
})

test('counters equal those of a real quote generate run (one engine)', async () => {
  const store = new StateStore(mkdtempSync(join(tmpdir(), 'tdxkit-cost-')))
  // dma-coherent right after vmap-mapgpa: both on a direct map nothing has split yet, as in a fresh comparison TD.
  for (const strategy of ['vmap-mapgpa', 'dma-coherent', 'upstream', 'preshared-pool', 'swiotlb'] as const) {
    const real = await generateQuote(store, {input: {reportData: Buffer.alloc(64, 7)}, strategy})
    const cmp = run({requests: 1, 'response-size': String(real.quote.length), strategies: strategy})
    const mine = cmp.results[strategy]!.ops
    const theirs = opsFromCounters(real.request)
    for (const k of OP_KEYS) assert.is(mine[k], theirs[k], `${strategy} ${k}: alloc compare ${mine[k]} vs quote generate ${theirs[k]}`)
  }
})

test('steady-state replay gives the same figures as driving every request', () => {
  const x: WorkloadInput = {requests: 1500, concurrency: 6, vcpus: 64, 'pool-size': '32KiB'}
  const a = run(x)
  const b = run(x, guestDriverFactory({calibrate: 200}))
  for (const s of ['vmap-mapgpa', 'swiotlb', 'dma-coherent', 'upstream', 'preshared-pool'] as const) {
    assert.equal(b.results[s]!.ops, a.results[s]!.ops, s)
    assert.equal(b.results[s]!.latency, a.results[s]!.latency, s)
    assert.is(b.results[s]!.failures.pool_exhausted, a.results[s]!.failures.pool_exhausted)
    assert.ok(Math.abs(b.results[s]!.shared_bytes.mean - a.results[s]!.shared_bytes.mean) < 1e-6)
  }
})

test('breakpoint: vmap overhead reaches 10 % of T_q between 32 and 248 vCPUs on Granite Rapids', () => {
  const cmp = run({requests: 5})
  const v = cmp.breakpoints.vmap_overhead_10pct_of_tq_at_vcpus
  assert.ok(v !== null && v > 32 && v <= 248, String(v))
})

test('issue 16: swiotlb converts at boot only (zero run-time splits, zero S-EPT changes), bounces 16 KiB per request', () => {
  const cmp = run({requests: 40, concurrency: 2, vcpus: 8, memory: '4GiB', 'host-workers': 2})
  const S = cmp.results.swiotlb!
  assert.is(S.init.ops.pages_to_shared, (256 * 1024 * 1024) / 4096, '256 MiB pool converted once (6 % of 4 GiB, rounded)')
  assert.is(S.dm_splits['1g'] - S.dm_splits.init_1g + S.dm_splits['2m'] - S.dm_splits.init_2m, 0)
  for (const k of ['pages_converted', 'sept_changes', 'mapgpa_calls', 'forced_exits', 'tlb_flushes'] as const) assert.is(S.per_request[k], 0, k)
  assert.is(S.ops.bounce_bytes / S.completed, 8192 + 24 + 24 + 8192)
  assert.is(S.ops.slot_searches, S.completed)
  // dma-coherent splits the direct map at run time (1G → 2M → 4K at its first buffer); upstream at init
  const C = cmp.results['dma-coherent']!
  assert.equal([C.dm_splits.init_1g, C.dm_splits.init_2m, C.dm_splits['1g'], C.dm_splits['2m']], [0, 0, 1, 1])
  const U = cmp.results.upstream!
  assert.equal([U.dm_splits['1g'], U.dm_splits['2m']], [U.dm_splits.init_1g, U.dm_splits.init_2m])
  assert.is(cmp.breakpoints.capacity.upstream, 1)
  assert.is(cmp.breakpoints.capacity.swiotlb, (256 * 1024 * 1024) / 8192)
})

test('issue 16: a full SWIOTLB fails requests at once ("swiotlb buffer is full"); upstream serialises on quote_lock', () => {
  const cmp = run({requests: 120, concurrency: 40, 'swiotlb-size': '256KiB', strategies: 'swiotlb,upstream', 'host-workers': 40, vcpus: 1})
  const S = cmp.results.swiotlb!
  assert.is(cmp.breakpoints.capacity.swiotlb, 32)
  assert.ok(S.failures.pool_exhausted > 0)
  assert.ok(S.failures.failed_requests > 0)
  assert.is(S.queue_wait_us, 0)
  const U = cmp.results.upstream!
  assert.is(U.failures.failed_requests, 0)
  assert.is(U.completed, 120)
  assert.ok(U.queue_wait_us > 0)
})

test('issue 17: the model keeps only what is in flight — request slots ≤ concurrency, a handful of operation sets, whatever the count', () => {
  for (const factory of [guestDriverFactory(), exact]) {
    const n = factory === exact ? 3000 : 200_000
    const r = run({requests: n, concurrency: 3, strategies: 'vmap-mapgpa,upstream'}, factory)
    for (const s of ['vmap-mapgpa', 'upstream'] as const) {
      const m = r.results[s]!.model
      assert.ok(m.request_slots <= 3, `${s}: ${m.request_slots} slots`)
      assert.ok(m.distinct_operation_sets <= 8, `${s}: ${m.distinct_operation_sets} operation sets`)
      assert.is(r.results[s]!.completed, n)
    }
  }
})

test('one caller: the steady state fast-forwards to the figures the event loop reaches (ops exact, times to rounding)', () => {
  const x: WorkloadInput = {requests: 3000, vcpus: 16}
  const walked = run(x) // exact: every request through the real allocator, every event
  const ff = run(x, guestDriverFactory({calibrate: 64}))
  for (const s of ['vmap-mapgpa', 'swiotlb', 'dma-coherent', 'upstream', 'preshared-pool'] as const) {
    const a = walked.results[s]!
    const b = ff.results[s]!
    assert.is(a.model.fast_forwarded, 0)
    assert.ok(b.model.fast_forwarded > 2800, `${s}: ${b.model.fast_forwarded} fast-forwarded`)
    assert.equal(b.ops, a.ops, s)
    assert.equal(b.allocator_ops, a.allocator_ops, s)
    assert.is(b.completed, a.completed)
    for (const [got, want] of [
      [b.latency.mean_us, a.latency.mean_us],
      [b.latency.p99_us, a.latency.p99_us],
      [b.makespan_us, a.makespan_us],
      [b.overhead_us.total, a.overhead_us.total],
      [b.shared_bytes.mean, a.shared_bytes.mean],
    ]) {
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${s}: ${got} vs ${want}`)
    }
  }
})

test.run()
