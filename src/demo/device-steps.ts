/**
 * Demo steps for device evidence: lock → evidence → verify → accept, one device that is refused, and —
 * when DMTF's spdm-emu oracle is present — libspdm's requester running its whole default flow against
 * a tdxkit CXL memory device on the wire.
 */
import {join} from 'node:path'
import type {DemoContext, DemoStep} from './index.js'
import {acceptDevice, addDeviceOp, collectEvidence, exportReference, listDevices, lockDevice, resetDeviceOp} from '../app/device.js'
import {initPlatform, openStore, type StateStore} from '../app/platform.js'
import {writeOutputFile} from '../app/files.js'
import {TdxkitError} from '../errors.js'
import {decodeCorim} from '../device/corim.js'
import {verifyDeviceEvidence} from '../device/verifier.js'
import {verdictLines} from '../cli/device-render.js'
import {EVIDENCE_OBJECT_NAMES} from '../device/tsm.js'
import {serveDevice, type ServeEvent} from '../app/spdm-device.js'
import {deviceDma} from '../app/device-dma.js'
import {copySpdmEmu, locateSpdmEmu, runLibspdmRequester} from '../app/spdm-oracle.js'

const DEMO_DEVICE = 'nic0'
const REFUSED_DEVICE = 'gpu-swapped'
const DEMO_NONCE = Buffer.from('tdxkit demo verifier nonce 32 B!', 'ascii')
/** The TD buffer the demo device DMAs into (256 MiB into guest RAM), and how much. */
const DMA_GPA = 0x1000_0000n
const DMA_BYTES = 4096
/** libspdm's requester drives TDISP interface 0xBEEF, i.e. PCI address be:1d.7: a CXL memory device there. */
const WIRE_DEVICE = 'mem-wire'
const WIRE_BDF = 'be:1d.7'
/** The default flow, without mutual authentication (tdxkit has no requester certificate support). */
const LIBSPDM_DEFAULT_FLOW = ['--mut_auth', 'NO', '--basic_mut_auth', 'NO']
/** Protocol families of the vendor-defined messages, by the prefix the device's event log gives them. */
const VDM_FAMILIES = ['IDE_KM', 'TDISP', 'CXL IDE_KM', 'CXL TSP']

/** Serve the wire device, run libspdm's requester once with `args`, collect what the device saw. */
async function libspdmRun(store: StateStore, emu: string, args: string[]): Promise<{code: number | null; events: ServeEvent[]}> {
  const events: ServeEvent[] = []
  const {server} = await serveDevice(store, {device: WIRE_DEVICE, port: 0, on_event: (e) => events.push(e)})
  try {
    const r = await runLibspdmRequester(emu, server.port, args)
    return {code: r.code, events}
  } finally {
    await server.close()
  }
}

/** The devices need a tdx-connect platform: the demo's own if it is one, else a separate one. */
async function connectStore(ctx: DemoContext): Promise<{store: StateStore; note?: string}> {
  const cached = ctx.bag.get('device-store') as StateStore | undefined
  if (cached) return {store: cached}
  const doc = ctx.store.load() as {module?: {profile?: string}} | undefined
  let store = ctx.store
  let note: string | undefined
  if (!doc?.module || doc.module.profile !== 'tdx-connect') {
    store = openStore(join(ctx.workDir, 'tdx-connect-state'))
    if (!store.exists()) await initPlatform(store, {profile: 'tdx-connect', seed: 'tdxkit-demo'})
    note = `devices need TDX Connect: using a tdx-connect platform in ${store.dir}`
  }
  ctx.bag.set('device-store', store)
  return {store, note}
}

export const DEVICE_STEPS: DemoStep[] = [
  {
    id: 'device-list',
    title: 'TDISP devices assigned to the TD (tdx-connect)',
    async run(ctx) {
      const {store, note} = await connectStore(ctx)
      const {result} = await listDevices(store)
      return {
        lines: [...(note ? [note] : []), ...result.map((d) => `${d.id}  ${d.bdf}  ${d.product}  firmware ${d.firmware}  ${d.tdi_state}`)],
        data: {devices: result.map((d) => ({id: d.id, tdi_state: d.tdi_state}))},
      }
    },
  },
  {
    id: 'device-dma-untrusted',
    title: `Before accept, ${DEMO_DEVICE}'s DMA is T=0: the IOMMU lets it reach shared memory only (TEE-IO guide Table A-8)`,
    async run(ctx) {
      const {store} = await connectStore(ctx)
      const shared = (await deviceDma(store, {device: DEMO_DEVICE, gpa: DMA_GPA, bytes: DMA_BYTES, direction: 'write', shared: true})).result
      try {
        await deviceDma(store, {device: DEMO_DEVICE, gpa: DMA_GPA, bytes: DMA_BYTES, direction: 'write'})
        throw new Error('an unaccepted device wrote into private memory')
      } catch (error) {
        if (!(error instanceof TdxkitError)) throw error
        return {
          lines: [`shared buffer ${shared.gpa}: ${shared.bytes} bytes written with ${shared.tlp}, the TD reads them back`, `private GPA 0x${DMA_GPA.toString(16)}: refused (exit ${error.exit}, ${error.code}): ${error.message}`],
          data: {shared_ok: shared.verified, private_exit: error.exit, code: error.code},
        }
      }
    },
  },
  {
    id: 'device-lock',
    title: `LOCK_INTERFACE_REQUEST: ${DEMO_DEVICE} CONFIG_UNLOCKED → CONFIG_LOCKED`,
    async run(ctx) {
      const {store} = await connectStore(ctx)
      const {result} = await lockDevice(store, DEMO_DEVICE)
      return {
        lines: [`TDI ${result.state}, lock generation ${result.lock_generation}`, `TSM recorded the interface report digest ${result.report_digest.slice(0, 32)}…`],
        data: {tdi_state: result.state, report_digest: result.report_digest},
      }
    },
  },
  {
    id: 'device-evidence',
    title: 'Evidence: certificate chain, VCA, signed GET_MEASUREMENTS (verifier nonce), interface report',
    async run(ctx) {
      const {store} = await connectStore(ctx)
      const {result} = await collectEvidence(store, DEMO_DEVICE, DEMO_NONCE)
      const file = join(ctx.workDir, `${DEMO_DEVICE}.evidence.cbor`)
      writeOutputFile(file, result.bytes)
      ctx.bag.set('device-evidence', file)
      return {
        lines: [
          `wrote ${result.bytes.length}-byte bundle to ${file}`,
          ...[...result.bundle.objects.entries()].map(([k, v]) => `${(EVIDENCE_OBJECT_NAMES[k] ?? k).toString().padEnd(12)} ${v.length} bytes, TSM sha384 ${result.bundle.tsm.digests.get(k)!.toString('hex').slice(0, 24)}…`),
        ],
        data: {file, bytes: result.bytes.length},
      }
    },
  },
  {
    id: 'device-verify',
    title: 'Verify the evidence against the vendor CoRIM (device reference)',
    async run(ctx) {
      const {store} = await connectStore(ctx)
      const ref = (await exportReference(store, DEMO_DEVICE)).result
      const refFile = join(ctx.workDir, `${DEMO_DEVICE}.ref.cbor`)
      writeOutputFile(refFile, ref.bytes)
      ctx.bag.set('device-reference', refFile)
      const {result} = await collectEvidence(store, DEMO_DEVICE, DEMO_NONCE)
      const verdict = verifyDeviceEvidence({evidence: result.bundle, reference: decodeCorim(ref.bytes), at: new Date(), expected_nonce: DEMO_NONCE})
      ctx.bag.set('device-evidence-bytes', result.bytes)
      return {lines: [`reference values: ${refFile}`, ...verdictLines(verdict)], data: {status: verdict.status, failed_steps: verdict.failed_steps}}
    },
  },
  {
    id: 'device-accept',
    title: `Accept: verification passed → START_INTERFACE, ${DEMO_DEVICE} CONFIG_LOCKED → RUN`,
    async run(ctx) {
      const {store} = await connectStore(ctx)
      const {result} = await acceptDevice(store, DEMO_DEVICE, {
        evidence: ctx.bag.get('device-evidence-bytes') as Buffer | undefined,
        reference: (await exportReference(store, DEMO_DEVICE)).result.bytes,
      })
      return {lines: [`${DEMO_DEVICE} is ${result.tdi_state}; accepted: ${result.device.accepted}`], data: {tdi_state: result.tdi_state}}
    },
  },
  {
    id: 'device-dma-trusted',
    title: `After lock → verify → accept, ${DEMO_DEVICE} sends T=1 DMA into the TD's private memory`,
    async run(ctx) {
      const {store} = await connectStore(ctx)
      const r = (await deviceDma(store, {device: DEMO_DEVICE, gpa: DMA_GPA, bytes: DMA_BYTES, direction: 'write'})).result
      return {
        lines: [`private GPA ${r.gpa}: ${r.bytes} bytes written with ${r.tlp} (${r.why}); the TD reads back ${r.preview.slice(0, 16)}… (${r.verified ? 'matches' : 'MISMATCH'})`],
        data: {tlp: r.tlp, alias: r.alias, verified: r.verified},
      }
    },
  },
  {
    id: 'device-refused',
    title: 'A device whose firmware was swapped after the reference values were taken is refused',
    async run(ctx) {
      const {store} = await connectStore(ctx)
      const existing = (await listDevices(store)).result.find((d) => d.id === REFUSED_DEVICE)
      if (!existing) await addDeviceOp(store, {model: 'gpu', id: REFUSED_DEVICE, faults: ['firmware-swapped']})
      if (!existing || existing.tdi_state === 'CONFIG_UNLOCKED') await lockDevice(store, REFUSED_DEVICE)
      try {
        await acceptDevice(store, REFUSED_DEVICE)
        throw new Error('the swapped-firmware device was accepted')
      } catch (error) {
        if (!(error instanceof TdxkitError)) throw error
        const after = (await listDevices(store)).result.find((d) => d.id === REFUSED_DEVICE)!
        return {
          lines: [`accept refused (exit ${error.exit}, step ${error.step}): ${error.message}`, `${REFUSED_DEVICE} stays ${after.tdi_state}, accepted: ${after.accepted}`],
          data: {exit_code: error.exit, step: error.step, tdi_state: after.tdi_state},
        }
      }
    },
  },
  {
    id: 'device-libspdm',
    title: "libspdm's requester (DMTF spdm-emu) runs its whole default flow against a tdxkit CXL memory device over PCI_DOE",
    async run(ctx) {
      const oracle = locateSpdmEmu()
      if (!oracle) return {lines: ['spdm-emu oracle not found (set TDXKIT_ORACLES): step skipped'], data: {skipped: true}}
      const {store} = await connectStore(ctx)
      const existing = (await listDevices(store)).result.find((d) => d.id === WIRE_DEVICE)
      if (!existing) await addDeviceOp(store, {model: 'cxl-mem', id: WIRE_DEVICE, bdf: WIRE_BDF})
      // a previous run left the TSP configuration locked: TSP has no unlock, the host resets the device
      else if (existing.cxl?.tsp_state !== 'CONFIG_UNLOCKED' || existing.tdi_state !== 'CONFIG_UNLOCKED') await resetDeviceOp(store, WIRE_DEVICE)
      const emu = copySpdmEmu(oracle, ctx.workDir)
      const run = await libspdmRun(store, emu, LIBSPDM_DEFAULT_FLOW)
      const sessions = [...new Set(run.events.filter((e) => e.kind === 'spdm' && e.data.kind === 'session').map((e) => String(e.data.request)))]
      const tdisp = run.events.filter((e) => e.kind === 'tdisp').map((e) => e.detail)
      const tsp = run.events.filter((e) => e.kind === 'tsp').map((e) => e.detail)
      const vdm = run.events.filter((e) => e.kind === 'spdm' && e.data.kind === 'request' && e.data.request === 'VENDOR_DEFINED_REQUEST').map((e) => String(e.data.detail))
      const messages = Object.fromEntries(VDM_FAMILIES.map((f) => [f, vdm.filter((m) => m.startsWith(`${f} `)).length]))
      return {
        lines: [
          `spdm_requester_emu --trans PCI_DOE ${LIBSPDM_DEFAULT_FLOW.join(' ')} → exit ${run.code}`,
          `  VCA, certificates, CHALLENGE, signed measurements; session: ${sessions.join(', ')}`,
          `  in the session: ${VDM_FAMILIES.map((f) => `${messages[f]} ${f}`).join(', ')} messages answered`,
          `  TDI ${tdisp.join(', ')}`,
          `  CXL TSP ${tsp.join(', ')} (configured: AES-XTS-256 memory encryption; TE state set and cleared)`,
          '  (the default flow also asks for a PSK session; libspdm skips it because the device does not advertise PSK_CAP)',
        ],
        data: {clean_exit: run.code, tdisp, tsp, sessions, messages},
      }
    },
  },
]
