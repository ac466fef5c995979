/**
 * `quote generate` as a use case (src/app/quote.ts): quotes through both allocators parse (src/abi/quote.ts)
 * and verify under the independent @phala/dcap-qvl with the simulated root and exported collateral
 * (UpToDate), never under Intel's root, and under `tdxkit quote verify --root-ca sim`; the
 * per-request operation counts; every failure path with its real status, and the host's reason
 * added by the app layer (the guest sees only the status word).
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../src/abi/quote.js'
import {REPORTMACSTRUCT} from '../../src/abi/tdreport.js'
import {RefusedError} from '../../src/errors.js'
import {initPlatform} from '../../src/app/platform.js'
import {generateQuote, requestQuoteOnHost, withHostReason, type GenerateQuoteOptions} from '../../src/app/quote.js'
import {PresharedPoolAllocator} from '../../src/guest/alloc/preshared-pool.js'
import {getTdReport} from '../../src/guest/tdx-guest.js'
import {loadSimCollateral} from '../../src/app/sim-collateral.js'
import {Platform} from '../../src/module/platform.js'
import {StateStore} from '../../src/state/store.js'
import {cli} from '../helpers/cli.js'
import {failure} from '../helpers/errors.js'
import {freshTd} from '../helpers/guest.js'
import {qvl, VERIFY_AT} from '../helpers/host-fixtures.js'

const store = async (seed = 'quote-e2e', profile: 'tdx-1.0' | 'tdx-1.5' = 'tdx-1.5') => {
  const s = new StateStore(mkdtempSync(join(tmpdir(), 'tdxkit-quote-')))
  await initPlatform(s, {seed, profile})
  return s
}

const rd = (b: number) => ({reportData: Buffer.alloc(64, b)})

test('both allocators, v4 and v5: quotes parse, bind the report data and verify under dcap-qvl with the simulated root; Intel root rejects', async () => {
  const s = await store()
  const {collateral, root_ca_der} = await loadSimCollateral(s)
  let i = 1
  for (const strategy of ['dma-pool', 'vmap-mapgpa'] as const) {
    for (const quoteVersion of [4, 5] as const) {
      const r = await generateQuote(s, {input: rd(i), strategy, quoteVersion})
      const q = parseQuote(r.quote)
      assert.is(q.version, quoteVersion)
      assert.is(r.quote_version, quoteVersion)
      assert.is(q.td!.report_data.toString('hex'), Buffer.alloc(64, i).toString('hex'))
      const v = qvl.QuoteVerifier.newWithRootCa(root_ca_der).verify(r.quote, collateral, VERIFY_AT)
      assert.is(v.status, 'UpToDate', `${strategy} v${quoteVersion}`)
      assert.throws(() => qvl.QuoteVerifier.newProd().verify(r.quote, collateral, VERIFY_AT))
      i++
    }
  }
})

test('per-request counts: vmap-mapgpa 2 MapGPA + 2 accepts; dma-pool converts once then only GetQuote', async () => {
  const s = await store('counts')
  const v = await generateQuote(s, {input: rd(1), strategy: 'vmap-mapgpa'})
  assert.is(v.request.mapgpa_calls, 2)
  assert.is(v.request.getquote_calls, 1)
  assert.is(v.request.tdvmcalls, 3)
  assert.is(v.request.pages_accepted, 2)
  assert.is(v.request.report_calls, 1)
  assert.is(v.request.tdcalls, 1 + 3 + 2) // TDREPORT + TDVMCALLs + accepts
  assert.is(v.request.polls, 1)
  const names = v.events.filter((e) => e.layer === 'tdcall' || e.layer === 'tdvmcall').map((e) => `${e.name}:${e.status_name}`)
  assert.equal(names, [
    'TDG.MR.REPORT:TDX_SUCCESS',
    'MapGPA:TDVMCALL_STATUS_SUCCESS',
    'GetQuote:TDVMCALL_STATUS_SUCCESS',
    'MapGPA:TDVMCALL_STATUS_SUCCESS',
    'TDG.MEM.PAGE.ACCEPT:TDX_SUCCESS',
    'TDG.MEM.PAGE.ACCEPT:TDX_SUCCESS',
  ])
  const first = await generateQuote(s, {input: rd(2), strategy: 'dma-pool'})
  assert.is(first.pool!.restored, false)
  assert.is(first.total.mapgpa_calls, 1) // the pool's one conversion
  assert.is(first.request.mapgpa_calls, 0)
  const second = await generateQuote(s, {input: rd(3), strategy: 'dma-pool'})
  assert.is(second.pool!.restored, true)
  assert.is(second.total.mapgpa_calls, 0)
  assert.is(second.total.pages_to_shared + second.total.pages_accepted + second.total.sept_changes, 0)
  assert.is(second.request.tdvmcalls, 1)
  assert.is(second.request.slot_ops, 2)
  // a different pool size releases the old pool and converts a new one
  const resized = await generateQuote(s, {input: rd(4), strategy: 'dma-pool', poolBytes: 8192})
  assert.is(resized.pool!.slots, 1)
  assert.is(resized.total.mapgpa_calls, 2)
  assert.is(resized.total.pages_accepted, 16)
})

test('notify completion: SetupEventNotifyInterrupt once, one interrupt, no polls', async () => {
  const s = await store('notify')
  const r = await generateQuote(s, {input: rd(1), completion: 'notify', strategy: 'vmap-mapgpa'})
  assert.is(r.request.notifies, 1)
  assert.is(r.request.polls, 0)
  assert.ok(r.events.some((e) => e.name === 'SetupEventNotifyInterrupt' && e.status === 0n))
})

test('failures carry the real statuses: tampered TDREPORT, buffer too small, QGS down, QGS error', async () => {
  const s = await store('failures')
  const p = new Platform(s.load()!)
  const report = getTdReport(p, Buffer.alloc(64, 9))
  const at = REPORTMACSTRUCT.fields.report_data.offset
  report[at] ^= 1 // REPORTDATA inside REPORTMACSTRUCT: the REPORTMAC no longer matches
  const tampered = await failure(generateQuote(s, {input: {tdreport: report}}))
  assert.is(tampered.code, 'GETQUOTE_ERROR')
  assert.is(tampered.exit, 7)
  assert.match(tampered.message, /GET_QUOTE_ERROR/)
  assert.match(tampered.message, /TDREPORT_MAC_INVALID/)
  const small = await failure(generateQuote(s, {input: rd(1), strategy: 'vmap-mapgpa', bufferBytes: 4096}))
  assert.is(small.code, 'GETQUOTE_ERROR')
  assert.match(small.message, /does not fit/)
  const down = await failure(generateQuote(s, {input: rd(1), qgsMode: 'down'}))
  assert.is(down.code, 'QGS_UNAVAILABLE')
  assert.match(down.message, /GET_QUOTE_SERVICE_UNAVAILABLE/)
  const err = await failure(generateQuote(s, {input: rd(1), qgsMode: 'error', completion: 'notify'}))
  assert.is(err.code, 'GETQUOTE_ERROR')
  // the untampered report still quotes
  report[at] ^= 1
  assert.ok((await generateQuote(s, {input: {tdreport: report}})).quote.length > 0)
})

test('a stalled host: timeout (bounded, no hang), the 1-slot pool stays held across runs → POOL_EXHAUSTED, reclaimed once the host recovers', async () => {
  const s = await store('stall')
  const opts: GenerateQuoteOptions = {input: rd(1), strategy: 'dma-pool', poolBytes: 8192, qgsMode: 'stall'}
  const t = await failure(generateQuote(s, opts))
  assert.is(t.code, 'GETQUOTE_TIMEOUT')
  assert.equal((s.load()!.alloc as {dma_pool: {abandoned: number[]}}).dma_pool.abandoned, [0])
  const busy = await failure(generateQuote(s, opts))
  assert.is(busy.code, 'POOL_EXHAUSTED')
  assert.is(busy.exit, 7)
  const ok = await generateQuote(s, {...opts, qgsMode: 'up'})
  assert.is(ok.pool!.abandoned, 0)
  assert.equal((s.load()!.alloc as {dma_pool: {abandoned: number[]}}).dma_pool.abandoned, [])
})

test('a quote made through the app verifies with `tdxkit quote verify --root-ca sim` on the same state directory', async () => {
  const s = await store('app-verify')
  const r = await generateQuote(s, {input: rd(0x42), strategy: 'dma-pool', completion: 'notify'})
  const file = join(s.dir, 'quote.bin')
  writeFileSync(file, r.quote)
  const v = cli(['quote', 'verify', file, '--root-ca', 'sim', '--json'], {stateDir: s.dir})
  assert.is(v.code, 0, v.stderr)
  assert.is(JSON.parse(v.stdout).status, 'UpToDate')
  const intel = cli(['quote', 'verify', file, '--json'], {stateDir: s.dir})
  assert.is.not(intel.code, 0, 'the simulated quote never verifies under the Intel root')
})

test("the QGS's reason for a failure is added by the app, not seen by the guest", () => {
  const {td} = freshTd({qgsMode: 'error'})
  let guestError: RefusedError | undefined
  try {
    requestQuoteOnHost(td, new PresharedPoolAllocator(td, {poolBytes: 8192}), rd(1))
  } catch (error) {
    guestError = error as RefusedError
  }
  assert.ok(guestError, 'the request failed')
  assert.is(guestError!.code, 'GETQUOTE_ERROR')
  assert.is(guestError!.message, 'GetQuote failed: GET_QUOTE_ERROR (host: quote service failed (simulated))')
  assert.equal(guestError!.detail, {status: '0x8000000000000000', status_name: 'GET_QUOTE_ERROR', host_reason: 'quote service failed (simulated)'})
  // unrelated errors and errors without a reason pass through untouched
  const other = new RefusedError('POOL_EXHAUSTED', 'x')
  assert.is(withHostReason(other, 'why'), other)
  const noReason = new RefusedError('GETQUOTE_ERROR', 'GetQuote failed: GET_QUOTE_ERROR')
  assert.is(withHostReason(noReason, undefined), noReason)
})

test.run()
