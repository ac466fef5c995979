/**
 * The TD's guest-physical address space, page by page (4 KiB). Each page is private (accepted,
 * encrypted with the TD key), shared (unencrypted, host-visible) or pending (host added it with
 * TDH.MEM.PAGE.AUG, guest has not accepted it yet). The shared bit sits at GPAW-1: a GPA with it
 * set is the shared alias of the same frame.
 *
 * Accesses fail the way hardware does:
 * - private access (shared bit clear) to a shared page → EPT violation the guest cannot recover
 *   from (the kernel would take a fatal #VE / TD shutdown);
 * - shared access (shared bit set) to a private page → the host's shared EPT has no mapping;
 * - any access to a pending page → #VE (the guest must TDG.MEM.PAGE.ACCEPT first);
 * - the host touching a private page → refused (it only sees shared memory).
 *
 * Contents are sparse (pages never written read as zero).
 *
 * On top of the GPA space sit the guest kernel's views of it:
 * - the direct map (PAGE_OFFSET + GPA), built from 1 GiB / 2 MiB / 4 KiB mappings, each mapping
 *   either encrypted (private alias) or decrypted (shared alias). Changing the protection of part
 *   of a large mapping splits it (1G → 512×2M, 2M → 512×4K); splits are counted and never
 *   re-collapse (as in Linux for enc/dec changes);
 * - vmap mappings in the vmalloc area, each with its own protection, so a buffer can be shared
 *   through a vmap while its direct-map alias stays private (and must then never be touched);
 * - a contiguous page allocator over guest RAM (first fit, naturally aligned like the buddy
 *   allocator), which the shared-buffer allocators draw from.
 */
import {RefusedError} from '../errors.js'

export const PAGE_SHIFT = 12
export const PAGE_SIZE = 1 << PAGE_SHIFT
/** The same as BigInts, made once (a BigInt() conversion per page access showed in the quote path's profile). */
const PAGE_SHIFT_N = BigInt(PAGE_SHIFT)
const PAGE_SIZE_N = BigInt(PAGE_SIZE)
const PAGE_MASK_N = PAGE_SIZE_N - 1n
export const PAGE_SIZE_2M = 2 * 1024 * 1024
export const PAGE_SIZE_1G = 1024 * 1024 * 1024

export type PageState = 'private' | 'shared' | 'pending'

export class MemoryFault extends RefusedError {
  readonly gpa: bigint
  constructor(code: string, message: string, gpa: bigint) {
    super(code, message, {detail: {gpa: '0x' + gpa.toString(16)}})
    this.gpa = gpa
  }
}

export interface GuestMemoryOptions {
  /** Guest physical address width: 48 or 52. The shared bit is GPAW-1. */
  gpaw?: 48 | 52
  /** Bytes of guest RAM (GPA 0 .. size). Default 2 GiB. */
  sizeBytes?: number
  /** State of pages never explicitly set. Default 'private' (accepted at boot by the firmware/kernel). */
  defaultState?: PageState
  /** Low memory the page allocator never hands out (firmware, kernel image). Default 16 MiB. */
  reservedLowBytes?: number
}

const DEFAULT_RESERVED_LOW = 16 * 1024 * 1024
/** x86-64 (4-level) kernel virtual layout. */
export const PAGE_OFFSET = 0xffff888000000000n
export const VMALLOC_START = 0xffffc90000000000n
const PAGES_PER_2M = PAGE_SIZE_2M / PAGE_SIZE
const PAGES_PER_1G = PAGE_SIZE_1G / PAGE_SIZE

export type MapLevel = '1G' | '2M' | '4K'

export class GuestMemory {
  /** The kernel direct map over this memory. */
  readonly directMap: DirectMap
  /** The vmalloc area (vmap mappings). */
  readonly vmap: VmapSpace
  /** The guest kernel's contiguous page allocator. */
  readonly pages: PageAllocator
  readonly gpaw: number
  readonly sharedBit: bigint
  /** 2^GPAW: the first GPA past the address width. */
  private readonly gpaLimit: bigint
  /** Every bit but the shared bit. */
  private readonly stripMask: bigint
  readonly sizeBytes: number
  readonly pageCount: number
  private readonly defaultState: PageState
  private readonly states = new Map<number, PageState>()
  private readonly contents = new Map<number, Buffer>()

  constructor(opts: GuestMemoryOptions = {}) {
    this.gpaw = opts.gpaw ?? 52
    this.sharedBit = 1n << BigInt(this.gpaw - 1)
    this.gpaLimit = 1n << BigInt(this.gpaw)
    this.stripMask = ~this.sharedBit
    this.sizeBytes = opts.sizeBytes ?? 2 * PAGE_SIZE_1G
    this.pageCount = Math.floor(this.sizeBytes / PAGE_SIZE)
    this.defaultState = opts.defaultState ?? 'private'
    this.directMap = new DirectMap(this)
    this.vmap = new VmapSpace(this)
    this.pages = new PageAllocator(this.pageCount, opts.reservedLowBytes ?? DEFAULT_RESERVED_LOW)
  }

  /** GPA of a page frame (private alias). */
  gpaOf(pfn: number): bigint {
    return BigInt(pfn) << PAGE_SHIFT_N
  }

  /** The shared alias of a GPA (shared bit set). */
  sharedAlias(gpa: bigint): bigint {
    return gpa | this.sharedBit
  }

  /** Is the shared bit set in this GPA? */
  isSharedAlias(gpa: bigint): boolean {
    return (gpa & this.sharedBit) !== 0n
  }

  /** The GPA without the shared bit. */
  strip(gpa: bigint): bigint {
    return gpa & this.stripMask
  }

  /** Page frame number of a GPA (shared bit ignored); faults outside guest RAM or above GPAW. */
  pfn(gpa: bigint): number {
    if (gpa < 0n || gpa >= this.gpaLimit) throw new MemoryFault('GPA_OUT_OF_RANGE', `GPA 0x${gpa.toString(16)} exceeds GPAW ${this.gpaw}`, gpa)
    const pa = this.strip(gpa)
    const pfn = Number(pa >> PAGE_SHIFT_N)
    if (pfn >= this.pageCount) throw new MemoryFault('GPA_OUT_OF_RANGE', `GPA 0x${gpa.toString(16)} is outside guest RAM (${this.sizeBytes} bytes)`, gpa)
    return pfn
  }

  state(gpa: bigint): PageState {
    return this.states.get(this.pfn(gpa)) ?? this.defaultState
  }

  stateOfPfn(pfn: number): PageState {
    return this.states.get(pfn) ?? this.defaultState
  }

  /** Set the state of `pages` consecutive pages starting at gpa (page aligned). Shared→private loses content. */
  setState(gpa: bigint, pages: number, state: PageState): void {
    const first = this.pfn(gpa)
    if (first + pages > this.pageCount) throw new MemoryFault('GPA_OUT_OF_RANGE', `range at 0x${gpa.toString(16)} (+${pages} pages) leaves guest RAM`, gpa)
    for (let p = first; p < first + pages; p++) {
      const old = this.stateOfPfn(p)
      // Conversion destroys contents: the host clears a page it takes back, accept zeroes it.
      if (old !== state) this.contents.delete(p)
      if (state === this.defaultState) this.states.delete(p)
      else this.states.set(p, state)
    }
  }

  /** Count pages in each state (explicitly tracked + default). */
  census(): Record<PageState, number> {
    const c: Record<PageState, number> = {private: 0, shared: 0, pending: 0}
    for (const s of this.states.values()) c[s]++
    c[this.defaultState] += this.pageCount - this.states.size
    return c
  }

  private checkGuestAccess(gpa: bigint, len: number): void {
    const shared = this.isSharedAlias(gpa)
    const start = this.strip(gpa)
    const end = start + BigInt(Math.max(len, 1))
    for (let a = start & ~PAGE_MASK_N; a < end; a += PAGE_SIZE_N) {
      const st = this.state(a)
      if (st === 'pending') throw new MemoryFault('PAGE_PENDING', `#VE: guest touched pending (unaccepted) page 0x${a.toString(16)}`, a)
      if (shared && st !== 'shared') throw new MemoryFault('SHARED_ALIAS_OF_PRIVATE', `EPT violation: shared alias used for private page 0x${a.toString(16)}`, a)
      if (!shared && st === 'shared')
        throw new MemoryFault('PRIVATE_ALIAS_OF_SHARED', `fatal: private alias used for shared page 0x${a.toString(16)} (TD would be shut down)`, a)
    }
  }

  private checkHostAccess(gpa: bigint, len: number): void {
    const start = this.strip(gpa)
    const end = start + BigInt(Math.max(len, 1))
    for (let a = start & ~PAGE_MASK_N; a < end; a += PAGE_SIZE_N) {
      if (this.state(a) !== 'shared') throw new MemoryFault('HOST_PRIVATE_ACCESS', `host cannot access private GPA 0x${a.toString(16)}`, a)
    }
  }

  private rawRead(gpa: bigint, len: number): Buffer {
    // Every byte is written below (a page never written reads as zeroes), so no zero-fill first.
    const out = Buffer.allocUnsafe(len)
    let done = 0
    let a = this.strip(gpa)
    while (done < len) {
      const pfn = this.pfn(a)
      const off = Number(a & PAGE_MASK_N)
      const n = Math.min(PAGE_SIZE - off, len - done)
      const page = this.contents.get(pfn)
      if (page) page.copy(out, done, off, off + n)
      else out.fill(0, done, done + n)
      done += n
      a += BigInt(n)
    }
    return out
  }

  private rawWrite(gpa: bigint, data: Uint8Array): void {
    let done = 0
    let a = this.strip(gpa)
    while (done < data.length) {
      const pfn = this.pfn(a)
      const off = Number(a & PAGE_MASK_N)
      const n = Math.min(PAGE_SIZE - off, data.length - done)
      let page = this.contents.get(pfn)
      if (!page) {
        page = Buffer.alloc(PAGE_SIZE)
        this.contents.set(pfn, page)
      }
      page.set(data.subarray(done, done + n), off)
      done += n
      a += BigInt(n)
    }
  }

  /** Guest access through the alias the GPA names (shared bit set = shared alias). */
  read(gpa: bigint, len: number): Buffer {
    this.checkGuestAccess(gpa, len)
    return this.rawRead(gpa, len)
  }

  write(gpa: bigint, data: Uint8Array): void {
    this.checkGuestAccess(gpa, data.length)
    this.rawWrite(gpa, data)
  }

  /** Host (VMM) access: shared pages only. */
  hostRead(gpa: bigint, len: number): Buffer {
    this.checkHostAccess(gpa, len)
    return this.rawRead(gpa, len)
  }

  hostWrite(gpa: bigint, data: Uint8Array): void {
    this.checkHostAccess(gpa, data.length)
    this.rawWrite(gpa, data)
  }

  /** Module-side access (the TDX module reads/writes private memory with the TD's key). */
  moduleRead(gpa: bigint, len: number): Buffer {
    return this.rawRead(gpa, len)
  }

  moduleWrite(gpa: bigint, data: Uint8Array): void {
    this.rawWrite(gpa, data)
  }

  /** Zero a page range (TDG.MEM.PAGE.ACCEPT clears pages with the TD key). */
  zero(gpa: bigint, pages: number): void {
    const first = this.pfn(gpa)
    for (let p = first; p < first + pages; p++) this.contents.delete(p)
  }
}

/** What a protection change did to the direct map. */
export interface DirectMapChange {
  splits_1g: number
  splits_2m: number
  pages: number
}

/**
 * The kernel direct map. Initially RAM is covered by 1 GiB mappings, then 2 MiB, then 4 KiB for a
 * tail that is not large-page sized; all encrypted. A region's entry in `g1` / `m2` is 'split' once
 * broken into smaller mappings, 'dec' when the whole large mapping is decrypted.
 */
export class DirectMap {
  private readonly mem: GuestMemory
  private readonly full1g: number
  private readonly full2m: number
  private readonly g1 = new Map<number, 'split' | 'dec'>()
  private readonly m2 = new Map<number, 'split' | 'dec'>()
  private readonly dec4k = new Set<number>()
  /** Splits since boot. */
  splits1g = 0
  splits2m = 0

  constructor(mem: GuestMemory) {
    this.mem = mem
    this.full1g = Math.floor(mem.pageCount / PAGES_PER_1G)
    this.full2m = Math.floor(mem.pageCount / PAGES_PER_2M)
  }

  /** Virtual address of a GPA in the direct map. */
  va(gpa: bigint): bigint {
    return PAGE_OFFSET + this.mem.strip(gpa)
  }

  private is1gMapped(g: number): boolean {
    return g < this.full1g && this.g1.get(g) !== 'split'
  }

  private is2mMapped(m: number): boolean {
    return m < this.full2m && !this.is1gMapped(Math.floor(m / (PAGES_PER_1G / PAGES_PER_2M))) && this.m2.get(m) !== 'split'
  }

  /** Size of the mapping covering this page. */
  levelOf(pfn: number): MapLevel {
    if (this.is1gMapped(Math.floor(pfn / PAGES_PER_1G))) return '1G'
    if (this.is2mMapped(Math.floor(pfn / PAGES_PER_2M))) return '2M'
    return '4K'
  }

  /** Is this page mapped decrypted (shared alias) in the direct map? */
  isDecrypted(pfn: number): boolean {
    const g = Math.floor(pfn / PAGES_PER_1G)
    if (this.is1gMapped(g)) return this.g1.get(g) === 'dec'
    const m = Math.floor(pfn / PAGES_PER_2M)
    if (this.is2mMapped(m)) return this.m2.get(m) === 'dec'
    return this.dec4k.has(pfn)
  }

  /**
   * set_memory_decrypted / set_memory_encrypted on [pfn, pfn+pages): flip whole large mappings the
   * range covers exactly, split the ones it covers partially.
   */
  setProtection(pfn: number, pages: number, decrypted: boolean): DirectMapChange {
    if (pfn < 0 || pages <= 0 || pfn + pages > this.mem.pageCount) {
      throw new MemoryFault('GPA_OUT_OF_RANGE', `direct map range pfn ${pfn} +${pages} is outside guest RAM`, this.mem.gpaOf(Math.max(pfn, 0)))
    }
    const change: DirectMapChange = {splits_1g: 0, splits_2m: 0, pages}
    const end = pfn + pages
    let p = pfn
    while (p < end) {
      const g = Math.floor(p / PAGES_PER_1G)
      if (this.is1gMapped(g)) {
        const gStart = g * PAGES_PER_1G
        if (p === gStart && end >= gStart + PAGES_PER_1G) {
          if (decrypted) this.g1.set(g, 'dec')
          else this.g1.delete(g)
          p = gStart + PAGES_PER_1G
          continue
        }
        // Split the 1 GiB mapping into 512 × 2 MiB mappings carrying its protection.
        const wasDec = this.g1.get(g) === 'dec'
        this.g1.set(g, 'split')
        for (let m = g * 512; m < g * 512 + 512; m++) {
          if (wasDec) this.m2.set(m, 'dec')
          else this.m2.delete(m)
        }
        change.splits_1g++
        this.splits1g++
        continue
      }
      const m = Math.floor(p / PAGES_PER_2M)
      if (this.is2mMapped(m)) {
        const mStart = m * PAGES_PER_2M
        if (p === mStart && end >= mStart + PAGES_PER_2M) {
          if (decrypted) this.m2.set(m, 'dec')
          else this.m2.delete(m)
          p = mStart + PAGES_PER_2M
          continue
        }
        const wasDec = this.m2.get(m) === 'dec'
        this.m2.set(m, 'split')
        for (let q = mStart; q < mStart + PAGES_PER_2M; q++) {
          if (wasDec) this.dec4k.add(q)
          else this.dec4k.delete(q)
        }
        change.splits_2m++
        this.splits2m++
        continue
      }
      if (decrypted) this.dec4k.add(p)
      else this.dec4k.delete(p)
      p++
    }
    return change
  }

  /** Number of mappings of each size right now. */
  census(): {mappings_1g: number; mappings_2m: number; mappings_4k: number; splits_1g: number; splits_2m: number} {
    let m1 = 0
    let m2 = 0
    for (let g = 0; g < this.full1g; g++) if (this.is1gMapped(g)) m1++
    for (let m = 0; m < this.full2m; m++) if (this.is2mMapped(m)) m2++
    const m4 = this.mem.pageCount - m1 * PAGES_PER_1G - m2 * PAGES_PER_2M
    return {mappings_1g: m1, mappings_2m: m2, mappings_4k: m4, splits_1g: this.splits1g, splits_2m: this.splits2m}
  }

  /** The GPA alias a direct-map access to this page uses. */
  private alias(a: bigint): bigint {
    const pa = this.mem.strip(a)
    return this.isDecrypted(this.mem.pfn(pa)) ? this.mem.sharedAlias(pa) : pa
  }

  /** Kernel access through the direct map (faults like hardware if the alias is wrong). */
  read(gpa: bigint, len: number): Buffer {
    return pageWise(gpa, len, (a, n) => this.mem.read(this.alias(a), n))
  }

  write(gpa: bigint, data: Uint8Array): void {
    let off = 0
    pageWise(gpa, data.length, (a, n) => {
      this.mem.write(this.alias(a), data.subarray(off, off + n))
      off += n
      return Buffer.alloc(0)
    })
  }
}

/** Split [gpa, gpa+len) at page boundaries, concatenating fn's results. */
function pageWise(gpa: bigint, len: number, fn: (a: bigint, n: number) => Buffer): Buffer {
  const out: Buffer[] = []
  let a = gpa
  let left = len
  while (left > 0) {
    const off = Number(a & PAGE_MASK_N)
    const n = Math.min(PAGE_SIZE - off, left)
    out.push(fn(a, n))
    a += BigInt(n)
    left -= n
  }
  return out.length === 1 ? out[0] : Buffer.concat(out)
}

export type VmapProt = 'private' | 'shared'

interface VmapArea {
  pfns: number[]
  prot: VmapProt
}

/**
 * The vmalloc area: vmap(pages, prot) maps (not necessarily contiguous) pages at a fresh virtual
 * range with one protection, followed by an unmapped guard page, leaving the direct map as it is.
 */
export class VmapSpace {
  private readonly mem: GuestMemory
  private readonly areas = new Map<bigint, VmapArea>()
  private next = VMALLOC_START

  constructor(mem: GuestMemory) {
    this.mem = mem
  }

  map(pfns: readonly number[], prot: VmapProt): bigint {
    if (pfns.length === 0) throw new MemoryFault('VMAP_EMPTY', 'vmap of zero pages', 0n)
    for (const p of pfns) this.mem.pfn(this.mem.gpaOf(p))
    const va = this.next
    this.next += BigInt((pfns.length + 1) * PAGE_SIZE) // + guard page
    this.areas.set(va, {pfns: [...pfns], prot})
    return va
  }

  /** Remove a mapping; returns the number of pages it covered. */
  unmap(va: bigint): number {
    const area = this.areas.get(va)
    if (!area) throw new MemoryFault('VMAP_NOT_MAPPED', `vunmap of 0x${va.toString(16)}, which is not a vmap area`, 0n)
    this.areas.delete(va)
    return area.pfns.length
  }

  get activeAreas(): number {
    return this.areas.size
  }

  /** The GPA alias (by protection) behind a vmap virtual address. */
  translate(va: bigint): bigint {
    for (const [base, area] of this.areas) {
      const end = base + BigInt(area.pfns.length * PAGE_SIZE)
      if (va >= base && va < end) {
        const idx = Number((va - base) >> PAGE_SHIFT_N)
        const gpa = this.mem.gpaOf(area.pfns[idx]) + ((va - base) & PAGE_MASK_N)
        return area.prot === 'shared' ? this.mem.sharedAlias(gpa) : gpa
      }
    }
    throw new MemoryFault('VMAP_NOT_MAPPED', `page fault: 0x${va.toString(16)} is not mapped in the vmalloc area`, 0n)
  }

  read(va: bigint, len: number): Buffer {
    return pageWise(va, len, (a, n) => this.mem.read(this.translate(a), n))
  }

  write(va: bigint, data: Uint8Array): void {
    let off = 0
    pageWise(va, data.length, (a, n) => {
      this.mem.write(this.translate(a), data.subarray(off, off + n))
      off += n
      return Buffer.alloc(0)
    })
  }
}

/**
 * Contiguous page allocation over guest RAM: first fit from low addresses, each run naturally
 * aligned to its power-of-two size (as the buddy allocator's order-n blocks are), so freed runs are
 * reused. Free space is a sorted list of [start, length) extents.
 */
export class PageAllocator {
  private free: Array<[number, number]>
  readonly totalPages: number
  private usedPages = 0

  constructor(pageCount: number, reservedLowBytes: number) {
    const low = Math.min(pageCount, Math.ceil(reservedLowBytes / PAGE_SIZE))
    this.totalPages = pageCount - low
    this.free = this.totalPages > 0 ? [[low, this.totalPages]] : []
  }

  get used(): number {
    return this.usedPages
  }

  /** Allocate `pages` contiguous pages aligned to `align` pages (default: next power of two). */
  allocContiguous(pages: number, align?: number): number {
    if (!Number.isInteger(pages) || pages <= 0) throw new MemoryFault('BAD_PAGE_COUNT', `cannot allocate ${pages} pages`, 0n)
    const al = align ?? 2 ** Math.ceil(Math.log2(pages))
    for (const [start, len] of this.free) {
      const s = Math.ceil(start / al) * al
      if (s + pages <= start + len) {
        this.take(s, pages)
        return s
      }
    }
    throw new MemoryFault('OUT_OF_MEMORY', `no ${pages} contiguous free pages (aligned to ${al}) in guest RAM`, 0n)
  }

  /**
   * Allocate `pages` contiguous pages at the highest free address, aligned to `align` pages
   * (default 1): memblock's default top-down placement of early boot allocations
   * (mm/memblock.c memblock_find_in_range_node, top-down unless bottom-up was requested).
   */
  allocTopDown(pages: number, align = 1): number {
    if (!Number.isInteger(pages) || pages <= 0) throw new MemoryFault('BAD_PAGE_COUNT', `cannot allocate ${pages} pages`, 0n)
    for (let i = this.free.length - 1; i >= 0; i--) {
      const [start, len] = this.free[i]
      const s = Math.floor((start + len - pages) / align) * align
      if (s >= start) {
        this.take(s, pages)
        return s
      }
    }
    throw new MemoryFault('OUT_OF_MEMORY', `no ${pages} contiguous free pages (aligned to ${align}) in guest RAM`, 0n)
  }

  /** Mark a known run as allocated (restoring persisted allocations); it must be free. */
  reserve(pfn: number, pages: number): void {
    const ext = this.free.find(([s, l]) => pfn >= s && pfn + pages <= s + l)
    if (!ext) throw new MemoryFault('PAGES_IN_USE', `pages ${pfn}..${pfn + pages - 1} are not free`, BigInt(pfn) << PAGE_SHIFT_N)
    this.take(pfn, pages)
  }

  private take(pfn: number, pages: number): void {
    const i = this.free.findIndex(([s, l]) => pfn >= s && pfn + pages <= s + l)
    const [s, l] = this.free[i]
    const parts: Array<[number, number]> = []
    if (pfn > s) parts.push([s, pfn - s])
    if (pfn + pages < s + l) parts.push([pfn + pages, s + l - pfn - pages])
    this.free.splice(i, 1, ...parts)
    this.usedPages += pages
  }

  freePages(pfn: number, pages: number): void {
    let i = 0
    while (i < this.free.length && this.free[i][0] < pfn) i++
    const prev = this.free[i - 1]
    const next = this.free[i]
    if ((prev && prev[0] + prev[1] > pfn) || (next && pfn + pages > next[0])) {
      throw new MemoryFault('DOUBLE_FREE', `pages ${pfn}..${pfn + pages - 1} are already free`, BigInt(pfn) << PAGE_SHIFT_N)
    }
    this.free.splice(i, 0, [pfn, pages])
    // merge with neighbours
    if (i + 1 < this.free.length && this.free[i][0] + this.free[i][1] === this.free[i + 1][0]) {
      this.free[i][1] += this.free[i + 1][1]
      this.free.splice(i + 1, 1)
    }
    if (i > 0 && this.free[i - 1][0] + this.free[i - 1][1] === this.free[i][0]) {
      this.free[i - 1][1] += this.free[i][1]
      this.free.splice(i, 1)
    }
    this.usedPages -= pages
  }
}
