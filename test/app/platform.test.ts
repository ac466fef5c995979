/**
 * The app's platform use cases on a real state directory: creation (a TDX Connect platform gets
 * its default devices here, never in the module), init / load / mutate / status / reset with the
 * "created default platform" notice, and the small use cases commands call (TDREPORT and its MAC,
 * RTMR extend and show, event-log export, sysinfo, GHCI info and call).
 */
import {createHash} from 'node:crypto'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {TdVmCall} from '../../src/abi/ghci.js'
import {parseTdReport} from '../../src/abi/tdreport.js'
import {exportEventLog} from '../../src/app/eventlog.js'
import {ghciCall, ghciInfo} from '../../src/app/ghci.js'
import {createPlatform, initPlatform, loadPlatform, mutatePlatform, openStore, platformStatus, resetPlatform} from '../../src/app/platform.js'
import {checkTdReportMac, makeTdReport} from '../../src/app/report.js'
import {extendRtmrEvent, readRtmrs} from '../../src/app/rtmr.js'
import {platformSysInfo} from '../../src/app/sysinfo.js'
import {parseEventLog, replayRtmrs} from '../../src/eventlog/index.js'
import {createPlatformDoc} from '../../src/module/platform.js'
import {failure} from '../helpers/errors.js'

const freshStore = () => openStore(mkdtempSync(join(tmpdir(), 'tdxkit-app-')))

test('a TDX Connect platform comes with nic0 and gpu0 from the app; the module document alone has none', () => {
  const connect = createPlatform({profile: 'tdx-connect', seed: 's'})
  const devices = (connect.devices as {devices: Array<{id: string; tdi: {state: string}}>}).devices
  assert.equal(devices.map((d) => [d.id, d.tdi.state]), [['nic0', 'CONFIG_UNLOCKED'], ['gpu0', 'CONFIG_UNLOCKED']])
  assert.equal(Object.keys(connect), ['schema_version', 'module', 'td', 'events', 'devices'])
  assert.is(createPlatformDoc({profile: 'tdx-connect', seed: 's'}).devices, undefined)
  assert.is(createPlatform({profile: 'tdx-1.5', seed: 's'}).devices, undefined)
})

test('init refuses to replace a platform unless forced; status and reset report the directory', async () => {
  const store = freshStore()
  assert.equal(platformStatus(store), {exists: false, state_dir: store.dir})
  const doc = await initPlatform(store, {profile: 'tdx-1.0', seed: 'app'})
  assert.is(doc.module.seed, 'app')
  const again = await failure(initPlatform(store, {seed: 'other'}))
  assert.is(again.code, 'PLATFORM_EXISTS')
  assert.is(again.exit, 2)
  const status = platformStatus(store)
  assert.ok(status.exists)
  if (status.exists) {
    assert.is(status.doc.module.profile, 'tdx-1.0')
    assert.equal(status.sections, ['module', 'td', 'events'])
  }
  await initPlatform(store, {profile: 'tdx-connect', seed: 'forced', force: true})
  const forced = platformStatus(store)
  assert.equal(forced.exists && forced.sections, ['module', 'td', 'events', 'devices'])
  assert.equal(await resetPlatform(store), {removed: true, state_dir: store.dir})
  assert.equal(await resetPlatform(store), {removed: false, state_dir: store.dir})
})

test('loading an empty directory creates the default platform once, with one notice; a throwing mutation saves nothing', async () => {
  const store = freshStore()
  const notes: string[] = []
  const p = await loadPlatform(store, (m) => notes.push(m))
  assert.is(notes.length, 1)
  assert.is(notes[0], `created default platform (profile tdx-1.5, random seed) in ${store.dir}`)
  assert.not.ok(notes[0].includes(p.doc.module.seed), 'the seed (every key derives from it) is not printed')
  await loadPlatform(store, (m) => notes.push(m))
  assert.is(notes.length, 1)
  await failure(
    mutatePlatform(store, (m) => notes.push(m), (q) => {
      q.doc.td.rtmr[3] = 'ff'.repeat(48)
      throw new Error('boom')
    }),
  )
  assert.is((await loadPlatform(store, () => undefined)).doc.td.rtmr[3], '00'.repeat(48))
})

test('RTMR extend is saved and recorded: RTMR2 = SHA-384(RTMR2 ‖ digest), the event log replays to it', async () => {
  const store = freshStore()
  await initPlatform(store, {seed: 'rtmr'})
  const digest = createHash('sha384').update('app config').digest()
  const {rec, rtmr} = await extendRtmrEvent(store, () => undefined, 2, digest, {description: 'app config'})
  const expected = createHash('sha384').update(Buffer.alloc(48)).update(digest).digest('hex')
  assert.is(rtmr, expected)
  assert.is(rec.seq, 0)
  const shown = await readRtmrs(store, () => undefined)
  assert.is(shown.rtmr[2], expected)
  assert.equal(shown.events.map((e) => e.description), ['app config'])
  const {events, log} = await exportEventLog(store, () => undefined)
  assert.is(events, 1)
  assert.is(replayRtmrs(parseEventLog(log))[2].toString('hex'), expected)
  const bad = await failure(extendRtmrEvent(store, () => undefined, 4, digest))
  assert.is(bad.exit, 7)
  assert.is((await readRtmrs(store, () => undefined)).events.length, 1, 'a refused extend records nothing')
})

test('TDREPORT: made on the platform, its MAC checks there, not on another platform, unchecked without one', async () => {
  const store = freshStore()
  await initPlatform(store, {seed: 'report'})
  const {profile, report} = await makeTdReport(store, () => undefined, Buffer.alloc(64, 0x77))
  assert.is(profile, 'tdx-1.5')
  assert.is(parseTdReport(report).raw.length, 1024)
  assert.is(checkTdReportMac(store, report), true)
  const other = freshStore()
  await initPlatform(other, {seed: 'another'})
  assert.is(checkTdReportMac(other, report), false)
  assert.is(checkTdReportMac(freshStore(), report), null)
})

test('sysinfo and GHCI through the app: metadata read with SEAMCALLs, base GHCI, a fatal error report', async () => {
  const store = freshStore()
  await initPlatform(store, {profile: 'tdx-1.0', seed: 'ghci'})
  const si = await platformSysInfo(store, () => undefined, 'rdall')
  assert.is(si.profile, 'tdx-1.0')
  assert.ok(si.read.seamcalls >= 1)
  const info = await ghciInfo(store, () => undefined)
  assert.is(info.leaf0.base_ghci, true)
  assert.is(info.leaf1.setup_event_notify_interrupt, true)
  assert.is(info.gpaw, 48)
  assert.is(info.shared_bit, '0x' + (1n << 47n).toString(16), 'shared bit = GPAW - 1')
  const fatal = await ghciCall(store, () => undefined, TdVmCall.REPORT_FATAL_ERROR, {r12: 0x10000n})
  assert.equal(fatal.fatal, {error_code: '0x10000', message: ''})
  const refused = await failure(ghciCall(store, () => undefined, TdVmCall.MAP_GPA, {r12: 0x1000800n, r13: 0x1000n}))
  assert.is(refused.code, 'TDVMCALL_FAILED')
  assert.is((refused.detail as {r10_name: string}).r10_name, 'TDVMCALL_STATUS_ALIGN_ERROR')
})

test.run()
