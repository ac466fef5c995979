/**
 * The SPDM responder fuzz campaign (issue 15): `node --import tsx bench/spdm-fuzz/run.ts
 * [--runs N] [--socket-frames M] [--seed S] [--out FILE]`. N malformed frames and message sequences
 * straight into the responder engine, then M abusive frames over TCP against `device serve`'s server,
 * then a well-formed requester. Prints the figures; exit 1 on any crash, hang or unanswered frame.
 */
import {writeFileSync} from 'node:fs'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {StateStore} from '../../src/state/store.js'
import {initPlatform} from '../../src/app/platform.js'
import {addDeviceOp} from '../../src/app/device.js'
import {serveDevice} from '../../src/app/spdm-device.js'
import {fuzzEngine, fuzzSocket} from '../../test/spdm/lib/fuzz.js'

const args = process.argv.slice(2)
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? Number(args[i + 1]) : dflt
}
const outIdx = args.indexOf('--out')
const runs = opt('runs', 100_000)
const socketFrames = opt('socket-frames', 20_000)
const seed = opt('seed', Date.now() % 2 ** 31)

const t0 = performance.now()
const engine = await fuzzEngine(runs, seed)
const t1 = performance.now()
const store = new StateStore(mkdtempSync(join(tmpdir(), 'tdxkit-spdm-fuzz-')))
await initPlatform(store, {profile: 'tdx-connect', seed: 'spdm-fuzz'})
await addDeviceOp(store, {model: 'nic', id: 'fuzz0', bdf: 'be:1d.7'})
const {server} = await serveDevice(store, {device: 'fuzz0', port: 0, idle_timeout_ms: 5000})
const sock = await fuzzSocket(server.port, socketFrames, seed ^ 0x9e3779b9, 4)
await server.close()
const t2 = performance.now()
const figures = {seed, engine: {...engine, seconds: (t1 - t0) / 1000}, socket: {...sock, seconds: (t2 - t1) / 1000}}
console.log(`spdm fuzz (seed ${seed})`)
console.log(`  engine: ${engine.inputs} inputs, ${engine.errors_answered} SPDM ERROR answers, ${engine.secured_answered} sealed answers, ${engine.crashes} crashes, ${engine.hangs} hangs, slowest ${engine.slowest_ms.toFixed(1)} ms, good requester after: ${engine.final_flow_ok ? 'ok' : 'FAILED'} (${figures.engine.seconds.toFixed(1)} s)`)
console.log(`  socket: ${sock.frames} frames (${sock.garbage} raw garbage), ${sock.answered} answered, ${sock.closed_by_server} closed by the server, ${sock.no_answer} unanswered, good requester after: ${sock.server_alive ? 'ok' : 'FAILED'} (${figures.socket.seconds.toFixed(1)} s)`)
for (const f of engine.findings) console.log(`  finding: ${f}`)
if (outIdx >= 0) writeFileSync(args[outIdx + 1], JSON.stringify(figures, null, 2) + '\n')
process.exit(engine.crashes || engine.hangs || !engine.final_flow_ok || sock.no_answer || !sock.server_alive ? 1 : 0)
