/**
 * The guest "driver" path for a quote, after Linux's tdx-guest driver: TDG.MR.REPORT for the
 * TDREPORT, a shared buffer from the chosen allocator, the 24-byte GetQuote header + TDREPORT
 * written through the guest's mapping, TDVMCALL GetQuote, then wait — sleeping between reads of
 * the status word, or halting until the event-notify interrupt arrives — and copy the quote out.
 * Every step lands in the trace. The guest sees only what a TD sees: TDCALL statuses, its shared
 * buffer and interrupts; the host behind GetQuote runs while the vCPU sleeps (src/machine).
 *
 * `requestQuote` is one request on a TD (what `quote generate` and the allocator comparison drive,
 * both wired by src/app); the allocator's persistent state lives in doc.alloc (`AllocDoc`).
 */
import {
  GET_QUOTE_BUF_SIZE,
  GET_QUOTE_CMD_VERSION,
  GET_QUOTE_HEADER,
  GET_QUOTE_HEADER_SIZE,
  GET_QUOTE_POLL_LIMIT,
  GetQuoteStatus,
  TdVmCallStatus,
  getQuoteStatusName,
  tdvmcallStatusName,
} from '../abi/ghci.js'
import {readNum, readUint, writeField} from '../abi/layout.js'
import {TDREPORT_SIZE} from '../abi/tdreport.js'
import {InputError, RefusedError} from '../errors.js'
import {diffCounters, type TraceCounters} from '../machine/trace.js'
import type {SharedBuffer, SharedBufferAllocator, StrategyName} from './alloc/interface.js'
import type {GuestTd} from './td.js'
import {getTdReport} from './tdx-guest.js'

export type Completion = 'poll' | 'notify'

/** Vector the driver registers with SetupEventNotifyInterrupt (the kernel's HYPERVISOR_CALLBACK_VECTOR). */
export const DEFAULT_NOTIFY_VECTOR = 0xf3
export const DEFAULT_STRATEGY: StrategyName = 'preshared-pool'

export interface RequestQuoteOptions {
  completion?: Completion
  /** GetQuote buffer size (default 8 KiB, Linux's GET_QUOTE_BUF_SIZE). */
  bufferBytes?: number
  /** Status checks (or interrupt waits) before giving up (default 30, Linux's 30 × 1 s). */
  pollLimit?: number
  notifyVector?: number
}

export interface QuoteRequestResult {
  quote: Buffer
  tdreport: Buffer
  buffer_bytes: number
  polls: number
  /** What this request did (init of the allocator not included). */
  counters: TraceCounters
}

/** Either 64 bytes of report data (TDG.MR.REPORT is called) or a ready TDREPORT to quote. */
export type QuoteInput = {reportData: Uint8Array} | {tdreport: Uint8Array}

function writeHeader(alloc: SharedBufferAllocator, buf: SharedBuffer, tdreport: Buffer, td: GuestTd): void {
  // memset the whole buffer, then header + TDREPORT (the driver's sequence)
  alloc.write(buf, 0, Buffer.alloc(buf.bytes))
  td.trace.add({kind: 'copy', layer: 'guest', name: 'memset quote buffer', count: buf.bytes})
  const hdr = Buffer.alloc(GET_QUOTE_HEADER_SIZE)
  writeField(GET_QUOTE_HEADER, hdr, 'version', GET_QUOTE_CMD_VERSION)
  writeField(GET_QUOTE_HEADER, hdr, 'status', 0n)
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', tdreport.length)
  writeField(GET_QUOTE_HEADER, hdr, 'out_len', 0)
  alloc.write(buf, 0, Buffer.concat([hdr, tdreport]))
  td.trace.add({kind: 'copy', layer: 'guest', name: 'copy header + TDREPORT in', count: GET_QUOTE_HEADER_SIZE + tdreport.length})
}

/** The status word as the CPU sees it (after a sync of the header for streaming DMA). */
function readStatus(alloc: SharedBufferAllocator, buf: SharedBuffer): bigint {
  alloc.syncForCpu(buf, 0, GET_QUOTE_HEADER_SIZE)
  return readUint(GET_QUOTE_HEADER, alloc.read(buf, 0, GET_QUOTE_HEADER_SIZE), 'status')
}

/**
 * Wait for the host: sleep one poll interval and read the status word (the host works while the
 * vCPU sleeps), or halt until the event-notify interrupt arrives. Returns the checks made.
 */
function waitForCompletion(td: GuestTd, alloc: SharedBufferAllocator, buf: SharedBuffer, completion: Completion, limit: number, vector: number): number {
  for (let i = 1; i <= limit; i++) {
    if (completion === 'poll') {
      td.cpu.sleep()
      td.trace.add({kind: 'poll', layer: 'guest', name: 'sleep, read status'})
      if (readStatus(alloc, buf) !== GetQuoteStatus.IN_FLIGHT) return i
    } else if (td.cpu.halt() === vector) {
      td.trace.add({kind: 'notify_irq', layer: 'guest', name: `event-notify interrupt 0x${vector.toString(16)}`})
      return i
    }
  }
  return limit
}

/** TDREPORT of the request: made now (TDG.MR.REPORT over the report data) or the one given. */
function requestTdReport(td: GuestTd, input: QuoteInput): Buffer {
  if (!('tdreport' in input)) return getTdReport(td, input.reportData)
  if (input.tdreport.length !== TDREPORT_SIZE) throw new InputError('BAD_LENGTH', `a TDREPORT is ${TDREPORT_SIZE} bytes, got ${input.tdreport.length}`)
  return Buffer.from(input.tdreport)
}

/** GetQuote TDVMCALL itself refused (TDCALL status or R10). */
function getQuoteCallFailed(res: {tdcall_status: bigint; r10: bigint}): RefusedError {
  const name = res.tdcall_status !== 0n ? 'TDCALL refused' : tdvmcallStatusName(res.r10)
  return new RefusedError('GETQUOTE_FAILED', `GetQuote TDVMCALL failed: ${name} (0x${(res.tdcall_status || res.r10).toString(16)})`, {
    status: res.r10,
    detail: {r10: '0x' + res.r10.toString(16), r10_name: name},
  })
}

/**
 * The host completed the request with a failure status. The guest knows only the status; the app
 * layer adds what the host said about it (see src/app/quote.ts).
 */
function getQuoteStatusFailed(status: bigint): RefusedError {
  const unavailable = status === GetQuoteStatus.SERVICE_UNAVAILABLE
  return new RefusedError(unavailable ? 'QGS_UNAVAILABLE' : 'GETQUOTE_ERROR', `GetQuote failed: ${getQuoteStatusName(status)}${unavailable ? ' (no quote generation service on the host)' : ''}`, {
    status,
    detail: {status: '0x' + status.toString(16), status_name: getQuoteStatusName(status)},
  })
}

/**
 * One GetQuote request on a TD, through `alloc`. Throws RefusedError with the real status names on
 * every failure; a timed-out buffer is abandoned to the host (never reused).
 */
export function requestQuote(td: GuestTd, alloc: SharedBufferAllocator, input: QuoteInput, opts: RequestQuoteOptions = {}): QuoteRequestResult {
  const completion = opts.completion ?? 'poll'
  const limit = opts.pollLimit ?? GET_QUOTE_POLL_LIMIT
  const vector = opts.notifyVector ?? DEFAULT_NOTIFY_VECTOR
  const before = td.trace.snapshot()
  td.trace.add({kind: 'request_begin', layer: 'guest', name: `quote request (${alloc.strategy}, ${completion})`})
  const tdreport = requestTdReport(td, input)
  const buf = alloc.alloc(opts.bufferBytes ?? GET_QUOTE_BUF_SIZE)
  let keep = false // buffer abandoned to the host
  let done: Omit<QuoteRequestResult, 'counters'>
  try {
    if (GET_QUOTE_HEADER_SIZE + tdreport.length > buf.bytes) {
      throw new InputError('BUFFER_TOO_SMALL', `a ${buf.bytes}-byte buffer cannot hold the header and the ${tdreport.length}-byte TDREPORT`)
    }
    writeHeader(alloc, buf, tdreport, td)
    const deviceGpa = alloc.mapForDevice(buf)
    if (completion === 'notify' && td.ghci.notifyVector !== vector) td.ghci.setupEventNotifyInterrupt(vector)
    const res = td.ghci.getQuote(deviceGpa, buf.bytes)
    if (res.tdcall_status !== 0n || res.r10 !== TdVmCallStatus.SUCCESS) throw getQuoteCallFailed(res)
    const polls = waitForCompletion(td, alloc, buf, completion, limit, vector)
    const status = readStatus(alloc, buf)
    if (status === GetQuoteStatus.IN_FLIGHT) {
      keep = true
      alloc.abandon(buf)
      throw new RefusedError('GETQUOTE_TIMEOUT', `GetQuote timed out: the host did not complete the request after ${limit} ${completion === 'poll' ? 'status checks' : 'interrupt waits'} (the buffer stays with the host)`, {
        status,
        detail: {status_name: getQuoteStatusName(status)},
      })
    }
    if (status !== GetQuoteStatus.SUCCESS) throw getQuoteStatusFailed(status)
    alloc.syncForCpu(buf, 0, buf.bytes)
    const header = alloc.read(buf, 0, GET_QUOTE_HEADER_SIZE)
    const outLen = readNum(GET_QUOTE_HEADER, header, 'out_len') // read once
    if (outLen > buf.bytes - GET_QUOTE_HEADER_SIZE) {
      throw new RefusedError('QUOTE_TOO_LARGE', `GetQuote: host reports a ${outLen}-byte quote, larger than the ${buf.bytes - GET_QUOTE_HEADER_SIZE} bytes the buffer holds`)
    }
    const quote = alloc.read(buf, GET_QUOTE_HEADER_SIZE, outLen)
    td.trace.add({kind: 'copy', layer: 'guest', name: 'copy quote out', count: outLen})
    done = {quote, tdreport, buffer_bytes: buf.bytes, polls: completion === 'poll' ? polls : 0}
  } catch (error) {
    td.trace.add({kind: 'failure', layer: 'guest', name: 'quote request failed', detail: (error as Error).message})
    throw error
  } finally {
    if (!keep) alloc.free(buf)
    td.trace.add({kind: 'request_end', layer: 'guest', name: 'quote request done'})
  }
  // The free belongs to the request: count after it.
  return {...done, counters: diffCounters(before, td.trace.snapshot())}
}

// ---------------------------------------------------------------- doc.alloc (src/guest/alloc/doc.ts)

export {allocDoc, openAllocator, saveAllocator, type AllocDoc, type AllocatorConfig} from './alloc/doc.js'
