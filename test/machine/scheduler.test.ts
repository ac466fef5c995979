/**
 * The machine's time and interrupt model: host work queued with a delay runs only when time
 * advances (a vCPU sleeping or halting), in due order; interrupts the host injects are pending on
 * their vCPU until the guest takes them, oldest first; a torn-down TD refuses guest work.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {InterruptController} from '../../src/machine/interrupts.js'
import {Machine} from '../../src/machine/machine.js'
import {GuestMemory} from '../../src/machine/memory.js'
import {Scheduler} from '../../src/machine/scheduler.js'
import type {TdxkitError} from '../../src/errors.js'

test('queued work runs only when time advances, at its due tick, in due then queue order', () => {
  const s = new Scheduler()
  const ran: string[] = []
  s.schedule(() => ran.push('b@2'), 2)
  s.schedule(() => ran.push('a@1'), 1)
  s.schedule(() => ran.push('c@2'), 2)
  assert.equal(ran, [], 'nothing runs behind the guest')
  assert.is(s.pending, 3)
  assert.is(s.advance(1), 1)
  assert.equal(ran, ['a@1'])
  assert.is(s.now, 1)
  assert.is(s.advance(1), 2)
  assert.equal(ran, ['a@1', 'b@2', 'c@2'])
  assert.is(s.pending, 0)
  assert.is(s.advance(5), 0)
  assert.is(s.now, 7)
})

test('work queued by running work for the same tick runs in that tick; later ticks wait', () => {
  const s = new Scheduler()
  const ran: number[] = []
  s.schedule(() => {
    ran.push(s.now)
    s.schedule(() => ran.push(s.now), 0)
    s.schedule(() => ran.push(s.now * 10), 3)
  }, 1)
  assert.is(s.advance(1), 2)
  assert.equal(ran, [1, 1])
  assert.is(s.advance(2), 0)
  assert.is(s.advance(1), 1)
  assert.equal(ran, [1, 1, 40])
})

test('a bad delay or tick count is refused', () => {
  const s = new Scheduler()
  assert.throws(() => s.schedule(() => undefined, -1), RangeError)
  assert.throws(() => s.schedule(() => undefined, 1.5), RangeError)
  assert.throws(() => s.advance(-1), RangeError)
})

test('interrupts: injected into one vCPU, pending there until taken, oldest first', () => {
  const irq = new InterruptController(2)
  irq.inject(0xf3)
  irq.inject(0x40, 1)
  irq.inject(0xf4)
  assert.is(irq.pending(0), 2)
  assert.is(irq.pending(1), 1)
  assert.is(irq.take(0), 0xf3)
  assert.is(irq.take(0), 0xf4)
  assert.is(irq.take(0), undefined)
  assert.is(irq.take(1), 0x40)
  assert.throws(() => irq.inject(0x20, 2), RangeError)
})

test('a vCPU halting lets the host run, then takes the interrupt the host delivered', () => {
  const m = new Machine({memory: new GuestMemory({sizeBytes: 64 * 1024 * 1024}), vcpus: 4})
  const cpu = m.vcpu(0)
  m.scheduler.schedule(() => m.interrupts.inject(0xf3), 2)
  assert.is(cpu.takeInterrupt(), undefined, 'not before the host ran')
  assert.is(cpu.halt(), undefined, 'one tick: the host is not done yet')
  assert.is(cpu.halt(), 0xf3)
  assert.is(m.scheduler.now, 2)
  assert.is(m.vcpu(1).takeInterrupt(), undefined, 'delivered to vCPU 0 only')
  assert.is(cpu.sleep(3), 0)
  assert.is(m.scheduler.now, 5)
})

test('a torn-down TD refuses guest work with the reported code', () => {
  const m = new Machine({memory: new GuestMemory({sizeBytes: 64 * 1024 * 1024})})
  m.assertRunning()
  m.powerOff({error_code: 0x10000n, message: 'panic'})
  assert.equal(m.shutdown, {error_code: 0x10000n, message: 'panic'})
  try {
    m.assertRunning()
    assert.unreachable('a shut-down TD ran')
  } catch (error) {
    const e = error as TdxkitError
    assert.is(e.code, 'TD_SHUTDOWN')
    assert.is(e.exit, 7)
    assert.match(e.message, /code 0x10000/)
  }
})

test.run()
