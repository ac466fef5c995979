/**
 * A TD wired to its host for one run — the composition the guest never sees: one machine (memory,
 * trace, scheduler, interrupts), the TDX module, the guest (GuestTd) and behind TDG.VP.VMCALL the
 * GHCI dispatcher, the VMM and the QGS (quoting with the platform's QE). Everything the
 * shared-buffer allocators, the quote driver and the allocator comparison do goes through here.
 */
import {quoteTdReport} from '../host/qe.js'
import {Qgs, type QgsMode, type QgsOptions} from '../host/qgs.js'
import {Vmm, type MapGpaHostOptions} from '../host/vmm.js'
import {OperandId, TDX_OPERAND_INVALID, withOperand} from '../abi/status.js'
import {GhciDispatcher} from '../ghci/dispatcher.js'
import {getSysInfo} from '../guest/sysinfo.js'
import {abandonedSlotGpas, type DmaPoolState} from '../guest/alloc/preshared-pool.js'
import {GuestTd} from '../guest/td.js'
import {Machine} from '../machine/machine.js'
import type {GuestMemory} from '../machine/memory.js'
import type {OpTrace} from '../machine/trace.js'
import type {Platform} from '../module/platform.js'
import type {SimTdxModule} from '../module/tdcall.js'
import {TdCreateError} from '../module/td-create.js'

/** What the wiring needs of the TDX module: TDCALL, its call hook, and the two host hooks. */
export type ModulePort = Pick<SimTdxModule, 'tdcall' | 'onCall' | 'setVmcallHandler' | 'setAcceptExitHandler'>

export interface TdSessionOptions {
  memory: GuestMemory
  module: ModulePort
  /** vCPUs of the TD (default 1). */
  vcpus?: number
  trace?: OpTrace
  mapGpa?: MapGpaHostOptions
  qgs?: QgsOptions
  /** Keep a log of every host memory access (default true; off for long modelled runs). */
  logHostAccesses?: boolean
}

/** The guest of this run plus the host behind its GHCI (for the app layer, tests and diagnostics). */
export class TdSession extends GuestTd {
  readonly vmm: Vmm
  readonly qgs: Qgs
  readonly dispatcher: GhciDispatcher

  constructor(opts: TdSessionOptions) {
    super({machine: new Machine({memory: opts.memory, vcpus: opts.vcpus, trace: opts.trace}), module: opts.module})
    this.vmm = new Vmm({machine: this.machine, mapGpa: opts.mapGpa, logAccesses: opts.logHostAccesses})
    this.qgs = new Qgs(opts.qgs)
    this.dispatcher = new GhciDispatcher(this.vmm, this.qgs)
    // TDG.VP.VMCALL reaches the host's GHCI dispatcher; an accept of an unmapped page exits to the VMM.
    opts.module.setVmcallHandler((view) => this.dispatcher.handle(view))
    opts.module.setAcceptExitHandler((gpa) => this.vmm.augOnAcceptFault(gpa))
  }

  /**
   * The host of this run is new, but a stalled quote service stands for one that never answered:
   * it still holds the buffers earlier runs abandoned to it (their status words read IN_FLIGHT).
   */
  holdAbandoned(pool: DmaPoolState): void {
    this.holdAbandonedGpas(abandonedSlotGpas(this.memory, pool))
  }

  /** The same for any buffers earlier runs left with the host (see abandonedGpas in guest/alloc/doc.ts). */
  holdAbandonedGpas(gpas: readonly bigint[]): void {
    for (const gpa of gpas) this.qgs.holdAbandoned(this.vmm, gpa)
  }

  /** Let one tick of simulated time pass (host work that is due runs). Returns the tasks run. */
  runHost(): number {
    return this.machine.scheduler.advance(1)
  }
}

export interface SessionOptions {
  qgsMode?: QgsMode
  quoteVersion?: 4 | 5
  mapGpa?: MapGpaHostOptions
  trace?: OpTrace
  vcpus?: number
  /** Scheduler ticks a GetQuote takes on the host (default 1). */
  serviceRounds?: number
  /** Keep the VMM's log of host memory accesses (default true; turn off for long runs). */
  logHostAccesses?: boolean
}

/**
 * The vCPUs a session may run: the TD's, checked against the module's MAX_VCPUS_PER_TD as read
 * once into sysinfo (no SEAMCALL of its own) — the quote path's limit comes from the module, not
 * from a constant. A module the kernel would refuse (no NO_RBP_MOD) has no TDs: refused here too.
 */
export function sessionVcpus(p: Platform, requested?: number): number {
  const vcpus = requested ?? p.doc.td.num_vcpus
  const limit = getSysInfo(p.module).td_conf.max_vcpus_per_td
  if (limit !== undefined && vcpus > limit) {
    throw new TdCreateError('KVM_CREATE_VCPU', 'EINVAL', 'module', `${vcpus} vCPUs exceed the module's MAX_VCPUS_PER_TD ${limit}`, withOperand(TDX_OPERAND_INVALID, OperandId.MAX_VCPUS), {
      max_vcpus_per_td: limit,
    })
  }
  return vcpus
}

/** A session on this platform whose QGS quotes with the platform's own quoting enclave. */
export function openSession(p: Platform, opts: SessionOptions = {}): TdSession {
  return new TdSession({
    memory: p.memory,
    module: p.module,
    vcpus: sessionVcpus(p, opts.vcpus),
    trace: opts.trace,
    mapGpa: opts.mapGpa,
    logHostAccesses: opts.logHostAccesses,
    qgs: {mode: opts.qgsMode, quoteVersion: opts.quoteVersion, serviceRounds: opts.serviceRounds, backend: (tdreport, o) => quoteTdReport(p.doc, tdreport, o)},
  })
}
