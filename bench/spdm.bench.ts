/**
 * Full SPDM sessions per second over loopback TCP (spdm-emu socket protocol, PCI_DOE): one session =
 * DOE discovery, VCA, GET_DIGESTS, GET_CERTIFICATE, KEY_EXCHANGE, FINISH, END_SESSION on a new
 * connection. Pairs: tdxkit ↔ tdxkit, tdxkit requester ↔ libspdm responder, libspdm requester ↔
 * tdxkit responder, and the anchor libspdm ↔ libspdm measured in the same run (the libspdm
 * requester is one process per session, so its rows include a process start). The libspdm rows need
 * the spdm-emu oracle (shared/oracles/spdm-emu or TDXKIT_ORACLES).
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {StateStore} from '../src/state/store.js'
import {initPlatform} from '../src/app/platform.js'
import {addDeviceOp} from '../src/app/device.js'
import {serveDevice} from '../src/app/spdm-device.js'
import {connectEmu} from '../src/app/spdm-client.js'
import {leafKeyFromChain} from '../src/device/remote.js'
import {SpdmRequester} from '../src/spdm/requester.js'
import {emuCopy, freePort, runEmu, spdmEmuPresent, startEmu, waitForListen} from '../test/helpers/oracle.js'
import type {BenchResult} from './index.js'

const WINDOW_MS = 3000
const LIBSPDM_SESSION = ['--trans', 'PCI_DOE', '--exe_conn', 'DIGEST,CERT', '--exe_session', 'KEY_EX', '--mut_auth', 'NO', '--basic_mut_auth', 'NO']

/** One tdxkit requester session on a fresh connection; CONTINUE keeps an emulator responder alive. */
async function tdxkitSession(port: number): Promise<void> {
  const c = await connectEmu('127.0.0.1', port)
  const r = new SpdmRequester(c, {leaf_key: leafKeyFromChain})
  await r.discover()
  await r.negotiate()
  await r.getDigests()
  await r.getCertificate()
  await r.endSession(await r.startSession())
  await c.end('continue')
}

async function rate(fn: () => Promise<void>, windowMs = WINDOW_MS): Promise<number> {
  await fn() // warm-up
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < windowMs) {
    await fn()
    n++
  }
  return (n * 1000) / (performance.now() - t0)
}

async function libspdmRequester(emu: string, port: number): Promise<void> {
  const r = await runEmu(emu, 'spdm_requester_emu', [...LIBSPDM_SESSION, '--port', String(port), '--exe_mode', 'CONTINUE'])
  if (r.code !== 0) throw new Error(`spdm_requester_emu exited ${r.code}: ${r.output.slice(-400)}`)
}

/** A libspdm responder that keeps serving across connections (requesters send CONTINUE). */
async function withLibspdmResponder<T>(emu: string, fn: (port: number) => Promise<T>): Promise<T> {
  const port = await freePort()
  const rsp = startEmu(emu, 'spdm_responder_emu', [...LIBSPDM_SESSION, '--port', String(port), '--exe_mode', 'CONTINUE'])
  try {
    await waitForListen(port)
    return await fn(port)
  } finally {
    rsp.stop()
  }
}

export default async function (): Promise<BenchResult[]> {
  const store = new StateStore(mkdtempSync(join(tmpdir(), 'tdxkit-spdm-bench-')))
  await initPlatform(store, {profile: 'tdx-connect', seed: 'spdm-bench'})
  await addDeviceOp(store, {model: 'nic', id: 'b0', bdf: 'be:1d.7'})
  const {server} = await serveDevice(store, {device: 'b0', port: 0})
  const rows: BenchResult[] = []
  try {
    const tt = await rate(() => tdxkitSession(server.port))
    rows.push({name: 'SPDM sessions/s tdxkit requester ↔ tdxkit device serve', value: tt, unit: 'sessions/s', note: 'VCA+cert+KEY_EXCHANGE/FINISH/END_SESSION, new TCP connection each'})
    if (!spdmEmuPresent()) {
      rows.push({name: 'SPDM sessions/s with libspdm', value: NaN, unit: '', note: 'spdm-emu oracle not found: libspdm rows skipped'})
      return rows
    }
    const emu = emuCopy()
    const anchor = await withLibspdmResponder(emu, (port) => rate(() => libspdmRequester(emu, port)))
    rows.push({name: 'SPDM sessions/s libspdm requester ↔ libspdm responder (anchor)', value: anchor, unit: 'sessions/s', note: 'one requester process per session'})
    const tl = await withLibspdmResponder(emu, (port) => rate(() => tdxkitSession(port)))
    rows.push({name: 'SPDM sessions/s tdxkit requester ↔ libspdm responder', value: tl, unit: 'sessions/s', note: `${(tl / anchor).toFixed(2)}× the anchor`})
    const lt = await rate(() => libspdmRequester(emu, server.port))
    rows.push({name: 'SPDM sessions/s libspdm requester ↔ tdxkit device serve', value: lt, unit: 'sessions/s', note: `${(lt / anchor).toFixed(2)}× the anchor (requester process start included)`})
    rows.push({name: 'tdxkit ↔ tdxkit vs anchor', value: tt / anchor, unit: 'ratio', note: 'tdxkit pair rate / libspdm pair rate'})
  } finally {
    await server.close()
  }
  return rows
}
