/**
 * The simulated TDX module: the guest-facing TDCALL dispatcher and the host-facing SEAMCALL subset,
 * with real leaf numbers and completion statuses (module 1.5 source; see docs/guide/foundation.md).
 *
 * TDCALL leaves modelled: TDG.VP.VMCALL (forwarded to a registered GHCI handler), TDG.VP.INFO,
 * TDG.MR.RTMR.EXTEND, TDG.VP.VEINFO.GET, TDG.MR.REPORT, TDG.MEM.PAGE.ACCEPT, TDG.VM.RD,
 * TDG.SYS.RD, TDG.SYS.RDALL. Other leaves answer like an unknown leaf (OPERAND_INVALID, operand RAX).
 * SEAMCALL: TDH.SYS.RD (34), TDH.SYS.RDALL (37), plus TDH.MEM.PAGE.AUG as a host helper (augPages).
 *
 * Things that are not completion statuses on real hardware — a #VE or an EPT-violation TD exit
 * (guest touching a pending page through a TDCALL operand, accepting a page the host never
 * AUG'd) — surface as a thrown MemoryFault (a RefusedError, exit 7), not as a status.
 */
import {
  ACCEPT_GPA_MASK,
  ACCEPT_LEVEL_MASK,
  ACCEPT_RESERVED_LOW_MASK,
  METADATA_PAGE_ALIGN,
  NUM_RTMRS,
  PageLevel,
  REG_NAMES,
  REG_NUMBER,
  REPORTDATA_GPA_ALIGN,
  RTMR_EXTEND_GPA_ALIGN,
  SEAMCALL_LEAF_NAMES,
  SeamcallLeaf,
  TDCALL_LEAF_NAMES,
  TDCALL_MAX_VERSION,
  TDG_MR_REPORT_SUBTYPE,
  TDREPORT_GPA_ALIGN,
  TdcallLeaf,
  VMCALL_EXPOSE_RESERVED,
  VMCALL_FORBIDDEN_EXPOSE,
  VMCALL_RBP_BIT,
  decodeLeaf,
  makeRegs,
  type Regs,
} from '../abi/tdcall.js'
import {
  OperandId,
  TDX_NO_VALID_VE_INFO,
  TDX_OPERAND_BUSY,
  TDX_OPERAND_INVALID,
  TDX_PAGE_ALREADY_ACCEPTED,
  TDX_PAGE_SIZE_MISMATCH,
  TDX_SUCCESS,
  withOperand,
} from '../abi/status.js'
import {TD_FIELDS, TDX_FEATURES0_NO_RBP_MOD, isNullFieldId} from '../abi/fields.js'
import {MD_LIST_PAGE_SIZE} from '../abi/metadata.js'
import {MEASUREMENT_SIZE, REPORT_DATA_SIZE, TDREPORT_SIZE} from '../abi/tdreport.js'
import {GuestMemory, MemoryFault, PAGE_SIZE, PAGE_SIZE_2M} from '../machine/memory.js'
import type {PlatformDoc} from './doc.js'
import {GlobalMetadata} from './metadata.js'
import {buildGlobalMetadata, profileDef} from './profiles.js'
import {rtmrExtend} from './measure.js'
import {buildTdReport} from './report.js'

export type {Regs} from '../abi/tdcall.js'

export interface CallTrace {
  kind: 'TDCALL' | 'SEAMCALL'
  leaf: number
  version: number
  name: string
  status: bigint
  in: Regs
  out: Regs
}

/** A TDG.VP.VMCALL handler (the GHCI layer): gets the host's view of the registers, returns outputs (R10 = TDVMCALL status). */
export type VmcallHandler = (regs: Regs) => Partial<Regs>

/**
 * The TD exit a 4K TDG.MEM.PAGE.ACCEPT of a page with no private mapping takes (an EPT violation):
 * the host maps the page (TDH.MEM.PAGE.AUG) and the guest's accept then completes.
 */
export type AcceptExitHandler = (gpa: bigint) => void

/** Host physical memory for SEAMCALL operands (e.g. the TDH.SYS.RDALL output page). Sparse, zero-filled. */
export class HostPhysMemory {
  private readonly pages = new Map<bigint, Buffer>()

  write(hpa: bigint, data: Uint8Array): void {
    for (let done = 0; done < data.length; ) {
      const a = hpa + BigInt(done)
      const base = a & ~BigInt(PAGE_SIZE - 1)
      const off = Number(a - base)
      const n = Math.min(PAGE_SIZE - off, data.length - done)
      let page = this.pages.get(base)
      if (!page) this.pages.set(base, (page = Buffer.alloc(PAGE_SIZE)))
      page.set(data.subarray(done, done + n), off)
      done += n
    }
  }

  read(hpa: bigint, len: number): Buffer {
    const out = Buffer.alloc(len)
    for (let done = 0; done < len; ) {
      const a = hpa + BigInt(done)
      const base = a & ~BigInt(PAGE_SIZE - 1)
      const off = Number(a - base)
      const n = Math.min(PAGE_SIZE - off, len - done)
      this.pages.get(base)?.copy(out, done, off, off + n)
      done += n
    }
    return out
  }
}

const PAGES_PER_2M = PAGE_SIZE_2M / PAGE_SIZE
/** TDVMCALL status (R10) for a sub-function the VMM does not implement (GHCI). */
export const VMCALL_SUBFUNC_UNSUPPORTED = 0x8000000000000003n
/** TDCS_CONFIG_FLAGS bit 1 (kernel name FLEXIBLE_PENDING_VE). */
const CONFIG_FLAGS_FLEXIBLE_PENDING_VE = 1n << 1n

export class SimTdxModule {
  readonly doc: PlatformDoc
  readonly memory: GuestMemory
  readonly metadata: GlobalMetadata
  readonly tdMetadata: GlobalMetadata
  readonly hostMemory = new HostPhysMemory()
  readonly counts = {tdcall: 0, seamcall: 0}
  /** Called after every TDCALL / SEAMCALL (for --trace). */
  onCall?: (t: CallTrace) => void
  /** Test hooks: make the RTMR lock or an S-EPT entry lock contended, as a concurrent vCPU / the host would. */
  readonly contention = {rtmr: false, sept: false}
  private vmcallHandler?: VmcallHandler
  private acceptExitHandler?: AcceptExitHandler
  /** 2 MiB regions (pfn >> 9) the host mapped with a 2M S-EPT leaf (TDH.MEM.PAGE.AUG level 1). */
  private readonly leaf2M = new Set<number>()
  private readonly guestSysRd: boolean

  constructor(doc: PlatformDoc, memory: GuestMemory) {
    this.doc = doc
    this.memory = memory
    const def = profileDef(doc.module.profile)
    this.guestSysRd = def.guestSysRd
    this.metadata = new GlobalMetadata(buildGlobalMetadata(doc.module.profile, doc.module.version, BigInt(doc.module.tdx_features0), doc.td.memory_bytes))
    const td = new Map<bigint, {value: bigint; guest: boolean}>([[TD_FIELDS.TDCS_NOTIFY_ENABLES, {value: 0n, guest: true}]])
    if (def.td15) {
      td.set(TD_FIELDS.TDCS_TOPOLOGY_ENUM_CONFIGURED, {value: 1n, guest: true})
      td.set(TD_FIELDS.TDCS_CONFIG_FLAGS, {value: CONFIG_FLAGS_FLEXIBLE_PENDING_VE, guest: true})
      td.set(TD_FIELDS.TDCS_TD_CTLS, {value: 0n, guest: true})
    }
    this.tdMetadata = new GlobalMetadata(td)
  }

  /** Register the GHCI layer that answers TDG.VP.VMCALL. */
  setVmcallHandler(h: VmcallHandler | undefined): void {
    this.vmcallHandler = h
  }

  /** Register the host's answer to the EPT violation an accept of an unmapped pending page raises. */
  setAcceptExitHandler(h: AcceptExitHandler | undefined): void {
    this.acceptExitHandler = h
  }

  // ───────────────────────────── TDCALL ─────────────────────────────

  tdcall(rax: bigint, regs: Partial<Regs> = {}): {status: bigint; regs: Regs} {
    const input = makeRegs({...regs, rax})
    const out = makeRegs(input)
    const {leaf, version, reserved} = decodeLeaf(input.rax)
    let status: bigint
    if (reserved !== 0n || version > (TDCALL_MAX_VERSION[leaf] ?? 0)) status = withOperand(TDX_OPERAND_INVALID, OperandId.RAX)
    else status = this.dispatchTdcall(leaf, version, input, out)
    out.rax = status
    this.counts.tdcall++
    this.onCall?.({kind: 'TDCALL', leaf, version, name: TDCALL_LEAF_NAMES[leaf] ?? `TDCALL leaf ${leaf}`, status, in: input, out})
    return {status, regs: out}
  }

  private dispatchTdcall(leaf: number, version: number, r: Regs, out: Regs): bigint {
    switch (leaf) {
      case TdcallLeaf.VP_VMCALL:
        return this.vpVmcall(r, out)
      case TdcallLeaf.VP_INFO:
        return this.vpInfo(out)
      case TdcallLeaf.MR_RTMR_EXTEND:
        return this.rtmrExtend(r)
      case TdcallLeaf.VP_VEINFO_GET:
        for (const n of ['rcx', 'rdx', 'r8', 'r9', 'r10'] as const) out[n] = 0n
        return TDX_NO_VALID_VE_INFO
      case TdcallLeaf.MR_REPORT:
        return this.mrReport(r)
      case TdcallLeaf.MEM_PAGE_ACCEPT:
        return this.memPageAccept(r.rcx)
      case TdcallLeaf.VM_RD:
        return this.vmRd(version, r, out)
      case TdcallLeaf.SYS_RD:
        if (!this.guestSysRd) break
        return this.mdRead(this.metadata, 'guest', r, out)
      case TdcallLeaf.SYS_RDALL:
        if (!this.guestSysRd) break
        return this.sysRdallGuest(r, out)
    }
    return withOperand(TDX_OPERAND_INVALID, OperandId.RAX)
  }

  private vpInfo(out: Regs): bigint {
    const td = this.doc.td
    out.rcx = BigInt(td.gpaw)
    out.rdx = BigInt(td.attributes)
    out.r8 = BigInt(td.num_vcpus) | (BigInt(td.max_vcpus) << 32n)
    out.r9 = 0n
    out.r10 = this.guestSysRd ? 1n : 0n
    out.r11 = 0n
    return TDX_SUCCESS
  }

  /** A guest-side GPA operand is usable: inside GPAW and guest RAM, and private if required. */
  private gpaOk(gpa: bigint, privateOnly: boolean, len = 1): boolean {
    if (gpa >= 1n << BigInt(this.memory.gpaw)) return false
    if (privateOnly && this.memory.isSharedAlias(gpa)) return false
    const end = this.memory.strip(gpa) + BigInt(len)
    return end <= BigInt(this.memory.sizeBytes)
  }

  private rtmrExtend(r: Regs): bigint {
    const gpa = r.rcx
    if (gpa % RTMR_EXTEND_GPA_ALIGN !== 0n || !this.gpaOk(gpa, true, MEASUREMENT_SIZE)) return withOperand(TDX_OPERAND_INVALID, OperandId.RCX)
    const digest = this.memory.read(gpa, MEASUREMENT_SIZE) // #VE / EPT violation surface as MemoryFault
    const index = r.rdx
    if (index >= BigInt(NUM_RTMRS)) return withOperand(TDX_OPERAND_INVALID, OperandId.RDX)
    if (this.contention.rtmr) return withOperand(TDX_OPERAND_BUSY, OperandId.RTMR)
    const i = Number(index)
    this.doc.td.rtmr[i] = rtmrExtend(Buffer.from(this.doc.td.rtmr[i], 'hex'), digest).toString('hex')
    return TDX_SUCCESS
  }

  private mrReport(r: Regs): bigint {
    const reportGpa = r.rcx
    const dataGpa = r.rdx
    if (reportGpa % TDREPORT_GPA_ALIGN !== 0n) return withOperand(TDX_OPERAND_INVALID, OperandId.RCX)
    if (dataGpa % REPORTDATA_GPA_ALIGN !== 0n || !this.gpaOk(dataGpa, false, REPORT_DATA_SIZE)) return withOperand(TDX_OPERAND_INVALID, OperandId.RDX)
    const reportData = this.memory.read(dataGpa, REPORT_DATA_SIZE)
    if (r.r8 !== TDG_MR_REPORT_SUBTYPE) return withOperand(TDX_OPERAND_INVALID, OperandId.R8)
    if (this.contention.rtmr) return withOperand(TDX_OPERAND_BUSY, OperandId.RTMR)
    const report = buildTdReport(this.doc.module, this.doc.td, reportData)
    if (!this.gpaOk(reportGpa, false, TDREPORT_SIZE)) return withOperand(TDX_OPERAND_INVALID, OperandId.RCX)
    this.memory.write(reportGpa, report)
    return TDX_SUCCESS
  }

  private memPageAccept(rcx: bigint): bigint {
    const invalid = withOperand(TDX_OPERAND_INVALID, OperandId.RCX)
    const level = Number(rcx & ACCEPT_LEVEL_MASK)
    if ((rcx & ACCEPT_RESERVED_LOW_MASK) !== 0n || (rcx & ~(ACCEPT_GPA_MASK | ACCEPT_LEVEL_MASK)) !== 0n) return invalid
    // Module 1.5 accepts 4K (level 0) and 2M (level 1) only; 1G (level 2) and above are invalid.
    if (level !== PageLevel.L4K && level !== PageLevel.L2M) return invalid
    const gpa = rcx & ACCEPT_GPA_MASK
    const size = level === PageLevel.L2M ? BigInt(PAGE_SIZE_2M) : BigInt(PAGE_SIZE)
    if (gpa % size !== 0n || !this.gpaOk(gpa, true)) return invalid
    if (this.contention.sept) return withOperand(TDX_OPERAND_BUSY, OperandId.RCX)
    const pfn = this.memory.pfn(gpa) // faults (EPT violation) beyond guest RAM
    const region = Math.floor(pfn / PAGES_PER_2M)
    const regionGpa = BigInt(region * PAGES_PER_2M) * BigInt(PAGE_SIZE)
    const has2M = this.leafIs2M(region)
    const violation = (why: string) => {
      throw new MemoryFault('EPT_VIOLATION', `TDG.MEM.PAGE.ACCEPT of 0x${gpa.toString(16)}: ${why} (EPT violation TD exit to the host)`, gpa)
    }
    if (level === PageLevel.L4K) {
      const st = this.memory.stateOfPfn(pfn)
      if (has2M) {
        if (st === 'private') return withOperand(TDX_PAGE_ALREADY_ACCEPTED, PageLevel.L2M)
        return violation('page is part of a pending 2M mapping')
      }
      if (st === 'private') return withOperand(TDX_PAGE_ALREADY_ACCEPTED, PageLevel.L4K)
      if (st === 'shared') return violation('no private mapping (page is shared)')
      this.acceptExitHandler?.(gpa) // the host maps the page, the accept resumes
      this.memory.setState(gpa, 1, 'private') // pending → private; contents cleared (zeroed with the TD key)
      this.memory.zero(gpa, 1)
      return TDX_SUCCESS
    }
    // 2M request
    if (has2M) {
      if (this.memory.stateOfPfn(pfn) === 'private') return withOperand(TDX_PAGE_ALREADY_ACCEPTED, PageLevel.L2M)
      this.memory.setState(regionGpa, PAGES_PER_2M, 'private')
      this.memory.zero(regionGpa, PAGES_PER_2M)
      return TDX_SUCCESS
    }
    let allShared = true
    for (let p = pfn; p < pfn + PAGES_PER_2M; p++) if (this.memory.stateOfPfn(p) !== 'shared') allShared = false
    if (allShared) return violation('no private mapping for the 2M range')
    // The range is mapped with 4K leaves: the 2M entry is a non-leaf.
    return withOperand(TDX_PAGE_SIZE_MISMATCH, PageLevel.L2M)
  }

  /** A 2M leaf record is valid while all its 4K pages share one state (otherwise the host demoted it). */
  private leafIs2M(region: number): boolean {
    if (!this.leaf2M.has(region)) return false
    const first = region * PAGES_PER_2M
    const st = this.memory.stateOfPfn(first)
    for (let p = first + 1; p < first + PAGES_PER_2M; p++) {
      if (this.memory.stateOfPfn(p) !== st || st === 'shared') {
        this.leaf2M.delete(region)
        return false
      }
    }
    return st !== 'shared'
  }

  private mdRead(md: GlobalMetadata, who: 'host' | 'guest', r: Regs, out: Regs): bigint {
    const res = md.read(r.rdx, who)
    out.r8 = res.value
    out.rdx = res.next
    return res.status
  }

  private vmRd(version: number, r: Regs, out: Regs): bigint {
    // RCX = VM index: 0 is this TD; the simulator has no L2 VMs.
    if (r.rcx !== 0n) return withOperand(TDX_OPERAND_INVALID, OperandId.RCX)
    const res = this.tdMetadata.read(r.rdx, 'guest')
    out.r8 = res.value
    // Version 1 also returns the next field id; a null-id query returns the first id either way.
    if (version >= 1 || isNullFieldId(r.rdx)) out.rdx = res.next
    return res.status
  }

  private sysRdallGuest(r: Regs, out: Regs): bigint {
    const gpa = r.rdx
    if (gpa % METADATA_PAGE_ALIGN !== 0n || !this.gpaOk(gpa, true, MD_LIST_PAGE_SIZE)) return withOperand(TDX_OPERAND_INVALID, OperandId.RDX)
    const res = this.metadata.list(r.r8, 'guest')
    out.r8 = res.next
    if (res.page) this.memory.write(gpa, res.page)
    return res.status
  }

  private vpVmcall(r: Regs, out: Regs): bigint {
    const expose = r.rcx
    const noRbpMod = (BigInt(this.doc.module.tdx_features0) & TDX_FEATURES0_NO_RBP_MOD) !== 0n
    if ((expose & VMCALL_EXPOSE_RESERVED) !== 0n || (expose & VMCALL_FORBIDDEN_EXPOSE) !== 0n || (noRbpMod && (expose & VMCALL_RBP_BIT) !== 0n)) {
      return withOperand(TDX_OPERAND_INVALID, OperandId.RCX)
    }
    const exposed = (n: keyof Regs) => ((expose >> BigInt(REG_NUMBER[n])) & 1n) === 1n
    // The host sees only exposed GPRs; the rest read as zero.
    const view = makeRegs()
    for (const n of REG_NAMES) if (n !== 'rax' && n !== 'rcx' && exposed(n)) view[n] = r[n]
    const answer: Partial<Regs> = this.vmcallHandler ? this.vmcallHandler(view) : {r10: VMCALL_SUBFUNC_UNSUPPORTED}
    for (const n of REG_NAMES) {
      if (n === 'rax' || n === 'rcx' || !exposed(n)) continue
      const v = answer[n]
      if (v !== undefined) out[n] = BigInt.asUintN(64, v)
    }
    return TDX_SUCCESS
  }

  // ─────────────────────────── host side ────────────────────────────

  /** SEAMCALL from the host VMM. */
  seamcall(rax: bigint, regs: Partial<Regs> = {}): {status: bigint; regs: Regs} {
    const input = makeRegs({...regs, rax})
    const out = makeRegs(input)
    const {leaf, version} = decodeLeaf(input.rax)
    let status: bigint
    switch (leaf) {
      case SeamcallLeaf.SYS_RD:
        status = this.mdRead(this.metadata, 'host', input, out)
        break
      case SeamcallLeaf.SYS_RDALL: {
        const hpa = input.rdx
        if (hpa % METADATA_PAGE_ALIGN !== 0n) {
          status = withOperand(TDX_OPERAND_INVALID, OperandId.RDX)
          break
        }
        const res = this.metadata.list(input.r8, 'host')
        out.r8 = res.next
        if (res.page) this.hostMemory.write(hpa, res.page)
        status = res.status
        break
      }
      default:
        status = withOperand(TDX_OPERAND_INVALID, OperandId.RAX)
    }
    out.rax = status
    this.counts.seamcall++
    this.onCall?.({kind: 'SEAMCALL', leaf, version, name: SEAMCALL_LEAF_NAMES[leaf] ?? `SEAMCALL leaf ${leaf}`, status, in: input, out})
    return {status, regs: out}
  }

  /**
   * TDH.MEM.PAGE.AUG as a host helper: add `pages` pending 4K pages at gpa, or (level 2M) pending
   * 2M mappings covering them. The guest must TDG.MEM.PAGE.ACCEPT them at the same size.
   */
  augPages(gpa: bigint, pages: number, level: PageLevel = PageLevel.L4K): void {
    const first = this.memory.pfn(gpa)
    if (level === PageLevel.L2M) {
      if (first % PAGES_PER_2M !== 0 || pages % PAGES_PER_2M !== 0) throw new Error('2M AUG needs a 2M-aligned range of whole 2M pages')
      this.memory.setState(gpa, pages, 'pending')
      for (let r = first / PAGES_PER_2M; r < (first + pages) / PAGES_PER_2M; r++) this.leaf2M.add(r)
      return
    }
    this.memory.setState(gpa, pages, 'pending')
    for (let p = first; p < first + pages; p++) this.leaf2M.delete(Math.floor(p / PAGES_PER_2M))
  }
}
