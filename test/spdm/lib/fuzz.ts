/**
 * The SPDM responder fuzz target: malformed DOE frames, SPDM messages mutated from a corpus of good
 * requests (bit flips, truncation, extension, random fields, swapped codes), sequences that jump the
 * state machine, garbage and tampered secured records, all against one tdxkit device responder;
 * plus raw socket abuse against the server. Every input must get an answer (an SPDM ERROR is fine),
 * nothing may throw or stall, and a well-formed requester must still complete afterwards.
 * Deterministic from the seed (mulberry32).
 */
import {prng} from '../../safety/helpers.js'
import {DeviceRuntime} from '../../../src/device/device.js'
import {addDevice, type DevicesSection} from '../../../src/device/registry.js'
import {deviceResponder} from '../../../src/device/spdm-responder.js'
import {leafKeyFromChain} from '../../../src/device/remote.js'
import {SpdmRequester, type DoePort, type RequesterSession} from '../../../src/spdm/requester.js'
import type {SpdmResponder} from '../../../src/spdm/responder.js'
import {sealRecord} from '../../../src/spdm/secured.js'
import {decodeDoe, encodeDoe} from '../../../src/spdm/transport.js'
import {DoeType} from '../../../src/abi/doe.js'
import {SpdmRequest, spdmHeader} from '../../../src/abi/spdm.js'
import {PCI_PROTOCOL_ID_IDE_KM, PCI_PROTOCOL_ID_TDISP, TdispRequest, tdispHeader} from '../../../src/abi/tdisp.js'

/** Deterministic inputs from the seed (the suite's mulberry32). */
export const rng = prng

export interface FuzzStats {
  inputs: number
  errors_answered: number
  secured_answered: number
  crashes: number
  hangs: number
  slowest_ms: number
  final_flow_ok: boolean
  findings: string[]
}

/** Mutate a message: flip bits, truncate, extend, overwrite a field, or change the code/version. */
export function mutate(r: () => number, msg: Buffer): Buffer {
  const b = Buffer.from(msg)
  const pick = (n: number) => Math.floor(r() * n)
  switch (pick(7)) {
    case 0:
      for (let i = 0, n = 1 + pick(4); i < n && b.length; i++) b[pick(b.length)] ^= 1 << pick(8)
      return b
    case 1:
      return b.subarray(0, pick(b.length + 1))
    case 2:
      return Buffer.concat([b, Buffer.from(Array.from({length: 1 + pick(64)}, () => pick(256)))])
    case 3: {
      if (b.length < 2) return b
      const at = pick(b.length - 1)
      const v = [0, 0xff, 0xffff, pick(65536)][pick(4)]
      b.writeUInt16LE(v, at)
      return b
    }
    case 4:
      if (b.length > 1) b[1] = [0x81, 0x82, 0x83, 0x84, 0xe0, 0xe1, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xec, 0xfe, pick(256)][pick(14)]
      return b
    case 5:
      if (b.length) b[0] = [0x10, 0x11, 0x12, 0x13, 0x14, pick(256)][pick(6)]
      return b
    default:
      return Buffer.from(Array.from({length: pick(96)}, () => pick(256)))
  }
}

/** The fuzzed device: a CXL memory device, so PCI-SIG TDISP / IDE_KM and CXL IDE_KM / TSP handlers are all in reach. */
function device(): DeviceRuntime {
  const s: DevicesSection = {version: 1, devices: []}
  return new DeviceRuntime('fuzz-seed', addDevice(s, 'fuzz-seed', {model: 'cxl-mem', bdf: 'be:1d.7'}))
}

/** Good requests of every kind, recorded from a real requester run, to mutate. */
async function corpus(): Promise<Buffer[]> {
  const dev = device()
  const rsp = deviceResponder(dev)
  const seen: Buffer[] = []
  const port: DoePort = {
    exchange: async (p) => {
      const o = decodeDoe(p)
      if (o.type === DoeType.SPDM) seen.push(Buffer.from(o.data))
      return rsp.handleDoe(p)
    },
  }
  const req = new SpdmRequester(port, {leaf_key: leafKeyFromChain})
  await req.negotiate()
  await req.getDigests()
  await req.getCertificate()
  await req.challenge()
  await req.getMeasurements(Buffer.alloc(32, 3))
  await req.startSession()
  const fid = dev.rec.function_id
  const vdm = (proto: number, body: Buffer, vendor = [1, 0]) => Buffer.concat([spdmHeader(0x13, SpdmRequest.VENDOR_DEFINED_REQUEST), Buffer.from([3, 0, 2, ...vendor]), u16(body.length + 1), Buffer.from([proto]), body])
  const cxl = (proto: number, hex: string) => seen.push(vdm(proto, Buffer.from(hex, 'hex'), [0x98, 0x1e]))
  for (const t of [TdispRequest.GET_TDISP_VERSION, TdispRequest.GET_DEVICE_INTERFACE_STATE, TdispRequest.STOP_INTERFACE_REQUEST]) seen.push(vdm(PCI_PROTOCOL_ID_TDISP, tdispHeader(t, fid)))
  seen.push(vdm(PCI_PROTOCOL_ID_TDISP, tdispHeader(TdispRequest.LOCK_INTERFACE_REQUEST, fid, 36)))
  seen.push(vdm(PCI_PROTOCOL_ID_TDISP, tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_REPORT, fid, 20)))
  seen.push(vdm(PCI_PROTOCOL_ID_IDE_KM, Buffer.from([0, 0, 0])))
  seen.push(vdm(PCI_PROTOCOL_ID_IDE_KM, Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 1]), Buffer.alloc(40)])))
  // CXL IDE_KM (protocol 0): QUERY, GET_KEY, KEY_PROG, K_SET_GO; CXL TSP (protocol 1): version, capabilities, configuration, report, lock, TE state
  for (const m of ['000000', '07000000008000', '04000000008000']) cxl(0, m)
  cxl(0, '02000000008800' + '11'.repeat(44))
  for (const m of ['10810000', '10820000', '10840000', '1085000000004000', '10860000', '108d01010000000000000000000000000000100000000000000001000000000000']) cxl(1, m)
  cxl(1, '108301000200000000000000160000000000000000000000010000000000000000000000' + '00'.repeat(352 - 36))
  for (const c of [SpdmRequest.HEARTBEAT, SpdmRequest.END_SESSION]) seen.push(spdmHeader(0x13, c))
  seen.push(spdmHeader(0x13, SpdmRequest.KEY_UPDATE, 2, 7))
  return seen
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(n & 0xffff)
  return b
}

interface Ctx {
  rsp: SpdmResponder
  req?: SpdmRequester
  session?: RequesterSession
}

/** Bring the connection to a random starting point: fresh, negotiated, or inside a session. */
async function setup(r: () => number, dev: DeviceRuntime): Promise<Ctx> {
  const rsp = deviceResponder(dev)
  const ctx: Ctx = {rsp}
  const stage = Math.floor(r() * 3)
  if (stage === 0) return ctx
  const req = new SpdmRequester({exchange: async (p) => rsp.handleDoe(p)}, {leaf_key: leafKeyFromChain})
  await req.negotiate()
  ctx.req = req
  if (stage === 1) return ctx
  await req.getCertificate()
  ctx.session = await req.startSession()
  return ctx
}

/** One input against the responder: returns the time it took; throws on a malformed answer. */
function feed(ctx: Ctx, r: () => number, base: Buffer[]): {ms: number; error: boolean; secured: boolean} {
  const msg = mutate(r, base[Math.floor(r() * base.length)])
  let payload: Buffer
  const kind = r()
  if (ctx.session && kind < 0.5) payload = encodeDoe(DoeType.SECURED_SPDM, sealRecord(ctx.session.req, ctx.session.id, msg))
  else if (kind < 0.6) payload = encodeDoe(DoeType.SECURED_SPDM, mutate(r, Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), msg])))
  else if (kind < 0.7) payload = mutate(r, encodeDoe(DoeType.SPDM, msg))
  else payload = encodeDoe(DoeType.SPDM, msg)
  const t = performance.now()
  const out = ctx.rsp.handleDoe(payload)
  const ms = performance.now() - t
  const o = decodeDoe(out)
  // a mutation can turn a frame into a well-formed DOE Discovery request, which rightly gets a Discovery answer
  const askedDiscovery = (() => {
    try {
      return decodeDoe(payload).type === DoeType.DISCOVERY
    } catch {
      return false
    }
  })()
  if (o.type !== DoeType.SPDM && o.type !== DoeType.SECURED_SPDM && !(askedDiscovery && o.type === DoeType.DISCOVERY)) throw new Error(`answer is DOE type ${o.type}`)
  return {ms, error: o.type === DoeType.SPDM && o.data[1] === 0x7f, secured: o.type === DoeType.SECURED_SPDM}
}

/** Engine campaign: `runs` inputs in sequences of up to 32 against fresh or advanced connections. */
export async function fuzzEngine(runs: number, seed: number, budgetMs = 2000): Promise<FuzzStats> {
  const r = rng(seed)
  const base = await corpus()
  const dev = device()
  const st: FuzzStats = {inputs: 0, errors_answered: 0, secured_answered: 0, crashes: 0, hangs: 0, slowest_ms: 0, final_flow_ok: false, findings: []}
  while (st.inputs < runs) {
    const ctx = await setup(r, dev)
    const len = 1 + Math.floor(r() * 32)
    for (let i = 0; i < len && st.inputs < runs; i++) {
      st.inputs++
      try {
        const f = feed(ctx, r, base)
        st.slowest_ms = Math.max(st.slowest_ms, f.ms)
        if (f.ms > budgetMs) {
          st.hangs++
          st.findings.push(`input ${st.inputs}: ${f.ms.toFixed(0)} ms`)
        }
        if (f.error) st.errors_answered++
        if (f.secured) st.secured_answered++
      } catch (error) {
        st.crashes++
        if (st.findings.length < 20) st.findings.push(`input ${st.inputs} (seed ${seed}): ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}`)
      }
    }
  }
  st.final_flow_ok = await goodFlow(deviceResponder(dev))
  return st
}

/** A well-formed requester's whole flow against a responder. */
export async function goodFlow(rsp: SpdmResponder | DoePort): Promise<boolean> {
  const port: DoePort = 'exchange' in rsp ? rsp : {exchange: async (p) => rsp.handleDoe(p)}
  const req = new SpdmRequester(port, {leaf_key: leafKeyFromChain})
  await req.negotiate()
  await req.getCertificate()
  await req.challenge()
  await req.getMeasurements(Buffer.alloc(32, 9))
  const s = await req.startSession()
  await req.heartbeat(s)
  await req.keyUpdate(s)
  await req.endSession(s)
  return true
}

export interface SocketFuzzStats {
  frames: number
  /** random bytes that may not even complete a frame header: sent, then the client hangs up */
  garbage: number
  answered: number
  closed_by_server: number
  no_answer: number
  server_alive: boolean
}

/**
 * Socket campaign: `frames` abusive frames from `clients` concurrent connections (random bytes,
 * oversized headers, wrong transport types, unknown commands, mutated DOE/SPDM payloads, early
 * closes). Each frame must be answered or the connection closed by the server within `budgetMs`.
 */
export async function fuzzSocket(port: number, frames: number, seed: number, clients = 4, budgetMs = 3000): Promise<SocketFuzzStats> {
  const {connect} = await import('node:net')
  const {encodeEmuFrame, EmuCommand, EmuTransport} = await import('../../../src/abi/doe.js')
  const r = rng(seed)
  const base = await corpus()
  const st: SocketFuzzStats = {frames: 0, garbage: 0, answered: 0, closed_by_server: 0, no_answer: 0, server_alive: false}
  const oneFrame = (): Buffer | undefined => {
    const k = r()
    const msg = encodeDoe(DoeType.SPDM, mutate(r, base[Math.floor(r() * base.length)]))
    if (k < 0.05) return undefined
    if (k < 0.1) return encodeEmuFrame({command: EmuCommand.NORMAL, transport: EmuTransport.PCI_DOE, payload: Buffer.alloc(0)}).fill(0xff, 8, 12)
    if (k < 0.15) return encodeEmuFrame({command: EmuCommand.NORMAL, transport: Math.floor(r() * 5), payload: msg})
    if (k < 0.2) return encodeEmuFrame({command: Math.floor(r() * 0x10000), transport: EmuTransport.PCI_DOE, payload: msg})
    return encodeEmuFrame({command: EmuCommand.NORMAL, transport: EmuTransport.PCI_DOE, payload: k < 0.5 ? mutate(r, msg) : msg})
  }
  const worker = async (): Promise<void> => {
    while (st.frames < frames) {
      const sock = connect({host: '127.0.0.1', port})
      sock.setNoDelay(true)
      await new Promise<void>((res) => {
        sock.once('connect', () => res())
        sock.once('error', () => res())
      })
      let open = !sock.destroyed
      let got = 0
      sock.on('data', () => got++)
      sock.on('close', () => (open = false))
      sock.on('error', () => (open = false))
      const perConn = 1 + Math.floor(r() * 20)
      for (let i = 0; i < perConn && open && st.frames < frames; i++) {
        st.frames++
        const before = got
        const frame = oneFrame()
        if (!frame) {
          st.garbage++
          sock.write(Buffer.from(Array.from({length: 1 + Math.floor(r() * 40)}, () => Math.floor(r() * 256))))
          break
        }
        sock.write(frame)
        const until = Date.now() + budgetMs
        while (open && got === before && Date.now() < until) await new Promise((res) => setTimeout(res, 1))
        if (got > before) st.answered++
        else if (!open) st.closed_by_server++
        else {
          st.no_answer++
          break
        }
      }
      sock.destroy()
    }
  }
  await Promise.all(Array.from({length: clients}, worker))
  const {connectEmu} = await import('../../../src/app/spdm-client.js')
  const good = await connectEmu('127.0.0.1', port)
  st.server_alive = await goodFlow(good)
  await good.end('continue')
  return st
}
