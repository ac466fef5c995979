/**
 * `swiotlb`: Solution 2 of the quote-generation thread as argued — Kirill Shutemov, LKML 2022-05-03:
 * "convert it to use DMA API for memory allocation. It will tap into swiotlb buffer that already
 * converted and there's no need to touch direct mapping". In an x86 TDX guest the DMA API reaches
 * SWIOTLB through STREAMING mappings (dma_map_single → swiotlb_map → swiotlb_tbl_map_single); this
 * file models that path as Linux v6.6 runs it (kernel/dma/swiotlb.c, commit 009fbfc97b63;
 * Documentation/core-api/swiotlb.rst):
 *
 * Boot (once, before any driver): the pool size is 6 % of RAM clamped to [64 MiB, 1 GiB]
 * (arch/x86/mm/mem_encrypt.c mem_encrypt_setup_arch → swiotlb_adjust_size), in 2 KiB slots
 * (IO_TLB_SHIFT 11) aligned to 128-slot segments, rounded up to a power of two once the areas are
 * set (swiotlb_adjust_nareas: one area per possible CPU, rounded up to a power of two; limit_nareas
 * keeps ≥ 128 slots per area). memblock places it (top-down; SWIOTLB_ANY lets a memory-encryption
 * guest use any address) and swiotlb_update_mem_attributes() runs set_memory_decrypted() over the
 * whole pool ONCE — the only direct-map change this strategy ever makes.
 *
 * Driver init: the DMA API needs a struct device, so the driver becomes a platform driver (as the
 * 2023 DMA-API patch did).
 *
 * Per request: the driver fills an ordinary private buffer; dma_map_single(DMA_BIDIRECTIONAL) →
 * slot search (swiotlb_pool_find_slots: start at area raw_smp_processor_id() & (nareas − 1), try
 * every area; swiotlb_area_find_slots: under the area lock, next-fit from area->index, page-aligned
 * slots for mappings ≥ 4 KiB, a run of free slots inside one 128-slot segment) → bounce the whole
 * buffer in ("even if it's garbage") → the host gets the bounce address. The driver reads the
 * status word after dma_sync_single_range_for_cpu (a bounce of the header), and the quote after
 * dma_sync_single_for_cpu of the buffer; dma_unmap_single(DMA_ATTR_SKIP_CPU_SYNC) releases the
 * slots (merged with their free neighbours inside the segment).
 *
 * No MapGPA, no accept, no S-EPT change and no direct-map change per request. When no area has
 * room: "swiotlb buffer is full (sz: … bytes), total … (slots), used … (slots)" and
 * DMA_MAPPING_ERROR — nothing waits. Dynamic SWIOTLB (CONFIG_SWIOTLB_DYNAMIC, v6.6) is not
 * modelled: there a miss takes a transient pool (GFP_NOWAIT, so from the atomic DMA pool in an
 * encrypted guest) and schedules a background pool of 1–4 MiB that is decrypted at run time.
 */
import {InputError, TdxkitError} from '../../errors.js'
import {PAGE_SIZE, type GuestMemory} from '../../machine/memory.js'
import type {GuestTd} from '../td.js'
import {registerPlatformDevice, noDmaDevice, type DmaDeviceOptions} from './dma-coherent.js'
import {PoolExhaustedError, checkRange, pagesFor, type SharedBuffer, type SharedBufferAllocator, readDirect, writeDirect} from './interface.js'
import {restoreSharedRun, setMemoryDecrypted} from './set-memory.js'

/** include/linux/swiotlb.h: one slot is 2 KiB; a mapping lies inside one 128-slot segment. */
const IO_TLB_SHIFT = 11
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT
const IO_TLB_SEGSIZE = 128
/** 64 MiB: the default pool, and the lower clamp of the CoCo sizing rule. */
const IO_TLB_DEFAULT_SIZE = 64 * 1024 * 1024
/** Upper clamp of the CoCo rule (mem_encrypt_setup_arch: clamp_val(size, IO_TLB_DEFAULT_SIZE, SZ_1G)). */
const SWIOTLB_COCO_MAX = 1024 * 1024 * 1024
/** Percent of RAM the CoCo rule gives SWIOTLB. */
const SWIOTLB_COCO_PERCENT = 6
/** The largest mapping: one segment (swiotlb_max_mapping_size). */
export const SWIOTLB_MAX_MAPPING = IO_TLB_SIZE * IO_TLB_SEGSIZE
/** Slots per page: a page-aligned mapping starts at a multiple of this. */
const SLOTS_PER_PAGE = PAGE_SIZE / IO_TLB_SIZE

const roundUpPow2 = (n: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, n)))
const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a
const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0

interface SwiotlbGeometry {
  nslabs: number
  nareas: number
  area_nslabs: number
  bytes: number
}

/**
 * The pool the kernel would set up: `bytes` given (like swiotlb=<nslabs>) or the CoCo rule from
 * RAM, then the area rounding of swiotlb_adjust_nareas / limit_nareas.
 */
export function swiotlbGeometry(opts: {memoryBytes: number; cpus: number; bytes?: number}): SwiotlbGeometry {
  const size = opts.bytes ?? Math.min(SWIOTLB_COCO_MAX, Math.max(IO_TLB_DEFAULT_SIZE, Math.floor((opts.memoryBytes * SWIOTLB_COCO_PERCENT) / 100)))
  let nslabs = alignUp(Math.ceil(size / IO_TLB_SIZE), IO_TLB_SEGSIZE)
  const wantAreas = roundUpPow2(Math.max(1, opts.cpus))
  // round_up_default_nslabs(): at least one segment per area, then a power of two.
  if (nslabs < IO_TLB_SEGSIZE * wantAreas) nslabs = IO_TLB_SEGSIZE * wantAreas
  else if (!isPow2(nslabs)) nslabs = roundUpPow2(nslabs)
  const nareas = nslabs < wantAreas * IO_TLB_SEGSIZE ? Math.floor(nslabs / IO_TLB_SEGSIZE) : wantAreas
  return geometryOf(nslabs, nareas)
}

/** The derived sizes of a pool of `nslabs` slots in `nareas` areas. */
function geometryOf(nslabs: number, nareas: number): SwiotlbGeometry {
  return {nslabs, nareas, area_nslabs: nslabs / nareas, bytes: nslabs * IO_TLB_SIZE}
}

/** Persisted pool (doc.alloc.swiotlb): converted at the TD's boot, with the mappings still held. */
export interface SwiotlbState {
  base_pfn: number
  nslabs: number
  nareas: number
  /** area->index of every area (next-fit positions). */
  area_index: number[]
  /** Mappings the host still owns after a timed-out request: [first slot, slots]. */
  held: Array<[number, number]>
}

/** The slot bookkeeping of one io_tlb_pool (slots[].list, areas[].index / .used). */
export class SwiotlbSlots {
  readonly nslabs: number
  readonly nareas: number
  readonly areaNslabs: number
  /** Free slots from i to the end of its segment (0 = in use). */
  readonly list: Int32Array
  /** Slots of the mapping that starts at i. */
  readonly mapped: Int32Array
  readonly areaIndex: Int32Array
  readonly areaUsed: Int32Array
  /** Slot positions examined by the last search. */
  lastScanned = 0

  constructor(nslabs: number, nareas: number) {
    this.nslabs = nslabs
    this.nareas = nareas
    this.areaNslabs = nslabs / nareas
    this.list = new Int32Array(nslabs)
    for (let i = 0; i < nslabs; i++) this.list[i] = IO_TLB_SEGSIZE - (i % IO_TLB_SEGSIZE)
    this.mapped = new Int32Array(nslabs)
    this.areaIndex = new Int32Array(nareas)
    this.areaUsed = new Int32Array(nareas)
  }

  get used(): number {
    let n = 0
    for (let a = 0; a < this.nareas; a++) n += this.areaUsed[a]
    return n
  }

  private wrap(index: number): number {
    return index >= this.areaNslabs ? 0 : index
  }

  /** swiotlb_pool_find_slots: every area from the CPU's, round robin. −1 when all are full. */
  find(cpu: number, allocSize: number): number {
    const start = cpu & (this.nareas - 1)
    this.lastScanned = 0
    let a = start
    do {
      const index = this.findInArea(a, allocSize)
      if (index >= 0) return index
      a = a + 1 >= this.nareas ? 0 : a + 1
    } while (a !== start)
    return -1
  }

  /** swiotlb_area_find_slots for a page-aligned original buffer (no min_align_mask, 4 GiB segment boundary). */
  private findInArea(a: number, allocSize: number): number {
    const nslots = Math.ceil(allocSize / IO_TLB_SIZE)
    // "For allocations of PAGE_SIZE or larger only look for page aligned allocations."
    const pageAligned = allocSize >= PAGE_SIZE
    const stride = pageAligned ? SLOTS_PER_PAGE : 1
    if (nslots > this.areaNslabs - this.areaUsed[a]) return -1
    const base = a * this.areaNslabs
    let index = this.areaIndex[a]
    for (let checked = 0; checked < this.areaNslabs; ) {
      const slot = base + index
      this.lastScanned++
      if (pageAligned && slot % SLOTS_PER_PAGE !== 0) {
        index = this.wrap(index + 1)
        checked++
        continue
      }
      if (this.list[slot] >= nslots) {
        this.take(slot, nslots)
        this.areaIndex[a] = this.wrap(index + nslots)
        this.areaUsed[a] += nslots
        return slot
      }
      index = this.wrap(index + stride)
      checked += stride
    }
    return -1
  }

  /** Mark [slot, slot + nslots) used and fix the free counts of the free run before it. */
  private take(slot: number, nslots: number): void {
    for (let i = slot; i < slot + nslots; i++) this.list[i] = 0
    this.mapped[slot] = nslots
    let count = 0
    for (let i = slot - 1; i >= 0 && i % IO_TLB_SEGSIZE !== IO_TLB_SEGSIZE - 1 && this.list[i] > 0; i--) this.list[i] = ++count
  }

  /** Re-establish a mapping restored from state (its area's used count included). */
  hold(slot: number, nslots: number): void {
    this.take(slot, nslots)
    this.areaUsed[Math.floor(slot / this.areaNslabs)] += nslots
  }

  /** swiotlb_release_slots: free the run and merge it with the free slots around it (in its segment). */
  release(slot: number): number {
    const nslots = this.mapped[slot]
    if (nslots <= 0) throw new TdxkitError('BAD_FREE', `SWIOTLB slot ${slot} is not the start of a mapping`, {exit: 1})
    this.mapped[slot] = 0
    let count = slot + nslots < alignUp(slot + 1, IO_TLB_SEGSIZE) ? this.list[slot + nslots] : 0
    for (let i = slot + nslots - 1; i >= slot; i--) this.list[i] = ++count
    for (let i = slot - 1; i >= 0 && i % IO_TLB_SEGSIZE !== IO_TLB_SEGSIZE - 1 && this.list[i] > 0; i--) this.list[i] = ++count
    this.areaUsed[Math.floor(slot / this.areaNslabs)] -= nslots
    return nslots
  }

}

/** Mappings of `bytes` that fit at once in a pool of `nslabs` slots (fixed-size mappings tile each segment). */
export function swiotlbCapacity(nslabs: number, bytes: number): number {
  const nslots = Math.ceil(bytes / IO_TLB_SIZE)
  if (nslots > IO_TLB_SEGSIZE) return 0
  const step = bytes >= PAGE_SIZE ? alignUp(nslots, SLOTS_PER_PAGE) : nslots
  return (nslabs / IO_TLB_SEGSIZE) * (Math.floor((IO_TLB_SEGSIZE - nslots) / step) + 1)
}

interface SwiotlbOptions extends DmaDeviceOptions {
  /** Pool size like swiotlb=<nslabs> (default: the CoCo rule from the TD's RAM). */
  poolBytes?: number
  /** Size of the mappings the driver makes (for capacity(); default 8 KiB). */
  mappingBytes?: number
  /** Restore this pool (converted at an earlier boot) instead of booting a new one. */
  state?: SwiotlbState
}

interface Mapping {
  slot: number
}

export class SwiotlbAllocator implements SharedBufferAllocator {
  readonly strategy = 'swiotlb' as const
  readonly geometry: SwiotlbGeometry
  private readonly td: GuestTd
  private readonly device: boolean
  private readonly mappingBytes: number
  private readonly saved?: SwiotlbState
  private slots?: SwiotlbSlots
  private basePfn = -1
  private readonly live = new Map<number, SharedBuffer>()
  private readonly mappings = new Map<number, Mapping>()
  private readonly held: Array<[number, number]> = []
  private nextId = 1

  constructor(td: GuestTd, opts: SwiotlbOptions = {}) {
    this.td = td
    this.device = opts.platformDevice ?? true
    this.mappingBytes = opts.mappingBytes ?? 8 * 1024
    this.saved = opts.state
    if (opts.state) {
      this.geometry = geometryOf(opts.state.nslabs, opts.state.nareas)
    } else {
      if (opts.poolBytes !== undefined && (!Number.isInteger(opts.poolBytes) || opts.poolBytes < SWIOTLB_MAX_MAPPING)) {
        throw new InputError('BAD_POOL_SIZE', `a SWIOTLB pool must hold at least one ${SWIOTLB_MAX_MAPPING}-byte segment, got ${opts.poolBytes}`)
      }
      this.geometry = swiotlbGeometry({memoryBytes: td.memory.sizeBytes, cpus: td.vcpus, bytes: opts.poolBytes})
    }
  }

  get initialized(): boolean {
    return this.basePfn >= 0
  }

  private get poolPages(): number {
    return this.geometry.bytes / PAGE_SIZE
  }

  init(): void {
    if (this.initialized) return
    if (this.saved) this.restore(this.saved)
    else this.boot()
    if (this.device) registerPlatformDevice(this.td)
  }

  /** mem_encrypt_setup_arch → swiotlb_init (memblock) → mem_encrypt_init → swiotlb_update_mem_attributes. */
  private boot(): void {
    const {memory, trace} = this.td
    trace.during('boot', () => {
      const pfn = memory.pages.allocTopDown(this.poolPages)
      trace.add({kind: 'page_alloc', layer: 'guest', name: `memblock_alloc (SWIOTLB ${this.geometry.bytes >> 20} MiB, ${this.geometry.nslabs} slots, ${this.geometry.nareas} areas)`, gpa: memory.gpaOf(pfn), count: this.poolPages})
      setMemoryDecrypted(this.td, pfn, this.poolPages, 'SWIOTLB pool')
      this.basePfn = pfn
    })
    this.slots = new SwiotlbSlots(this.geometry.nslabs, this.geometry.nareas)
  }

  private restore(s: SwiotlbState): void {
    const {memory, trace} = this.td
    restoreSharedRun(memory, s.base_pfn, this.poolPages)
    this.basePfn = s.base_pfn
    const slots = new SwiotlbSlots(s.nslabs, s.nareas)
    s.area_index.forEach((v, a) => {
      if (a < slots.nareas && Number.isInteger(v) && v >= 0 && v < slots.areaNslabs) slots.areaIndex[a] = v
    })
    for (const [slot, n] of s.held) {
      slots.hold(slot, n)
      this.held.push([slot, n])
    }
    this.slots = slots
    trace.add({kind: 'note', layer: 'guest', name: 'SWIOTLB pool (converted at boot)', gpa: memory.gpaOf(s.base_pfn), detail: `${this.geometry.bytes} bytes shared, ${s.held.length} mapping(s) still held by the host`})
    trace.add({kind: 'shared_delta', layer: 'guest', name: 'SWIOTLB pool shared (since boot)', count: this.geometry.bytes})
  }

  /** The state to persist. */
  state(): SwiotlbState {
    if (!this.slots) throw new TdxkitError('POOL_NOT_INITIALIZED', 'swiotlb: init() was not called', {exit: 1})
    return {base_pfn: this.basePfn, nslabs: this.geometry.nslabs, nareas: this.geometry.nareas, area_index: [...this.slots.areaIndex], held: this.held.map(([a, b]) => [a, b])}
  }

  private slotGpa(slot: number): bigint {
    return this.td.memory.gpaOf(this.basePfn) + BigInt(slot * IO_TLB_SIZE)
  }

  /** The driver's own buffer: ordinary private memory (kmalloc of the GetQuote buffer). */
  alloc(bytes: number): SharedBuffer {
    this.init()
    if (!this.device) throw noDmaDevice(this.strategy)
    if (bytes > SWIOTLB_MAX_MAPPING) {
      throw new InputError('BUFFER_TOO_LARGE', `swiotlb: a ${bytes}-byte streaming mapping exceeds swiotlb_max_mapping_size (${SWIOTLB_MAX_MAPPING} bytes, one 128-slot segment)`)
    }
    const {memory, trace} = this.td
    const pages = pagesFor(bytes)
    const pfn = memory.pages.allocContiguous(pages)
    const gpa = memory.gpaOf(pfn)
    trace.add({kind: 'page_alloc', layer: 'guest', name: 'kmalloc (private buffer for the DMA mapping)', gpa, count: pages})
    const buf: SharedBuffer = {id: this.nextId++, strategy: this.strategy, pfn, pages, bytes: pages * PAGE_SIZE, gpa, va: memory.directMap.va(gpa)}
    this.live.set(buf.id, buf)
    return buf
  }

  private own(buf: SharedBuffer): void {
    if (this.live.get(buf.id) !== buf) throw new TdxkitError('BAD_FREE', `buffer ${buf.id} is not a live swiotlb buffer`, {exit: 1})
  }

  /** dma_map_single(dev, buf, size, DMA_BIDIRECTIONAL): find slots, bounce in, return the bounce address. */
  mapForDevice(buf: SharedBuffer): bigint {
    this.own(buf)
    const {memory, trace} = this.td
    const slots = this.slots!
    trace.add({kind: 'dma_map', layer: 'guest', name: 'dma_map_single(DMA_BIDIRECTIONAL) → swiotlb_tbl_map_single', gpa: buf.gpa, count: buf.bytes})
    const slot = slots.find(this.td.cpu.index, buf.bytes)
    trace.add({kind: 'slot_search', layer: 'guest', name: 'swiotlb_find_slots', count: slots.lastScanned, ...(slot >= 0 ? {gpa: this.slotGpa(slot)} : {})})
    if (slot < 0) {
      const msg = `swiotlb buffer is full (sz: ${buf.bytes} bytes), total ${slots.nslabs} (slots), used ${slots.used} (slots)`
      trace.add({kind: 'pool_exhausted', layer: 'guest', name: 'swiotlb buffer is full', detail: 'DMA_MAPPING_ERROR'})
      throw new PoolExhaustedError(`swiotlb: ${msg}: dma_map_single returned DMA_MAPPING_ERROR`, {slots: slots.nslabs, used: slots.used, size: buf.bytes}, {code: 'SWIOTLB_FULL', blocking: false})
    }
    this.mappings.set(buf.id, {slot})
    const tlb = this.slotGpa(slot)
    memory.directMap.write(tlb, memory.directMap.read(buf.gpa, buf.bytes))
    trace.add({kind: 'bounce', layer: 'guest', name: 'swiotlb_bounce(DMA_TO_DEVICE): buffer → slots', gpa: tlb, count: buf.bytes})
    return memory.sharedAlias(tlb)
  }

  /** dma_sync_single_range_for_cpu: bounce [offset, offset + len) of the slots back to the buffer. */
  syncForCpu(buf: SharedBuffer, offset: number, len: number): void {
    checkRange(buf, offset, len)
    const m = this.mappings.get(buf.id)
    if (!m) return
    const {memory, trace} = this.td
    const tlb = this.slotGpa(m.slot) + BigInt(offset)
    memory.directMap.write(buf.gpa + BigInt(offset), memory.directMap.read(tlb, len))
    trace.add({kind: 'bounce', layer: 'guest', name: 'swiotlb_bounce(DMA_FROM_DEVICE): slots → buffer', gpa: tlb, count: len})
  }

  /** dma_unmap_single(DMA_ATTR_SKIP_CPU_SYNC) → swiotlb_release_slots, then kfree the buffer. */
  free(buf: SharedBuffer): void {
    this.own(buf)
    const {memory, trace} = this.td
    const m = this.mappings.get(buf.id)
    if (m) {
      trace.add({kind: 'dma_unmap', layer: 'guest', name: 'dma_unmap_single(DMA_ATTR_SKIP_CPU_SYNC)', gpa: this.slotGpa(m.slot)})
      const n = this.slots!.release(m.slot)
      trace.add({kind: 'slot_free', layer: 'guest', name: `swiotlb_release_slots (${n} slots)`, gpa: this.slotGpa(m.slot)})
      this.mappings.delete(buf.id)
    }
    this.live.delete(buf.id)
    memory.pages.freePages(buf.pfn, buf.pages)
    trace.add({kind: 'page_free', layer: 'guest', name: 'kfree (private buffer)', gpa: buf.gpa, count: buf.pages})
  }

  /** Timed out: the host may still write the slots, so the mapping stays (and the buffer is leaked). */
  abandon(buf: SharedBuffer): void {
    this.own(buf)
    const m = this.mappings.get(buf.id)
    if (m) this.held.push([m.slot, this.slots!.mapped[m.slot]])
    this.mappings.delete(buf.id)
    this.live.delete(buf.id)
    this.td.trace.add({kind: 'leak', layer: 'guest', name: 'DMA mapping left with the host (not unmapped)', gpa: m ? this.slotGpa(m.slot) : buf.gpa, count: buf.pages})
  }

  read(buf: SharedBuffer, offset: number, len: number): Buffer {
    return readDirect(this.td.memory, buf, offset, len)
  }

  write(buf: SharedBuffer, offset: number, data: Uint8Array): void {
    writeDirect(this.td.memory, buf, offset, data)
  }

  inFlight(): number {
    return this.mappings.size
  }

  capacity(): number {
    return swiotlbCapacity(this.geometry.nslabs, this.mappingBytes)
  }

  sharedBytes(): number {
    return this.initialized ? this.geometry.bytes : 0
  }

  /** Mappings the host still owns. */
  heldMappings(): number {
    return this.held.length
  }
}

/** Shared-alias GPAs of the mappings a persisted pool still leaves with the host. */
export function heldSwiotlbGpas(memory: GuestMemory, s: SwiotlbState): bigint[] {
  return s.held.map(([slot]) => memory.sharedAlias(memory.gpaOf(s.base_pfn) + BigInt(slot * IO_TLB_SIZE)))
}
