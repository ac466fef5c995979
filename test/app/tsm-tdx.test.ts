/**
 * The tdx_guest provider over the real simulated path (tsm-backend → generateQuote): quotes carry
 * the inblob as REPORTDATA and are counted in the state like any other; each failure of the
 * GetQuote path gets the errno tdx-guest.c (v7.0) returns for it.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../src/abi/quote.js'
import {tsmBackendQuote, type TsmBackendOptions} from '../../src/app/tsm-backend.js'
import {TsmErrno, type TsmReportDesc} from '../../src/app/tsm-report.js'
import {errnoForQuoteError, TDX_QUOTE_MAX_LEN, TDX_VISIBLE_ATTRIBUTES, tdxGuestProvider} from '../../src/app/tsm-tdx.js'
import {InputError, RefusedError} from '../../src/errors.js'
import {initPlatform} from '../../src/app/platform.js'
import {StateStore} from '../../src/state/store.js'

const desc = (inblob: Buffer): TsmReportDesc => ({instance: 'x', generation: 1n, inblob, privlevel: 0, serviceGuid: Buffer.alloc(16), serviceManifestVersion: 0})

async function store(seed: string): Promise<StateStore> {
  const s = new StateStore(mkdtempSync(join(tmpdir(), 'tdxkit-tsm-tdx-')))
  await initPlatform(s, {seed, profile: 'tdx-1.5'})
  return s
}

async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (error) {
    return (error as TsmErrno).errno
  }
  return 'no error'
}

const providerOn = (s: StateStore, o: Partial<TsmBackendOptions> = {}) =>
  tdxGuestProvider(async (rd) => (await tsmBackendQuote(s, rd, {strategy: 'preshared-pool', ...o})).quote)

test('constants: TDX_QUOTE_MAX_LEN = 8 KiB - 24-byte header = 8168; four visible attributes', () => {
  assert.is(TDX_QUOTE_MAX_LEN, 8168)
  assert.equal([...TDX_VISIBLE_ATTRIBUTES].sort(), ['generation', 'inblob', 'outblob', 'provider'])
})

test('a quote through the simulated path: REPORTDATA = inblob, version as asked, counted in the state', async () => {
  const s = await store('tsm-tdx-ok')
  const nonce = Buffer.alloc(64, 0x42)
  for (const [version, strategy] of [[4, 'vmap-mapgpa'], [5, 'preshared-pool']] as const) {
    const r = await tdxGuestProvider(async (rd) => (await tsmBackendQuote(s, rd, {strategy, quoteVersion: version})).quote).reportNew(desc(nonce))
    const q = parseQuote(r.outblob)
    assert.is(q.version, version)
    assert.equal(q.td!.report_data, nonce)
    assert.is(r.auxblob, undefined) // the driver emits no auxblob
  }
  const alloc = s.load()!.alloc as {quotes: Record<string, number>}
  assert.equal(alloc.quotes, {'vmap-mapgpa': 1, 'preshared-pool': 1})
})

test('inblob not exactly 64 bytes: EINVAL before any GetQuote', async () => {
  let called = 0
  const p = tdxGuestProvider(async () => (called++, Buffer.alloc(10)))
  for (const n of [0, 1, 63]) assert.is(await errnoOf(p.reportNew(desc(Buffer.alloc(n)))), 'EINVAL')
  assert.is(called, 0)
})

test('GetQuote failures: QGS down / error → EIO; stalled → ETIMEDOUT, then EBUSY once every buffer is stuck with the host', async () => {
  const s = await store('tsm-tdx-fail')
  const nonce = Buffer.alloc(64, 1)
  assert.is(await errnoOf(providerOn(s, {qgsMode: 'down'}).reportNew(desc(nonce))), 'EIO')
  assert.is(await errnoOf(providerOn(s, {qgsMode: 'error'}).reportNew(desc(nonce))), 'EIO')
  const seen: string[] = []
  for (let i = 0; i < 9; i++) seen.push(await errnoOf(providerOn(s, {qgsMode: 'stall'}).reportNew(desc(nonce))))
  // The default 64 KiB pool has 8 slots of 8 KiB: 8 timeouts abandon them all, the 9th finds none.
  assert.equal(seen, [...Array(8).fill('ETIMEDOUT'), 'EBUSY'])
})

test('a quote longer than TDX_QUOTE_MAX_LEN is EFBIG; unexpected errors are EIO; the log callback sees each outcome', async () => {
  const outcomes: string[] = []
  const onRequest = (r: {errno?: string; quote?: Buffer}) => outcomes.push(r.errno ?? `ok ${r.quote!.length}`)
  const big = tdxGuestProvider(async () => Buffer.alloc(TDX_QUOTE_MAX_LEN + 1), {onRequest})
  assert.is(await errnoOf(big.reportNew(desc(Buffer.alloc(64)))), 'EFBIG')
  const exact = tdxGuestProvider(async () => Buffer.alloc(TDX_QUOTE_MAX_LEN), {onRequest})
  assert.is((await exact.reportNew(desc(Buffer.alloc(64)))).outblob.length, TDX_QUOTE_MAX_LEN)
  const boom = tdxGuestProvider(async () => {
    throw new TypeError('boom')
  }, {onRequest})
  assert.is(await errnoOf(boom.reportNew(desc(Buffer.alloc(64)))), 'EIO')
  assert.equal(outcomes, ['EFBIG', `ok ${TDX_QUOTE_MAX_LEN}`, 'EIO'])
  assert.is(errnoForQuoteError(new RefusedError('QUOTE_TOO_LARGE', 'x')), 'EFBIG')
  assert.is(errnoForQuoteError(new InputError('STATE_LOCKED', 'x')), 'EBUSY')
  assert.is(errnoForQuoteError(new TsmErrno('ENXIO', 'x')), 'ENXIO')
})

test.run()
