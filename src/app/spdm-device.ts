/**
 * Device use cases on the wire: `device serve` (a simulated device answering SPDM/TDISP/IDE_KM —
 * and, for a CXL device, CXL IDE_KM/TSP — over the spdm-emu socket protocol, its TDI and TSP state
 * written back to the state directory on every transition) and `device attest` (tdxkit as
 * requester/TSM against any responder, writing an evidence bundle).
 */
import {createPrivateKey, createPublicKey, type KeyObject} from 'node:crypto'
import {InputError, TdxkitError} from '../errors.js'
import type {StateStore} from '../state/store.js'
import type {TdiStateName} from '../abi/tdisp.js'
import {DeviceRuntime} from '../device/device.js'
import {IdeKmPort} from '../device/ide-km.js'
import {CxlIdeKmPort} from '../device/cxl-ide-km.js'
import {encodeEvidence} from '../device/evidence.js'
import {attestOverSpdm, type RemoteOptions, type RemoteOutcome} from '../device/remote.js'
import {findDevice, type DeviceRecord} from '../device/registry.js'
import {summarize, type DeviceSummary} from '../device/service.js'
import {withDevices} from './device.js'
import {deviceResponder, keyAsym, keySigner} from '../device/spdm-responder.js'
import type {SpdmIdentity} from '../spdm/context.js'
import type {SpdmEvent} from '../spdm/responder.js'
import {parseCert, type Cert} from '../x509/cert.js'
import {OPEN_PROFILE} from '../x509/profile.js'
import {certificatesOf} from './device-inputs.js'
import {connectEmu, parseHostPort} from './spdm-client.js'
import {startSpdmServer, type ServerLog, type SpdmServer} from './spdm-server.js'

/** An identity from files: a chain (DER concatenation or PEM, root first) and the leaf's EC private key. */
export function identityFromFiles(chainBytes: Buffer, keyBytes: Buffer, where: string): SpdmIdentity {
  let certs: Buffer[]
  try {
    certs = certificatesOf(chainBytes)
  } catch (error) {
    throw new InputError('BAD_IDENTITY', `${where}: the chain is not DER or PEM certificates (${(error as Error).message})`)
  }
  let leaf: Cert
  try {
    leaf = parseCert(certs[certs.length - 1], OPEN_PROFILE)
  } catch {
    throw new InputError('BAD_IDENTITY', `${where}: the leaf certificate does not parse`)
  }
  let key: KeyObject | undefined
  for (const attempt of [() => createPrivateKey(keyBytes), () => createPrivateKey({key: keyBytes, format: 'der', type: 'pkcs8'}), () => createPrivateKey({key: keyBytes, format: 'der', type: 'sec1'})]) {
    try {
      key = attempt()
      break
    } catch {
      // try the next encoding
    }
  }
  const asym = key ? keyAsym(key) : undefined
  if (!key || asym === undefined) throw new InputError('BAD_IDENTITY', `${where}: the key is not an EC P-256/P-384/P-521 private key (PEM or DER)`)
  const pub = (k: KeyObject) => k.export({type: 'spki', format: 'der'}) as Buffer
  if (!pub(leaf.publicKey).equals(pub(createPublicKey(key)))) throw new InputError('BAD_IDENTITY', `${where}: the key does not belong to the chain's leaf certificate`)
  return {certs, signer: keySigner(key, asym)}
}

export interface ServeEvent {
  kind: 'spdm' | 'tdisp' | 'tsp' | 'connection' | 'persist-error'
  detail: string
  data: Record<string, unknown>
}

export interface ServeOptions {
  device: string
  host?: string
  port?: number
  identity?: SpdmIdentity
  once?: boolean
  max_connections?: number
  idle_timeout_ms?: number
  /** heartbeat period announced to requesters (seconds, 0 = none) */
  heartbeat_period?: number
  on_event?: (e: ServeEvent) => void
}

/** Heartbeat period a served device announces unless told otherwise (seconds). */
export const DEFAULT_HEARTBEAT_PERIOD = 60

/** The part of a served device's record its wire protocols change: TDI state, and a CXL device's TSP state. */
const wireState = (rec: DeviceRecord): string => JSON.stringify({tdi: rec.tdi, cxl: rec.cxl})

/** Write the in-memory TDI (and TSP) state of a served device back to the state directory. */
async function persistTdi(store: StateStore, rec: DeviceRecord): Promise<void> {
  await withDevices(store, (ctx) => {
    const stored = findDevice(ctx.section, rec.id)
    stored.tdi = structuredClone(rec.tdi)
    if (rec.cxl) stored.cxl = structuredClone(rec.cxl)
    stored.evidence_generation = Math.max(stored.evidence_generation, rec.evidence_generation)
    if (rec.tdi.state !== 'RUN') stored.accepted = false
    if (rec.tdi.state === 'CONFIG_UNLOCKED') stored.tsm = undefined
  })
}

/** `device serve`: listen and answer for one device until closed. */
export async function serveDevice(store: StateStore, opts: ServeOptions): Promise<{server: SpdmServer; device: DeviceSummary}> {
  const {result} = await withDevices(store, (ctx) => ({seed: ctx.seed, rec: structuredClone(findDevice(ctx.section, opts.device))}))
  const rec = result.rec
  const dev = new DeviceRuntime(result.seed, rec)
  const ide = new IdeKmPort(rec.function_id)
  const cxlIde = dev.spec.cxl ? new CxlIdeKmPort(rec.function_id, dev.spec.cxl) : undefined
  const emit = (e: ServeEvent) => opts.on_event?.(e)
  let persisted: TdiStateName = rec.tdi.state
  let persistedTsp = rec.cxl?.tsp_state
  let lastState = wireState(rec)
  let writes: Promise<void> = Promise.resolve()
  const settle = async () => {
    const now = wireState(rec)
    if (now === lastState) return writes
    lastState = now
    const from = persisted
    persisted = rec.tdi.state
    if (from !== rec.tdi.state) emit({kind: 'tdisp', detail: `${from} → ${rec.tdi.state}`, data: {from, to: rec.tdi.state, lock_generation: rec.tdi.lock_generation}})
    const tspFrom = persistedTsp
    persistedTsp = rec.cxl?.tsp_state
    if (rec.cxl && tspFrom !== rec.cxl.tsp_state) emit({kind: 'tsp', detail: `${tspFrom} → ${rec.cxl.tsp_state}`, data: {from: tspFrom, to: rec.cxl.tsp_state, lock_generation: rec.cxl.tsp_lock_generation}})
    writes = writes.then(() => persistTdi(store, rec)).catch((error: unknown) => {
      emit({kind: 'persist-error', detail: error instanceof TdxkitError ? error.message : String(error), data: {}})
    })
    return writes
  }
  const onSpdm = (e: SpdmEvent) => emit({kind: 'spdm', detail: `${e.kind} ${e.request}${e.error ? ` → ${e.error}` : ''}${e.detail ? ` (${e.detail})` : ''}`, data: {...e}})
  const server = await startSpdmServer({
    host: opts.host,
    port: opts.port,
    once: opts.once,
    max_connections: opts.max_connections,
    idle_timeout_ms: opts.idle_timeout_ms,
    on_log: (l: ServerLog) => emit({kind: 'connection', detail: `${l.kind} ${l.peer}${l.detail ? ` (${l.detail})` : ''}`, data: {...l}}),
    connection: () => {
      const r = deviceResponder(dev, {ide, cxl_ide: cxlIde, identity: opts.identity, on_event: onSpdm, heartbeat_period: opts.heartbeat_period ?? DEFAULT_HEARTBEAT_PERIOD, now: Date.now})
      return {handle: (p) => r.handleDoe(p), settle}
    },
  })
  server.done.then(() => writes).catch(() => undefined)
  return {server, device: summarize(rec)}
}

export interface AttestOptions extends Omit<RemoteOptions, 'random'> {
  connect: string
  timeout_ms?: number
  /** how to leave the peer: SHUTDOWN (an emulator exits) or CONTINUE */
  end?: 'shutdown' | 'continue'
}

/** `device attest`: connect, run the requester flow, return the outcome and the bundle's bytes. */
export async function attestDevice(opts: AttestOptions): Promise<{outcome: RemoteOutcome; bytes: Buffer}> {
  const {host, port} = parseHostPort(opts.connect)
  const client = await connectEmu(host, port, {timeout_ms: opts.timeout_ms})
  let outcome: RemoteOutcome
  try {
    outcome = await attestOverSpdm(client, opts)
  } catch (error) {
    client.destroy()
    throw error
  }
  await client.end(opts.end ?? 'shutdown').catch(() => undefined)
  return {outcome, bytes: encodeEvidence(outcome.bundle)}
}

