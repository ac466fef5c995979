/**
 * Interoperability with DMTF's reference implementation (shared/oracles/spdm-emu): libspdm's
 * requester runs its whole default flow against a tdxkit CXL memory device (secure session, IDE_KM,
 * TDISP lock/report/start/stop, CXL IDE_KM, CXL TSP configure/lock/TE state) and stops at CXL on a
 * PCIe NIC, tdxkit's requester attests libspdm's responder and a tdxkit device, `device verify`
 * accepts that evidence only with the right trust anchor, and the DMTF validator passes both devices.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {join} from 'node:path'
import {readFileSync, writeFileSync} from 'node:fs'
import {StateStore} from '../../src/state/store.js'
import {initPlatform} from '../../src/app/platform.js'
import {addDeviceOp, listDevices, exportReference, resetDeviceOp} from '../../src/app/device.js'
import {serveDevice, type ServeEvent} from '../../src/app/spdm-device.js'
import {decodeEvidence} from '../../src/device/evidence.js'
import {blockIsRaw, decodeMeasurementRecord} from '../../src/abi/spdm.js'
import {encodeCorim} from '../../src/device/corim.js'
import {cli, cliAsync, tempDir} from '../helpers/cli.js'
import {ORACLES_DIR, emuCopy, freePort, oracleTest, runEmu, startEmu, waitForListen} from '../helpers/oracle.js'
import {readVector, vectorsPresent} from '../helpers/vectors.js'

const SEED = 'tdxkit-spdm-oracle'
/** libspdm's requester asks for TDISP interface FUNCTION_ID 0xBEEF = PCI address be:1d.7. */
const LIBSPDM_TDI_BDF = 'be:1d.7'
/**
 * Requester flags for a PCIe device's run that must exit 0. --mut_auth NO / --basic_mut_auth NO:
 * tdxkit does not implement mutual authentication (no requester certificate, no encapsulated
 * requests). --exe_session drops APP: the APP flow ends with CXL IDE_KM and CXL TSP (vendor 0x1E98),
 * which a PCIe device answers with UnsupportedRequest (the CXL memory device runs the whole flow).
 */
const NO_APP_FLAGS = ['--mut_auth', 'NO', '--basic_mut_auth', 'NO', '--exe_session', 'KEY_EX,HEARTBEAT,KEY_UPDATE,MEAS,DIGEST,CERT']

async function connectPlatform(): Promise<StateStore> {
  const store = new StateStore(tempDir('tdxkit-spdm-oracle-'))
  await initPlatform(store, {profile: 'tdx-connect', seed: SEED})
  await addDeviceOp(store, {model: 'nic', id: 'tdi0', bdf: LIBSPDM_TDI_BDF})
  return store
}

/** A tdx-connect platform with libspdm's TDI (be:1d.7) as a CXL Type-3 memory device. */
async function cxlPlatform(): Promise<StateStore> {
  const store = new StateStore(tempDir('tdxkit-spdm-oracle-cxl-'))
  await initPlatform(store, {profile: 'tdx-connect', seed: SEED})
  await addDeviceOp(store, {model: 'cxl-mem', id: 'mem0', bdf: LIBSPDM_TDI_BDF})
  return store
}

async function withServer<T>(store: StateStore, fn: (port: number, events: ServeEvent[]) => Promise<T>, device = 'tdi0'): Promise<T> {
  const events: ServeEvent[] = []
  const {server} = await serveDevice(store, {device, port: 0, on_event: (e) => events.push(e)})
  try {
    return await fn(server.port, events)
  } finally {
    await server.close()
  }
}

const tdispTransitions = (events: ServeEvent[]) => events.filter((e) => e.kind === 'tdisp').map((e) => e.data.to)
const tspTransitions = (events: ServeEvent[]) => events.filter((e) => e.kind === 'tsp').map((e) => e.data.to)
/** The protocol messages the device answered inside VENDOR_DEFINED_REQUESTs ("CXL TSP LOCK_TARGET_CONFIGURATION", ...). */
const vendorMessages = (events: ServeEvent[]) => events.filter((e) => e.kind === 'spdm' && e.data.kind === 'request' && e.data.request === 'VENDOR_DEFINED_REQUEST').map((e) => String(e.data.detail))
/** libspdm's only flags for the default flow: tdxkit has no mutual authentication. */
const DEFAULT_FLOW_FLAGS = ['--mut_auth', 'NO', '--basic_mut_auth', 'NO']
const sessionEvents = (events: ServeEvent[]) => events.filter((e) => e.kind === 'spdm' && e.data.kind === 'session').map((e) => `${e.data.request}${e.data.detail ? ` ${e.data.detail}` : ''}`)

oracleTest(test, 'libspdm requester (default flow, no mutual auth) against a PCIe NIC: IDE_KM and TDISP run, then CXL is refused with UnsupportedRequest', async () => {
  const store = await connectPlatform()
  const emu = emuCopy()
  await withServer(store, async (port, events) => {
    const run = await runEmu(emu, 'spdm_requester_emu', ['--trans', 'PCI_DOE', '--port', String(port), '--mut_auth', 'NO', '--basic_mut_auth', 'NO'])
    // IDE_KM and the whole TDISP sequence ran in the session, on the device's own TDI state machine
    assert.equal(tdispTransitions(events), ['CONFIG_LOCKED', 'RUN', 'CONFIG_UNLOCKED'])
    const ide = events.filter((e) => e.kind === 'spdm' && e.data.request === 'VENDOR_DEFINED_REQUEST' && e.data.kind === 'request')
    assert.ok(ide.length >= 7 + 11, `IDE_KM (7) and TDISP (11) requests answered, got ${ide.length}`)
    // the run then stops on CXL IDE_KM, which a PCIe device refuses: only CXL models advertise CXL
    const refused = events.filter((e) => e.kind === 'spdm' && e.data.kind === 'error' && e.data.request === 'VENDOR_DEFINED_REQUEST')
    assert.is(refused.length, 1)
    assert.is(refused[0].data.error, 'UnsupportedRequest')
    assert.match(run.output, /do_app_session_via_spdm/)
  })
  const dev = (await listDevices(store)).result.find((d) => d.id === 'tdi0')!
  assert.is(dev.tdi_state, 'CONFIG_UNLOCKED')
})

oracleTest(test, 'libspdm requester default flow exits 0 against tdxkit device serve mem0 (CXL Type-3): IDE_KM, TDISP, CXL IDE_KM, CXL TSP', async () => {
  const store = await cxlPlatform()
  const emu = emuCopy()
  await withServer(
    store,
    async (port, events) => {
      const run = await runEmu(emu, 'spdm_requester_emu', ['--trans', 'PCI_DOE', '--port', String(port), ...DEFAULT_FLOW_FLAGS])
      assert.is(run.code, 0, run.output.slice(-2000))
      assert.not.match(run.output, /ERROR/)
      // the TDI went through the whole TDISP sequence on the device's own state machine, the TSP target was configured and locked
      assert.equal(tdispTransitions(events), ['CONFIG_LOCKED', 'RUN', 'CONFIG_UNLOCKED'])
      assert.equal(tspTransitions(events), ['CONFIG_LOCKED'])
      const vdm = vendorMessages(events)
      for (const m of ['IDE_KM QUERY', 'IDE_KM KEY_PROG', 'IDE_KM K_SET_GO', 'IDE_KM K_SET_STOP', 'TDISP START_INTERFACE_REQUEST', 'TDISP STOP_INTERFACE_REQUEST', 'CXL IDE_KM QUERY', 'CXL IDE_KM GET_KEY', 'CXL IDE_KM KEY_PROG', 'CXL IDE_KM K_SET_GO', 'CXL IDE_KM K_SET_STOP', 'CXL TSP GET_TARGET_TSP_VERSION', 'CXL TSP GET_TARGET_CAPABILITIES', 'CXL TSP GET_TARGET_CONFIGURATION_REPORT']) {
        assert.ok(vdm.includes(m), `${m} answered`)
      }
      const order = ['CXL TSP SET_TARGET_CONFIGURATION', 'CXL TSP LOCK_TARGET_CONFIGURATION', 'CXL TSP SET_TARGET_TE_STATE'].map((m) => vdm.indexOf(m))
      assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1])), `configure → lock → TE state in order: ${order}`)
      // the only refusals are libspdm's probes of measurement indices the device does not have
      const errors = events.filter((e) => e.kind === 'spdm' && e.data.kind === 'error').map((e) => `${e.data.request} ${e.data.error}`)
      assert.equal([...new Set(errors)], ['GET_MEASUREMENTS InvalidRequest'])
      // the default flow's PSK session is skipped by libspdm itself: the device does not advertise PSK_CAP
      assert.not.ok(events.some((e) => e.kind === 'spdm' && /^PSK_/.test(String(e.data.request))), 'no PSK_EXCHANGE was sent')
      const s = sessionEvents(events)
      for (const want of ['KEY_EXCHANGE handshaking', 'FINISH established', 'HEARTBEAT', 'END_SESSION ended']) assert.ok(s.includes(want), `${want} in ${s.join(', ')}`)
    },
    'mem0',
  )
  // TDI and TSP state are in the state directory: TDI back to CONFIG_UNLOCKED, TSP locked with libspdm's configuration, TE range set then cleared
  const dev = (await listDevices(store)).result.find((d) => d.id === 'mem0')!
  assert.is(dev.tdi_state, 'CONFIG_UNLOCKED')
  assert.is(dev.cxl?.tsp_state, 'CONFIG_LOCKED')
  assert.is(dev.cxl?.configuration?.memory_encryption_algorithm, 2, 'AES-XTS-256')
  assert.equal(dev.cxl?.te_ranges, [])
  // TSP has no unlock: a second run finds the target locked and SET_TARGET_CONFIGURATION refused; a reset clears the lock
  await withServer(
    store,
    async (port, events) => {
      const again = await runEmu(emu, 'spdm_requester_emu', ['--trans', 'PCI_DOE', '--port', String(port), ...DEFAULT_FLOW_FLAGS])
      assert.is.not(again.code, 0)
      assert.ok(events.some((e) => e.kind === 'spdm' && e.data.kind === 'request' && e.data.detail === 'CXL TSP SET_TARGET_CONFIGURATION'), 'answered (with a TSP ERROR)')
      assert.not.ok(vendorMessages(events).includes('CXL TSP LOCK_TARGET_CONFIGURATION'))
    },
    'mem0',
  )
  await resetDeviceOp(store, 'mem0')
  await withServer(
    store,
    async (port) => {
      const third = await runEmu(emu, 'spdm_requester_emu', ['--trans', 'PCI_DOE', '--port', String(port), ...DEFAULT_FLOW_FLAGS])
      assert.is(third.code, 0, third.output.slice(-2000))
    },
    'mem0',
  )
})

oracleTest(test, 'libspdm requester exits 0 against tdxkit device serve: VCA, certificate, CHALLENGE, measurements, session with HEARTBEAT / KEY_UPDATE / in-session MEAS', async () => {
  const store = await connectPlatform()
  const emu = emuCopy()
  await withServer(store, async (port, events) => {
    const run = await runEmu(emu, 'spdm_requester_emu', ['--trans', 'PCI_DOE', '--port', String(port), ...NO_APP_FLAGS])
    assert.is(run.code, 0, run.output.slice(-2000))
    assert.not.match(run.output, /ERROR/)
    const s = sessionEvents(events)
    for (const want of ['KEY_EXCHANGE handshaking', 'FINISH established', 'HEARTBEAT', 'KEY_UPDATE operation 2', 'KEY_UPDATE operation 3', 'END_SESSION ended']) assert.ok(s.includes(want), `${want} in ${s.join(', ')}`)
    const reqs = new Set(events.filter((e) => e.kind === 'spdm' && e.data.kind === 'request').map((e) => e.data.request))
    for (const r of ['GET_VERSION', 'GET_CAPABILITIES', 'NEGOTIATE_ALGORITHMS', 'GET_DIGESTS', 'GET_CERTIFICATE', 'CHALLENGE', 'GET_MEASUREMENTS']) assert.ok(reqs.has(r), r)
  })
})

/** Reference values for libspdm's sample device, from the independent DMTF record in shared/testvectors. */
function sampleDeviceCorim(): Buffer {
  const blocks = decodeMeasurementRecord(readVector('spdm', 'device_measurement.bin'))
  return encodeCorim('libspdm-sample-device', [
    {
      tag_id: 'libspdm-sample-device/comid',
      entity: {name: 'DMTF libspdm sample device (test)'},
      environment: {class_id_bytes: Buffer.from('libspdm-sample', 'ascii'), vendor: 'DMTF', model: 'spdm-emu'},
      measurements: blocks.map((b) => (blockIsRaw(b) ? {index: b.index, raw: b.value} : {index: b.index, digest: {alg: 'sha512' as const, value: b.value}})),
    },
  ])
}

oracleTest(test, 'tdxkit device attest against libspdm spdm_responder_emu: verify accepts with the sample root, rejects with any other', async () => {
  if (!vectorsPresent()) throw new Error('needs shared/testvectors (device_measurement.bin) for the reference values')
  const emu = emuCopy()
  const work = tempDir('tdxkit-attest-')
  const port = await freePort()
  const rsp = startEmu(emu, 'spdm_responder_emu', ['--trans', 'PCI_DOE', '--port', String(port)])
  try {
    await waitForListen(port)
    const ev = join(work, 'ev.cbor')
    // BARs of the sample device: its interface report names ranges 1-4 of 1, 4, 8 and 8 pages
    const bars = ['1:0x1000', '2:0x4000', '3:0x8000', '4:0x8000'].flatMap((b) => ['--bar', b])
    const a = cli(['device', 'attest', '--connect', `127.0.0.1:${port}`, '-o', ev, '--tdisp', 'lock', ...bars, '--json'])
    assert.is(a.code, 0, a.stderr)
    const out = JSON.parse(a.stdout)
    assert.is(out.spdm_version, '1.3')
    assert.equal(out.tdisp.states, ['CONFIG_UNLOCKED', 'CONFIG_LOCKED'])
    assert.is((await rsp.exited).code, 0)
    const ref = join(work, 'ref.cbor')
    writeFileSync(ref, sampleDeviceCorim())
    // the sample device reports a debug mode in its device-mode block: allowed by this policy
    const policy = join(work, 'policy.json')
    writeFileSync(policy, JSON.stringify({allow_debug: true}))
    const good = cli(['device', 'verify', ev, '--reference', ref, '--trust-anchor', join(emu, 'ecp384/ca.cert.der'), '--policy', policy, '--json'])
    assert.is(good.code, 0, good.stdout + good.stderr)
    assert.is(JSON.parse(good.stdout).status, 'verified')
    for (const other of ['ecp256/ca.cert.der', 'rsa3072/ca.cert.der']) {
      const bad = cli(['device', 'verify', ev, '--reference', ref, '--trust-anchor', join(emu, other), '--policy', policy, '--json'])
      assert.is(bad.code, 3, `anchor ${other}: ${bad.stdout}`)
    }
    const bundle = decodeEvidence(readFileSync(ev))
    assert.ok(bundle.objects.has(10), 'interface report collected')
  } finally {
    rsp.stop()
  }
})

oracleTest(test, 'tdxkit device attest against tdxkit device serve (identity from libspdm sample files and from the device model)', async () => {
  const store = await connectPlatform()
  const emu = emuCopy()
  const work = tempDir('tdxkit-attest-self-')
  const dev = (await listDevices(store)).result.find((d) => d.id === 'tdi0')!
  const bars = dev.bars.flatMap((b) => ['--bar', `${b.index}:${b.size}`])
  const refFile = join(work, 'ref.cbor')
  writeFileSync(refFile, (await exportReference(store, 'tdi0')).result.bytes)
  await withServer(store, async (port, events) => {
    const ev = join(work, 'ev.cbor')
    const a = await cliAsync(['device', 'attest', '--connect', `127.0.0.1:${port}`, '-o', ev, '--function-id', LIBSPDM_TDI_BDF, '--tdisp', 'lock', ...bars, '--end', 'continue', '--json'])
    assert.is(a.code, 0, a.stderr)
    assert.equal(tdispTransitions(events), ['CONFIG_LOCKED'])
    const good = cli(['device', 'verify', ev, '--reference', refFile, '--json'])
    assert.is(good.code, 0, good.stdout)
    const bad = cli(['device', 'verify', ev, '--reference', refFile, '--trust-anchor', join(emu, 'ecp384/ca.cert.der'), '--json'])
    assert.is(bad.code, 3)
  })
  // the lock went through the device's own state machine and into the state directory
  assert.is((await listDevices(store)).result.find((d) => d.id === 'tdi0')!.tdi_state, 'CONFIG_LOCKED')
})

oracleTest(test, 'libspdm requester trusts tdxkit device serve presenting libspdm sample identity (--identity files)', async () => {
  const store = await connectPlatform()
  const emu = emuCopy()
  const {identityFromFiles} = await import('../../src/app/spdm-device.js')
  const identity = identityFromFiles(readFileSync(join(emu, 'ecp384/bundle_responder.certchain.der')), readFileSync(join(emu, 'ecp384/end_responder.key')), 'sample identity')
  const {server} = await serveDevice(store, {device: 'tdi0', port: 0, identity})
  try {
    const run = await runEmu(emu, 'spdm_requester_emu', ['--trans', 'PCI_DOE', '--port', String(server.port), ...NO_APP_FLAGS])
    assert.is(run.code, 0, run.output.slice(-2000))
  } finally {
    await server.close()
  }
  // a key that is not the leaf's is refused before anything is served
  assert.throws(() => identityFromFiles(readFileSync(join(emu, 'ecp384/bundle_responder.certchain.der')), readFileSync(join(emu, 'ecp384/end_requester.key')), 'mismatched'), /does not belong/)
})

oracleTest(test, 'demo step: libspdm requester attests a tdxkit device (exit 0 run, then the TDISP app flow)', async () => {
  const prev = process.env.TDXKIT_ORACLES
  process.env.TDXKIT_ORACLES = ORACLES_DIR
  try {
    const {DEVICE_STEPS} = await import('../../src/demo/device-steps.js')
    const step = DEVICE_STEPS.find((s) => s.id === 'device-libspdm')!
    const store = new StateStore(tempDir('tdxkit-spdm-demo-'))
    await initPlatform(store, {profile: 'tdx-connect', seed: SEED})
    const ctx = {store, workDir: tempDir('tdxkit-spdm-demo-files-'), bag: new Map()}
    // twice on the same state: the step resets the device the first run left with its TSP locked
    for (let i = 0; i < 2; i++) {
      const r = await step.run(ctx)
      assert.is(r.data?.clean_exit, 0)
      assert.equal(r.data?.tdisp, ['CONFIG_UNLOCKED → CONFIG_LOCKED', 'CONFIG_LOCKED → RUN', 'RUN → CONFIG_UNLOCKED'])
      assert.equal(r.data?.tsp, ['CONFIG_UNLOCKED → CONFIG_LOCKED'])
    }
  } finally {
    if (prev === undefined) delete process.env.TDXKIT_ORACLES
    else process.env.TDXKIT_ORACLES = prev
  }
})

/** Pass/fail counts of the DMTF SPDM Responder Validator's test.log. */
function validatorCounts(log: string): {pass: number; fail: number} {
  const m = /test suite \(spdm_responder_conformance_test\) - pass: (\d+), fail: (\d+)/.exec(log)
  if (!m) throw new Error('validator test.log has no suite summary')
  return {pass: Number(m[1]), fail: Number(m[2])}
}

for (const [model, device, platform] of [['nic', 'tdi0', connectPlatform], ['cxl-mem', 'mem0', cxlPlatform]] as const) {
  oracleTest(test, `DMTF SPDM Responder Validator against tdxkit device serve (${model}): 0 failures`, async () => {
    const store = await platform()
    const emu = emuCopy()
    await withServer(
      store,
      async (port) => {
        const run = await runEmu(emu, 'spdm_device_validator_sample', ['--trans', 'PCI_DOE', '--port', String(port)], 300_000)
        assert.is(run.code, 0, run.output.slice(-2000))
      },
      device,
    )
    const counts = validatorCounts(readFileSync(join(emu, 'test.log'), 'latin1'))
    console.log(`  validator (${model}): ${counts.pass} pass, ${counts.fail} fail`)
    assert.is(counts.fail, 0)
    assert.ok(counts.pass > 1000, `${counts.pass} checks passed`)
  })
}

test.run()
