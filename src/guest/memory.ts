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
 */
import {RefusedError} from '../errors.js'

export const PAGE_SHIFT = 12
export const PAGE_SIZE = 1 << PAGE_SHIFT
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
}

export class GuestMemory {
  readonly gpaw: number
  readonly sharedBit: bigint
  readonly sizeBytes: number
  readonly pageCount: number
  private readonly defaultState: PageState
  private readonly states = new Map<number, PageState>()
  private readonly contents = new Map<number, Buffer>()

  constructor(opts: GuestMemoryOptions = {}) {
    this.gpaw = opts.gpaw ?? 52
    this.sharedBit = 1n << BigInt(this.gpaw - 1)
    this.sizeBytes = opts.sizeBytes ?? 2 * PAGE_SIZE_1G
    this.pageCount = Math.floor(this.sizeBytes / PAGE_SIZE)
    this.defaultState = opts.defaultState ?? 'private'
  }

  /** Is the shared bit set in this GPA? */
  isSharedAlias(gpa: bigint): boolean {
    return (gpa & this.sharedBit) !== 0n
  }

  /** The GPA without the shared bit. */
  strip(gpa: bigint): bigint {
    return gpa & ~this.sharedBit
  }

  /** Page frame number of a GPA (shared bit ignored); faults outside guest RAM or above GPAW. */
  pfn(gpa: bigint): number {
    if (gpa < 0n || gpa >= 1n << BigInt(this.gpaw)) throw new MemoryFault('GPA_OUT_OF_RANGE', `GPA 0x${gpa.toString(16)} exceeds GPAW ${this.gpaw}`, gpa)
    const pa = this.strip(gpa)
    const pfn = Number(pa >> BigInt(PAGE_SHIFT))
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
    for (let a = start & ~BigInt(PAGE_SIZE - 1); a < start + BigInt(Math.max(len, 1)); a += BigInt(PAGE_SIZE)) {
      const st = this.state(a)
      if (st === 'pending') throw new MemoryFault('PAGE_PENDING', `#VE: guest touched pending (unaccepted) page 0x${a.toString(16)}`, a)
      if (shared && st !== 'shared') throw new MemoryFault('SHARED_ALIAS_OF_PRIVATE', `EPT violation: shared alias used for private page 0x${a.toString(16)}`, a)
      if (!shared && st === 'shared')
        throw new MemoryFault('PRIVATE_ALIAS_OF_SHARED', `fatal: private alias used for shared page 0x${a.toString(16)} (TD would be shut down)`, a)
    }
  }

  private checkHostAccess(gpa: bigint, len: number): void {
    const start = this.strip(gpa)
    for (let a = start & ~BigInt(PAGE_SIZE - 1); a < start + BigInt(Math.max(len, 1)); a += BigInt(PAGE_SIZE)) {
      if (this.state(a) !== 'shared') throw new MemoryFault('HOST_PRIVATE_ACCESS', `host cannot access private GPA 0x${a.toString(16)}`, a)
    }
  }

  private rawRead(gpa: bigint, len: number): Buffer {
    const out = Buffer.alloc(len)
    let done = 0
    let a = this.strip(gpa)
    while (done < len) {
      const pfn = this.pfn(a)
      const off = Number(a & BigInt(PAGE_SIZE - 1))
      const n = Math.min(PAGE_SIZE - off, len - done)
      const page = this.contents.get(pfn)
      if (page) page.copy(out, done, off, off + n)
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
      const off = Number(a & BigInt(PAGE_SIZE - 1))
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
