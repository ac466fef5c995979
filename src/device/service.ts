/**
 * Device operations on the state directory, each one transaction under the state lock
 * (withPlatform): a refused TDISP transition or a failed verification throws before anything is
 * saved, so the device stays where it was. Devices exist only on a TDISP-capable profile
 * (tdx-connect); doc.devices is created with the defaults the first time a device command runs.
 */
import {randomBytes} from 'node:crypto'
import {ExitCode, InputError, RefusedError, TdxkitError} from '../errors.js'
import {initPlatform, profileInfo, withPlatform, type Platform} from '../module/platform.js'
import type {StateStore} from '../state/store.js'
import {tdiStateName, type TdiStateName} from '../abi/tdisp.js'
import {SPDM_NONCE_SIZE} from '../abi/spdm.js'
import {DeviceRuntime} from './device.js'
import {decodeCorim, type CorimDocument} from './corim.js'
import {decodeEvidence, encodeEvidence, type EvidenceBundle} from './evidence.js'
import {modelSpec} from './models.js'
import {goldenReference, referenceSigningKey} from './reference.js'
import {addDevice, assertDevicesSection, createDefaultDevices, findDevice, type AddDeviceOptions, type DeviceRecord, type DevicesSection} from './registry.js'
import {TSM_HASH, tsmCollect, tsmLock, tsmReadState, tsmStart, tsmStop} from './tsm.js'
import {verifyDeviceEvidence, type DevicePolicy, type Verdict} from './verifier.js'
import type {TrustAnchor} from './chain.js'

export interface DeviceContext {
  platform: Platform
  seed: string
  section: DevicesSection
  /** doc.devices was created (defaults) in this transaction */
  defaults_created: boolean
}

/** Run fn with the devices section loaded under the state lock; refuses non-TDISP profiles. */
export async function withDevices<T>(store: StateStore, fn: (ctx: DeviceContext) => T | Promise<T>): Promise<{result: T; platform_created: boolean; defaults_created: boolean}> {
  let defaultsCreated = false
  // Device commands need TDX Connect: on an empty state directory create a tdx-connect platform
  // (instead of the generic default profile, which has no TDISP).
  let connectCreated = false
  if (!store.load()?.module) {
    try {
      await initPlatform(store, {profile: 'tdx-connect'})
      connectCreated = true
    } catch (error) {
      if (!(error instanceof TdxkitError && error.code === 'PLATFORM_EXISTS')) throw error
    }
  }
  const {result, created} = await withPlatform(store, async (p) => {
    if (!profileInfo(p.profile).tdisp) {
      throw new RefusedError('TDISP_UNSUPPORTED', `the ${p.profile} platform has no TDISP devices; create a TDX Connect platform with 'tdxkit module init --profile tdx-connect'`)
    }
    const doc = p.doc as typeof p.doc & {devices?: unknown}
    if (doc.devices === undefined) {
      doc.devices = createDefaultDevices(p.doc.module.seed)
      defaultsCreated = true
    }
    assertDevicesSection(doc.devices, store.file)
    return fn({platform: p, seed: p.doc.module.seed, section: doc.devices, defaults_created: defaultsCreated})
  })
  return {result, platform_created: created || connectCreated, defaults_created: defaultsCreated}
}

export interface DeviceSummary {
  id: string
  bdf: string
  model: string
  product: string
  vendor_id: string
  device_id: string
  firmware: string
  tdi_state: TdiStateName
  accepted: boolean
  lock_generation: number
  faults: string[]
  bars: Array<{index: number; base: string; size: string}>
}

export function summarize(rec: DeviceRecord): DeviceSummary {
  const spec = modelSpec(rec.model)!
  return {
    id: rec.id,
    bdf: rec.bdf,
    model: rec.model,
    product: spec.product,
    vendor_id: '0x' + spec.vendor_id.toString(16).padStart(4, '0'),
    device_id: '0x' + spec.device_id.toString(16).padStart(4, '0'),
    firmware: rec.firmware_version,
    tdi_state: rec.tdi.state,
    accepted: rec.accepted,
    lock_generation: rec.tdi.lock_generation,
    faults: rec.faults,
    bars: rec.bars,
  }
}

export async function listDevices(store: StateStore) {
  return withDevices(store, (ctx) => ctx.section.devices.map(summarize))
}

export async function addDeviceOp(store: StateStore, opts: AddDeviceOptions) {
  return withDevices(store, (ctx) => summarize(addDevice(ctx.section, ctx.seed, opts)))
}

export async function lockDevice(store: StateStore, id: string) {
  return withDevices(store, (ctx) => {
    const rec = findDevice(ctx.section, id)
    const outcome = tsmLock(new DeviceRuntime(ctx.seed, rec))
    return {...outcome, device: summarize(rec)}
  })
}

export async function unlockDevice(store: StateStore, id: string) {
  return withDevices(store, (ctx) => {
    const rec = findDevice(ctx.section, id)
    const from = rec.tdi.state
    tsmStop(new DeviceRuntime(ctx.seed, rec))
    return {from, device: summarize(rec)}
  })
}

/** Fresh 32-byte verifier nonce, or the one given (must be 32 bytes). */
export function evidenceNonce(nonce?: Buffer): Buffer {
  if (nonce === undefined) return randomBytes(SPDM_NONCE_SIZE)
  if (nonce.length !== SPDM_NONCE_SIZE) throw new InputError('BAD_NONCE', `nonce must be ${SPDM_NONCE_SIZE} bytes (${SPDM_NONCE_SIZE * 2} hex digits), got ${nonce.length}`)
  return nonce
}

function collect(seed: string, rec: DeviceRecord, nonce: Buffer): EvidenceBundle {
  const spec = modelSpec(rec.model)!
  const c = tsmCollect(new DeviceRuntime(seed, rec), nonce)
  return {
    device: {id: rec.id, bdf: rec.bdf, function_id: rec.function_id, model: rec.model, vendor_id: spec.vendor_id, device_id: spec.device_id},
    pci: {bars: rec.bars.map((b) => ({index: b.index, size: BigInt(b.size)}))},
    nonce,
    objects: new Map(Object.entries(c.objects).map(([k, v]) => [Number(k), v])),
    tsm: {
      hash_alg: TSM_HASH,
      tdi_state: c.tdi_state,
      lock_generation: c.lock_generation,
      evidence_generation: c.evidence_generation,
      digests: new Map(Object.entries(c.digests).map(([k, v]) => [Number(k), v])),
    },
  }
}

export async function collectEvidence(store: StateStore, id: string, nonce?: Buffer) {
  return withDevices(store, (ctx) => {
    const rec = findDevice(ctx.section, id)
    const bundle = collect(ctx.seed, rec, evidenceNonce(nonce))
    return {bundle, bytes: encodeEvidence(bundle)}
  })
}

export async function exportReference(store: StateStore, id: string, opts: {sign?: boolean} = {}) {
  return withDevices(store, (ctx) => {
    const rec = findDevice(ctx.section, id)
    const spec = modelSpec(rec.model)!
    const bytes = goldenReference(ctx.seed, spec, opts)
    const signer = opts.sign ? referenceSigningKey(ctx.seed, spec).key.export({format: 'jwk'}) : undefined
    return {bytes, signer_jwk: signer, document: decodeCorim(bytes)}
  })
}

export interface AcceptOptions {
  /** a bundle file's bytes; without it fresh evidence is collected now */
  evidence?: Buffer
  /** CoRIM bytes; without it the device's golden reference values */
  reference?: Buffer
  reference_doc?: CorimDocument
  anchors?: TrustAnchor[]
  policy?: Partial<DevicePolicy>
  at?: Date
}

/** Error for a failed verification: exit 3 (authenticity) or 6 (policy), the verdict in detail. */
export class DeviceVerificationError extends TdxkitError {
  constructor(readonly verdict: Verdict) {
    const first = verdict.steps.find((s) => s.status === 'fail')!
    super(
      verdict.exit_code === ExitCode.AUTHENTICITY ? 'DEVICE_AUTHENTICITY_FAILED' : 'DEVICE_POLICY_VIOLATED',
      `device ${verdict.device.id}: ${first.id} failed: ${first.detail}`,
      {exit: verdict.exit_code, step: first.id, detail: {verdict}},
    )
  }
}

/**
 * `device accept`: refuse unless the TDI is CONFIG_LOCKED (exit 7), verify evidence (given or
 * collected now) bound to the live TSM digests against the reference values, then
 * START_INTERFACE → RUN. A failed verification throws DeviceVerificationError (3/6) and nothing
 * changes.
 */
export async function acceptDevice(store: StateStore, id: string, opts: AcceptOptions = {}) {
  return withDevices(store, (ctx) => {
    const rec = findDevice(ctx.section, id)
    const dev = new DeviceRuntime(ctx.seed, rec)
    const state = tsmReadState(dev)
    if (rec.tdi.state !== 'CONFIG_LOCKED') {
      const hint = rec.tdi.state === 'CONFIG_UNLOCKED' ? `run 'tdxkit device lock ${rec.id}' first` : rec.tdi.state === 'RUN' ? 'it is already running' : `recover with 'tdxkit device unlock ${rec.id}' and lock it again`
      throw new RefusedError('TDI_NOT_LOCKED', `device ${rec.id} is ${tdiStateName(state)}: TDISP refuses START_INTERFACE outside CONFIG_LOCKED; ${hint}`, {
        detail: {tdi_state: tdiStateName(state)},
      })
    }
    const bundle = opts.evidence ? decodeEvidence(opts.evidence) : collect(ctx.seed, rec, evidenceNonce())
    if (bundle.device.id !== rec.id) throw new InputError('EVIDENCE_OTHER_DEVICE', `evidence is for device ${bundle.device.id}, not ${rec.id}`)
    const reference = opts.reference_doc ?? decodeCorim(opts.reference ?? goldenReference(ctx.seed, modelSpec(rec.model)!))
    const tsm = rec.tsm!
    const verdict = verifyDeviceEvidence({
      evidence: bundle,
      reference,
      anchors: opts.anchors,
      policy: opts.policy,
      at: opts.at ?? new Date(),
      tsm: {
        hash_alg: TSM_HASH,
        tdi_state: state,
        lock_generation: rec.tdi.lock_generation,
        evidence_generation: tsm.evidence_generation ?? 0,
        digests: new Map(Object.entries(tsm.digests ?? {}).map(([k, v]) => [Number(k), Buffer.from(v, 'hex')])),
        source: 'the live TSM (TDG.TDI.RD)',
      },
    })
    if (!verdict.ok) throw new DeviceVerificationError(verdict)
    tsmStart(dev)
    const after = tsmReadState(dev)
    rec.accepted = true
    return {verdict, tdi_state: tdiStateName(after), device: summarize(rec)}
  })
}
