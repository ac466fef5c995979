/**
 * Device DMA into the TD's guest-physical memory through the IOMMU, gated the way TDX Connect gates
 * it. A device's DMA address is a GPA; the shared bit says which alias it targets (Xu Yilun on the
 * TDX Connect IOMMU: "the GPA shared bit are used by IOMMU to target shared/private"). Per page:
 *
 * | alias \ TLP          | T=1 (TEE-TLP)              | T=0 (non-TEE-TLP)          |
 * |----------------------|----------------------------|----------------------------|
 * | private (bit clear)  | allowed (page accepted)    | BLOCKED                    |
 * | shared (bit set)     | allowed (page shared)      | allowed (page shared)      |
 *
 * Intel "TDX Connect TEE-IO Device Guide", Appendix A, Table A-8 "DMA Rule for TDX Connect host as
 * Completer": TEE-TLPs (IDE T bit = 1) may reach private and shared memory, non-TEE-TLPs only shared;
 * "Intel TSM uses Intel IOMMU to enforce" it. A device can only send T=1 traffic once its TDI is in
 * RUN and the TD accepted its DMA remapping (TDG.DMAR.ACCEPT); that decision is the caller's (the
 * device layer), given here as `trusted`. Shared memory is always reachable (Jason Gunthorpe,
 * 2026-03-02: "shared mappings continue to be reachable by TDISP device"). A shared-alias address
 * whose page the TD has not converted has no shared mapping; a private-alias address of a page that
 * is shared or not yet accepted has no private mapping: both fault too.
 *
 * A blocked access never touches memory. The device does not learn that a posted write was dropped
 * ("DSM or TDI cannot know that a DMA write TLP was dropped, because a DMA write TLP is a PR without
 * CPL", same guide); a blocked read gets an error completion (which status, UR or CA, is
 * UNCONFIRMED) and reads back all-ones. Either way the IOMMU records the fault, which the host and
 * the TD see; `faults` is that log. Facts: /work/notes/issue16.md §5.
 */
import {PAGE_SIZE, type GuestMemory} from './memory.js'

export type DmaDirection = 'write' | 'read'
export type TlpKind = 'T=1' | 'T=0'
export type DmaAlias = 'private' | 'shared'

/** Who issues the DMA and whether it may send TEE-TLPs (T=1). */
export interface DmaRequester {
  id: string
  trusted: boolean
}

export interface DmaRequest {
  requester: DmaRequester
  /** the DMA address: a GPA, shared bit set for the shared alias */
  gpa: bigint
  direction: DmaDirection
  /** write: the bytes; read: how many */
  data?: Uint8Array
  bytes?: number
}

export type DmaFaultReason = 'UNTRUSTED_TO_PRIVATE' | 'NO_SHARED_MAPPING' | 'NO_PRIVATE_MAPPING'

/** One entry of the IOMMU fault log. */
export interface IommuFault {
  requester: string
  direction: DmaDirection
  tlp: TlpKind
  /** the DMA address of the first blocked byte of this page */
  gpa: bigint
  page_state: string
  reason: DmaFaultReason
  /** what the device saw: nothing (posted write dropped) or an error completion (read) */
  device_sees: 'nothing' | 'error completion'
}

export interface DmaOutcome {
  requester: string
  direction: DmaDirection
  tlp: TlpKind
  alias: DmaAlias
  gpa: bigint
  bytes: number
  /** bytes that reached memory (write) or came from it (read) */
  bytes_done: number
  pages: number
  /** read: the data the device got (all-ones where blocked) */
  data?: Buffer
  faults: IommuFault[]
}

/** A blocked read completes with an error: the device's buffer holds all-ones, never TD data. */
const ERROR_COMPLETION_FILL = 0xff

/** Why a page refuses this access, or undefined when the IOMMU lets it through. */
export function dmaRule(alias: DmaAlias, pageState: string, trusted: boolean): DmaFaultReason | undefined {
  if (alias === 'shared') return pageState === 'shared' ? undefined : 'NO_SHARED_MAPPING'
  if (!trusted) return 'UNTRUSTED_TO_PRIVATE'
  return pageState === 'private' ? undefined : 'NO_PRIVATE_MAPPING'
}

/** The IOMMU in front of one TD's memory: checks every page of a DMA and keeps the fault log. */
export class Iommu {
  readonly faults: IommuFault[] = []

  constructor(readonly memory: GuestMemory) {}

  /** One DMA, page by page (a DMA is a run of TLPs; each is translated and checked on its own). */
  dma(req: DmaRequest): DmaOutcome {
    const mem = this.memory
    const alias: DmaAlias = mem.isSharedAlias(req.gpa) ? 'shared' : 'private'
    const tlp: TlpKind = req.requester.trusted ? 'T=1' : 'T=0'
    const bytes = req.direction === 'write' ? (req.data?.length ?? 0) : (req.bytes ?? 0)
    const data = req.direction === 'read' ? Buffer.alloc(bytes) : undefined
    const out: DmaOutcome = {requester: req.requester.id, direction: req.direction, tlp, alias, gpa: req.gpa, bytes, bytes_done: 0, pages: 0, data, faults: []}
    for (let done = 0; done < bytes; ) {
      const at = req.gpa + BigInt(done)
      const n = Math.min(PAGE_SIZE - Number(mem.strip(at) % BigInt(PAGE_SIZE)), bytes - done)
      out.pages++
      const state = mem.state(at)
      const reason = dmaRule(alias, state, req.requester.trusted)
      if (reason) {
        const fault: IommuFault = {requester: req.requester.id, direction: req.direction, tlp, gpa: at, page_state: state, reason, device_sees: req.direction === 'write' ? 'nothing' : 'error completion'}
        out.faults.push(fault)
        this.faults.push(fault)
        data?.fill(ERROR_COMPLETION_FILL, done, done + n)
      } else {
        this.transfer(req, alias, at, done, n, data)
        out.bytes_done += n
      }
      done += n
    }
    return out
  }

  /** An allowed chunk: private pages through the TD's key (the trusted path), shared pages as the host sees them. */
  private transfer(req: DmaRequest, alias: DmaAlias, at: bigint, done: number, n: number, data?: Buffer): void {
    const mem = this.memory
    if (req.direction === 'write') {
      const chunk = req.data!.subarray(done, done + n)
      if (alias === 'private') mem.moduleWrite(at, chunk)
      else mem.hostWrite(at, chunk)
      return
    }
    const got = alias === 'private' ? mem.moduleRead(at, n) : mem.hostRead(at, n)
    got.copy(data!, done)
  }
}
