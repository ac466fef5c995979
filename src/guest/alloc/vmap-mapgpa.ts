/**
 * Strategy A, on-demand "vmap + MapGPA" — Solution 1 of the quote-generation thread. Source: Kai
 * Huang, LKML 2022-05-09, reply in "[PATCH v5 3/3] x86/tdx: Add Quote generation support"
 * (https://lkml.iu.edu/hypermail/linux/kernel/2205.1/00388.html), which gives the sequence:
 *
 *   page = alloc_page(); addr = vmap(page, pgprot_decrypted(PAGE_KERNEL));
 *   clflush_cache_range(page_address(page), PAGE_SIZE); MapGPA(page_to_phys(page) | cc_mkdec(0), PAGE_SIZE);
 *
 * and on free "convert back and accept": MapGPA(private), TDG.MEM.PAGE.ACCEPT of every page (the
 * accept faults to the host, which TDH.MEM.PAGE.AUGs the page), vunmap (lazy purge → a TLB
 * shootdown the kernel may batch), free_pages. The direct map is never touched — which leaves a
 * private direct-map alias of pages that are shared while the buffer lives (touching it kills the
 * TD; the memory model faults exactly so). Kai: a TD may hold both mappings; only dirty cache lines
 * need flushing, "we don't even need to flush the TLB of the private mapping".
 */
import {TdxkitError} from '../../errors.js'
import {PAGE_SIZE} from '../../machine/memory.js'
import type {GuestTd} from '../td.js'
import {checkRange, pagesFor, type SharedBuffer, type SharedBufferAllocator} from './interface.js'
import {mapGpaOrLeak} from './set-memory.js'

const LEAKED = 'pages leaked after failed MapGPA'

export class VmapMapGpaAllocator implements SharedBufferAllocator {
  readonly strategy = 'vmap-mapgpa' as const
  private readonly td: GuestTd
  private readonly live = new Map<number, SharedBuffer>()
  private nextId = 1
  private shared = 0

  constructor(td: GuestTd) {
    this.td = td
  }

  init(): void {}

  alloc(bytes: number): SharedBuffer {
    const {memory, trace} = this.td
    const pages = pagesFor(bytes)
    const pfn = memory.pages.allocContiguous(pages)
    const gpa = memory.gpaOf(pfn)
    trace.add({kind: 'page_alloc', layer: 'guest', name: 'alloc_pages (contiguous)', gpa, count: pages})
    const pfns = Array.from({length: pages}, (_, i) => pfn + i)
    const va = memory.vmap.map(pfns, 'shared')
    trace.add({kind: 'vmap', layer: 'guest', name: 'vmap(pgprot_decrypted)', gpa, count: pages})
    trace.add({kind: 'cache_flush', layer: 'guest', name: 'clflush before conversion', gpa, count: pages})
    // Conversion state unknown on failure: unmap, and leak the pages rather than return them (as Linux does).
    mapGpaOrLeak(this.td, gpa, pages, true, LEAKED, () => this.vunmap(va, gpa, pages))
    this.shared += pages * PAGE_SIZE
    trace.add({kind: 'shared_delta', layer: 'guest', name: 'buffer shared', gpa, count: pages * PAGE_SIZE})
    const buf: SharedBuffer = {id: this.nextId++, strategy: this.strategy, pfn, pages, bytes: pages * PAGE_SIZE, gpa: memory.sharedAlias(gpa), va}
    this.live.set(buf.id, buf)
    return buf
  }

  private vunmap(va: bigint, gpa: bigint, pages: number): void {
    this.td.memory.vmap.unmap(va)
    this.td.trace.add({kind: 'vunmap', layer: 'guest', name: 'vunmap', gpa, count: pages})
  }

  private own(buf: SharedBuffer): void {
    if (this.live.get(buf.id) !== buf) throw new TdxkitError('BAD_FREE', `buffer ${buf.id} is not a live vmap-mapgpa buffer`, {exit: 1})
  }

  free(buf: SharedBuffer): void {
    this.own(buf)
    const {memory, trace} = this.td
    const gpa = memory.strip(buf.gpa)
    this.live.delete(buf.id)
    mapGpaOrLeak(this.td, gpa, buf.pages, false, LEAKED, () => this.vunmap(buf.va, gpa, buf.pages))
    this.shared -= buf.bytes
    trace.add({kind: 'shared_delta', layer: 'guest', name: 'buffer private again', gpa, count: -buf.bytes})
    this.td.acceptPages(gpa, buf.pages)
    this.vunmap(buf.va, gpa, buf.pages)
    trace.add({kind: 'lazy_purge', layer: 'guest', name: 'lazy vmap purge (TLB shootdown)', count: buf.pages})
    memory.pages.freePages(buf.pfn, buf.pages)
    trace.add({kind: 'page_free', layer: 'guest', name: 'free_pages', gpa, count: buf.pages})
  }

  mapForDevice(buf: SharedBuffer): bigint {
    return buf.gpa
  }

  syncForCpu(): void {}

  abandon(buf: SharedBuffer): void {
    this.own(buf)
    // The host may still write into it: keep it shared and never reuse the pages.
    this.live.delete(buf.id)
    this.td.trace.add({kind: 'leak', layer: 'guest', name: 'buffer abandoned to the host', gpa: this.td.memory.strip(buf.gpa), count: buf.pages})
  }

  read(buf: SharedBuffer, offset: number, len: number): Buffer {
    checkRange(buf, offset, len)
    return this.td.memory.vmap.read(buf.va + BigInt(offset), len)
  }

  write(buf: SharedBuffer, offset: number, data: Uint8Array): void {
    checkRange(buf, offset, data.length)
    this.td.memory.vmap.write(buf.va + BigInt(offset), data)
  }

  inFlight(): number {
    return this.live.size
  }

  capacity(): number {
    return Number.POSITIVE_INFINITY
  }

  sharedBytes(): number {
    return this.shared
  }
}

