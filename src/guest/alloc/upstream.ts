/**
 * `upstream`: the GetQuote buffer as the merged Linux driver keeps it —
 * drivers/virt/coco/tdx-guest/tdx-guest.c, first in v6.7 (commit f4738f56d1dc "virt: tdx-guest: Add
 * Quote generation support using TSM_REPORTS", msg-id
 * 20230907025405.2310931-1-sathyanarayanan.kuppuswamy@linux.intel.com):
 *
 * - tdx_guest_init() → alloc_quote_buf(): alloc_pages_exact(PAGE_ALIGN(GET_QUOTE_BUF_SIZE),
 *   GFP_KERNEL | __GFP_ZERO) + set_memory_decrypted() ONCE; the buffer is reused by every request
 *   ("such one time allocation can help avoid memory fragmentation related allocation failures
 *   later in the uptime of the guest"). GET_QUOTE_BUF_SIZE = SZ_8K in v6.7 … v6.19, SZ_128K from
 *   v7.0 (43185067c6fd "Increase Quote buffer size to 128KB").
 * - per request (tdx_report_new): mutex_lock_interruptible(&quote_lock) — one request at a time;
 *   if the buffer's status still reads GET_QUOTE_IN_FLIGHT (an earlier request timed out and the
 *   VMM still owns it) → -EBUSY; memset the whole buffer, header + TDREPORT, TDVMCALL GetQuote,
 *   poll msleep_interruptible(1000) up to 30 times; v7.0 adds the out_len bound (-EFBIG,
 *   c3fd16c3b98e) and, in tip x86/tdx 2026 (0f409eaea53e), -EIO on a failure status.
 * - no MapGPA, no accept, no direct-map change per request; the splits (≤ 1 × 1G + ≤ 1 × 2M)
 *   happen once at init.
 *
 * The buffer survives across CLI invocations (doc.alloc.upstream), as the driver's buffer lives as
 * long as the module is loaded.
 */
import {GET_QUOTE_HEADER, GET_QUOTE_HEADER_SIZE, GetQuoteStatus} from '../../abi/ghci.js'
import {readUint} from '../../abi/layout.js'
import {InputError, TdxkitError} from '../../errors.js'
import {PAGE_SIZE} from '../../machine/memory.js'
import type {GuestTd} from '../td.js'
import {PoolExhaustedError, checkRange, type SharedBuffer, type SharedBufferAllocator, readDirect, writeDirect} from './interface.js'
import {restoreSharedRun, setMemoryDecrypted, setMemoryEncrypted} from './set-memory.js'

/** Kernel versions whose GET_QUOTE_BUF_SIZE differs. */
export type UpstreamKernel = '6.7' | '7.0'
export const UPSTREAM_KERNELS: readonly UpstreamKernel[] = ['6.7', '7.0']
export const DEFAULT_UPSTREAM_KERNEL: UpstreamKernel = '7.0'
/** GET_QUOTE_BUF_SIZE by kernel version (tdx-guest.c). */
export const UPSTREAM_QUOTE_BUF_BYTES: Readonly<Record<UpstreamKernel, number>> = {'6.7': 8 * 1024, '7.0': 128 * 1024}

/** Persisted driver buffer (doc.alloc.upstream). */
export interface UpstreamState {
  base_pfn: number
  buffer_bytes: number
  kernel: UpstreamKernel
  /** A request timed out: the VMM may still own the buffer (its status word reads IN_FLIGHT). */
  abandoned: boolean
}

export interface UpstreamOptions {
  kernel?: UpstreamKernel
  state?: UpstreamState
}

export class UpstreamTdxGuestAllocator implements SharedBufferAllocator {
  readonly strategy = 'upstream' as const
  readonly kernel: UpstreamKernel
  readonly bufferBytes: number
  private readonly td: GuestTd
  private basePfn = -1
  private saved?: UpstreamState
  private locked?: SharedBuffer
  private abandonedBuf = false
  private nextId = 1

  constructor(td: GuestTd, opts: UpstreamOptions = {}) {
    this.td = td
    this.saved = opts.state
    this.kernel = opts.state?.kernel ?? opts.kernel ?? DEFAULT_UPSTREAM_KERNEL
    this.bufferBytes = UPSTREAM_QUOTE_BUF_BYTES[this.kernel]
  }

  get initialized(): boolean {
    return this.basePfn >= 0
  }

  private get pages(): number {
    return this.bufferBytes / PAGE_SIZE
  }

  /** tdx_guest_init(): the one buffer, decrypted once; or the buffer an earlier run set up. */
  init(): void {
    if (this.initialized) return
    const {memory, trace} = this.td
    if (this.saved) {
      restoreSharedRun(memory, this.saved.base_pfn, this.pages)
      this.basePfn = this.saved.base_pfn
      this.abandonedBuf = this.saved.abandoned
      trace.add({kind: 'note', layer: 'guest', name: 'tdx-guest quote buffer restored', gpa: memory.gpaOf(this.basePfn), detail: `${this.bufferBytes} bytes already shared (module still loaded)`})
      trace.add({kind: 'shared_delta', layer: 'guest', name: 'quote buffer shared (restored)', count: this.bufferBytes})
      return
    }
    trace.during('init', () => {
      // alloc_pages_exact: an order-n block from the buddy allocator, the tail beyond the size freed.
      const pfn = memory.pages.allocContiguous(this.pages)
      trace.add({kind: 'page_alloc', layer: 'guest', name: 'alloc_pages_exact(GET_QUOTE_BUF_SIZE, GFP_KERNEL | __GFP_ZERO)', gpa: memory.gpaOf(pfn), count: this.pages})
      setMemoryDecrypted(this.td, pfn, this.pages, 'quote buffer')
      trace.add({kind: 'device', layer: 'guest', name: 'tsm_register(&tdx_report_ops) (configfs-tsm provider "tdx_guest")'})
      this.basePfn = pfn
    })
    this.saved = {base_pfn: this.basePfn, buffer_bytes: this.bufferBytes, kernel: this.kernel, abandoned: false}
  }

  /** The state to persist. */
  state(): UpstreamState {
    if (!this.saved) throw new TdxkitError('POOL_NOT_INITIALIZED', 'upstream: init() was not called', {exit: 1})
    return {...this.saved, abandoned: this.abandonedBuf}
  }

  private get gpa(): bigint {
    return this.td.memory.gpaOf(this.basePfn)
  }

  /** The host let go of a timed-out request once the status word no longer reads IN_FLIGHT. */
  private stillInFlight(): boolean {
    if (!this.abandonedBuf) return false
    const header = this.td.memory.directMap.read(this.gpa, GET_QUOTE_HEADER_SIZE)
    if (readUint(GET_QUOTE_HEADER, header, 'status') === GetQuoteStatus.IN_FLIGHT) return true
    this.abandonedBuf = false
    return false
  }

  /** quote_lock, then the IN_FLIGHT check (tdx_report_new). */
  alloc(bytes: number): SharedBuffer {
    this.init()
    const {trace, memory} = this.td
    if (bytes > this.bufferBytes) {
      throw new InputError('BUFFER_TOO_LARGE', `upstream: a ${bytes}-byte buffer does not fit tdx-guest's GET_QUOTE_BUF_SIZE of ${this.bufferBytes} bytes (kernel ${this.kernel})`)
    }
    if (this.locked) {
      trace.add({kind: 'pool_exhausted', layer: 'guest', name: 'quote_lock held', detail: 'mutex_lock_interruptible waits for the request in progress'})
      throw new PoolExhaustedError('upstream: quote_lock is held by the request in progress (one GetQuote at a time)', {in_flight: 1}, {code: 'QUOTE_LOCK_HELD', blocking: true})
    }
    trace.add({kind: 'lock', layer: 'guest', name: 'mutex_lock_interruptible(&quote_lock)'})
    if (this.stillInFlight()) {
      trace.add({kind: 'lock', layer: 'guest', name: 'mutex_unlock(&quote_lock)'})
      trace.add({kind: 'pool_exhausted', layer: 'guest', name: 'quote buffer still GET_QUOTE_IN_FLIGHT', detail: '-EBUSY'})
      throw new PoolExhaustedError('upstream: -EBUSY: the VMM still owns the quote buffer from a request that timed out (status GET_QUOTE_IN_FLIGHT)', {abandoned: 1}, {code: 'QUOTE_BUSY', blocking: false})
    }
    const buf: SharedBuffer = {
      id: this.nextId++,
      strategy: this.strategy,
      pfn: this.basePfn,
      pages: this.pages,
      bytes: this.bufferBytes,
      gpa: memory.sharedAlias(this.gpa),
      va: memory.directMap.va(this.gpa),
    }
    this.locked = buf
    return buf
  }

  mapForDevice(buf: SharedBuffer): bigint {
    return buf.gpa
  }

  syncForCpu(): void {}

  private own(buf: SharedBuffer): void {
    if (this.locked !== buf) throw new TdxkitError('BAD_FREE', `buffer ${buf.id} is not the locked tdx-guest quote buffer`, {exit: 1})
  }

  free(buf: SharedBuffer): void {
    this.own(buf)
    this.locked = undefined
    this.td.trace.add({kind: 'lock', layer: 'guest', name: 'mutex_unlock(&quote_lock)'})
  }

  /** A timed-out request: the lock is released, the buffer stays with the VMM (next request: -EBUSY). */
  abandon(buf: SharedBuffer): void {
    this.own(buf)
    this.locked = undefined
    this.abandonedBuf = true
    this.td.trace.add({kind: 'lock', layer: 'guest', name: 'mutex_unlock(&quote_lock)', detail: 'buffer left GET_QUOTE_IN_FLIGHT with the VMM'})
  }

  read(buf: SharedBuffer, offset: number, len: number): Buffer {
    return readDirect(this.td.memory, buf, offset, len)
  }

  write(buf: SharedBuffer, offset: number, data: Uint8Array): void {
    writeDirect(this.td.memory, buf, offset, data)
  }

  inFlight(): number {
    return this.locked ? 1 : 0
  }

  capacity(): number {
    return 1
  }

  sharedBytes(): number {
    return this.initialized ? this.bufferBytes : 0
  }

  /**
   * tdx_guest_exit() → free_quote_buf(): set_memory_encrypted() and free_pages_exact(); refused
   * while a request holds the buffer or the VMM still owns it.
   */
  destroy(): void {
    if (!this.initialized) return
    if (this.locked || this.abandonedBuf) {
      throw new PoolExhaustedError('upstream: cannot free the quote buffer while a request holds it or the VMM still owns it', {abandoned: this.abandonedBuf ? 1 : 0})
    }
    const {memory, trace} = this.td
    const gpa = this.gpa
    setMemoryEncrypted(this.td, this.basePfn, this.pages, 'quote buffer')
    memory.pages.freePages(this.basePfn, this.pages)
    trace.add({kind: 'page_free', layer: 'guest', name: 'free_pages_exact (tdx_guest_exit)', gpa, count: this.pages})
    this.basePfn = -1
    this.saved = undefined
  }

  /** Held by the VMM after a timed-out request. */
  abandoned(): boolean {
    return this.abandonedBuf
  }
}

/** Shared-alias GPA of a persisted buffer the VMM still owns (for the host of a later run). */
export function abandonedUpstreamGpas(memory: GuestTd['memory'], s: UpstreamState): bigint[] {
  return s.abandoned ? [memory.sharedAlias(memory.gpaOf(s.base_pfn))] : []
}
