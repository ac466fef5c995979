/**
 * A TD wired to its host for one run: the guest's memory and TDX module on one side, the VMM, the
 * GHCI dispatcher and the QGS on the other, and one operation trace recording both. Everything the
 * shared-buffer allocators, the quote driver and the allocator comparison do goes through here.
 */
import {TdcallLeaf, PageLevel} from '../abi/tdcall.js'
import {TDX_SUCCESS, describeStatus} from '../abi/status.js'
import {RefusedError} from '../errors.js'
import {PAGE_SIZE, type GuestMemory} from '../machine/memory.js'
import {OpTrace} from '../machine/trace.js'
import {Qgs, type QgsOptions} from '../host/qgs.js'
import {Vmm, type MapGpaHostOptions} from '../host/vmm.js'
import type {SimTdxModule} from '../module/tdcall.js'
import {GhciDispatcher} from './dispatcher.js'
import {GhciGuest} from './guest.js'

/** What the session needs of the TDX module (SimTdxModule): TDCALL, the GHCI hook, the call hook. */
export type TdcallPort = Pick<SimTdxModule, 'tdcall' | 'setVmcallHandler' | 'onCall'>

export interface TdSessionOptions {
  memory: GuestMemory
  module: TdcallPort
  /** vCPUs of the TD (default 1). */
  vcpus?: number
  trace?: OpTrace
  mapGpa?: MapGpaHostOptions
  qgs?: QgsOptions
  /** Keep a log of every host memory access (default true; off for long modelled runs). */
  logHostAccesses?: boolean
}

export class TdSession {
  readonly memory: GuestMemory
  readonly module: TdcallPort
  readonly trace: OpTrace
  readonly vmm: Vmm
  readonly qgs: Qgs
  readonly dispatcher: GhciDispatcher
  readonly ghci: GhciGuest

  constructor(opts: TdSessionOptions) {
    this.memory = opts.memory
    this.module = opts.module
    this.trace = opts.trace ?? new OpTrace()
    this.vmm = new Vmm({memory: this.memory, trace: this.trace, vcpus: opts.vcpus, mapGpa: opts.mapGpa, logAccesses: opts.logHostAccesses})
    this.qgs = new Qgs(opts.qgs)
    this.dispatcher = new GhciDispatcher(this.vmm, this.qgs)
    this.ghci = new GhciGuest({trace: this.trace, vmm: this.vmm, module: this.module})
    // The module forwards TDG.VP.VMCALL to the host's GHCI dispatcher ...
    this.module.setVmcallHandler((view) => this.dispatcher.handle(view))
    // ... and reports every other TDCALL (TDREPORT, accept) to the trace.
    const previous = this.module.onCall
    this.module.onCall = (t) => {
      previous?.(t)
      if (t.kind !== 'TDCALL' || t.leaf === TdcallLeaf.VP_VMCALL) return
      this.trace.add({kind: 'tdcall', layer: 'tdcall', name: t.name, status: t.status, status_name: describeStatus(t.status), ...(t.leaf === TdcallLeaf.MEM_PAGE_ACCEPT ? {gpa: t.in.rcx & ~0xfffn} : {})})
    }
  }

  get vcpus(): number {
    return this.vmm.vcpus
  }

  /**
   * Accept `pages` 4 KiB pages from gpa (private GPA) after they were converted back to private:
   * each accept faults to the host, which AUGs the page, then TDG.MEM.PAGE.ACCEPT succeeds.
   */
  acceptPages(gpa: bigint, pages: number): void {
    const base = this.memory.strip(gpa)
    for (let i = 0; i < pages; i++) {
      const a = base + BigInt(i * PAGE_SIZE)
      this.vmm.augOnAcceptFault(a)
      this.vmm.assertRunning()
      const {status} = this.module.tdcall(BigInt(TdcallLeaf.MEM_PAGE_ACCEPT), {rcx: a | BigInt(PageLevel.L4K)})
      if (status !== TDX_SUCCESS) {
        throw new RefusedError('ACCEPT_FAILED', `TDG.MEM.PAGE.ACCEPT of 0x${a.toString(16)} failed: ${describeStatus(status)}`, {status})
      }
    }
    this.trace.add({kind: 'accept', layer: 'guest', name: 'pages accepted', gpa: base, count: pages})
  }

  /** One host scheduling round (the QGS works on queued requests). */
  runHost(): number {
    return this.qgs.run(this.vmm)
  }
}
