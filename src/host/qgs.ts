/**
 * The simulated Quote Generation Service (the host daemon behind GetQuote): takes a request the VMM
 * queued, works on it in simulated time (the machine's scheduler runs it while the TD's vCPU sleeps
 * or halts), reads the TDREPORT from the TD's shared buffer, asks the quoting enclave for a quote,
 * writes the quote back after the header, then the status word (data before status, as QEMU does
 * with a write barrier), and raises the TD's event-notify interrupt if one is registered.
 *
 * Modes exercise the unhappy paths: 'down' (no QGS configured → GET_QUOTE_SERVICE_UNAVAILABLE),
 * 'stall' (requests never complete → the guest times out), 'error' (every request fails).
 */
import {
  GET_QUOTE_HEADER,
  GET_QUOTE_HEADER_SIZE,
  GetQuoteStatus,
  getQuoteStatusName,
} from '../abi/ghci.js'
import {field, readNum, writeField} from '../abi/layout.js'
import {TdxkitError} from '../errors.js'
import type {Vmm} from './vmm.js'

export type QgsMode = 'up' | 'down' | 'stall' | 'error'
export const QGS_MODES: readonly QgsMode[] = ['up', 'down', 'stall', 'error']

/** The quoting enclave as QGS calls it: TDREPORT → signed quote (throws to refuse). */
export type QuoteBackend = (tdreport: Buffer, opts: {version?: 4 | 5}) => Buffer

export interface QgsOptions {
  mode?: QgsMode
  backend?: QuoteBackend
  /** Quote version to ask the QE for (undefined = the platform's default). */
  quoteVersion?: 4 | 5
  /** Scheduler ticks before a request completes (default 1: done at the first tick the guest waits). */
  serviceRounds?: number
}

interface Job {
  gpa: bigint
  size: number
}

interface QuoteOutcome {
  status: bigint
  quote?: Buffer
  reason?: string
}

export class Qgs {
  readonly mode: QgsMode
  private readonly backend?: QuoteBackend
  private readonly quoteVersion?: 4 | 5
  private readonly serviceRounds: number
  private readonly jobs: Job[] = []
  /** Why the last completed request failed: the simulator's hint for error messages (a real TD never sees it). */
  lastFailureReason?: string

  constructor(opts: QgsOptions = {}) {
    this.mode = opts.mode ?? 'up'
    this.backend = opts.backend
    this.quoteVersion = opts.quoteVersion
    this.serviceRounds = Math.max(1, opts.serviceRounds ?? 1)
  }

  /** Is a quote service configured at all? */
  get available(): boolean {
    return this.mode !== 'down'
  }

  get inFlight(): number {
    return this.jobs.length
  }

  /**
   * Queue a GetQuote request whose buffer the VMM already marked IN_FLIGHT: it completes
   * `serviceRounds` ticks later, never when the service is stalled.
   */
  submit(vmm: Vmm, gpa: bigint, size: number): void {
    const job: Job = {gpa, size}
    this.jobs.push(job)
    if (this.mode === 'stall') return
    vmm.machine.scheduler.schedule(() => {
      this.jobs.splice(this.jobs.indexOf(job), 1)
      this.complete(vmm, job)
    }, this.serviceRounds)
  }

  /**
   * A buffer an earlier run abandoned to this host (its request timed out). A stalled service is
   * still sitting on it, so its status word keeps reading IN_FLIGHT; a working one has long let go.
   */
  holdAbandoned(vmm: Vmm, gpa: bigint): void {
    if (this.mode !== 'stall') return
    const header = Buffer.alloc(GET_QUOTE_HEADER_SIZE)
    writeField(GET_QUOTE_HEADER, header, 'status', GetQuoteStatus.IN_FLIGHT)
    vmm.hostWrite(gpa + BigInt(GET_QUOTE_HEADER.fields.status.offset), field(GET_QUOTE_HEADER, header, 'status'))
  }

  /** Produce a quote for a TDREPORT (also used by the Service TDVMCALL quote service). */
  generate(vmm: Vmm, tdreport: Buffer, version?: 4 | 5): QuoteOutcome {
    if (this.mode === 'error') return this.record(vmm, {status: GetQuoteStatus.ERROR, reason: 'quote service failed (simulated)'})
    if (!this.backend) return this.record(vmm, {status: GetQuoteStatus.SERVICE_UNAVAILABLE, reason: 'no quoting enclave attached'})
    try {
      const quote = this.backend(tdreport, {version: version ?? this.quoteVersion})
      return this.record(vmm, {status: GetQuoteStatus.SUCCESS, quote})
    } catch (error) {
      const reason = error instanceof TdxkitError ? `${error.code}: ${error.message}` : String((error as Error)?.message ?? error)
      return this.record(vmm, {status: GetQuoteStatus.ERROR, reason})
    }
  }

  private record(vmm: Vmm, o: QuoteOutcome): QuoteOutcome {
    vmm.trace.add({
      kind: 'quote_service',
      layer: 'host',
      name: 'QGS → QE quoteTdReport',
      status: o.status,
      status_name: getQuoteStatusName(o.status),
      ...(o.quote ? {count: o.quote.length} : {}),
      ...(o.reason ? {detail: o.reason} : {}),
    })
    return o
  }

  private complete(vmm: Vmm, job: Job): void {
    const header = Buffer.alloc(GET_QUOTE_HEADER_SIZE)
    try {
      vmm.hostRead(job.gpa, GET_QUOTE_HEADER_SIZE).copy(header)
    } catch {
      // The guest took the buffer back (converted it to private) before we finished: drop it.
      vmm.trace.add({kind: 'note', layer: 'host', name: 'QGS drops request', gpa: job.gpa, detail: 'buffer is no longer shared'})
      return
    }
    // The TD owns the buffer and may have rewritten the header since GetQuote was validated: bound
    // in_len by the buffer again, and drop the request if the pages went private meanwhile.
    const inLen = readNum(GET_QUOTE_HEADER, header, 'in_len')
    const room = job.size - GET_QUOTE_HEADER_SIZE
    let outcome: QuoteOutcome
    if (inLen > room) {
      outcome = this.record(vmm, {status: GetQuoteStatus.ERROR, reason: `in_len ${inLen} runs past the ${room} bytes after the header`})
    } else {
      let tdreport: Buffer
      try {
        tdreport = vmm.hostRead(job.gpa + BigInt(GET_QUOTE_HEADER_SIZE), inLen)
      } catch {
        vmm.trace.add({kind: 'note', layer: 'host', name: 'QGS drops request', gpa: job.gpa, detail: 'buffer is no longer shared'})
        return
      }
      outcome = this.generate(vmm, tdreport)
    }
    if (outcome.quote && outcome.quote.length > room) {
      const reason = `quote of ${outcome.quote.length} bytes does not fit the ${room} bytes after the header`
      vmm.trace.add({kind: 'failure', layer: 'host', name: 'QGS', detail: reason})
      outcome = {status: GetQuoteStatus.ERROR, reason}
    }
    try {
      if (outcome.quote) vmm.hostWrite(job.gpa + BigInt(GET_QUOTE_HEADER_SIZE), outcome.quote)
      writeField(GET_QUOTE_HEADER, header, 'out_len', outcome.quote?.length ?? 0)
      writeField(GET_QUOTE_HEADER, header, 'status', outcome.status)
      // data and out_len first, then the status word
      vmm.hostWrite(job.gpa + BigInt(GET_QUOTE_HEADER.fields.out_len.offset), header.subarray(GET_QUOTE_HEADER.fields.out_len.offset))
      vmm.hostWrite(job.gpa + BigInt(GET_QUOTE_HEADER.fields.status.offset), header.subarray(GET_QUOTE_HEADER.fields.status.offset, GET_QUOTE_HEADER.fields.status.offset + 8))
    } catch {
      vmm.trace.add({kind: 'note', layer: 'host', name: 'QGS drops request', gpa: job.gpa, detail: 'buffer is no longer shared'})
      return
    }
    this.lastFailureReason = outcome.reason
    if (vmm.notifyVector !== undefined) vmm.injectInterrupt(vmm.notifyVector)
  }
}
