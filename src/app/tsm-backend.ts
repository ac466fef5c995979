/**
 * The one place the configfs-tsm mount reaches the simulated TD: make sure a platform exists, and
 * produce a quote for 64 bytes of REPORTDATA through the same use case as `quote generate`
 * (TDG.MR.REPORT → shared buffer from the chosen allocator → GetQuote → QGS/QE), so each quote
 * is recorded in the state directory like any other.
 */
import type {StrategyName} from '../guest/alloc/interface.js'
import type {QgsMode} from '../host/qgs.js'
import type {PlatformDoc} from '../module/platform.js'
import {ensurePlatform, type StateStore} from './platform.js'
import {generateQuote} from './quote.js'

export interface TsmBackendOptions {
  strategy: StrategyName
  quoteVersion?: 4 | 5
  qgsMode?: QgsMode
}

export interface TsmBackendQuote {
  quote: Buffer
  quote_version: number
  strategy: StrategyName
}

/** One quote for `reportData` on the platform in `store`. */
export async function tsmBackendQuote(store: StateStore, reportData: Uint8Array, opts: TsmBackendOptions): Promise<TsmBackendQuote> {
  const r = await generateQuote(store, {input: {reportData}, strategy: opts.strategy, quoteVersion: opts.quoteVersion, qgsMode: opts.qgsMode})
  return {quote: r.quote, quote_version: r.quote_version, strategy: r.strategy}
}

/** Open (or create) the platform before serving. */
export async function tsmBackendPlatform(store: StateStore): Promise<{doc: PlatformDoc; created: boolean}> {
  return ensurePlatform(store)
}
