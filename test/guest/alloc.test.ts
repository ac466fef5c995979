/**
 * Allocator invariants, counted from the operation trace against the cost model's mechanics
 * (shared/reference/cost-model.md §2–3): vmap-mapgpa converts and accepts P pages per request with
 * two MapGPA calls and leaves the direct map alone; dma-pool converts once and then does no
 * conversion at all; exhaustion happens exactly when in-flight requests exceed the slots; MapGPA's
 * retry / partial-progress contract; the host only ever touches shared GPAs.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {GET_QUOTE_CMD_VERSION, GET_QUOTE_HEADER, GET_QUOTE_HEADER_SIZE} from '../../src/abi/ghci.js'
import {writeField} from '../../src/abi/layout.js'
import {TdxkitError} from '../../src/errors.js'
import {PresharedPoolAllocator} from '../../src/guest/alloc/preshared-pool.js'
import {PoolExhaustedError} from '../../src/guest/alloc/interface.js'
import {diffCounters} from '../../src/machine/trace.js'
import {VmapMapGpaAllocator} from '../../src/guest/alloc/vmap-mapgpa.js'
import {MemoryFault, PAGE_SIZE} from '../../src/machine/memory.js'
import {freshTd} from '../helpers/guest.js'

const code = (fn: () => unknown): string => {
  try {
    fn()
  } catch (error) {
    return (error as TdxkitError).code
  }
  return 'no error'
}

test('vmap-mapgpa: per 8 KiB request 2 MapGPA, 2 pages converted each way, 2 accepts, 2 kicks × (V−1) exits, no direct-map change', () => {
  const V = 8
  const {td} = freshTd({vcpus: V})
  const alloc = new VmapMapGpaAllocator(td)
  const dmBefore = td.memory.directMap.census()
  for (let i = 0; i < 3; i++) {
    const before = td.trace.snapshot()
    const buf = alloc.alloc(8192)
    assert.is(buf.pages, 2)
    assert.ok(td.memory.isSharedAlias(buf.gpa))
    alloc.write(buf, 0, Buffer.from('through the vmap'))
    assert.is(td.vmm.hostRead(buf.gpa, 16).toString(), 'through the vmap')
    // the direct map still maps these pages private: touching that alias would kill the TD
    assert.throws(() => td.memory.directMap.read(td.memory.strip(buf.gpa), 1), (e: unknown) => (e as MemoryFault).code === 'PRIVATE_ALIAS_OF_SHARED')
    alloc.free(buf)
    const d = diffCounters(before, td.trace.snapshot())
    assert.is(d.mapgpa_calls, 2)
    assert.is(d.tdvmcalls, 2)
    assert.is(d.pages_to_shared, 2)
    assert.is(d.pages_to_private, 2)
    assert.is(d.pages_accepted, 2)
    assert.is(d.accept_calls, 2)
    assert.is(d.tdcalls, 4) // 2 TDVMCALLs + 2 accepts
    assert.is(d.sept_removals, 2)
    assert.is(d.sept_adds, 2)
    assert.is(d.vcpu_kicks, 2)
    assert.is(d.forced_exits, 2 * (V - 1))
    assert.is(d.lazy_purges, 1)
    assert.is(d.vmaps, 1)
    assert.is(d.vunmaps, 1)
    assert.is(d.cache_flush_pages, 2)
    assert.is(d.dm_splits_1g + d.dm_splits_2m + d.dm_prot_pages, 0)
    assert.is(d.userspace_trips, 2)
    // back to private, accepted, contents zeroed
    assert.is(td.memory.state(td.memory.strip(buf.gpa)), 'private')
    assert.is(td.memory.read(td.memory.strip(buf.gpa), 16).toString('hex'), '00'.repeat(16))
  }
  assert.equal(td.memory.directMap.census(), dmBefore)
  assert.is(td.trace.counters.shared_bytes_now, 0)
  assert.is(td.trace.counters.shared_bytes_peak, 8192)
  assert.is(td.memory.pages.used, 0)
})

test('dma-pool: one conversion at init (splits at the edges), then zero TDVMCALLs / conversions / accepts per request', () => {
  const {td} = freshTd({vcpus: 4})
  const pool = new PresharedPoolAllocator(td, {poolBytes: 64 * 1024, slotBytes: 8192})
  pool.init()
  const init = td.trace.snapshot()
  assert.is(init.mapgpa_calls, 1)
  assert.is(init.pages_to_shared, 16)
  assert.is(init.dm_splits_1g, 1)
  assert.is(init.dm_splits_2m, 1)
  assert.is(init.tlb_flushes, 1)
  assert.is(init.forced_exits, 16 * 3)
  assert.is(pool.slots, 8)
  for (let i = 0; i < 20; i++) {
    const b = pool.alloc(8192)
    pool.write(b, 0, Buffer.from([i]))
    assert.is(td.vmm.hostRead(b.gpa, 1)[0], i)
    pool.free(b)
  }
  const d = diffCounters(init, td.trace.snapshot())
  for (const k of ['tdcalls', 'tdvmcalls', 'mapgpa_calls', 'pages_to_shared', 'pages_to_private', 'pages_accepted', 'sept_changes', 'vcpu_kicks', 'tlb_flushes', 'lazy_purges', 'dm_splits_1g', 'dm_splits_2m'] as const) {
    assert.is(d[k], 0, k)
  }
  assert.is(d.slot_ops, 40)
  // the pool's direct map is decrypted: no private alias of the shared pool exists
  const b = pool.alloc(1)
  assert.ok(td.memory.directMap.isDecrypted(b.pfn))
  pool.free(b)
})

test('a 2 MiB pool is 2 MiB aligned: one 1 GiB split, no 2 MiB split', () => {
  const {td} = freshTd()
  const pool = new PresharedPoolAllocator(td, {poolBytes: 2 * 1024 * 1024})
  pool.init()
  assert.is(td.trace.counters.dm_splits_1g, 1)
  assert.is(td.trace.counters.dm_splits_2m, 0)
})

test('dma-pool exhaustion happens exactly when in-flight requests exceed the slots, and clears on free', () => {
  for (const slots of [1, 3, 8]) {
    const {td} = freshTd()
    const pool = new PresharedPoolAllocator(td, {poolBytes: slots * 8192, slotBytes: 8192})
    const held = Array.from({length: slots}, () => pool.alloc(8192))
    assert.is(pool.inFlight(), slots)
    assert.throws(() => pool.alloc(8192), (e: unknown) => e instanceof PoolExhaustedError && (e as PoolExhaustedError).exit === 7)
    assert.is(td.trace.counters.pool_exhaustions, 1)
    pool.free(held[0])
    const again = pool.alloc(8192)
    assert.is(again.gpa, held[0].gpa)
  }
})

test('dma-pool sizing errors: pool smaller than one buffer, unaligned sizes, buffer larger than a slot', () => {
  const {td} = freshTd()
  assert.is(code(() => new PresharedPoolAllocator(td, {poolBytes: 4096, slotBytes: 8192})), 'POOL_TOO_SMALL')
  assert.is(code(() => new PresharedPoolAllocator(td, {poolBytes: 10000})), 'BAD_POOL_SIZE')
  assert.is(code(() => new PresharedPoolAllocator(td, {poolBytes: 8192, slotBytes: 100})), 'BAD_SLOT_SIZE')
  const pool = new PresharedPoolAllocator(td, {poolBytes: 8192})
  assert.is(code(() => pool.alloc(8193)), 'BUFFER_TOO_LARGE')
})

test('abandoned slot stays with the host while it stalls, is reclaimed once it lets go; persisted state restores without operations', () => {
  const {td} = freshTd({qgsMode: 'stall'})
  const pool = new PresharedPoolAllocator(td, {poolBytes: 8192})
  const b = pool.alloc(8192)
  // a GetQuote the stalled host never completes (the status word stays IN_FLIGHT), then timed out
  const hdr = Buffer.alloc(GET_QUOTE_HEADER_SIZE)
  writeField(GET_QUOTE_HEADER, hdr, 'version', GET_QUOTE_CMD_VERSION)
  pool.write(b, 0, hdr)
  td.ghci.getQuote(b.gpa, b.bytes)
  pool.abandon(b)
  assert.is(code(() => pool.alloc(8192)), 'POOL_EXHAUSTED')
  const saved = pool.state()
  assert.equal(saved.abandoned, [0])
  // a later run whose host is no longer stalled: restore costs nothing and reclaims the slot
  const {td: td2} = freshTd()
  const again = new PresharedPoolAllocator(td2, {state: saved})
  again.init()
  const s = td2.trace.snapshot()
  assert.is(s.tdvmcalls + s.pages_to_shared + s.dm_splits_1g + s.dm_splits_2m, 0)
  assert.is(td2.memory.state(td2.memory.gpaOf(saved.base_pfn)), 'shared')
  const b2 = again.alloc(8192)
  assert.is(b2.gpa, b.gpa)
  // and a run whose host still stalls keeps it held
  const {td: td3} = freshTd({qgsMode: 'stall'})
  const held = new PresharedPoolAllocator(td3, {state: saved})
  held.init()
  td3.holdAbandoned(saved)
  assert.is(code(() => held.alloc(8192)), 'POOL_EXHAUSTED')
})

test('dma-pool destroy converts back: MapGPA(private) + accept of every page; refused while a slot is busy', () => {
  const {td} = freshTd()
  const pool = new PresharedPoolAllocator(td, {poolBytes: 16384})
  const b = pool.alloc(8192)
  assert.is(code(() => pool.destroy()), 'POOL_EXHAUSTED')
  pool.free(b)
  const before = td.trace.snapshot()
  pool.destroy()
  const d = diffCounters(before, td.trace.snapshot())
  assert.is(d.mapgpa_calls, 1)
  assert.is(d.pages_accepted, 4)
  assert.is(td.memory.census().shared, 0)
  assert.is(td.trace.counters.shared_bytes_now, 0)
})

test('MapGPA partial progress: RETRY after each 2 MiB chunk with R11 = next GPA; the guest resumes there', () => {
  const {td} = freshTd({mapGpa: {interruptEveryChunks: 1}})
  const alloc = new VmapMapGpaAllocator(td)
  const buf = alloc.alloc(5 * 1024 * 1024) // 1280 pages → chunks of 2M, 2M, 1M
  const c = td.trace.counters
  assert.is(c.mapgpa_calls, 3)
  assert.is(c.mapgpa_retries, 2)
  assert.is(c.mapgpa_chunks, 3)
  assert.is(c.pages_to_shared, 1280)
  const retries = td.trace.events.filter((e) => e.kind === 'mapgpa_retry')
  const base = td.memory.strip(buf.gpa)
  assert.equal(
    retries.map((e) => td.memory.strip(e.gpa!) - base),
    [2n * 1024n * 1024n, 4n * 1024n * 1024n],
  )
  assert.ok(retries.every((e) => e.detail === 'partial progress'))
  assert.is(td.memory.census().shared, 1280)
})

test('MapGPA without progress: three RETRYs at the same GPA → give up, pages leaked not reused', () => {
  const {td} = freshTd({mapGpa: {stallRetries: 3}})
  const alloc = new VmapMapGpaAllocator(td)
  assert.is(code(() => alloc.alloc(8192)), 'MAPGPA_NO_PROGRESS')
  assert.is(td.trace.counters.mapgpa_calls, 3)
  assert.is(td.trace.counters.pages_leaked, 2)
  assert.is(td.memory.pages.used, 2)
  // two stalls then progress: succeeds
  const {td: td2} = freshTd({mapGpa: {stallRetries: 2}})
  new VmapMapGpaAllocator(td2).alloc(8192)
  assert.is(td2.trace.counters.mapgpa_calls, 3)
})

test('MapGPA resume GPA outside the range (hostile host) is rejected', () => {
  const {td} = freshTd({mapGpa: {interruptEveryChunks: 1, bogusResume: true}})
  assert.is(code(() => new VmapMapGpaAllocator(td).alloc(4 * 1024 * 1024)), 'MAPGPA_BAD_RESUME')
})

test('the host never touches a private GPA: every host access of a quote request lies in shared pages', async () => {
  const {requestQuote} = await import('../../src/guest/quote.js')
  for (const strategy of ['vmap-mapgpa', 'dma-pool'] as const) {
    const {td} = freshTd()
    const alloc = strategy === 'dma-pool' ? new PresharedPoolAllocator(td, {poolBytes: 16384}) : new VmapMapGpaAllocator(td)
    const shared = new Set<number>()
    const orig = td.memory.hostRead.bind(td.memory)
    td.memory.hostRead = (gpa: bigint, len: number) => {
      for (let a = gpa & ~4095n; a < gpa + BigInt(len); a += 4096n) {
        assert.is(td.memory.state(a), 'shared', `host read of ${a.toString(16)}`)
        shared.add(Number(a / 4096n))
      }
      return orig(gpa, len)
    }
    const r = requestQuote(td, alloc, {reportData: Buffer.alloc(64, 7)})
    assert.ok(r.quote.length > 1000)
    assert.ok(td.vmm.accessLog.length > 0)
    assert.ok(shared.size > 0)
    // a buffer named by its shared alias but still private: refused before any read
    const logged = td.vmm.accessLog.length
    const priv = td.memory.sharedAlias(td.memory.gpaOf(td.memory.pages.allocContiguous(2)))
    const res = td.ghci.getQuote(priv, 8192)
    assert.is(res.r10, 0x8000000000000000n)
    assert.is(td.vmm.accessLog.length, logged)
  }
})

test('page size arithmetic: buffers are whole pages', () => {
  const {td} = freshTd()
  const a = new VmapMapGpaAllocator(td)
  const b = a.alloc(1)
  assert.is(b.bytes, PAGE_SIZE)
  a.free(b)
})

test.run()
