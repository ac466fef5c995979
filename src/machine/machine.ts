/**
 * The machine a TD runs on, as both sides share it: guest-physical memory, the operation trace,
 * simulated time (the scheduler that runs host work while a vCPU sleeps), interrupt delivery to
 * the vCPUs, and whether the TD is still running. The guest reaches the host only through TDCALLs
 * and what this model delivers back: memory contents, interrupts and time passing.
 */
import {RefusedError} from '../errors.js'
import {InterruptController} from './interrupts.js'
import type {GuestMemory} from './memory.js'
import {Scheduler} from './scheduler.js'
import {OpTrace} from './trace.js'

/** Why the TD was torn down (ReportFatalError: error code, message, optional GPA). */
export interface ShutdownReport {
  error_code: bigint
  message: string
  gpa?: bigint
}

export interface MachineOptions {
  memory: GuestMemory
  /** vCPUs of the TD (default 1). */
  vcpus?: number
  trace?: OpTrace
}

export class Machine {
  readonly memory: GuestMemory
  readonly trace: OpTrace
  readonly vcpus: number
  readonly scheduler = new Scheduler()
  readonly interrupts: InterruptController
  private shutdownReport?: ShutdownReport

  constructor(opts: MachineOptions) {
    this.memory = opts.memory
    this.trace = opts.trace ?? new OpTrace()
    this.vcpus = Math.max(1, opts.vcpus ?? 1)
    this.interrupts = new InterruptController(this.vcpus)
  }

  /** The guest's handle on one of its vCPUs. */
  vcpu(index = 0): Vcpu {
    return new Vcpu(this, index)
  }

  /** Set once the TD has been torn down. */
  get shutdown(): ShutdownReport | undefined {
    return this.shutdownReport
  }

  /** Tear the TD down: no vCPU runs guest code again. */
  powerOff(report: ShutdownReport): void {
    this.shutdownReport = report
  }

  /** Refuse further guest work once the TD has been torn down. */
  assertRunning(): void {
    const r = this.shutdownReport
    if (r) {
      throw new RefusedError('TD_SHUTDOWN', `the TD reported a fatal error (code 0x${r.error_code.toString(16)}) and was shut down`, {
        detail: {message: r.message},
      })
    }
  }
}

/** What guest code running on one vCPU can do to wait: sleep, halt, take interrupts. */
export class Vcpu {
  constructor(
    private readonly machine: Machine,
    readonly index: number,
  ) {}

  /** Sleep `ticks` ticks (a poll interval): time passes and due host work runs. Returns tasks run. */
  sleep(ticks = 1): number {
    return this.machine.scheduler.advance(ticks)
  }

  /** Take the oldest interrupt pending on this vCPU (undefined: none). */
  takeInterrupt(): number | undefined {
    return this.machine.interrupts.take(this.index)
  }

  /** HLT: idle one tick (the host runs), then take the oldest pending interrupt, if any. */
  halt(): number | undefined {
    this.sleep(1)
    return this.takeInterrupt()
  }
}
