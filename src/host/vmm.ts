/**
 * The simulated VMM (KVM + userspace VMM) as the TD sees it across GHCI: it touches guest memory
 * only through shared GPAs, and keeps the books of what a page conversion costs the host — S-EPT
 * removals (BLOCK, TRACK, kick every vCPU, REMOVE, WBINVD), shared-EPT zaps, the TDH.MEM.PAGE.AUG
 * that answers an accept's EPT violation, and the interrupts it injects into the TD (delivered by
 * the machine model, src/machine).
 *
 * It never decides policy: the GHCI dispatcher (src/ghci/dispatcher.ts) validates TDVMCALLs and
 * calls in here for the memory side.
 */
import type {Machine, ShutdownReport} from '../machine/machine.js'
import {PAGE_SIZE, type GuestMemory} from '../machine/memory.js'
import type {OpTrace} from '../machine/trace.js'

export interface MapGpaHostOptions {
  /** After every N converted 2 MiB chunks with work left, report a pending interrupt (→ RETRY). 0 = never. */
  interruptEveryChunks?: number
  /** Answer RETRY without any progress this many times (host busy / hostile), then behave. */
  stallRetries?: number
  /** Userspace refuses every conversion (→ INVALID_OPERAND). */
  refuse?: boolean
  /** Report a resume GPA outside the requested range on RETRY (hostile host). */
  bogusResume?: boolean
}

interface VmmOptions {
  /** The TD's machine: memory, trace, vCPUs (a private→shared conversion forces the other vCPUs - 1 out per page). */
  machine: Machine
  mapGpa?: MapGpaHostOptions
  /** Keep a log of every host memory access (default true; off for long modelled runs). */
  logAccesses?: boolean
}

type FatalReport = ShutdownReport

export class Vmm {
  readonly machine: Machine
  readonly memory: GuestMemory
  readonly trace: OpTrace
  readonly vcpus: number
  readonly mapGpaOptions: MapGpaHostOptions
  /** Vector registered by SetupEventNotifyInterrupt (undefined = none). */
  notifyVector?: number
  /** Every host access to guest memory, for audits (gpa without shared bit, bytes, write?). */
  readonly accessLog: Array<{gpa: bigint; len: number; write: boolean}> = []
  private readonly logAccesses: boolean
  private chunksSinceEvent = 0
  private stallsLeft: number

  constructor(opts: VmmOptions) {
    this.machine = opts.machine
    this.memory = opts.machine.memory
    this.trace = opts.machine.trace
    this.vcpus = opts.machine.vcpus
    this.mapGpaOptions = opts.mapGpa ?? {}
    this.stallsLeft = this.mapGpaOptions.stallRetries ?? 0
    this.logAccesses = opts.logAccesses ?? true
  }

  /** Host read of guest memory: shared pages only (a private GPA is refused like hardware would). */
  hostRead(gpa: bigint, len: number): Buffer {
    const pa = this.memory.strip(gpa)
    if (this.logAccesses) this.accessLog.push({gpa: pa, len, write: false})
    return this.memory.hostRead(pa, len)
  }

  hostWrite(gpa: bigint, data: Uint8Array): void {
    const pa = this.memory.strip(gpa)
    if (this.logAccesses) this.accessLog.push({gpa: pa, len: data.length, write: true})
    this.memory.hostWrite(pa, data)
  }

  /** Can the host see this whole range as shared? */
  isShared(gpa: bigint, len: number): boolean {
    const pa = this.memory.strip(gpa)
    for (let a = pa & ~BigInt(PAGE_SIZE - 1); a < pa + BigInt(Math.max(len, 1)); a += BigInt(PAGE_SIZE)) {
      try {
        if (this.memory.state(a) !== 'shared') return false
      } catch {
        return false
      }
    }
    return true
  }

  /** MapGPA, no-progress stall knob: true if this call should answer RETRY without converting. */
  takeStall(): boolean {
    if (this.stallsLeft <= 0) return false
    this.stallsLeft--
    return true
  }

  /**
   * One KVM_HC_MAP_GPA_RANGE round trip to userspace: convert [gpa, gpa + pages·4K) (≤ 2 MiB).
   * Private → shared: per page BLOCK + TRACK + kick all vCPUs + REMOVE + WBINVD; contents are lost.
   * Shared → private: zap the shared EPT entries; the private side is added lazily (AUG) when the
   * guest accepts.
   * Returns false if userspace refused.
   */
  convertChunk(gpa: bigint, pages: number, toShared: boolean): boolean {
    const pa = this.memory.strip(gpa)
    this.trace.add({kind: 'mapgpa_chunk', layer: 'host', name: 'KVM_HC_MAP_GPA_RANGE', gpa: pa, count: pages, detail: toShared ? 'to shared' : 'to private'})
    if (this.mapGpaOptions.refuse) return false
    const first = this.memory.pfn(pa)
    if (first + pages > this.memory.pageCount) return false
    if (toShared) {
      let removed = 0
      let kicks = 0
      for (let p = first; p < first + pages; p++) {
        const st = this.memory.stateOfPfn(p)
        if (st === 'shared') continue
        // Removing a private 4K leaf needs every other vCPU out of the TD (new TLB epoch).
        if (st === 'private') kicks++
        removed++
      }
      if (kicks > 0) {
        this.trace.add({kind: 'vcpu_kick', layer: 'host', name: 'TDH.MEM.TRACK + kick every vCPU', count: kicks, exits: kicks * (this.vcpus - 1)})
      }
      if (removed > 0) {
        this.trace.add({kind: 'sept_remove', layer: 'host', name: 'TDH.MEM.RANGE.BLOCK/PAGE.REMOVE/PHYMEM.PAGE.WBINVD', gpa: pa, count: removed})
      }
      this.memory.setState(pa, pages, 'shared')
    } else {
      let zapped = 0
      for (let p = first; p < first + pages; p++) if (this.memory.stateOfPfn(p) === 'shared') zapped++
      if (zapped > 0) this.trace.add({kind: 'sept_zap_shared', layer: 'host', name: 'zap shared EPT', gpa: pa, count: zapped})
      // Private again but not yet mapped: the guest's accept faults and the host AUGs the page.
      for (let p = first; p < first + pages; p++) {
        if (this.memory.stateOfPfn(p) === 'shared') this.memory.setState(this.memory.gpaOf(p), 1, 'pending')
      }
    }
    return true
  }

  /** After a chunk with work left: is an interrupt pending for the vCPU (→ MapGPA RETRY)? */
  eventPendingAfterChunk(): boolean {
    const every = this.mapGpaOptions.interruptEveryChunks ?? 0
    if (this.machine.interrupts.pending() > 0) return true
    if (every <= 0) return false
    this.chunksSinceEvent++
    if (this.chunksSinceEvent >= every) {
      this.chunksSinceEvent = 0
      return true
    }
    return false
  }

  /** The guest's TDG.MEM.PAGE.ACCEPT on a page with no private mapping exits to the host: AUG it. */
  augOnAcceptFault(gpa: bigint, pages = 1): void {
    this.trace.add({kind: 'sept_aug', layer: 'host', name: 'EPT violation → TDH.MEM.PAGE.AUG', gpa: this.memory.strip(gpa), count: pages})
  }

  /** Post an interrupt to the TD's vCPU (the guest takes it when it next waits). */
  injectInterrupt(vector: number): void {
    this.machine.interrupts.inject(vector)
  }

  /** ReportFatalError: tear the TD down. */
  recordFatal(report: FatalReport): void {
    this.machine.powerOff(report)
  }

  /** What the TD reported before it was torn down (undefined while it runs). */
  get fatal(): FatalReport | undefined {
    return this.machine.shutdown
  }
}
