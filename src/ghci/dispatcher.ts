/**
 * The host end of TDG.VP.VMCALL: the KVM + VMM handling of each GHCI sub-function, with the real
 * sub-function numbers, validation order and R10 status codes (shared/reference/tdx-abi.md §2):
 *
 * - GetTdVmCallInfo: leaf 0 → all zero (base GHCI), leaf 1 → optional-call bitmap, else INVALID_OPERAND.
 * - MapGPA: operand checks → INVALID_OPERAND, alignment → ALIGN_ERROR, then 2 MiB chunks; after a
 *   chunk with work left and an interrupt pending → RETRY with R11 = next GPA (partial progress).
 * - GetQuote: shared bit required, 4 KiB alignment, ≤ 128 KiB, header version 1, in_len fits; no
 *   QGS → status SERVICE_UNAVAILABLE in the buffer; ≥ 16 in flight → RETRY; else IN_FLIGHT + queue.
 * - ReportFatalError: records code, message and optional GPA; the TD is shut down.
 * - SetupEventNotifyInterrupt: vector 32–255.
 * - Service: GUID-addressed command/response buffers (query and quote services).
 * - Anything else (instruction emulation is out of scope) → SUBFUNC_UNSUPPORTED.
 *
 * Only shared GPAs are ever read or written (through the Vmm).
 */
import {
  EVENT_NOTIFY_VECTOR_MAX,
  EVENT_NOTIFY_VECTOR_MIN,
  FATAL_ERROR_GPA_VALID,
  FATAL_ERROR_MESSAGE_REGS,
  GET_QUOTE_CMD_VERSION,
  GET_QUOTE_HEADER,
  GET_QUOTE_HEADER_SIZE,
  GET_QUOTE_MAX_BUF_LEN,
  GET_QUOTE_MAX_IN_FLIGHT,
  GetQuoteStatus,
  SERVICE_CMD_HEADER,
  SERVICE_HEADER_SIZE,
  SERVICE_RSP_HEADER,
  ServiceStatus,
  TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT,
  TDX_MAP_GPA_MAX_LEN,
  TdVmCall,
  TdVmCallStatus,
  guidFromBytes,
} from '../abi/ghci.js'
import {field, readNum, readUint, writeField} from '../abi/layout.js'
import {PAGE_SIZE} from '../machine/memory.js'
import type {Qgs} from '../host/qgs.js'
import type {Vmm} from '../host/vmm.js'
import {defaultServices, type ServiceHandler} from './services.js'

export interface VmcallRegs {
  rcx?: bigint
  rdx?: bigint
  rbx?: bigint
  rsi?: bigint
  rdi?: bigint
  r8?: bigint
  r9?: bigint
  r10?: bigint
  r11?: bigint
  r12?: bigint
  r13?: bigint
  r14?: bigint
  r15?: bigint
}

/** Registers the VMM writes back: R10 = TDVMCALL status, R11.. only where the sub-function has outputs. */
export interface VmcallOut {
  r10: bigint
  r11?: bigint
  r12?: bigint
  r13?: bigint
  r14?: bigint
  r15?: bigint
}

const out = (r10: bigint, rest: Omit<VmcallOut, 'r10'> = {}): VmcallOut => ({r10, ...rest})
const PAGE_MASK = BigInt(PAGE_SIZE - 1)

export class GhciDispatcher {
  readonly vmm: Vmm
  readonly qgs: Qgs
  readonly services: Map<string, ServiceHandler>

  constructor(vmm: Vmm, qgs: Qgs, services?: Map<string, ServiceHandler>) {
    this.vmm = vmm
    this.qgs = qgs
    this.services = services ?? defaultServices()
  }

  /** Sub-functions this host implements (others answer SUBFUNC_UNSUPPORTED). */
  static readonly SUPPORTED: readonly bigint[] = [
    TdVmCall.GET_TD_VM_CALL_INFO,
    TdVmCall.MAP_GPA,
    TdVmCall.GET_QUOTE,
    TdVmCall.REPORT_FATAL_ERROR,
    TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT,
    TdVmCall.SERVICE,
  ]

  handle(regs: VmcallRegs): VmcallOut {
    const r = (k: keyof VmcallRegs) => regs[k] ?? 0n
    switch (r('r11')) {
      case TdVmCall.GET_TD_VM_CALL_INFO:
        return this.getTdVmCallInfo(r('r12'))
      case TdVmCall.MAP_GPA:
        return this.mapGpa(r('r12'), r('r13'))
      case TdVmCall.GET_QUOTE:
        return this.getQuote(r('r12'), r('r13'))
      case TdVmCall.REPORT_FATAL_ERROR:
        return this.reportFatalError(regs)
      case TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT:
        return this.setupEventNotifyInterrupt(r('r12'))
      case TdVmCall.SERVICE:
        return this.service(r('r12'), r('r13'), r('r14'))
      default:
        return out(TdVmCallStatus.SUBFUNC_UNSUPPORTED)
    }
  }

  private getTdVmCallInfo(leaf: bigint): VmcallOut {
    if (leaf === 0n) return out(TdVmCallStatus.SUCCESS, {r11: 0n, r12: 0n, r13: 0n, r14: 0n})
    if (leaf === 1n) return out(TdVmCallStatus.SUCCESS, {r11: TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT, r12: 0n})
    return out(TdVmCallStatus.INVALID_OPERAND)
  }

  /** Is this GPA legal for the TD (below 2^GPAW)? */
  private legal(gpa: bigint): boolean {
    return gpa >= 0n && gpa < 1n << BigInt(this.vmm.memory.gpaw)
  }

  private mapGpa(start: bigint, size: bigint): VmcallOut {
    const mem = this.vmm.memory
    const end = start + size
    const shared = mem.isSharedAlias(start)
    if (size === 0n || end <= start || !this.legal(start) || !this.legal(end - 1n) || mem.isSharedAlias(end - 1n) !== shared) {
      return out(TdVmCallStatus.INVALID_OPERAND, {r11: start})
    }
    if ((start & PAGE_MASK) !== 0n || (size & PAGE_MASK) !== 0n) return out(TdVmCallStatus.ALIGN_ERROR, {r11: start})
    if (this.vmm.takeStall()) return out(TdVmCallStatus.RETRY, {r11: start})
    let gpa = start
    while (gpa < end) {
      const chunk = end - gpa < BigInt(TDX_MAP_GPA_MAX_LEN) ? end - gpa : BigInt(TDX_MAP_GPA_MAX_LEN)
      if (!this.vmm.convertChunk(gpa, Number(chunk / BigInt(PAGE_SIZE)), shared)) return out(TdVmCallStatus.INVALID_OPERAND, {r11: gpa})
      gpa += chunk
      if (gpa < end && this.vmm.eventPendingAfterChunk()) {
        return out(TdVmCallStatus.RETRY, {r11: this.vmm.mapGpaOptions.bogusResume ? end + BigInt(PAGE_SIZE) : gpa})
      }
    }
    return out(TdVmCallStatus.SUCCESS)
  }

  private getQuote(gpa: bigint, size: bigint): VmcallOut {
    const mem = this.vmm.memory
    if (size === 0n) return out(TdVmCallStatus.INVALID_OPERAND)
    if ((gpa & PAGE_MASK) !== 0n || (size & PAGE_MASK) !== 0n) return out(TdVmCallStatus.ALIGN_ERROR)
    // KVM: the buffer must be named by its shared alias.
    if (!mem.isSharedAlias(gpa) || !this.legal(gpa)) return out(TdVmCallStatus.INVALID_OPERAND)
    if (size > BigInt(GET_QUOTE_MAX_BUF_LEN)) return out(TdVmCallStatus.INVALID_OPERAND)
    const len = Number(size)
    // The VMM can only read the buffer if it really is shared memory.
    if (!this.vmm.isShared(gpa, len)) {
      this.vmm.trace.add({kind: 'failure', layer: 'host', name: 'GetQuote', gpa: mem.strip(gpa), detail: 'buffer is not shared memory; host cannot read it'})
      return out(TdVmCallStatus.INVALID_OPERAND)
    }
    const header = this.vmm.hostRead(gpa, GET_QUOTE_HEADER_SIZE)
    if (readUint(GET_QUOTE_HEADER, header, 'version') !== GET_QUOTE_CMD_VERSION) return out(TdVmCallStatus.INVALID_OPERAND)
    if (readNum(GET_QUOTE_HEADER, header, 'in_len') > len - GET_QUOTE_HEADER_SIZE) return out(TdVmCallStatus.INVALID_OPERAND)
    const setStatus = (status: bigint) => {
      const hdr = Buffer.from(header)
      writeField(GET_QUOTE_HEADER, hdr, 'status', status)
      this.vmm.hostWrite(gpa + BigInt(GET_QUOTE_HEADER.fields.status.offset), field(GET_QUOTE_HEADER, hdr, 'status'))
    }
    if (!this.qgs.available) {
      setStatus(GetQuoteStatus.SERVICE_UNAVAILABLE)
      if (this.vmm.notifyVector !== undefined) this.vmm.injectInterrupt(this.vmm.notifyVector)
      return out(TdVmCallStatus.SUCCESS)
    }
    if (this.qgs.inFlight >= GET_QUOTE_MAX_IN_FLIGHT) return out(TdVmCallStatus.RETRY)
    setStatus(GetQuoteStatus.IN_FLIGHT)
    this.qgs.submit(this.vmm, mem.strip(gpa), len)
    return out(TdVmCallStatus.SUCCESS)
  }

  private reportFatalError(regs: VmcallRegs): VmcallOut {
    const r12 = regs.r12 ?? 0n
    const code = r12 & 0xffffffffn
    // QEMU rejects error codes with non-zero low 16 bits.
    if ((code & 0xffffn) !== 0n) return out(TdVmCallStatus.INVALID_OPERAND)
    const msg = Buffer.alloc(FATAL_ERROR_MESSAGE_REGS.length * 8)
    FATAL_ERROR_MESSAGE_REGS.forEach((k, i) => msg.writeBigUInt64LE(BigInt.asUintN(64, regs[k] ?? 0n), i * 8))
    const nul = msg.indexOf(0)
    const message = msg.subarray(0, nul < 0 ? msg.length : nul).toString('latin1')
    const gpa = (r12 & FATAL_ERROR_GPA_VALID) !== 0n ? (regs.r13 ?? 0n) : undefined
    this.vmm.recordFatal({error_code: code, message, ...(gpa !== undefined ? {gpa} : {})})
    this.vmm.trace.add({kind: 'failure', layer: 'host', name: 'ReportFatalError', detail: `TD shut down: code 0x${code.toString(16)} "${message}"`})
    return out(TdVmCallStatus.SUCCESS)
  }

  private setupEventNotifyInterrupt(vector: bigint): VmcallOut {
    if (vector < BigInt(EVENT_NOTIFY_VECTOR_MIN) || vector > BigInt(EVENT_NOTIFY_VECTOR_MAX)) return out(TdVmCallStatus.INVALID_OPERAND)
    this.vmm.notifyVector = Number(vector)
    return out(TdVmCallStatus.SUCCESS)
  }

  private service(cmdGpa: bigint, rspGpa: bigint, vector: bigint): VmcallOut {
    const mem = this.vmm.memory
    if ((cmdGpa & PAGE_MASK) !== 0n || (rspGpa & PAGE_MASK) !== 0n) return out(TdVmCallStatus.ALIGN_ERROR)
    if (!mem.isSharedAlias(cmdGpa) || !mem.isSharedAlias(rspGpa)) return out(TdVmCallStatus.INVALID_OPERAND)
    if (vector !== 0n && (vector < BigInt(EVENT_NOTIFY_VECTOR_MIN) || vector > BigInt(EVENT_NOTIFY_VECTOR_MAX))) return out(TdVmCallStatus.INVALID_OPERAND)
    if (!this.vmm.isShared(cmdGpa, SERVICE_HEADER_SIZE) || !this.vmm.isShared(rspGpa, SERVICE_HEADER_SIZE)) return out(TdVmCallStatus.INVALID_OPERAND)
    const cmdHdr = this.vmm.hostRead(cmdGpa, SERVICE_HEADER_SIZE)
    const rspHdr = this.vmm.hostRead(rspGpa, SERVICE_HEADER_SIZE)
    const guidBytes = Buffer.from(field(SERVICE_CMD_HEADER, cmdHdr, 'guid'))
    const cmdLen = readNum(SERVICE_CMD_HEADER, cmdHdr, 'length')
    const rspCap = readNum(SERVICE_RSP_HEADER, rspHdr, 'length')
    const respond = (status: number, data: Buffer = Buffer.alloc(0)) => {
      const hdr = Buffer.alloc(SERVICE_HEADER_SIZE)
      writeField(SERVICE_RSP_HEADER, hdr, 'guid', guidBytes)
      writeField(SERVICE_RSP_HEADER, hdr, 'length', SERVICE_HEADER_SIZE + data.length)
      writeField(SERVICE_RSP_HEADER, hdr, 'status', status)
      if (data.length > 0) this.vmm.hostWrite(rspGpa + BigInt(SERVICE_HEADER_SIZE), data)
      this.vmm.hostWrite(rspGpa, hdr)
      if (vector !== 0n) this.vmm.injectInterrupt(Number(vector))
      return out(TdVmCallStatus.SUCCESS)
    }
    if (rspCap < SERVICE_HEADER_SIZE || !this.vmm.isShared(rspGpa, rspCap)) return respond(ServiceStatus.BAD_RSP_BUF_SIZE)
    if (cmdLen < SERVICE_HEADER_SIZE || !this.vmm.isShared(cmdGpa, cmdLen)) return respond(ServiceStatus.BAD_CMD_BUF_SIZE)
    const handler = this.services.get(guidFromBytes(guidBytes))
    if (!handler) return respond(ServiceStatus.NOT_SUPPORT)
    const data = this.vmm.hostRead(cmdGpa + BigInt(SERVICE_HEADER_SIZE), cmdLen - SERVICE_HEADER_SIZE)
    const res = handler(data, this)
    if (SERVICE_HEADER_SIZE + res.data.length > rspCap) return respond(ServiceStatus.RSP_BUF_TOO_SMALL)
    return respond(res.status, res.data)
  }
}
