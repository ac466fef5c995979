/**
 * Each GetQuote buffer strategy's operation sequence, asserted against the source it models (file
 * and kernel version in the comment above each test), plus what each does to the direct map.
 * The sequences are read from the trace of one real request (requestQuote) on a fresh TD.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {GET_QUOTE_CMD_VERSION, GET_QUOTE_HEADER, GET_QUOTE_HEADER_SIZE} from '../../src/abi/ghci.js'
import {writeField} from '../../src/abi/layout.js'
import {DmaCoherentAllocator} from '../../src/guest/alloc/dma-coherent.js'
import {allocDoc, openAllocator, saveAllocator} from '../../src/guest/alloc/doc.js'
import {PoolExhaustedError, type SharedBufferAllocator} from '../../src/guest/alloc/interface.js'
import {PresharedPoolAllocator} from '../../src/guest/alloc/preshared-pool.js'
import {IO_TLB_SIZE, SwiotlbAllocator, SwiotlbSlots, swiotlbCapacity, swiotlbGeometry} from '../../src/guest/alloc/swiotlb.js'
import {UpstreamTdxGuestAllocator} from '../../src/guest/alloc/upstream.js'
import {VmapMapGpaAllocator} from '../../src/guest/alloc/vmap-mapgpa.js'
import {requestQuote} from '../../src/guest/quote.js'
import {diffCounters, type TraceEvent} from '../../src/machine/trace.js'
import {errorCode} from '../helpers/errors.js'
import {freshTd} from './helpers.js'

const GiB = 1024 ** 3
const MiB = 1024 ** 2
const code = errorCode

/** The request's events (between request_begin and request_end) as "kind name" lines, host chunks folded. */
function requestSequence(events: readonly TraceEvent[]): string[] {
  const begin = events.findIndex((e) => e.kind === 'request_begin')
  const end = events.findIndex((e) => e.kind === 'request_end')
  return events.slice(begin + 1, end).filter((e) => e.layer !== 'host').map((e) => `${e.kind} ${e.name}`)
}

function oneRequest(alloc: SharedBufferAllocator, td: ReturnType<typeof freshTd>['td']) {
  alloc.init()
  const from = td.trace.events.length
  const before = td.trace.snapshot()
  const r = requestQuote(td, alloc, {reportData: Buffer.alloc(64, 9)})
  return {r, seq: requestSequence(td.trace.events.slice(from)), d: diffCounters(before, td.trace.snapshot())}
}

// Solution 1 — Kai Huang, LKML 2022-05-09 ("[PATCH v5 3/3] x86/tdx: Add Quote generation support"):
// alloc_page → vmap(pgprot_decrypted) → clflush → MapGPA(shared); free: MapGPA(private), accept, vunmap.
test('vmap-mapgpa: alloc_pages → vmap(decrypted) → clflush → MapGPA(shared) … MapGPA(private) → accept → vunmap → free', () => {
  const {td} = freshTd({vcpus: 4})
  const {seq, d} = oneRequest(new VmapMapGpaAllocator(td), td)
  assert.equal(seq, [
    'tdcall TDG.MR.REPORT',
    'page_alloc alloc_pages (contiguous)',
    'vmap vmap(pgprot_decrypted)',
    'cache_flush clflush before conversion',
    'tdvmcall MapGPA',
    'shared_delta buffer shared',
    'copy memset quote buffer',
    'copy copy header + TDREPORT in',
    'tdvmcall GetQuote',
    'poll sleep, read status',
    'copy copy quote out',
    'tdvmcall MapGPA',
    'shared_delta buffer private again',
    'tdcall TDG.MEM.PAGE.ACCEPT',
    'tdcall TDG.MEM.PAGE.ACCEPT',
    'accept pages accepted',
    'vunmap vunmap',
    'lazy_purge lazy vmap purge (TLB shootdown)',
    'page_free free_pages',
  ])
  assert.is(d.dm_splits_1g + d.dm_splits_2m + d.dm_prot_pages, 0, 'the direct map is never touched')
  assert.is(d.sept_changes, 4)
})

// Solution 2 as argued — Kirill Shutemov, LKML 2022-05-03; streaming DMA as kernel/dma/swiotlb.c v6.6
// runs it (swiotlb_tbl_map_single: find slots, bounce TO_DEVICE; unmap: release slots), pool decrypted
// once by swiotlb_update_mem_attributes (arch/x86/mm/mem_encrypt.c) at boot.
test('swiotlb: boot conversion once; per request kmalloc → dma_map_single (slot search, bounce in) … syncs → unmap → kfree; no conversion, no split', () => {
  const {td} = freshTd({vcpus: 4})
  const sw = new SwiotlbAllocator(td)
  sw.init()
  const boot = td.trace.events.filter((e) => e.phase === 'boot')
  assert.ok(boot.length > 0)
  assert.ok(boot.some((e) => e.kind === 'tdvmcall' && e.name === 'MapGPA'), 'MapGPA at boot')
  assert.ok(boot[0].name.startsWith('memblock_alloc (SWIOTLB 128 MiB'), boot[0].name) // 6 % of 2 GiB → 128 MiB
  const init = td.trace.events.filter((e) => e.phase === 'init').map((e) => e.name)
  assert.equal(init, ['platform_driver_register(&tdx_guest_driver)', 'platform_device_register_simple("tdx_guest") → .probe: misc_register'])
  const {seq, d} = oneRequest(sw, td)
  assert.equal(seq, [
    'tdcall TDG.MR.REPORT',
    'page_alloc kmalloc (private buffer for the DMA mapping)',
    'copy memset quote buffer',
    'copy copy header + TDREPORT in',
    'dma_map dma_map_single(DMA_BIDIRECTIONAL) → swiotlb_tbl_map_single',
    'slot_search swiotlb_find_slots',
    'bounce swiotlb_bounce(DMA_TO_DEVICE): buffer → slots',
    'tdvmcall GetQuote',
    'poll sleep, read status',
    'bounce swiotlb_bounce(DMA_FROM_DEVICE): slots → buffer',
    'bounce swiotlb_bounce(DMA_FROM_DEVICE): slots → buffer',
    'bounce swiotlb_bounce(DMA_FROM_DEVICE): slots → buffer',
    'copy copy quote out',
    'dma_unmap dma_unmap_single(DMA_ATTR_SKIP_CPU_SYNC)',
    'slot_free swiotlb_release_slots (4 slots)',
    'page_free kfree (private buffer)',
  ])
  for (const k of ['mapgpa_calls', 'pages_to_shared', 'pages_to_private', 'pages_accepted', 'sept_changes', 'dm_splits_1g', 'dm_splits_2m', 'dm_prot_pages', 'tlb_flushes'] as const) {
    assert.is(d[k], 0, k)
  }
  // The whole 8 KiB buffer bounces in ("even if it's garbage"), the header per status check and the buffer after completion.
  assert.is(d.bounce_bytes, 8192 + 24 + 24 + 8192)
  assert.is(d.slot_searches, 1)
  assert.is(d.tdvmcalls, 1)
})

test('swiotlb: the host sees the bounce slots, never the private buffer; next-fit moves on; exhaustion is immediate and says so', () => {
  const {td} = freshTd({vcpus: 1})
  const sw = new SwiotlbAllocator(td, {poolBytes: 256 * 1024})
  sw.init()
  assert.is(sw.geometry.nslabs, 128) // one segment
  const a = sw.alloc(8192)
  sw.write(a, 0, Buffer.from('private until mapped'))
  const dev = sw.mapForDevice(a)
  assert.ok(td.memory.isSharedAlias(dev))
  assert.is(td.memory.state(a.gpa), 'private', 'the driver buffer stays private')
  assert.is(td.vmm.hostRead(dev, 20).toString(), 'private until mapped', 'bounced into the slots')
  td.vmm.hostWrite(dev, Buffer.from('from the host'))
  assert.is(sw.read(a, 0, 13).toString(), 'private until', 'not visible before a sync')
  sw.syncForCpu(a, 0, 13)
  assert.is(sw.read(a, 0, 13).toString(), 'from the host')
  // next-fit: the second mapping starts 4 slots (8 KiB) after the first
  const b = sw.alloc(8192)
  const dev2 = sw.mapForDevice(b)
  assert.is(td.memory.strip(dev2) - td.memory.strip(dev), 8192n)
  // 128 slots = 32 mappings of 8 KiB: fill the rest, then one more fails with the kernel's message
  const held = [a, b]
  for (let i = 2; i < 32; i++) {
    const x = sw.alloc(8192)
    sw.mapForDevice(x)
    held.push(x)
  }
  const over = sw.alloc(8192)
  try {
    sw.mapForDevice(over)
    assert.unreachable()
  } catch (error) {
    assert.instance(error, PoolExhaustedError)
    const e = error as PoolExhaustedError
    assert.is(e.code, 'SWIOTLB_FULL')
    assert.is(e.blocking, false, 'DMA_MAPPING_ERROR: nothing waits')
    assert.match(e.message, /swiotlb buffer is full \(sz: 8192 bytes\), total 128 \(slots\), used 128 \(slots\)/)
  }
  sw.free(over)
  assert.is(sw.capacity(), 32)
  // releasing one mapping makes exactly its slots reusable, found by the wrap-around search
  sw.free(held[5])
  const again = sw.alloc(8192)
  assert.is(td.memory.strip(sw.mapForDevice(again)), td.memory.strip(dev) + 5n * 8192n)
})

test('swiotlb slot bookkeeping: free counts per segment, merge on release (kernel/dma/swiotlb.c v6.6)', () => {
  const s = new SwiotlbSlots(256, 1)
  assert.is(s.list[0], 128)
  assert.is(s.list[127], 1)
  assert.is(s.list[128], 128, 'a new segment restarts the count')
  const a = s.find(0, 8192) // 4 slots at 0
  assert.is(a, 0)
  const b = s.find(0, 8192)
  assert.is(b, 4)
  assert.equal([s.list[3], s.list[8]], [0, 120])
  s.release(a)
  assert.equal([s.list[0], s.list[3]], [4, 1], 'released run counts up to the busy mapping at 4')
  s.release(b)
  assert.is(s.list[0], 128, 'merged back into one free run')
  assert.is(s.used, 0)
  // a 3 KiB mapping (below a page) may start at an odd slot; ≥ 4 KiB mappings only at even ones
  assert.is(s.find(0, 2048), 8)
  assert.is(s.find(0, 4096), 10)
  assert.is(swiotlbCapacity(128, 8192), 32)
  assert.is(swiotlbCapacity(128, 10 * 1024), 21) // 5 slots, page aligned: every 6th slot
})

test('SWIOTLB sizing as the kernel does it: 6 % of RAM in [64 MiB, 1 GiB], rounded to a power of two; areas per CPU', () => {
  // intel/tdx-linux #5: a 4 GiB TD logs "SWIOTLB bounce buffer size roundup to 256MB"
  assert.is(swiotlbGeometry({memoryBytes: 4 * GiB, cpus: 4}).bytes, 256 * MiB)
  assert.is(swiotlbGeometry({memoryBytes: 32 * GiB, cpus: 32}).bytes, GiB) // clamped (Dstack: 1 GiB SWIOTLB on a 32 GiB TD)
  assert.is(swiotlbGeometry({memoryBytes: 512 * MiB, cpus: 1}).bytes, 64 * MiB) // the 64 MiB floor
  const g = swiotlbGeometry({memoryBytes: 2 * GiB, cpus: 6})
  assert.equal([g.nslabs, g.nareas, g.area_nslabs], [65536, 8, 8192]) // 6 CPUs → 8 areas
  // swiotlb=<small> on many CPUs grows to one 128-slot segment per area (round_up_default_nslabs)
  const tiny = swiotlbGeometry({memoryBytes: 2 * GiB, cpus: 64, bytes: 256 * 1024})
  assert.equal([tiny.nareas, tiny.nslabs], [64, 64 * 128])
  assert.is(swiotlbGeometry({memoryBytes: 2 * GiB, cpus: 2, bytes: 300 * 1024}).nslabs * IO_TLB_SIZE, 512 * 1024)
})

// Solution 2 as coded — msg-id 20230326062039.341479-3-sathyanarayanan.kuppuswamy@linux.intel.com:
// dma_alloc_coherent(GFP_KERNEL); in a TDX guest kernel/dma/direct.c dma_direct_alloc →
// dma_set_decrypted = set_memory_decrypted on the direct map (arch/x86/mm/pat/set_memory.c).
test('dma-coherent: per request set_memory_decrypted on the direct map (splits at run time), dma_free_coherent re-encrypts', () => {
  const {td} = freshTd({vcpus: 2})
  const {seq, d} = oneRequest(new DmaCoherentAllocator(td), td)
  assert.equal(seq.slice(0, 9), [
    'tdcall TDG.MR.REPORT',
    'page_alloc dma_alloc_coherent → __dma_direct_alloc_pages (alloc_pages_node)',
    'cache_flush clflush before conversion',
    'dm_split direct map split',
    'dm_split direct map split',
    'dm_prot direct map → decrypted',
    'tlb_flush cpa_flush (TLB shootdown)',
    'tdvmcall MapGPA',
    'shared_delta dma_set_decrypted shared',
  ])
  assert.equal(seq.slice(-8), [
    'tdvmcall MapGPA',
    'shared_delta dma_set_encrypted private again',
    'tdcall TDG.MEM.PAGE.ACCEPT',
    'tdcall TDG.MEM.PAGE.ACCEPT',
    'accept pages accepted',
    'dm_prot direct map → encrypted',
    'tlb_flush cpa_flush (TLB shootdown)',
    'page_free dma_free_coherent → __free_pages',
  ])
  assert.equal([d.dm_splits_1g, d.dm_splits_2m], [1, 1], 'the first conversion at a fresh place splits 1G → 2M → 4K')
  assert.is(d.mapgpa_calls, 2)
  assert.is(d.pages_accepted, 2)
  // the splits stay: the next request reuses the pages, nothing more to split (no re-collapse)
  const again = oneRequest(new DmaCoherentAllocator(td), td)
  assert.equal([again.d.dm_splits_1g, again.d.dm_splits_2m], [0, 0])
  // the direct map maps the buffer decrypted while it lives: no private alias left to touch
  const alloc = new DmaCoherentAllocator(td)
  const b = alloc.alloc(8192)
  assert.ok(td.memory.directMap.isDecrypted(b.pfn))
  alloc.free(b)
  assert.not.ok(td.memory.directMap.isDecrypted(b.pfn))
})

test('the DMA API needs a struct device: without the platform device swiotlb and dma-coherent refuse', () => {
  const {td} = freshTd()
  assert.is(code(() => new DmaCoherentAllocator(td, {platformDevice: false}).alloc(8192)), 'NO_DMA_DEVICE')
  assert.is(code(() => new SwiotlbAllocator(td, {platformDevice: false}).alloc(8192)), 'NO_DMA_DEVICE')
})

// The merged driver — drivers/virt/coco/tdx-guest/tdx-guest.c, v6.7 (f4738f56d1dc) / v7.0 (43185067c6fd):
// alloc_quote_buf() once in tdx_guest_init(); tdx_report_new: quote_lock, IN_FLIGHT → -EBUSY, memset, GetQuote, poll.
test('upstream: one buffer decrypted at driver init; per request quote_lock, memset of the whole buffer, GetQuote, poll, unlock', () => {
  const {td} = freshTd()
  const up = new UpstreamTdxGuestAllocator(td, {kernel: '6.7'})
  up.init()
  const init = td.trace.snapshot()
  assert.is(init.pages_to_shared, 2, 'SZ_8K in v6.7')
  assert.equal([init.dm_splits_1g, init.dm_splits_2m], [1, 1])
  const {seq, d} = oneRequest(up, td)
  assert.equal(seq, [
    'tdcall TDG.MR.REPORT',
    'lock mutex_lock_interruptible(&quote_lock)',
    'copy memset quote buffer',
    'copy copy header + TDREPORT in',
    'tdvmcall GetQuote',
    'poll sleep, read status',
    'copy copy quote out',
    'lock mutex_unlock(&quote_lock)',
  ])
  for (const k of ['mapgpa_calls', 'pages_to_shared', 'pages_accepted', 'sept_changes', 'dm_splits_1g', 'dm_splits_2m'] as const) assert.is(d[k], 0, k)
  assert.ok(td.trace.events.some((e) => e.kind === 'copy' && e.name === 'memset quote buffer' && e.count === 8192))
  assert.is(new UpstreamTdxGuestAllocator(freshTd().td).bufferBytes, 128 * 1024, 'v7.0 by default')
  assert.is(up.capacity(), 1)
})

test('upstream: while a request holds quote_lock the next one blocks; a timed-out buffer makes later requests -EBUSY until the VMM lets go', () => {
  const {td} = freshTd({qgsMode: 'stall'})
  const up = new UpstreamTdxGuestAllocator(td, {kernel: '6.7'})
  const b = up.alloc(8192)
  try {
    up.alloc(8192)
    assert.unreachable()
  } catch (error) {
    assert.is((error as PoolExhaustedError).code, 'QUOTE_LOCK_HELD')
    assert.is((error as PoolExhaustedError).blocking, true, 'mutex_lock_interruptible waits')
  }
  const hdr = Buffer.alloc(GET_QUOTE_HEADER_SIZE)
  writeField(GET_QUOTE_HEADER, hdr, 'version', GET_QUOTE_CMD_VERSION)
  up.write(b, 0, hdr)
  td.ghci.getQuote(up.mapForDevice(b), b.bytes)
  up.abandon(b)
  try {
    up.alloc(8192)
    assert.unreachable()
  } catch (error) {
    assert.is((error as PoolExhaustedError).code, 'QUOTE_BUSY')
    assert.is((error as PoolExhaustedError).blocking, false, '-EBUSY fails the request')
  }
  // the state remembers it; a later run whose host let go reuses the same buffer, no conversion
  const saved = up.state()
  assert.is(saved.abandoned, true)
  const {td: td2} = freshTd()
  const again = new UpstreamTdxGuestAllocator(td2, {state: saved})
  again.init()
  assert.is(td2.trace.counters.tdvmcalls, 0)
  assert.is(again.alloc(8192).pfn, saved.base_pfn)
})

test('preshared-pool: old name accepted, state kept under doc.alloc.dma_pool, quote counts under dma-pool carried over', () => {
  const {td, p} = freshTd()
  p.doc.alloc = {quotes: {'dma-pool': 3}}
  const alloc = openAllocator(td, p.doc, {strategy: 'dma-pool'})
  assert.instance(alloc, PresharedPoolAllocator)
  assert.is(alloc.strategy, 'preshared-pool')
  saveAllocator(p.doc, alloc, 1)
  const a = allocDoc(p.doc)
  assert.equal(a.quotes, {'preshared-pool': 4})
  assert.ok(a.dma_pool && a.dma_pool.pool_bytes === 64 * 1024)
})

test('every persisted pool is restored into the TD for every strategy; a corrupt swiotlb section is refused', () => {
  const {p} = freshTd()
  // one CLI run per strategy: a fresh TD model each time, the same state document
  for (const strategy of ['upstream', 'swiotlb', 'preshared-pool'] as const) saveAllocator(p.doc, openAllocator(freshTd().td, p.doc, {strategy}))
  const a = allocDoc(p.doc)
  const {td: td2} = freshTd()
  openAllocator(td2, p.doc, {strategy: 'vmap-mapgpa'})
  for (const pfn of [a.dma_pool!.base_pfn, a.upstream!.base_pfn, a.swiotlb!.base_pfn]) assert.is(td2.memory.stateOfPfn(pfn), 'shared')
  p.doc.alloc = {swiotlb: {base_pfn: 1, nslabs: 100, nareas: 3, area_index: [], held: []}}
  assert.is(code(() => allocDoc(p.doc)), 'STATE_CORRUPT')
})

test.run()
