/**
 * The pure SPDM engine: framing against bytes captured from DMTF's emulators, HKDF against RFC 5869,
 * the DSP0277 record IV rule, and the responder state machine end to end with tdxkit's requester —
 * including every refusal a misbehaving requester should get.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {X509Certificate, createCipheriv, hkdfSync} from 'node:crypto'
import {DeviceRuntime} from '../../src/device/device.js'
import {addDevice, type DevicesSection} from '../../src/device/registry.js'
import {deviceResponder} from '../../src/device/spdm-responder.js'
import {leafKeyFromChain} from '../../src/device/remote.js'
import {SpdmRequester, type DoePort} from '../../src/spdm/requester.js'
import {SpdmResponder} from '../../src/spdm/responder.js'
import {hkdfExpand, hkdfExtract} from '../../src/spdm/crypto.js'
import {openRecord, sealRecord} from '../../src/spdm/secured.js'
import {FrameReader, decodeDoe, encodeDoe} from '../../src/spdm/transport.js'
import {parseSupportedVersions, parseVersionSelection, versionSelectionOpaque} from '../../src/spdm/opaque.js'
import {ProtocolError} from '../../src/spdm/errors.js'
import {DoeType, EmuCommand, EmuTransport, encodeEmuFrame} from '../../src/abi/doe.js'
import {SpdmErrorCode, SpdmRequest, SpdmResponse, spdmHeader} from '../../src/abi/spdm.js'
import {PCI_PROTOCOL_ID_TDISP, TdispErrorCode, TdispRequest, tdispHeader} from '../../src/abi/tdisp.js'
import {SECURED_VERSION_12} from '../../src/abi/secured-message.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

function device(): DeviceRuntime {
  const s: DevicesSection = {version: 1, devices: []}
  return new DeviceRuntime('engine-seed', addDevice(s, 'engine-seed', {model: 'nic', bdf: 'be:1d.7'}))
}

function pair(dev = device()): {rsp: SpdmResponder; req: SpdmRequester; port: DoePort} {
  const rsp = deviceResponder(dev)
  const port: DoePort = {exchange: async (p) => rsp.handleDoe(p)}
  return {rsp, req: new SpdmRequester(port, {leaf_key: leafKeyFromChain}), port}
}

/** Send one plain SPDM message through DOE and return the SPDM answer. */
const plain = (r: SpdmResponder, msg: Buffer): Buffer => decodeDoe(r.handleDoe(encodeDoe(DoeType.SPDM, msg))).data
const errorCode = (rsp: Buffer): number | undefined => (rsp[1] === SpdmResponse.ERROR ? rsp[2] : undefined)

test('DOE discovery and GET_VERSION answered exactly as libspdm answers the captured requests', () => {
  const r = deviceResponder(device())
  // frames 3-8 of a PCI_DOE run between the DMTF emulators (shared/oracles/spdm-emu, decoded -v log)
  assert.is(r.handleDoe(hex('010000000300000000000000')).toString('hex'), '010000000300000001000001')
  assert.is(r.handleDoe(hex('010000000300000001000000')).toString('hex'), '010000000300000001000102')
  assert.is(r.handleDoe(hex('010000000300000002000000')).toString('hex'), '010000000300000001000200')
  // GET_VERSION (frame 9): tdxkit lists 1.2 and 1.3 only; the DOE header and DW padding as libspdm's
  const v = r.handleDoe(hex('010001000300000010840000'))
  assert.is(v.toString('hex'), '010001000500000010040000000200120013' + '0000')
})

test('socket frames reassemble across arbitrary splits; an oversized header stops the reader', () => {
  const a = encodeEmuFrame({command: EmuCommand.TEST, transport: EmuTransport.PCI_DOE, payload: Buffer.from('Client Hello!\0', 'latin1')})
  assert.is(a.toString('hex'), '0000dead000000020000000e436c69656e742048656c6c6f2100')
  const b = encodeEmuFrame({command: EmuCommand.NORMAL, transport: EmuTransport.PCI_DOE, payload: hex('010000000300000000000000')})
  const reader = new FrameReader()
  const got = [...Buffer.concat([a, b])].flatMap((byte) => reader.push(Buffer.from([byte])))
  assert.equal(got.map((e) => (e.kind === 'frame' ? e.frame.command : -1)), [EmuCommand.TEST, EmuCommand.NORMAL])
  const big = Buffer.alloc(12)
  big.writeUInt32BE(EmuCommand.NORMAL, 0)
  big.writeUInt32BE(0x10000, 8)
  assert.equal(new FrameReader().push(big).map((e) => e.kind), ['oversize'])
})

test('HKDF extract/expand match RFC 5869 test case 1 and Node hkdfSync', () => {
  const ikm = Buffer.alloc(22, 0x0b)
  const salt = hex('000102030405060708090a0b0c')
  const info = hex('f0f1f2f3f4f5f6f7f8f9')
  const prk = hkdfExtract('sha256', salt, ikm)
  assert.is(prk.toString('hex'), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5')
  const okm = hkdfExpand('sha256', prk, info, 42)
  assert.is(okm.toString('hex'), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865')
  assert.ok(Buffer.from(hkdfSync('sha384', ikm, salt, info, 100)).equals(hkdfExpand('sha384', hkdfExtract('sha384', salt, ikm), info, 100)))
})

test('secured record: IV = salt XOR little-endian counter, AAD = session id ‖ length; tamper is refused', () => {
  const keys = {secret: Buffer.alloc(48), key: Buffer.alloc(32, 7), iv: Buffer.alloc(12, 0x55), seq: 5n}
  const rec = sealRecord(keys, 0xffffffff, Buffer.from('hello'))
  // independent AES-GCM with the IV built by hand: bytes 0..7 = 0x55 ^ LE(5)
  const iv = Buffer.alloc(12, 0x55)
  iv[0] ^= 5
  const c = createCipheriv('aes-256-gcm', Buffer.alloc(32, 7), iv)
  c.setAAD(rec.subarray(0, 6))
  const body = Buffer.concat([c.update(Buffer.from([5, 0, ...Buffer.from('hello')])), c.final(), c.getAuthTag()])
  assert.ok(rec.subarray(6).equals(body))
  assert.is(keys.seq, 6n)
  const rx = {...keys, seq: 5n}
  assert.is(openRecord(rx, rec)!.toString(), 'hello')
  const bad = Buffer.from(rec)
  bad[bad.length - 1] ^= 1
  assert.is(openRecord({...keys, seq: 5n}, bad), undefined)
})

test('secured-message version opaque data: the captured requester list and responder selection', () => {
  // from the KEY_EXCHANGE / KEY_EXCHANGE_RSP of the emulator run (frames 579/580)
  assert.equal(parseSupportedVersions(hex('0100000000000900010103001000110012000000')), [0x1000, 0x1100, 0x1200])
  const sel = hex('010000000000040001000012')
  assert.is(parseVersionSelection(sel), SECURED_VERSION_12)
  assert.ok(versionSelectionOpaque(SECURED_VERSION_12).equals(sel))
})

test('tdxkit requester ↔ tdxkit responder: full flow, signatures checked, TDISP drives the device model', async () => {
  const dev = device()
  const {req} = pair(dev)
  assert.equal(await req.discover(), [0, 1, 2])
  const n = await req.negotiate()
  assert.is(n.version, 0x13)
  await req.getDigests()
  await req.getCertificate()
  await req.challenge()
  await req.getMeasurements(Buffer.alloc(32, 1))
  const s = await req.startSession()
  await req.heartbeat(s)
  await req.keyUpdate(s)
  await req.getMeasurements(Buffer.alloc(32, 2), s)
  const lockReq = Buffer.concat([tdispHeader(TdispRequest.LOCK_INTERFACE_REQUEST, dev.rec.function_id, 36)])
  const lock = await req.vendor(s, {standard_id: 3, vendor_id: Buffer.from([1, 0]), payload: Buffer.concat([Buffer.from([PCI_PROTOCOL_ID_TDISP]), lockReq])})
  assert.is(lock[2], 0x03) // LOCK_INTERFACE_RESPONSE
  assert.is(dev.rec.tdi.state, 'CONFIG_LOCKED')
  const start = tdispHeader(TdispRequest.START_INTERFACE_REQUEST, dev.rec.function_id, 48)
  const wrong = await req.vendor(s, {standard_id: 3, vendor_id: Buffer.from([1, 0]), payload: Buffer.concat([Buffer.from([PCI_PROTOCOL_ID_TDISP]), start])})
  assert.is(wrong.readUInt32LE(1 + 16), TdispErrorCode.INVALID_NONCE)
  lock.subarray(1 + 16, 1 + 48).copy(start, 16)
  await req.vendor(s, {standard_id: 3, vendor_id: Buffer.from([1, 0]), payload: Buffer.concat([Buffer.from([PCI_PROTOCOL_ID_TDISP]), start])})
  assert.is(dev.rec.tdi.state, 'RUN')
  await req.endSession(s)
})

test('a tampered signature or MAC is an authenticity failure on the requester side (exit 3)', async () => {
  const dev = device()
  const rsp = deviceResponder(dev)
  let flip = false
  const port: DoePort = {
    exchange: async (p) => {
      const out = rsp.handleDoe(p)
      if (flip && out[8 + 1] === SpdmResponse.MEASUREMENTS) out[out.length - 5] ^= 1
      return out
    },
  }
  const req = new SpdmRequester(port, {leaf_key: leafKeyFromChain})
  await req.negotiate()
  await req.getCertificate()
  flip = true
  try {
    await req.getMeasurements(Buffer.alloc(32))
    assert.unreachable()
  } catch (error) {
    assert.instance(error, ProtocolError)
    assert.is((error as ProtocolError).exit, 3)
  }
})

test('responder refusals: order, version, capabilities, unknown codes, sessions', async () => {
  const r = deviceResponder(device())
  assert.is(errorCode(plain(r, spdmHeader(0x12, SpdmRequest.GET_DIGESTS))), SpdmErrorCode.UnexpectedRequest)
  assert.is(errorCode(plain(r, spdmHeader(0x12, 0x42))), SpdmErrorCode.UnsupportedRequest)
  assert.is(errorCode(plain(r, spdmHeader(0x11, SpdmRequest.GET_VERSION))), SpdmErrorCode.VersionMismatch)
  plain(r, spdmHeader(0x10, SpdmRequest.GET_VERSION))
  const caps = Buffer.alloc(20)
  spdmHeader(0x11, SpdmRequest.GET_CAPABILITIES).copy(caps)
  assert.is(errorCode(plain(r, caps)), SpdmErrorCode.VersionMismatch)
  spdmHeader(0x13, SpdmRequest.GET_CAPABILITIES).copy(caps)
  caps.writeUInt32LE(0x40, 8) // ENCRYPT without KEY_EX
  caps.writeUInt32LE(0x1200, 12)
  caps.writeUInt32LE(0x1200, 16)
  assert.is(errorCode(plain(r, caps)), SpdmErrorCode.InvalidRequest)
  caps.writeUInt32LE(0, 8)
  caps.writeUInt32LE(0x2000, 16) // DataTransferSize ≠ MaxSPDMmsgSize without CHUNK
  assert.is(errorCode(plain(r, caps)), SpdmErrorCode.InvalidRequest)
  caps.writeUInt32LE(0x1200, 16)
  assert.is(plain(r, caps)[1], SpdmResponse.CAPABILITIES)
  assert.is(errorCode(plain(r, caps)), SpdmErrorCode.UnexpectedRequest)
  // in-session-only requests outside a session
  const {req, rsp} = pair()
  await req.negotiate()
  for (const code of [SpdmRequest.HEARTBEAT, SpdmRequest.KEY_UPDATE, SpdmRequest.END_SESSION, SpdmRequest.FINISH]) assert.is(errorCode(plain(rsp, spdmHeader(0x13, code))), SpdmErrorCode.SessionRequired)
  // TDISP outside a session
  const vdm = Buffer.concat([spdmHeader(0x13, SpdmRequest.VENDOR_DEFINED_REQUEST), hex('030002010017000110'), tdispHeader(TdispRequest.GET_TDISP_VERSION, 0xbeef).subarray(1)])
  assert.is(errorCode(plain(rsp, vdm)), SpdmErrorCode.SessionRequired)
})

test('a record that does not authenticate ends the session with DecryptError', async () => {
  const {req, rsp} = pair()
  await req.negotiate()
  await req.getCertificate()
  const s = await req.startSession()
  const rec = sealRecord({...s.req}, s.id, spdmHeader(0x13, SpdmRequest.HEARTBEAT))
  rec[rec.length - 1] ^= 0x80
  const out = decodeDoe(rsp.handleDoe(encodeDoe(DoeType.SECURED_SPDM, rec)))
  assert.is(out.type, DoeType.SPDM)
  assert.is(errorCode(out.data), SpdmErrorCode.DecryptError)
  assert.is(rsp.sessions.size, 0)
  try {
    await req.heartbeat(s)
    assert.unreachable()
  } catch (error) {
    assert.is((error as ProtocolError).spdm_error, SpdmErrorCode.InvalidRequest)
  }
})

test('an endless run of unsigned GET_MEASUREMENTS cannot grow the kept transcript past its cap', async () => {
  const {req, rsp} = pair()
  await req.negotiate()
  const unsigned = Buffer.concat([spdmHeader(0x13, SpdmRequest.GET_MEASUREMENTS, 0, 0xff), Buffer.alloc(8)])
  let refused = 0
  for (let i = 0; i < 200; i++) if (errorCode(plain(rsp, unsigned)) === SpdmErrorCode.Unspecified) refused++
  assert.ok(refused >= 1 && refused < 200, `${refused} refusals`)
  assert.ok(rsp.messageM.reduce((n, b) => n + b.length, 0) <= 0x10000)
})

test('the leaf key the requester checks with is the chain leaf', () => {
  const dev = device()
  const chain = Buffer.concat([Buffer.alloc(4), Buffer.alloc(48), dev.chain.root, dev.chain.intermediate, dev.chain.leaf])
  chain.writeUInt16LE(chain.length, 0)
  const k = leafKeyFromChain(chain, 'sha384')
  assert.ok(k.export({format: 'der', type: 'spki'}).equals(new X509Certificate(dev.chain.leaf).publicKey.export({format: 'der', type: 'spki'})))
})

test.run()
