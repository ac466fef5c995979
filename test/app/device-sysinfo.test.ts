/**
 * The device path as a sysinfo consumer (issue 16): whether a platform can do device security is
 * TDX_FEATURES0.TDXCONNECT as read once into sysinfo (tdx-host.c tdx_connect_init), not the profile
 * name; the TSM bounds a device's info (certificate chain + signed measurements) by
 * connect.spdm_max_dev_info_pages pages; and none of it costs a SEAMCALL of its own.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {StateStore} from '../../src/state/store.js'
import {createPlatform, initPlatform} from '../../src/app/platform.js'
import {devicesOn, listDevices, lockDevice, tsmLimits} from '../../src/app/device.js'
import {acceptInterface, deviceEvidence, lockInterface, type DeviceContext} from '../../src/device/service.js'
import {DeviceRuntime} from '../../src/device/device.js'
import {findDevice} from '../../src/device/registry.js'
import {getSysInfo} from '../../src/guest/sysinfo.js'
import {GLOBAL_FIELDS, TDX_FEATURES0_EXT, TDX_FEATURES0_TDXCONNECT} from '../../src/abi/fields.js'
import {Platform} from '../../src/module/platform.js'
import {TdxkitError} from '../../src/errors.js'
import {cli, tempDir} from '../helpers/cli.js'

const SEED = 'device-sysinfo'
const NONCE = Buffer.alloc(32, 0x5a)
const PAGE = 4096
const connectPlatform = () => new Platform(createPlatform({profile: 'tdx-connect', seed: SEED}))
const CONNECT_FEATURES0 = BigInt(connectPlatform().doc.module.tdx_features0)

/** The same module with SPDM_MAX_DEV_INFO_PAGES set to `pages` (before anyone read its sysinfo). */
function withDevInfoPages(p: Platform, pages: number): Platform {
  p.module.metadata.override(GLOBAL_FIELDS.SPDM_MAX_DEV_INFO_PAGES.id, BigInt(pages))
  return p
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<TdxkitError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (error) {
    if (error instanceof TdxkitError) return error
    throw error
  }
  throw new Error('the device step was allowed')
}

const run = <T>(p: Platform, fn: (ctx: DeviceContext) => T) => devicesOn(p, fn).then((r) => r.result)

test('the limits come from the module metadata through sysinfo (a changed field changes them), not from the profile', () => {
  assert.equal(tsmLimits(connectPlatform()), {spdm_max_dev_info_pages: 4})
  assert.equal(tsmLimits(withDevInfoPages(connectPlatform(), 9)), {spdm_max_dev_info_pages: 9})
})

test('the device path issues no SEAMCALL of its own: one sysinfo read, then lock, evidence and accept add none', async () => {
  const p = connectPlatform()
  assert.is(p.module.counts.seamcall, 0)
  await run(p, (ctx) => ctx.section.devices.length) // the first device step reads sysinfo (once)
  const afterRead = p.module.counts.seamcall
  // 6+1+5+3+6 scalars + 14×3 CPUID + 1 + 4 CMR + 2 ext + 4 connect (test/guest/sysinfo.test.ts)
  assert.is(afterRead, 74)
  const si = getSysInfo(p.module)
  await run(p, (ctx) => lockInterface(ctx, 'nic0'))
  await run(p, (ctx) => deviceEvidence(ctx, 'nic0', NONCE))
  const accepted = await run(p, (ctx) => acceptInterface(ctx, 'nic0', {at: new Date()}))
  assert.is(accepted.tdi_state, 'RUN')
  await run(p, (ctx) => lockInterface(ctx, 'gpu0'))
  assert.is(p.module.counts.seamcall, afterRead, 'no device step issued a SEAMCALL')
  assert.is(getSysInfo(p.module), si, 'the same frozen sysinfo')
})

test('no TDXCONNECT in sysinfo: device commands refuse with exit 7 and name the feature, even on the tdx-connect profile', async () => {
  const store = new StateStore(tempDir('tdxkit-devsi-noconnect-'))
  await initPlatform(store, {profile: 'tdx-connect', seed: SEED, features0: CONNECT_FEATURES0 & ~TDX_FEATURES0_TDXCONNECT})
  for (const op of [() => listDevices(store), () => lockDevice(store, 'nic0')]) {
    const e = await refusal(op)
    assert.is(e.exit, 7)
    assert.is(e.code, 'TDISP_UNSUPPORTED')
    assert.match(e.message, /TDXCONNECT/)
    assert.match(e.message, /TDX Connect/)
    assert.not.match(e.message, /\n/)
    assert.is(e.detail?.feature, 'TDXCONNECT')
  }
  // With the bit (the profile's default), the same profile works.
  const ok = new StateStore(tempDir('tdxkit-devsi-connect-'))
  await initPlatform(ok, {profile: 'tdx-connect', seed: SEED})
  assert.is((await lockDevice(ok, 'nic0')).result.state, 'CONFIG_LOCKED')
})

test('CLI: a tdx-connect module without TDXCONNECT refuses `device lock` with exit 7; tdx-1.5 names the feature too', () => {
  const s = tempDir('tdxkit-devsi-cli-')
  const hex = (CONNECT_FEATURES0 & ~TDX_FEATURES0_TDXCONNECT).toString(16).padStart(16, '0')
  assert.is(cli(['module', 'init', '--profile', 'tdx-connect', '--seed', SEED, '--features0', hex], {stateDir: s}).code, 0)
  const r = cli(['device', 'lock', 'nic0', '--json'], {stateDir: s})
  assert.is(r.code, 7)
  const err = JSON.parse(r.stdout).error
  assert.is(err.code, 'TDISP_UNSUPPORTED')
  assert.match(err.message, /bit 6 TDXCONNECT clear/)
  const s15 = tempDir('tdxkit-devsi-cli15-')
  assert.is(cli(['module', 'init', '--profile', 'tdx-1.5', '--seed', SEED], {stateDir: s15}).code, 0)
  const h = cli(['device', 'list'], {stateDir: s15})
  assert.is(h.code, 7)
  assert.match(h.stderr, /TDXCONNECT/)
  assert.is(h.stderr.trim().split('\n').length, 1, h.stderr)
})

test('spdm_max_dev_info_pages too small for the device info: the lock (SPDM connect) is refused with exit 7, the TDI stays unlocked', async () => {
  const p = withDevInfoPages(connectPlatform(), 0)
  const e = await refusal(run(p, (ctx) => lockInterface(ctx, 'nic0')))
  assert.is(e.exit, 7)
  assert.is(e.code, 'TDX_DEV_INFO_TOO_LARGE')
  assert.match(e.message, /spdm_max_dev_info_pages = 0/)
  assert.not.match(e.message, /\n/)
  const rec = findDevice((p.doc as any).devices, 'nic0')
  assert.is(rec.tdi.state, 'CONFIG_UNLOCKED', 'refused before LOCK_INTERFACE')
  // What the TSM counted is the device's slot-0 chain (as the device model builds it) plus the measurements.
  const chain = new DeviceRuntime(SEED, rec).slotChain().length
  assert.is(e.detail?.cert_chain_bytes, chain)
  assert.is(e.detail?.dev_info_bytes, chain + (e.detail?.measurements_bytes as number))
  assert.is(e.detail?.max_bytes, 0)
})

test('the bound is pages × 4 KiB: one page holds nic0 (about 2.5 KiB), so the lock goes through and says how much it used', async () => {
  const p = withDevInfoPages(connectPlatform(), 1)
  const out = await run(p, (ctx) => lockInterface(ctx, 'nic0'))
  assert.is(out.state, 'CONFIG_LOCKED')
  assert.is(out.dev_info_max_bytes, PAGE)
  assert.ok(out.dev_info_bytes > 2 * 1024 && out.dev_info_bytes <= PAGE, String(out.dev_info_bytes))
})

test('a re-collection (evidence, accept) on a module with a smaller buffer is refused the same way', async () => {
  const p = connectPlatform()
  await run(p, (ctx) => lockInterface(ctx, 'nic0'))
  const small = withDevInfoPages(new Platform(p.doc), 0) // the same platform document, a module with a smaller limit
  const steps: Array<(ctx: DeviceContext) => unknown> = [(ctx) => deviceEvidence(ctx, 'nic0', NONCE), (ctx) => acceptInterface(ctx, 'nic0', {at: new Date()})]
  for (const step of steps) {
    const e = await refusal(run(small, step))
    assert.is(e.exit, 7)
    assert.is(e.code, 'TDX_DEV_INFO_TOO_LARGE')
    assert.match(e.message, /re-collection/)
  }
  assert.is(findDevice((p.doc as any).devices, 'nic0').accepted, false)
})


test('state written before tdx-connect advertised TDX Connect (its old default TDX_FEATURES0) is migrated on load; other values are kept', async () => {
  const oldDefault = CONNECT_FEATURES0 & ~TDX_FEATURES0_TDXCONNECT & ~TDX_FEATURES0_EXT
  const store = new StateStore(tempDir('tdxkit-devsi-migrate-'))
  const old = createPlatform({profile: 'tdx-connect', seed: SEED})
  old.module.tdx_features0 = '0x' + oldDefault.toString(16).padStart(16, '0') // as tdxkit wrote it before
  await store.withLock(() => store.save(old))
  assert.is((await lockDevice(store, 'nic0')).result.state, 'CONFIG_LOCKED')
  const saved = store.load() as unknown as {module: {tdx_features0: string}}
  assert.is(BigInt(saved.module.tdx_features0), CONNECT_FEATURES0, 'the migrated value is saved')
  for (const chosen of [oldDefault, oldDefault | (1n << 1n)]) { // `module init --features0`: kept, even when it equals the old default
    const kept = new StateStore(tempDir('tdxkit-devsi-kept-'))
    await initPlatform(kept, {profile: 'tdx-connect', seed: SEED, features0: chosen})
    assert.is((await refusal(() => lockDevice(kept, 'nic0'))).exit, 7)
    assert.is(BigInt((kept.load() as unknown as {module: {tdx_features0: string}}).module.tdx_features0), chosen)
  }
})

test.run()
