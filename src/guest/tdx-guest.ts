/**
 * The TD guest's "driver" side of the foundation: what Linux's tdx-guest driver and
 * arch/x86/coco/tdx do with TDCALLs — TDG.MR.REPORT for a TDREPORT, TDG.MR.RTMR.EXTEND (tsm-mr
 * sysfs), and the accept loop of tdx_accept_memory() (1G, else 2M, else 4K; any failure falls
 * through to the next smaller size; a 4K failure is an error).
 *
 * Operands go through guest memory like the real driver's buffers: a private driver page holds
 * the REPORTDATA, the TDREPORT output and the RTMR digest.
 */
import {InputError, RefusedError} from '../errors.js'
import {PageLevel, TdcallLeaf, encodeLeaf} from '../abi/tdcall.js'
import {OperandId, TDX_OPERAND_INVALID, TDX_SUCCESS, describeStatus, statusHex, statusName, withOperand} from '../abi/status.js'
import {MEASUREMENT_SIZE, REPORT_DATA_SIZE, TDREPORT_SIZE} from '../abi/tdreport.js'
import {PAGE_SIZE, PAGE_SIZE_1G, PAGE_SIZE_2M, type GuestMemory} from '../machine/memory.js'
import type {Platform} from '../module/platform.js'
import type {EventRecord} from '../module/doc.js'
import type {SimTdxModule} from '../module/tdcall.js'

/** What a driver TDCALL needs: the TD's memory (operand pages) and the module to call. */
export interface TdcallTarget {
  memory: GuestMemory
  module: Pick<SimTdxModule, 'tdcall'>
}

/** The driver's private scratch page (below 640 KiB, kernel-reserved in this simulation). */
const DRIVER_PAGE_GPA = 0x9f000n
export const DRIVER_TDREPORT_GPA = DRIVER_PAGE_GPA // 1024-aligned
export const DRIVER_REPORTDATA_GPA = DRIVER_PAGE_GPA + 0x400n // 64-aligned
export const DRIVER_RTMR_DIGEST_GPA = DRIVER_PAGE_GPA + 0x440n // 64-aligned

/** A TDCALL that completed with an error status: exit 7 (simulated hardware refusal). */
export function tdcallRefused(leafName: string, status: bigint, hint?: string): RefusedError {
  return new RefusedError('TDCALL_FAILED', `${leafName} failed: ${describeStatus(status)} ${statusHex(status)}${hint ? ` — ${hint}` : ''}`, {
    status,
    detail: {leaf: leafName, status: statusHex(status), status_name: statusName(status)},
  })
}

/** TDG.MR.REPORT: a 1024-byte TDREPORT binding the 64 bytes of report data. */
export function getTdReport(p: TdcallTarget, reportData: Uint8Array): Buffer {
  if (reportData.length !== REPORT_DATA_SIZE) {
    throw new InputError('BAD_LENGTH', `report data must be exactly ${REPORT_DATA_SIZE} bytes, got ${reportData.length}`)
  }
  p.memory.write(DRIVER_REPORTDATA_GPA, reportData)
  const {status} = p.module.tdcall(encodeLeaf(TdcallLeaf.MR_REPORT), {rcx: DRIVER_TDREPORT_GPA, rdx: DRIVER_REPORTDATA_GPA, r8: 0n})
  if (status !== TDX_SUCCESS) throw tdcallRefused('TDG.MR.REPORT', status)
  return p.memory.read(DRIVER_TDREPORT_GPA, TDREPORT_SIZE)
}

export interface RtmrEventInput {
  data?: Uint8Array
  description?: string
  event_type?: number
}

/** TDG.MR.RTMR.EXTEND with a 48-byte digest; on success appends the event record to doc.events. */
export function extendRtmr(p: Platform, index: number, digest: Uint8Array, event: RtmrEventInput = {}): EventRecord {
  if (digest.length !== MEASUREMENT_SIZE) throw new InputError('BAD_LENGTH', `RTMR digest must be exactly ${MEASUREMENT_SIZE} bytes (SHA-384), got ${digest.length}`)
  if (!Number.isInteger(index)) throw new InputError('BAD_RTMR_INDEX', `RTMR index must be an integer, got ${index}`)
  p.memory.write(DRIVER_RTMR_DIGEST_GPA, digest)
  const {status} = p.module.tdcall(encodeLeaf(TdcallLeaf.MR_RTMR_EXTEND), {rcx: DRIVER_RTMR_DIGEST_GPA, rdx: BigInt.asUintN(64, BigInt(index))})
  if (status !== TDX_SUCCESS) {
    const hint = status === withOperand(TDX_OPERAND_INVALID, OperandId.RDX) ? `RTMR index ${index} is out of range 0..3` : undefined
    throw tdcallRefused('TDG.MR.RTMR.EXTEND', status, hint)
  }
  const rec: EventRecord = {
    seq: p.doc.events.length,
    rtmr_index: index,
    digest: Buffer.from(digest).toString('hex'),
    ...(event.data !== undefined ? {data: Buffer.from(event.data).toString('hex')} : {}),
    ...(event.event_type !== undefined ? {event_type: event.event_type} : {}),
    ...(event.description !== undefined ? {description: event.description} : {}),
  }
  p.doc.events.push(rec)
  return rec
}

const ACCEPT_SIZES: ReadonlyArray<[PageLevel, bigint]> = [
  [PageLevel.L1G, BigInt(PAGE_SIZE_1G)],
  [PageLevel.L2M, BigInt(PAGE_SIZE_2M)],
  [PageLevel.L4K, BigInt(PAGE_SIZE)],
]

/** Accept `pages` 4K pages from gpa the way Linux's tdx_accept_memory() does. */
export function acceptPages(p: TdcallTarget, gpa: bigint, pages: number): {tdcalls: number} {
  if (gpa % BigInt(PAGE_SIZE) !== 0n || !Number.isInteger(pages) || pages < 0) {
    throw new InputError('BAD_RANGE', `accept range must start on a 4 KiB boundary and count whole pages (GPA 0x${gpa.toString(16)}, ${pages} pages)`)
  }
  let tdcalls = 0
  let addr = gpa
  const end = gpa + BigInt(pages) * BigInt(PAGE_SIZE)
  while (addr < end) {
    let last = TDX_SUCCESS
    let done = false
    for (const [level, size] of ACCEPT_SIZES) {
      if (addr % size !== 0n || end - addr < size) continue
      tdcalls++
      const {status} = p.module.tdcall(encodeLeaf(TdcallLeaf.MEM_PAGE_ACCEPT), {rcx: addr | BigInt(level)})
      if (status === TDX_SUCCESS) {
        addr += size
        done = true
        break
      }
      last = status
    }
    if (!done) throw tdcallRefused('TDG.MEM.PAGE.ACCEPT', last, `GPA 0x${addr.toString(16)}`)
  }
  return {tdcalls}
}
