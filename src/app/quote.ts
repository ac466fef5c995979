/**
 * `quote generate` on the simulated TD: the platform from the state directory, a TD wired to its
 * host (src/app/session.ts), the allocator restored from doc.alloc, one request through the guest
 * driver path (src/guest/quote.ts), and doc.alloc saved back — also when the request failed, so a
 * slot abandoned to the host stays accounted for. What the host said about a failed request (the
 * QGS's reason) is added to the error here: the guest itself only sees the status word.
 */
import {QUOTE_HEADER} from '../abi/quote.js'
import {readNum} from '../abi/layout.js'
import {InputError, RefusedError} from '../errors.js'
import {abandonedGpas, allocDoc, isPersistent, openAllocator, saveAllocator} from '../guest/alloc/doc.js'
import {canonicalStrategy, type SharedBufferAllocator, type StrategyName, type StrategySpec} from '../guest/alloc/interface.js'
import {PresharedPoolAllocator} from '../guest/alloc/preshared-pool.js'
import {SwiotlbAllocator} from '../guest/alloc/swiotlb.js'
import {UpstreamTdxGuestAllocator, type UpstreamKernel} from '../guest/alloc/upstream.js'
import {DEFAULT_STRATEGY, requestQuote, type Completion, type QuoteInput, type QuoteRequestResult, type RequestQuoteOptions} from '../guest/quote.js'
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
  /** A strategy or an alias ('dma-pool' = 'preshared-pool'). */
  strategy?: StrategySpec
  poolBytes?: number
  /** upstream: kernel whose GET_QUOTE_BUF_SIZE the driver buffer has (6.7: 8 KiB, 7.0: 128 KiB). */
  upstreamKernel?: UpstreamKernel
  /** swiotlb / dma-coherent: the driver registered a platform device (default true). */
  platformDevice?: boolean
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
  /** upstream: the driver's buffer. */
  driver_buffer?: {kernel: UpstreamKernel; buffer_bytes: number; restored: boolean; abandoned: boolean}
  /** swiotlb: the pool converted at boot. */
  swiotlb?: {pool_bytes: number; slots: number; areas: number; restored: boolean; held_mappings: number}
  platform_created: boolean
}

/** What a pool-keeping allocator says about itself after the request. */
function allocatorInfo(alloc: SharedBufferAllocator, restored: boolean): Pick<GenerateQuoteResult, 'pool' | 'driver_buffer' | 'swiotlb'> {
  if (alloc instanceof PresharedPoolAllocator) return {pool: {pool_bytes: alloc.poolBytes, slot_bytes: alloc.slotBytes, slots: alloc.slots, restored, abandoned: alloc.abandoned()}}
  if (alloc instanceof UpstreamTdxGuestAllocator) return {driver_buffer: {kernel: alloc.kernel, buffer_bytes: alloc.bufferBytes, restored, abandoned: alloc.abandoned()}}
  if (alloc instanceof SwiotlbAllocator) {
    const g = alloc.geometry
    return {swiotlb: {pool_bytes: g.bytes, slots: g.nslabs, areas: g.nareas, restored, held_mappings: alloc.heldMappings()}}
  }
  return {}
}

/** `quote generate`: one quote through the simulated TD path, state kept in doc.alloc. */
export async function generateQuote(store: StateStore, opts: GenerateQuoteOptions, onCreate?: (doc: PlatformDoc) => void): Promise<GenerateQuoteResult> {
  const strategy = canonicalStrategy(opts.strategy ?? DEFAULT_STRATEGY)
  if (!strategy) throw new InputError('BAD_ALLOCATOR', `unknown allocator '${opts.strategy}'`)
  const completion = opts.completion ?? 'poll'
  const {result, created} = await withPlatform(store, (p) => {
    const trace = opts.trace ?? new OpTrace()
    const td = openSession(p, {...opts, trace})
    const saved = allocDoc(p.doc)
    const savedState: Partial<Record<StrategyName, unknown>> = {'preshared-pool': saved.dma_pool, upstream: saved.upstream, swiotlb: saved.swiotlb}
    let alloc: SharedBufferAllocator | undefined
    try {
      alloc = openAllocator(td, p.doc, {
        strategy,
        poolBytes: opts.poolBytes,
        slotBytes: strategy === 'preshared-pool' ? opts.bufferBytes : undefined,
        upstreamKernel: opts.upstreamKernel,
        platformDevice: opts.platformDevice,
        mappingBytes: opts.bufferBytes,
      })
      td.holdAbandonedGpas(abandonedGpas(td.memory, saved))
      const r = requestQuoteOnHost(td, alloc, opts.input, {...opts, completion})
      saveAllocator(p.doc, alloc, 1)
      const restored = savedState[strategy] !== undefined && trace.counters.dm_prot_pages === 0
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
        ...allocatorInfo(alloc, restored),
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
  if (!isPersistent(alloc)) return
  saveAllocator(doc, alloc)
  store.save(doc)
}
