/**
 * Strategy A, on-demand "vmap + MapGPA" (Kai Huang's 2022 proposal): every request converts fresh
 * pages to shared and every free converts them back and accepts them again. The direct map is never
 * touched — which leaves a private direct-map alias of pages that are shared while the buffer lives
 * (touching it kills the TD; the memory model faults exactly so).
 */
import {RefusedError, TdxkitError} from '../../errors.js'
import {PAGE_SIZE} from '../../machine/memory.js'
import type {GuestTd} from '../td.js'
import {pagesFor, type SharedBuffer, type SharedBufferAllocator} from './interface.js'

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
    const {memory, trace, ghci} = this.td
    const pages = pagesFor(bytes)
    const pfn = memory.pages.allocContiguous(pages)
    const gpa = memory.gpaOf(pfn)
    trace.add({kind: 'page_alloc', layer: 'guest', name: 'alloc_pages (contiguous)', gpa, count: pages})
    const pfns = Array.from({length: pages}, (_, i) => pfn + i)
    const va = memory.vmap.map(pfns, 'shared')
    trace.add({kind: 'vmap', layer: 'guest', name: 'vmap(pgprot_decrypted)', gpa, count: pages})
    trace.add({kind: 'cache_flush', layer: 'guest', name: 'clflush before conversion', gpa, count: pages})
    try {
      ghci.mapGpa(gpa, pages * PAGE_SIZE, true)
    } catch (error) {
      // Conversion state unknown: unmap, and leak the pages rather than return them (as Linux does).
      memory.vmap.unmap(va)
      trace.add({kind: 'vunmap', layer: 'guest', name: 'vunmap', gpa, count: pages})
      trace.add({kind: 'leak', layer: 'guest', name: 'pages leaked after failed MapGPA', gpa, count: pages})
      throw error
    }
    this.shared += pages * PAGE_SIZE
    trace.add({kind: 'shared_delta', layer: 'guest', name: 'buffer shared', gpa, count: pages * PAGE_SIZE})
    const buf: SharedBuffer = {id: this.nextId++, strategy: this.strategy, pfn, pages, bytes: pages * PAGE_SIZE, gpa: memory.sharedAlias(gpa), va}
    this.live.set(buf.id, buf)
    return buf
  }

  private own(buf: SharedBuffer): void {
    if (this.live.get(buf.id) !== buf) throw new TdxkitError('BAD_FREE', `buffer ${buf.id} is not a live vmap-mapgpa buffer`, {exit: 1})
  }

  free(buf: SharedBuffer): void {
    this.own(buf)
    const {memory, trace, ghci} = this.td
    const gpa = memory.strip(buf.gpa)
    this.live.delete(buf.id)
    try {
      ghci.mapGpa(gpa, buf.pages * PAGE_SIZE, false)
    } catch (error) {
      memory.vmap.unmap(buf.va)
      trace.add({kind: 'vunmap', layer: 'guest', name: 'vunmap', gpa, count: buf.pages})
      trace.add({kind: 'leak', layer: 'guest', name: 'pages leaked after failed MapGPA', gpa, count: buf.pages})
      throw error
    }
    this.shared -= buf.bytes
    trace.add({kind: 'shared_delta', layer: 'guest', name: 'buffer private again', gpa, count: -buf.bytes})
    this.td.acceptPages(gpa, buf.pages)
    memory.vmap.unmap(buf.va)
    trace.add({kind: 'vunmap', layer: 'guest', name: 'vunmap', gpa, count: buf.pages})
    trace.add({kind: 'lazy_purge', layer: 'guest', name: 'lazy vmap purge (TLB shootdown)', count: buf.pages})
    memory.pages.freePages(buf.pfn, buf.pages)
    trace.add({kind: 'page_free', layer: 'guest', name: 'free_pages', gpa, count: buf.pages})
  }

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

export function checkRange(buf: SharedBuffer, offset: number, len: number): void {
  if (offset < 0 || len < 0 || offset + len > buf.bytes) {
    throw new RefusedError('BUFFER_OVERRUN', `access [${offset}, ${offset + len}) outside the ${buf.bytes}-byte shared buffer`)
  }
}
