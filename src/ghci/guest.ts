/**
 * The guest end of GHCI: how a TD kernel issues TDG.VP.VMCALL and interprets the answers, after
 * Linux arch/x86/coco/tdx (register convention, MapGPA retry contract) — every call traced.
 */
import {
  FATAL_ERROR_GPA_VALID,
  FATAL_ERROR_MESSAGE_MAX,
  FATAL_ERROR_MESSAGE_REGS,
  MAP_GPA_MAX_RETRIES_NO_PROGRESS,
  TDVMCALL_EXPOSE_REGS_MASK,
  TDVMCALL_STANDARD,
  TdVmCall,
  TdVmCallStatus,
  tdvmcallName,
  tdvmcallStatusName,
} from '../abi/ghci.js'
import {TdcallLeaf, type Regs} from '../abi/tdcall.js'
import {TDX_SUCCESS, describeStatus} from '../abi/status.js'
import {RefusedError} from '../errors.js'
import type {Machine} from '../machine/machine.js'
import type {VmcallOut, VmcallRegs} from './dispatcher.js'

/** The registers after TDG.VP.VMCALL returns (outputs the VMM did not write keep their input values). */
interface VmcallResult extends Required<VmcallOut> {
  /** RAX: the TDCALL completion status (non-zero means the module refused the TDVMCALL itself). */
  tdcall_status: bigint
}

/** What the guest needs of the TDX module: TDCALL (leaf 0 forwards to the registered GHCI handler). */
interface VmcallPort {
  tdcall(rax: bigint, regs: Partial<Regs>): {status: bigint; regs: Regs}
}

interface GhciPorts {
  /** The TD's machine: its memory (shared bit), the trace, and whether the TD still runs. */
  machine: Machine
  module: VmcallPort
}

interface MapGpaResult {
  calls: number
  retries: number
}

export class GhciGuest {
  private readonly ports: GhciPorts
  private registeredVector?: number

  constructor(ports: GhciPorts) {
    this.ports = ports
  }

  /** The vector this guest registered with SetupEventNotifyInterrupt (undefined: none yet). */
  get notifyVector(): number | undefined {
    return this.registeredVector
  }

  /**
   * Raw TDG.VP.VMCALL through the module: R10 = 0 (standard GHCI), R11 = sub-function, RCX = the
   * expose bitmap (Linux's 0xFFCC by default). The module hides unexposed registers from the host
   * and refuses a bad bitmap with TDX_OPERAND_INVALID (RCX). The trace event is emitted at entry
   * (host work appears after it) and gets its status when the call returns.
   */
  call(subfn: bigint, regs: VmcallRegs = {}): VmcallResult {
    const {machine, module} = this.ports
    machine.assertRunning()
    const event = machine.trace.add({kind: 'tdvmcall', layer: 'tdvmcall', name: tdvmcallName(subfn)})
    const {status, regs: o} = module.tdcall(BigInt(TdcallLeaf.VP_VMCALL), {
      ...regs,
      rcx: regs.rcx ?? TDVMCALL_EXPOSE_REGS_MASK,
      r10: TDVMCALL_STANDARD,
      r11: subfn,
    })
    if (status !== TDX_SUCCESS) {
      event.status = status
      event.status_name = describeStatus(status)
      return {tdcall_status: status, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n}
    }
    event.status = o.r10
    event.status_name = tdvmcallStatusName(o.r10)
    return {tdcall_status: status, r10: o.r10, r11: o.r11, r12: o.r12, r13: o.r13, r14: o.r14, r15: o.r15}
  }

  /** Throw a RefusedError for a failed TDVMCALL, naming the status. */
  private check(what: string, res: VmcallResult): VmcallResult {
    if (res.tdcall_status !== 0n) {
      throw new RefusedError('TDCALL_FAILED', `${what}: TDG.VP.VMCALL refused by the TDX module: ${describeStatus(res.tdcall_status)}`, {status: res.tdcall_status})
    }
    if (res.r10 !== TdVmCallStatus.SUCCESS) {
      throw new RefusedError('TDVMCALL_FAILED', `${what} failed: ${tdvmcallStatusName(res.r10)} (0x${res.r10.toString(16)})`, {
        status: res.r10,
        detail: {r10: '0x' + res.r10.toString(16), r10_name: tdvmcallStatusName(res.r10), r11: '0x' + res.r11.toString(16)},
      })
    }
    return res
  }

  getTdVmCallInfo(leaf = 0n): VmcallResult {
    return this.check('GetTdVmCallInfo', this.call(TdVmCall.GET_TD_VM_CALL_INFO, {r12: leaf}))
  }

  /**
   * MapGPA with Linux's retry contract: on RETRY, R11 is where the host stopped; it must lie in
   * [start, end); progress resets the no-progress counter, three RETRYs in a row without progress
   * give up.
   */
  mapGpa(gpa: bigint, bytes: number, toShared: boolean): MapGpaResult {
    const mem = this.ports.machine.memory
    const base = mem.strip(gpa)
    let start = toShared ? mem.sharedAlias(base) : base
    const end = start + BigInt(bytes)
    let noProgress = 0
    const result: MapGpaResult = {calls: 0, retries: 0}
    for (;;) {
      result.calls++
      const res = this.call(TdVmCall.MAP_GPA, {r12: start, r13: end - start})
      if (res.tdcall_status !== 0n || res.r10 !== TdVmCallStatus.RETRY) {
        this.check(`MapGPA(${toShared ? 'shared' : 'private'}) of 0x${base.toString(16)} +${bytes}`, res)
        return result
      }
      result.retries++
      const resume = res.r11
      if (resume < start || resume >= end) {
        this.ports.machine.trace.add({kind: 'failure', layer: 'guest', name: 'MapGPA', detail: `host resume GPA 0x${resume.toString(16)} outside the requested range`})
        throw new RefusedError('MAPGPA_BAD_RESUME', `MapGPA: host answered RETRY with resume GPA 0x${resume.toString(16)} outside [0x${start.toString(16)}, 0x${end.toString(16)})`, {
          status: res.r10,
        })
      }
      if (resume === start) noProgress++
      else noProgress = 0
      this.ports.machine.trace.add({kind: 'mapgpa_retry', layer: 'guest', name: 'MapGPA RETRY', gpa: resume, detail: resume === start ? `no progress (${noProgress}/${MAP_GPA_MAX_RETRIES_NO_PROGRESS})` : 'partial progress'})
      if (noProgress >= MAP_GPA_MAX_RETRIES_NO_PROGRESS) {
        throw new RefusedError('MAPGPA_NO_PROGRESS', `MapGPA: host answered RETRY ${noProgress} times without progress at 0x${start.toString(16)}; giving up`, {
          status: res.r10,
        })
      }
      start = resume
    }
  }

  /** GetQuote TDVMCALL on a shared buffer; returns R10 (the caller decides how to treat RETRY). */
  getQuote(sharedGpa: bigint, size: number): VmcallResult {
    return this.call(TdVmCall.GET_QUOTE, {r12: sharedGpa, r13: BigInt(size)})
  }

  setupEventNotifyInterrupt(vector: number): VmcallResult {
    const res = this.check('SetupEventNotifyInterrupt', this.call(TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT, {r12: BigInt(vector)}))
    this.registeredVector = vector
    return res
  }

  /** ReportFatalError: error code (bits 31:0, low 16 bits zero), up to 64 ASCII bytes of message. */
  reportFatalError(errorCode: number, message: string, gpa?: bigint): VmcallResult {
    const msg = Buffer.alloc(FATAL_ERROR_MESSAGE_MAX)
    Buffer.from(message, 'latin1').copy(msg, 0, 0, FATAL_ERROR_MESSAGE_MAX)
    const regs: VmcallRegs = {r12: BigInt(errorCode >>> 0) | (gpa !== undefined ? FATAL_ERROR_GPA_VALID : 0n), r13: gpa ?? 0n}
    FATAL_ERROR_MESSAGE_REGS.forEach((k, i) => {
      regs[k] = msg.readBigUInt64LE(i * 8)
    })
    return this.call(TdVmCall.REPORT_FATAL_ERROR, regs)
  }

  /** Service TDVMCALL: command and response buffers (shared GPAs), notify vector (0 = none), timeout. */
  service(cmdGpa: bigint, rspGpa: bigint, vector = 0, timeout = 0n): VmcallResult {
    return this.check('Service', this.call(TdVmCall.SERVICE, {r12: cmdGpa, r13: rspGpa, r14: BigInt(vector), r15: timeout}))
  }
}
