/**
 * The device server under abuse: oversized, mistyped and unknown frames get an answer (or a close),
 * silent connections are timed out, the connection cap holds, abusive clients running in parallel do
 * not stop a good requester, and served TDISP transitions land in the state directory.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {connect, type Socket} from 'node:net'
import {StateStore} from '../../src/state/store.js'
import {initPlatform} from '../../src/app/platform.js'
import {addDeviceOp, listDevices} from '../../src/app/device.js'
import {serveDevice} from '../../src/app/spdm-device.js'
import {connectEmu} from '../../src/app/spdm-client.js'
import {attestOverSpdm} from '../../src/device/remote.js'
import {EmuCommand, EmuTransport, encodeEmuFrame} from '../../src/abi/doe.js'
import {FrameReader, decodeDoe} from '../../src/spdm/transport.js'
import {SpdmErrorCode} from '../../src/abi/spdm.js'
import {tempDir} from '../helpers/cli.js'
import {fuzzSocket, goodFlow} from '../spdm/lib/fuzz.js'

async function served(opts: {max_connections?: number; idle_timeout_ms?: number} = {}) {
  const store = new StateStore(tempDir('tdxkit-spdm-srv-'))
  await initPlatform(store, {profile: 'tdx-connect', seed: 'srv'})
  await addDeviceOp(store, {model: 'gpu', id: 'g', bdf: 'be:1d.7'})
  const {server} = await serveDevice(store, {device: 'g', port: 0, ...opts})
  return {store, server}
}

/** Open a raw connection and collect the frames the server sends until it closes or `ms` pass. */
function raw(port: number, bytes: Buffer, ms = 2000): Promise<{frames: Array<{command: number; payload: Buffer}>; closed: boolean}> {
  return new Promise((resolve) => {
    const sock: Socket = connect({host: '127.0.0.1', port})
    const reader = new FrameReader()
    const frames: Array<{command: number; payload: Buffer}> = []
    let closed = false
    sock.on('connect', () => sock.write(bytes))
    sock.on('data', (d) => {
      for (const e of reader.push(d)) if (e.kind === 'frame') frames.push({command: e.frame.command, payload: e.frame.payload})
    })
    sock.on('close', () => (closed = true))
    sock.on('error', () => (closed = true))
    setTimeout(() => {
      sock.destroy()
      resolve({frames, closed})
    }, ms)
  })
}

const spdmError = (p: Buffer) => decodeDoe(p).data[2]

test('oversized, mistyped and unknown frames: SPDM ERROR or UNKNOWN, never silence', async () => {
  const {server} = await served()
  try {
    const big = Buffer.alloc(12)
    big.writeUInt32BE(EmuCommand.NORMAL, 0)
    big.writeUInt32BE(EmuTransport.PCI_DOE, 4)
    big.writeUInt32BE(0xffffffff, 8)
    const a = await raw(server.port, big, 500)
    assert.is(a.frames.length, 1)
    assert.is(spdmError(a.frames[0].payload), SpdmErrorCode.RequestTooLarge)
    assert.ok(a.closed)
    const b = await raw(server.port, encodeEmuFrame({command: EmuCommand.NORMAL, transport: EmuTransport.MCTP, payload: Buffer.from([5, 0x10, 0x84, 0, 0])}), 500)
    assert.is(spdmError(b.frames[0].payload), SpdmErrorCode.InvalidRequest)
    const c = await raw(server.port, encodeEmuFrame({command: 0x1234, transport: EmuTransport.PCI_DOE, payload: Buffer.alloc(0)}), 500)
    assert.is(c.frames[0].command, EmuCommand.UNKNOWN)
    assert.ok(c.closed)
    const d = await raw(server.port, encodeEmuFrame({command: EmuCommand.NORMAL, transport: EmuTransport.PCI_DOE, payload: Buffer.from('not a DOE object')}), 500)
    assert.is(spdmError(d.frames[0].payload), SpdmErrorCode.InvalidRequest)
  } finally {
    await server.close()
  }
})

test('silent connections time out; the connection cap refuses extra clients, then frees up', async () => {
  const {server} = await served({max_connections: 2, idle_timeout_ms: 300})
  try {
    const idle = [raw(server.port, Buffer.alloc(0), 1000), raw(server.port, Buffer.alloc(0), 1000)]
    await new Promise((r) => setTimeout(r, 100))
    const refused = await raw(server.port, encodeEmuFrame({command: EmuCommand.TEST, transport: EmuTransport.PCI_DOE, payload: Buffer.from('Client Hello!\0')}), 200)
    assert.is(refused.frames.length, 0)
    assert.ok(refused.closed)
    for (const i of await Promise.all(idle)) assert.ok(i.closed, 'idle connection closed by the server')
    const client = await connectEmu('127.0.0.1', server.port)
    assert.ok(await goodFlow(client))
    await client.end('continue')
  } finally {
    await server.close()
  }
})

test('abusive clients in parallel do not stop a good requester; TDISP lock lands in the state directory', async () => {
  const {store, server} = await served()
  try {
    const abuse = fuzzSocket(server.port, 300, 0x1234abcd, 3)
    const client = await connectEmu('127.0.0.1', server.port)
    const out = await attestOverSpdm(client, {nonce: Buffer.alloc(32, 4), function_id: 0xbeef, tdisp: 'lock'})
    await client.end('continue')
    assert.equal(out.tdisp.states, ['CONFIG_UNLOCKED', 'CONFIG_LOCKED'])
    const st = await abuse
    assert.is(st.no_answer, 0)
    assert.ok(st.server_alive)
    assert.is(st.frames, 300)
  } finally {
    await server.close()
  }
  assert.is((await listDevices(store)).result.find((d) => d.id === 'g')!.tdi_state, 'CONFIG_LOCKED')
})

test.run()
