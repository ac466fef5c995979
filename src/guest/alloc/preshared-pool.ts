/**
 * `preshared-pool` (formerly `dma-pool`): tdxkit's pre-shared pool — one contiguous block converted
 * to shared once at driver init, the way set_memory_decrypted() does it (cache flush, direct-map
 * protection change — splitting large mappings at the block's edges — TLB flush, MapGPA), then
 * carved into fixed slots. A request takes a slot and returns it: no TDCALL, no TDVMCALL, no S-EPT
 * change. It is the merged tdx-guest buffer (drivers/virt/coco/tdx-guest/tdx-guest.c, v6.7: one
 * buffer, alloc_pages_exact + set_memory_decrypted in tdx_guest_init) generalised to N slots, the
 * shape of the kernel's atomic DMA pool (kernel/dma/pool.c: decrypted when (re)filled, never shrunk).
 * It is NOT what the 2022 thread meant by the DMA-pool path: that is `swiotlb` (converted at boot,
 * no direct-map change at run time); this pool's direct-map splits happen at its init, once.
 *
 * The pool survives across CLI invocations through DmaPoolState (doc.alloc.dma_pool): a later run
 * restores it without paying the conversion again. A slot whose request timed out stays owned by
 * the host ("abandoned") until its status word leaves IN_FLIGHT; with every slot busy, alloc() fails
 * at once.
 */
import {GET_QUOTE_BUF_SIZE, GET_QUOTE_HEADER, GET_QUOTE_HEADER_SIZE, GetQuoteStatus} from '../../abi/ghci.js'
import {readUint} from '../../abi/layout.js'
import {InputError, TdxkitError} from '../../errors.js'
import {PAGE_SIZE, PAGE_SIZE_2M, type GuestMemory} from '../../machine/memory.js'
import type {GuestTd} from '../td.js'
import {PoolExhaustedError, checkRange, type SharedBuffer, type SharedBufferAllocator, readDirect, writeDirect} from './interface.js'
import {restoreSharedRun, setMemoryDecrypted, setMemoryEncrypted} from './set-memory.js'

/** Default pool: 8 slots of 8 KiB. */
export const DEFAULT_POOL_BYTES = 64 * 1024
export const DEFAULT_SLOT_BYTES = GET_QUOTE_BUF_SIZE

/** Persisted pool (doc.alloc.dma_pool). */
export interface DmaPoolState {
  base_pfn: number
  pool_bytes: number
  slot_bytes: number
  /** Slots whose request timed out and that the host may still own. */
  abandoned: number[]
  /** What the one-time conversion cost (for reports). */
  init_cost: {pages_converted: number; dm_splits_1g: number; dm_splits_2m: number; tdvmcalls: number}
}

export interface DmaPoolOptions {
  poolBytes?: number
  slotBytes?: number
  /** Restore this persisted pool instead of converting a new one. */
  state?: DmaPoolState
}

export function validatePoolSizes(poolBytes: number, slotBytes: number): void {
  if (!Number.isInteger(slotBytes) || slotBytes <= 0 || slotBytes % PAGE_SIZE !== 0) {
    throw new InputError('BAD_SLOT_SIZE', `buffer size must be a positive multiple of ${PAGE_SIZE} bytes (GetQuote needs 4 KiB-aligned buffers), got ${slotBytes}`)
  }
  if (!Number.isInteger(poolBytes) || poolBytes <= 0 || poolBytes % PAGE_SIZE !== 0) {
    throw new InputError('BAD_POOL_SIZE', `pool size must be a positive multiple of ${PAGE_SIZE} bytes, got ${poolBytes}`)
  }
  if (poolBytes < slotBytes) throw new InputError('POOL_TOO_SMALL', `pool of ${poolBytes} bytes is smaller than one ${slotBytes}-byte buffer`)
}

export class PresharedPoolAllocator implements SharedBufferAllocator {
  readonly strategy = 'preshared-pool' as const
  private readonly td: GuestTd
  readonly poolBytes: number
  readonly slotBytes: number
  readonly slots: number
  private persisted?: DmaPoolState
  private basePfn = -1
  private readonly busy = new Map<number, SharedBuffer>()
  private readonly abandonedSlots = new Set<number>()
  private nextId = 1

  constructor(td: GuestTd, opts: DmaPoolOptions = {}) {
    this.td = td
    this.persisted = opts.state
    this.poolBytes = opts.state?.pool_bytes ?? opts.poolBytes ?? DEFAULT_POOL_BYTES
    this.slotBytes = opts.state?.slot_bytes ?? opts.slotBytes ?? DEFAULT_SLOT_BYTES
    validatePoolSizes(this.poolBytes, this.slotBytes)
    this.slots = Math.floor(this.poolBytes / this.slotBytes)
  }

  get initialized(): boolean {
    return this.basePfn >= 0
  }

  /** The state to persist. */
  state(): DmaPoolState {
    if (!this.persisted) throw new TdxkitError('POOL_NOT_INITIALIZED', 'preshared-pool: init() was not called', {exit: 1})
    return {...this.persisted, abandoned: [...this.abandonedSlots].sort((a, b) => a - b)}
  }

  init(): void {
    if (this.initialized) return
    if (this.persisted) this.restore(this.persisted)
    else this.convert()
  }

  private get pages(): number {
    return this.poolBytes / PAGE_SIZE
  }

  /** The one-time conversion, as set_memory_decrypted() on the pool's direct-map range. */
  private convert(): void {
    const {memory, trace} = this.td
    const before = trace.snapshot()
    const pages = this.pages
    const align = this.poolBytes >= PAGE_SIZE_2M ? PAGE_SIZE_2M / PAGE_SIZE : undefined
    const pfn = memory.pages.allocContiguous(pages, align)
    const gpa = memory.gpaOf(pfn)
    trace.add({kind: 'page_alloc', layer: 'guest', name: 'alloc_pages_exact (pool)', gpa, count: pages, phase: 'init'})
    const change = trace.during('init', () => setMemoryDecrypted(this.td, pfn, pages, 'pool'))
    const after = trace.snapshot()
    this.basePfn = pfn
    this.persisted = {
      base_pfn: pfn,
      pool_bytes: this.poolBytes,
      slot_bytes: this.slotBytes,
      abandoned: [],
      init_cost: {
        pages_converted: pages,
        dm_splits_1g: change.splits_1g,
        dm_splits_2m: change.splits_2m,
        tdvmcalls: after.tdvmcalls - before.tdvmcalls,
      },
    }
  }

  /** Re-establish a pool converted by an earlier run: no operations, nothing traced but a note. */
  private restore(s: DmaPoolState): void {
    const {memory, trace} = this.td
    restorePoolMemory(memory, s)
    this.basePfn = s.base_pfn
    for (const slot of s.abandoned) if (slot >= 0 && slot < this.slots) this.abandonedSlots.add(slot)
    trace.add({kind: 'note', layer: 'guest', name: 'preshared-pool restored', gpa: memory.gpaOf(s.base_pfn), detail: `${s.pool_bytes} bytes already shared, ${this.slots} slots`})
    // The pool is shared memory this TD holds; count it without an operation.
    trace.add({kind: 'shared_delta', layer: 'guest', name: 'pool shared (restored)', count: s.pool_bytes})
  }

  private slotGpa(slot: number): bigint {
    return this.td.memory.gpaOf(this.basePfn) + BigInt(slot * this.slotBytes)
  }

  /** Abandoned slots the host has let go of (status word no longer IN_FLIGHT) come back. */
  private reclaim(): void {
    const {memory, trace} = this.td
    for (const slot of [...this.abandonedSlots]) {
      const header = memory.directMap.read(this.slotGpa(slot), GET_QUOTE_HEADER_SIZE)
      if (readUint(GET_QUOTE_HEADER, header, 'status') !== GetQuoteStatus.IN_FLIGHT) {
        this.abandonedSlots.delete(slot)
        trace.add({kind: 'note', layer: 'guest', name: 'abandoned slot reclaimed', gpa: this.slotGpa(slot), detail: 'host no longer owns it'})
      }
    }
  }

  alloc(bytes: number): SharedBuffer {
    this.init()
    if (bytes > this.slotBytes) {
      throw new InputError('BUFFER_TOO_LARGE', `preshared-pool: a ${bytes}-byte buffer does not fit the pool's ${this.slotBytes}-byte slots`)
    }
    if (this.abandonedSlots.size > 0) this.reclaim()
    let slot = -1
    for (let i = 0; i < this.slots; i++) {
      if (!this.busy.has(i) && !this.abandonedSlots.has(i)) {
        slot = i
        break
      }
    }
    if (slot < 0) {
      this.td.trace.add({kind: 'pool_exhausted', layer: 'guest', name: 'preshared-pool exhausted', detail: `${this.busy.size} in flight, ${this.abandonedSlots.size} held by the host, ${this.slots} slots`})
      const held = this.abandonedSlots.size > 0 ? `; ${this.abandonedSlots.size} held by the host from timed-out requests` : ''
      throw new PoolExhaustedError(`preshared-pool exhausted: all ${this.slots} slot(s) of ${this.slotBytes} bytes are in use (${this.busy.size} in flight${held})`, {
        slots: this.slots,
        in_flight: this.busy.size,
        abandoned: this.abandonedSlots.size,
      })
    }
    const gpa = this.slotGpa(slot)
    const pfn = this.basePfn + (slot * this.slotBytes) / PAGE_SIZE
    const buf: SharedBuffer = {
      id: this.nextId++,
      strategy: this.strategy,
      pfn,
      pages: this.slotBytes / PAGE_SIZE,
      bytes: this.slotBytes,
      gpa: this.td.memory.sharedAlias(gpa),
      va: this.td.memory.directMap.va(gpa),
    }
    this.busy.set(slot, buf)
    this.td.trace.add({kind: 'slot_alloc', layer: 'guest', name: `preshared-pool slot ${slot}`, gpa})
    return buf
  }

  mapForDevice(buf: SharedBuffer): bigint {
    return buf.gpa
  }

  syncForCpu(): void {}

  private slotOf(buf: SharedBuffer): number {
    for (const [slot, b] of this.busy) if (b === buf) return slot
    throw new TdxkitError('BAD_FREE', `buffer ${buf.id} is not a live preshared-pool buffer`, {exit: 1})
  }

  free(buf: SharedBuffer): void {
    const slot = this.slotOf(buf)
    this.busy.delete(slot)
    this.td.trace.add({kind: 'slot_free', layer: 'guest', name: `preshared-pool slot ${slot}`, gpa: this.slotGpa(slot)})
  }

  abandon(buf: SharedBuffer): void {
    const slot = this.slotOf(buf)
    this.busy.delete(slot)
    this.abandonedSlots.add(slot)
    this.td.trace.add({kind: 'note', layer: 'guest', name: `preshared-pool slot ${slot} abandoned to the host`, gpa: this.slotGpa(slot)})
  }

  read(buf: SharedBuffer, offset: number, len: number): Buffer {
    return readDirect(this.td.memory, buf, offset, len)
  }

  write(buf: SharedBuffer, offset: number, data: Uint8Array): void {
    writeDirect(this.td.memory, buf, offset, data)
  }

  inFlight(): number {
    return this.busy.size
  }

  capacity(): number {
    return this.slots
  }

  abandoned(): number {
    return this.abandonedSlots.size
  }

  sharedBytes(): number {
    return this.initialized ? this.poolBytes : 0
  }

  /**
   * Give the pool back to private memory (set_memory_encrypted): MapGPA(private), accept every
   * page, direct map re-encrypted (splits stay). Refused while any slot is in use or held.
   */
  destroy(): void {
    if (!this.initialized) return
    if (this.busy.size > 0 || this.abandonedSlots.size > 0) {
      throw new PoolExhaustedError('preshared-pool: cannot release the pool while slots are in use or held by the host', {
        in_flight: this.busy.size,
        abandoned: this.abandonedSlots.size,
      })
    }
    const {memory, trace} = this.td
    const gpa = memory.gpaOf(this.basePfn)
    const pages = this.pages
    setMemoryEncrypted(this.td, this.basePfn, pages, 'pool')
    memory.pages.freePages(this.basePfn, pages)
    trace.add({kind: 'page_free', layer: 'guest', name: 'free_pages_exact (pool)', gpa, count: pages})
    this.basePfn = -1
    this.persisted = undefined
  }
}

/** Shared-alias GPAs of the slots a persisted pool abandoned to the host. */
export function abandonedSlotGpas(memory: GuestMemory, s: DmaPoolState): bigint[] {
  return s.abandoned.map((slot) => memory.sharedAlias(memory.gpaOf(s.base_pfn) + BigInt(slot * s.slot_bytes)))
}

/**
 * Put a persisted pool back into a fresh TD memory model (pages reserved, shared, direct map
 * decrypted) without recording anything: the TD's state, whichever strategy this run uses.
 */
export function restorePoolMemory(memory: GuestMemory, s: DmaPoolState): void {
  restoreSharedRun(memory, s.base_pfn, s.pool_bytes / PAGE_SIZE)
}

/** The pre-issue-16 name of this allocator. */
export const DmaPoolAllocator = PresharedPoolAllocator
export type DmaPoolAllocator = PresharedPoolAllocator
