/**
 * `device dma` as a use case over a state directory: an unaccepted device's DMA into private memory
 * is refused (exit 7, DMA_BLOCKED) and leaves the TD's memory alone, shared memory is always
 * reachable, and only lock → verify → accept gives T=1 access to private memory; STOP, ERROR and a
 * reset take it away again.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {StateStore} from '../../src/state/store.js'
import {initPlatform} from '../../src/app/platform.js'
import {acceptDevice, addDeviceOp, lockDevice, resetDeviceOp, unlockDevice} from '../../src/app/device.js'
import {deviceDma, type DmaOptions} from '../../src/app/device-dma.js'
import {TdxkitError} from '../../src/errors.js'
import {tempDir} from '../helpers/cli.js'

const GPA = 0x1000_0000n
const setup = async () => {
  const store = new StateStore(tempDir('tdxkit-dma-'))
  await initPlatform(store, {profile: 'tdx-connect', seed: 'dma-seed'})
  return store
}
const dma = (store: StateStore, o: Partial<DmaOptions> = {}) => deviceDma(store, {device: 'nic0', gpa: GPA, bytes: 64, direction: 'write', ...o})
async function refusal(p: Promise<unknown>): Promise<TdxkitError> {
  try {
    await p
  } catch (error) {
    if (error instanceof TdxkitError) return error
    throw error
  }
  throw new Error('the DMA was allowed')
}

test('unaccepted device: DMA into private memory → exit 7 DMA_BLOCKED with T=0; shared memory works', async () => {
  const store = await setup()
  for (const direction of ['write', 'read'] as const) {
    const e = await refusal(dma(store, {direction}))
    assert.is(e.exit, 7)
    assert.is(e.code, 'DMA_BLOCKED')
    assert.is(e.detail?.tlp, 'T=0')
    assert.is(e.detail?.reason, 'UNTRUSTED_TO_PRIVATE')
    assert.match(e.message, /nic0 is CONFIG_UNLOCKED, not accepted/)
    assert.match(e.message, /tdxkit device lock nic0/)
    if (direction === 'write') assert.is(e.detail?.td_memory_unchanged, true)
    assert.not.match(e.message, /\n/)
  }
  const shared = (await dma(store, {shared: true, bytes: 5000})).result
  assert.is(shared.alias, 'shared')
  assert.is(shared.tlp, 'T=0')
  assert.is(shared.pages, 2)
  assert.ok(shared.verified)
  // a GPA with the shared bit (GPAW 52 → bit 51) is the shared alias too
  assert.is((await dma(store, {gpa: GPA | (1n << 51n), direction: 'read'})).result.alias, 'shared')
})

test('lock alone is not enough; lock → verify → accept gives T=1 into private memory; STOP takes it away', async () => {
  const store = await setup()
  await lockDevice(store, 'nic0')
  const locked = await refusal(dma(store))
  assert.match(locked.message, /CONFIG_LOCKED, not accepted.*tdxkit device accept nic0/)
  await acceptDevice(store, 'nic0')
  for (const direction of ['write', 'read'] as const) {
    const ok = (await dma(store, {direction, bytes: 8192})).result
    assert.is(ok.tlp, 'T=1')
    assert.is(ok.alias, 'private')
    assert.is(ok.trusted, true)
    assert.ok(ok.verified, direction)
  }
  await unlockDevice(store, 'nic0')
  assert.is((await refusal(dma(store))).detail?.tlp, 'T=0')
})

test('ERROR (host clears Bus Master Enable after lock) and reset leave the device untrusted', async () => {
  const store = await setup()
  await addDeviceOp(store, {model: 'gpu', id: 'bmegpu', faults: ['bme-cleared']})
  await lockDevice(store, 'bmegpu')
  const e = await refusal(dma(store, {device: 'bmegpu'}))
  assert.match(e.message, /bmegpu is ERROR/)
  await resetDeviceOp(store, 'bmegpu')
  assert.match((await refusal(dma(store, {device: 'bmegpu'}))).message, /CONFIG_UNLOCKED/)
})

test('bad input: size, range, GPA width → exit 2 before any DMA', async () => {
  const store = await setup()
  for (const o of [{bytes: 0}, {bytes: (1 << 20) + 1}, {gpa: 0xffff_ffffn}, {gpa: 1n << 60n}]) {
    const e = await refusal(dma(store, o))
    assert.is(e.exit, 2, JSON.stringify(String(o.gpa ?? o.bytes)))
  }
})

test('demo: the DMA steps show the refusal before accept and T=1 after it', async () => {
  const {DEVICE_STEPS} = await import('../../src/demo/device-steps.js')
  const ctx = {store: new StateStore(tempDir('tdxkit-dma-demo-')), workDir: tempDir('tdxkit-dma-demo-files-'), bag: new Map()}
  await initPlatform(ctx.store, {profile: 'tdx-connect', seed: 'dma-demo'})
  const data: Record<string, Record<string, unknown> | undefined> = {}
  for (const step of DEVICE_STEPS) {
    data[step.id] = (await step.run(ctx)).data
    if (step.id === 'device-dma-trusted') break
  }
  assert.equal(data['device-dma-untrusted'], {shared_ok: true, private_exit: 7, code: 'DMA_BLOCKED'})
  assert.equal(data['device-dma-trusted'], {tlp: 'T=1', alias: 'private', verified: true})
})

test.run()
