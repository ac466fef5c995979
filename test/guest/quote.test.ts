/**
 * The guest driver path (src/guest/quote.ts) on a wired TD: the guest waits the way a TD does —
 * sleeping between reads of the status word while the host works, or halting until the notify
 * interrupt arrives — and reports a failed GetQuote by the status alone (the configfs-tsm client is
 * tested in test/app/tsm-client.test.ts).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {GetQuoteStatus} from '../../src/abi/ghci.js'
import {parseQuote} from '../../src/abi/quote.js'
import type {RefusedError} from '../../src/errors.js'
import {DmaPoolAllocator} from '../../src/guest/alloc/dma-pool.js'
import {DEFAULT_NOTIFY_VECTOR, requestQuote} from '../../src/guest/quote.js'
import {createPlatformDoc, Platform} from '../../src/module/platform.js'
import {freshTd} from './helpers.js'

const rd = (b: number) => ({reportData: Buffer.alloc(64, b)})

function refused(fn: () => unknown): RefusedError {
  try {
    fn()
  } catch (error) {
    return error as RefusedError
  }
  throw new Error('expected a failure')
}

test('a slower host: the guest polls until the status word leaves IN_FLIGHT', async () => {
  const {requestQuote} = await import('../../src/guest/quote.js')
  const {openSession} = await import('../../src/app/session.js')
  const {DmaPoolAllocator} = await import('../../src/guest/alloc/dma-pool.js')
  const p = new Platform(createPlatformDoc({profile: 'tdx-1.0', seed: 'slow'}))
  const td = openSession(p, {serviceRounds: 3})
  const r = requestQuote(td, new DmaPoolAllocator(td, {poolBytes: 8192}), rd(5))
  assert.is(r.polls, 3)
  assert.is(r.counters.polls, 3)
  assert.is(parseQuote(r.quote).version, 4) // tdx-1.0 default
})

test('polling: host work runs only while the guest sleeps, one tick per status check', () => {
  const {td} = freshTd({serviceRounds: 4})
  const r = requestQuote(td, new DmaPoolAllocator(td, {poolBytes: 8192}), rd(3))
  assert.is(r.polls, 4)
  assert.is(td.machine.scheduler.now, 4, 'four sleeps, four ticks')
  assert.is(td.machine.scheduler.pending, 0)
})

test('QGS down: the guest fails with the GetQuote status from its buffer (SERVICE_UNAVAILABLE), nothing more', () => {
  const {td} = freshTd({qgsMode: 'down'})
  const e = refused(() => requestQuote(td, new DmaPoolAllocator(td, {poolBytes: 8192}), rd(1)))
  assert.is(e.code, 'QGS_UNAVAILABLE')
  assert.is(e.exit, 7)
  assert.is(e.status, GetQuoteStatus.SERVICE_UNAVAILABLE)
  assert.equal(e.detail, {status: '0x8000000000000001', status_name: 'GET_QUOTE_SERVICE_UNAVAILABLE'})
  const err = refused(() => {
    const t = freshTd({qgsMode: 'error'}).td
    return requestQuote(t, new DmaPoolAllocator(t, {poolBytes: 8192}), rd(1))
  })
  assert.is(err.code, 'GETQUOTE_ERROR')
  assert.is(err.message, 'GetQuote failed: GET_QUOTE_ERROR', 'the QGS reason is host-side knowledge')
  assert.is((err.detail as Record<string, unknown>).host_reason, undefined)
})

test('notify: the guest halts until the interrupt arrives; a status word the host completed earlier goes unread', () => {
  // the host delivers the interrupt with the completion: done after the first halt, no status polls
  const {td} = freshTd()
  const r = requestQuote(td, new DmaPoolAllocator(td, {poolBytes: 8192}), rd(2), {completion: 'notify'})
  assert.is(r.counters.notifies, 1)
  assert.is(r.counters.polls, 0)
  assert.is(td.machine.scheduler.now, 1)
  assert.is(td.ghci.notifyVector, DEFAULT_NOTIFY_VECTOR)
  // the QGS completes at tick 1 but the interrupt comes at tick 3: the guest wakes at tick 3
  const late = freshTd().td
  late.ghci.setupEventNotifyInterrupt(DEFAULT_NOTIFY_VECTOR)
  late.vmm.notifyVector = undefined
  late.machine.scheduler.schedule(() => late.machine.interrupts.inject(DEFAULT_NOTIFY_VECTOR), 3)
  const l = requestQuote(late, new DmaPoolAllocator(late, {poolBytes: 8192}), rd(2), {completion: 'notify'})
  assert.is(late.machine.scheduler.now, 3)
  assert.is(l.counters.notifies, 1)
  assert.is(parseQuote(l.quote).td!.report_data.toString('hex'), '02'.repeat(64))
  // no interrupt at all: the guest halts every one of its waits before it looks at the buffer
  const lost = freshTd().td
  lost.ghci.setupEventNotifyInterrupt(DEFAULT_NOTIFY_VECTOR)
  lost.vmm.notifyVector = undefined
  const n = requestQuote(lost, new DmaPoolAllocator(lost, {poolBytes: 8192}), rd(2), {completion: 'notify', pollLimit: 5})
  assert.is(lost.machine.scheduler.now, 5)
  assert.is(n.counters.notifies, 0)
  assert.is(n.counters.polls, 0)
  // and with the QGS stalled as well, the wait ends in a timeout naming the interrupt waits
  const stalled = freshTd({qgsMode: 'stall'}).td
  const e = refused(() => requestQuote(stalled, new DmaPoolAllocator(stalled, {poolBytes: 8192}), rd(2), {completion: 'notify', pollLimit: 5}))
  assert.is(e.code, 'GETQUOTE_TIMEOUT')
  assert.match(e.message, /after 5 interrupt waits/)
})

test.run()
