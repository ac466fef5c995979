/**
 * Demo steps for quote generation: one quote through per-request conversion (vmap-mapgpa), through
 * the merged driver's buffer converted once (upstream), and through the pre-shared pool, with what
 * the trace counted, so the difference is visible. The last quote goes into ctx.bag ('quote', a
 * Buffer) and workDir/quote.bin for the verification steps.
 */
import {join} from 'node:path'
import {parseQuote} from '../abi/quote.js'
import type {TraceCounters} from '../machine/trace.js'
import {generateQuote} from '../app/quote.js'
import {writeOutputFile} from '../app/files.js'
import type {DemoStep} from './index.js'

const NONCE = Buffer.from('tdxkit demo nonce'.padEnd(64, '.'))

const summary = (c: TraceCounters): string =>
  `TDCALLs ${c.tdcalls}, TDVMCALLs ${c.tdvmcalls} (MapGPA ${c.mapgpa_calls}), pages converted ${c.pages_to_shared}→shared / ${c.pages_to_private}→private, ` +
  `accepted ${c.pages_accepted}, S-EPT changes ${c.sept_changes}, direct-map splits ${c.dm_splits_1g}×1G + ${c.dm_splits_2m}×2M`

const pick = (c: TraceCounters) => ({
  tdcalls: c.tdcalls,
  tdvmcalls: c.tdvmcalls,
  mapgpa_calls: c.mapgpa_calls,
  pages_to_shared: c.pages_to_shared,
  pages_to_private: c.pages_to_private,
  pages_accepted: c.pages_accepted,
  sept_changes: c.sept_changes,
  dm_splits_1g: c.dm_splits_1g,
  dm_splits_2m: c.dm_splits_2m,
})

export const QUOTE_STEPS: DemoStep[] = [
  {
    id: 'quote-vmap-mapgpa',
    title: 'Quote through vmap + MapGPA (convert per request)',
    async run(ctx) {
      const r = await generateQuote(ctx.store, {input: {reportData: NONCE}, strategy: 'vmap-mapgpa'})
      const calls = r.events.filter((e) => e.layer === 'tdcall' || e.layer === 'tdvmcall').map((e) => e.name)
      return {
        lines: [
          `quote v${r.quote_version}, ${r.quote.length} bytes; ${r.buffer_bytes}-byte buffer made shared and private again`,
          `sequence: ${calls.join(' → ')}`,
          `this request: ${summary(r.request)}`,
        ],
        data: {strategy: r.strategy, quote_bytes: r.quote.length, request: pick(r.request)},
      }
    },
  },
  {
    id: 'quote-upstream',
    title: 'Quote through the merged tdx-guest driver buffer (decrypted once at driver init, quote_lock)',
    async run(ctx) {
      const first = await generateQuote(ctx.store, {input: {reportData: NONCE}, strategy: 'upstream'})
      const second = await generateQuote(ctx.store, {input: {reportData: NONCE}, strategy: 'upstream'})
      const b = first.driver_buffer!
      return {
        lines: [
          `tdx-guest ${b.kernel}: one ${b.buffer_bytes}-byte buffer decrypted at init: ${summary(first.total)}`,
          `next request reuses it under quote_lock: ${summary(second.request)}`,
        ],
        data: {strategy: 'upstream', driver_buffer: b, init: pick(first.total), request: pick(second.request)},
      }
    },
  },
  {
    id: 'quote-preshared-pool',
    title: 'Quote through the pre-shared pool (N slots, converted once at init; formerly dma-pool)',
    async run(ctx) {
      const first = await generateQuote(ctx.store, {input: {reportData: NONCE}, strategy: 'preshared-pool'})
      const second = await generateQuote(ctx.store, {input: {reportData: NONCE}, strategy: 'preshared-pool'})
      const q = parseQuote(second.quote)
      ctx.bag.set('quote', second.quote)
      const file = join(ctx.workDir, 'quote.bin')
      writeOutputFile(file, second.quote)
      return {
        lines: [
          `pool ${first.pool!.pool_bytes} bytes (${first.pool!.slots} slots) converted once: ${summary(first.total)}`,
          `next request reuses it: ${summary(second.request)}`,
          `quote v${q.version} (${second.quote.length} bytes, REPORTDATA = demo nonce) saved to ${file}`,
        ],
        data: {strategy: 'preshared-pool', pool: first.pool, init: pick(first.total), request: pick(second.request), quote_file: file},
      }
    },
  },
]
