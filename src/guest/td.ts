/**
 * The TD as its kernel sees it: guest memory and the operation trace (the machine), TDCALL into
 * the TDX module (TDG.VP.VMCALL included, through GhciGuest), and one vCPU that can sleep or halt
 * for an interrupt. Nothing here reaches the host: host work happens behind TDG.VP.VMCALL and
 * shows up only as memory contents, interrupts and time passing.
 */
import {PageLevel, TdcallLeaf} from '../abi/tdcall.js'
import {TDX_SUCCESS, describeStatus} from '../abi/status.js'
import {RefusedError} from '../errors.js'
import {GhciGuest} from '../ghci/guest.js'
import type {Machine, Vcpu} from '../machine/machine.js'
import {PAGE_SIZE, type GuestMemory} from '../machine/memory.js'
import type {OpTrace} from '../machine/trace.js'
import type {SimTdxModule} from '../module/tdcall.js'

/** What the guest needs of the TDX module: TDCALL, and the call hook its trace listens on. */
type TdcallPort = Pick<SimTdxModule, 'tdcall' | 'onCall'>

interface GuestTdOptions {
  machine: Machine
  module: TdcallPort
}

export class GuestTd {
  readonly machine: Machine
  readonly memory: GuestMemory
  readonly trace: OpTrace
  readonly module: TdcallPort
  readonly ghci: GhciGuest
  /** The vCPU the driver runs on (it sleeps between status polls, halts for the notify interrupt). */
  readonly cpu: Vcpu

  constructor(opts: GuestTdOptions) {
    this.machine = opts.machine
    this.memory = opts.machine.memory
    this.trace = opts.machine.trace
    this.module = opts.module
    this.cpu = opts.machine.vcpu(0)
    this.ghci = new GhciGuest({machine: this.machine, module: this.module})
    this.traceTdcalls()
  }

  get vcpus(): number {
    return this.machine.vcpus
  }

  /** Every TDCALL other than TDG.VP.VMCALL (which GhciGuest traces at entry) lands in the trace. */
  private traceTdcalls(): void {
    const previous = this.module.onCall
    this.module.onCall = (t) => {
      previous?.(t)
      if (t.kind !== 'TDCALL' || t.leaf === TdcallLeaf.VP_VMCALL) return
      this.trace.add({kind: 'tdcall', layer: 'tdcall', name: t.name, status: t.status, status_name: describeStatus(t.status), ...(t.leaf === TdcallLeaf.MEM_PAGE_ACCEPT ? {gpa: t.in.rcx & ~0xfffn} : {})})
    }
  }

  /**
   * Accept `pages` 4 KiB pages from gpa (private GPA) after they were converted back to private:
   * each accept takes an EPT-violation exit to the host, which maps the page, then succeeds.
   */
  acceptPages(gpa: bigint, pages: number): void {
    const base = this.memory.strip(gpa)
    for (let i = 0; i < pages; i++) {
      const a = base + BigInt(i * PAGE_SIZE)
      this.machine.assertRunning()
      const {status} = this.module.tdcall(BigInt(TdcallLeaf.MEM_PAGE_ACCEPT), {rcx: a | BigInt(PageLevel.L4K)})
      if (status !== TDX_SUCCESS) {
        throw new RefusedError('ACCEPT_FAILED', `TDG.MEM.PAGE.ACCEPT of 0x${a.toString(16)} failed: ${describeStatus(status)}`, {status})
      }
    }
    this.trace.add({kind: 'accept', layer: 'guest', name: 'pages accepted', gpa: base, count: pages})
  }
}
