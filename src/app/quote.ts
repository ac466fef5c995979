/**
 * `quote generate` on the simulated TD: the platform from the state directory, a TD wired to its
 * host (src/app/session.ts), the allocator restored from doc.alloc, one request through the guest
 * driver path (src/guest/quote.ts), and doc.alloc saved back — also when the request failed, so a
 * slot abandoned to the host stays accounted for. What the host said about a failed request (the
 * QGS's reason) is added to the error here: the guest itself only sees the status word.
 */
import {QUOTE_HEADER} from '../abi/quote.js'
import {readNum} from '../abi/layout.js'
import {RefusedError} from '../errors.js'
import {DmaPoolAllocator} from '../guest/alloc/dma-pool.js'
import type {SharedBufferAllocator, StrategyName} from '../guest/alloc/interface.js'
import {DEFAULT_STRATEGY, allocDoc, openAllocator, requestQuote, saveAllocator, type Completion, type QuoteInput, type QuoteRequestResult, type RequestQuoteOptions} from '../guest/quote.js'
import {OpTrace, type TraceCounters, type TraceEvent} from '../machine/trace.js'
import type {PlatformDoc} from '../module/platform.js'
import type {StateDoc} from '../util/state-doc.js'
import {withPlatform, type StateStore} from './platform.js'
import {openSession, type SessionOptions, type TdSession} from './session.js'

/**
 * A GetQuote failure as the guest reports it, with the host's reason for it added (message and
 * detail.host_reason) when the QGS gave one.
 */
export function withHostReason(error: unknown, reason: string | undefined): unknown {
  if (!reason || !(error instanceof RefusedError) || (error.code !== 'GETQUOTE_ERROR' && error.code !== 'QGS_UNAVAILABLE')) return error
  const message = error.code === 'GETQUOTE_ERROR' ? `${error.message} (host: ${reason})` : error.message
  return new RefusedError(error.code, message, {status: error.status, detail: {...error.detail, host_reason: reason}})
}

/** One request through the guest driver path on a wired TD, host diagnostics added to failures. */
export function requestQuoteOnHost(td: TdSession, alloc: SharedBufferAllocator, input: QuoteInput, opts: RequestQuoteOptions = {}): QuoteRequestResult {
  try {
    return requestQuote(td, alloc, input, opts)
  } catch (error) {
    throw withHostReason(error, td.qgs.lastFailureReason)
  }
}

export interface GenerateQuoteOptions extends RequestQuoteOptions, SessionOptions {
  input: QuoteInput
  strategy?: StrategyName
  poolBytes?: number
}

export interface GenerateQuoteResult {
  quote: Buffer
  tdreport: Buffer
  strategy: StrategyName
  completion: Completion
  quote_version: number
  buffer_bytes: number
  polls: number
  /** This request's operations. */
  request: TraceCounters
  /** Everything this run did (incl. a pool conversion or restore). */
  total: TraceCounters
  events: TraceEvent[]
  pool?: {pool_bytes: number; slot_bytes: number; slots: number; restored: boolean; abandoned: number}
  platform_created: boolean
}

/** `quote generate`: one quote through the simulated TD path, state kept in doc.alloc. */
export async function generateQuote(store: StateStore, opts: GenerateQuoteOptions, onCreate?: (doc: PlatformDoc) => void): Promise<GenerateQuoteResult> {
  const strategy = opts.strategy ?? DEFAULT_STRATEGY
  const completion = opts.completion ?? 'poll'
  const {result, created} = await withPlatform(store, (p) => {
    const trace = opts.trace ?? new OpTrace()
    const td = openSession(p, {...opts, trace})
    const hadPool = allocDoc(p.doc).dma_pool !== undefined
    let alloc: SharedBufferAllocator | undefined
    try {
      alloc = openAllocator(td, p.doc, {strategy, poolBytes: opts.poolBytes, slotBytes: strategy === 'dma-pool' ? opts.bufferBytes : undefined})
      const saved = allocDoc(p.doc).dma_pool
      if (saved && alloc instanceof DmaPoolAllocator) td.holdAbandoned(saved)
      const r = requestQuoteOnHost(td, alloc, opts.input, {...opts, completion})
      saveAllocator(p.doc, alloc, 1)
      const pool = alloc instanceof DmaPoolAllocator ? {pool_bytes: alloc.poolBytes, slot_bytes: alloc.slotBytes, slots: alloc.slots, restored: hadPool && trace.counters.dm_prot_pages === 0, abandoned: alloc.abandoned()} : undefined
      return {
        quote: r.quote,
        tdreport: r.tdreport,
        strategy,
        completion,
        quote_version: readNum(QUOTE_HEADER, r.quote, 'version'),
        buffer_bytes: r.buffer_bytes,
        polls: r.polls,
        request: r.counters,
        total: trace.snapshot(),
        events: trace.events,
        ...(pool ? {pool} : {}),
        platform_created: false,
      }
    } catch (error) {
      // Keep the pool (and any slot abandoned to the host) even when the request failed.
      if (alloc) persistOnFailure(store, p.doc, alloc)
      throw error
    }
  }, onCreate)
  return {...result, platform_created: created}
}

/** withPlatform does not save when fn throws: save the allocator state ourselves (lock is held). */
function persistOnFailure(store: StateStore, doc: StateDoc, alloc: SharedBufferAllocator): void {
  if (!(alloc instanceof DmaPoolAllocator) || !alloc.initialized) return
  saveAllocator(doc, alloc)
  store.save(doc)
}
