/**
 * Device operations on the devices section (doc.devices) of a TDX Connect platform: list, add,
 * lock, unlock, collect evidence, export reference values, verify and accept. Each mutates the
 * section it is given or throws before changing anything (a refused TDISP transition, a failed
 * verification), so the caller's transaction (src/app/device.ts) saves only what succeeded.
 */
import {randomBytes} from 'node:crypto'
import {ExitCode, InputError, RefusedError, TdxkitError} from '../errors.js'
import {tdiStateName, type TdiStateName} from '../abi/tdisp.js'
import {SPDM_NONCE_SIZE} from '../abi/spdm.js'
import {DeviceRuntime} from './device.js'
import {decodeCorim, type CorimDocument} from './corim.js'
import {decodeEvidence, encodeEvidence, type EvidenceBundle} from './evidence.js'
import {modelSpec} from './models.js'
import {goldenReference, referenceSigningKey} from './reference.js'
import {addDevice, findDevice, unlockedCxl, unlockedTdi, type AddDeviceOptions, type DeviceRecord, type DevicesSection, type TspConfigurationRecord} from './registry.js'
import {TSM_HASH, tsmCollect, tsmLock, tsmReadState, tsmStart, tsmStop, type TsmLimits} from './tsm.js'
import {verifyDeviceEvidence, type DevicePolicy, type Verdict} from './verifier.js'
import type {TrustAnchor} from './chain.js'

/**
 * What a device operation works on: the platform seed (device keys derive from it), doc.devices and
 * the TSM's limits from the module's sysinfo (src/app/device.ts reads them once).
 */
export interface DeviceContext {
  seed: string
  section: DevicesSection
  tsm: TsmLimits
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
  /** CXL devices only: the TSP target state, its lock count, TE ranges and configuration */
  cxl?: {tsp_state: string; tsp_lock_generation: number; te_ranges: Array<{start: string; length: string}>; configuration?: TspConfigurationRecord}
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
    ...(rec.cxl
      ? {cxl: {tsp_state: rec.cxl.tsp_state, tsp_lock_generation: rec.cxl.tsp_lock_generation, te_ranges: rec.cxl.te_ranges ?? [], ...(rec.cxl.tsp_configuration ? {configuration: rec.cxl.tsp_configuration} : {})}}
      : {}),
  }
}

export function deviceList(ctx: DeviceContext): DeviceSummary[] {
  return ctx.section.devices.map(summarize)
}

export function addDeviceTo(ctx: DeviceContext, opts: AddDeviceOptions): DeviceSummary {
  return summarize(addDevice(ctx.section, ctx.seed, opts))
}

/** LOCK_INTERFACE_REQUEST through the TSM. */
export function lockInterface(ctx: DeviceContext, id: string) {
  const rec = findDevice(ctx.section, id)
  const outcome = tsmLock(new DeviceRuntime(ctx.seed, rec), ctx.tsm)
  return {...outcome, device: summarize(rec)}
}

/** STOP_INTERFACE_REQUEST through the TSM (back to CONFIG_UNLOCKED). */
export function unlockInterface(ctx: DeviceContext, id: string) {
  const rec = findDevice(ctx.section, id)
  const from = rec.tdi.state
  tsmStop(new DeviceRuntime(ctx.seed, rec))
  return {from, device: summarize(rec)}
}

/**
 * A Conventional Reset of the device (the host resets it; no TDISP or TSP message does this): every
 * TDI returns to CONFIG_UNLOCKED, acceptance and the TSM's records are dropped, and a CXL device's
 * TSP target returns to CONFIG_UNLOCKED with no configuration and no TE ranges — the only way out of
 * a locked TSP configuration, since TSP has no unlock request. Our reading of TDISP (PCIe 6.x
 * §11.2) and CXL 3.1 §11.5 (reset clears locks); the exact clauses are UNCONFIRMED.
 */
export function resetDevice(ctx: DeviceContext, id: string) {
  const rec = findDevice(ctx.section, id)
  const from = {tdi_state: rec.tdi.state, tsp_state: rec.cxl?.tsp_state, accepted: rec.accepted}
  rec.tdi = unlockedTdi(rec.tdi.lock_generation)
  rec.accepted = false
  rec.tsm = undefined
  if (rec.cxl) rec.cxl = unlockedCxl(rec.cxl.tsp_lock_generation)
  return {from, device: summarize(rec)}
}

/**
 * Whether a device may send TEE-TLPs (T=1) for DMA: only when its TDI is in RUN and the TD accepted
 * it (TDX Connect: START_INTERFACE, then TDG.DMAR.ACCEPT; tdxkit's `device accept` does both). STOP
 * or ERROR drops acceptance, and there is no "unaccept" (TEE-IO Device Guide Fig. 1-4 and Table A-8;
 * Linux PCI/TSM: "TDISP can only go from RUN to UNLOCKED/ERROR, so there is no 'unaccept' verb").
 */
export function dmaTrust(rec: DeviceRecord): {trusted: boolean; why: string} {
  if (rec.tdi.state === 'RUN' && rec.accepted) return {trusted: true, why: `${rec.id} is RUN and accepted by the TD`}
  const accepted = rec.accepted ? 'accepted' : 'not accepted'
  return {trusted: false, why: `${rec.id} is ${rec.tdi.state}, ${accepted}`}
}

/** Fresh 32-byte verifier nonce, or the one given (must be 32 bytes). */
export function evidenceNonce(nonce?: Buffer): Buffer {
  if (nonce === undefined) return randomBytes(SPDM_NONCE_SIZE)
  if (nonce.length !== SPDM_NONCE_SIZE) throw new InputError('BAD_NONCE', `nonce must be ${SPDM_NONCE_SIZE} bytes (${SPDM_NONCE_SIZE * 2} hex digits), got ${nonce.length}`)
  return nonce
}

function collect(ctx: DeviceContext, rec: DeviceRecord, nonce: Buffer): EvidenceBundle {
  const spec = modelSpec(rec.model)!
  const c = tsmCollect(new DeviceRuntime(ctx.seed, rec), nonce, ctx.tsm)
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

/** An evidence bundle collected now (fresh nonce unless one is given). */
export function deviceEvidence(ctx: DeviceContext, id: string, nonce?: Buffer) {
  const rec = findDevice(ctx.section, id)
  const bundle = collect(ctx, rec, evidenceNonce(nonce))
  return {bundle, bytes: encodeEvidence(bundle)}
}

/** The device's golden reference values (CoRIM), optionally signed. */
export function deviceReference(ctx: DeviceContext, id: string, opts: {sign?: boolean} = {}) {
  const rec = findDevice(ctx.section, id)
  const spec = modelSpec(rec.model)!
  const bytes = goldenReference(ctx.seed, spec, opts)
  const signer = opts.sign ? referenceSigningKey(ctx.seed, spec).key.export({format: 'jwk'}) : undefined
  return {bytes, signer_jwk: signer, document: decodeCorim(bytes)}
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
 * Accept a device: refuse unless the TDI is CONFIG_LOCKED (exit 7), verify evidence (given or
 * collected now) bound to the live TSM digests against the reference values at `at`, then
 * START_INTERFACE → RUN. A failed verification throws DeviceVerificationError (3/6) and nothing
 * changes.
 */
export function acceptInterface(ctx: DeviceContext, id: string, opts: AcceptOptions & {at: Date}) {
  const rec = findDevice(ctx.section, id)
  const dev = new DeviceRuntime(ctx.seed, rec)
  const state = tsmReadState(dev)
  assertConfigLocked(rec, state)
  const bundle = opts.evidence ? decodeEvidence(opts.evidence) : collect(ctx, rec, evidenceNonce())
  if (bundle.device.id !== rec.id) throw new InputError('EVIDENCE_OTHER_DEVICE', `evidence is for device ${bundle.device.id}, not ${rec.id}`)
  const reference = opts.reference_doc ?? decodeCorim(opts.reference ?? goldenReference(ctx.seed, modelSpec(rec.model)!))
  const verdict = verifyDeviceEvidence({evidence: bundle, reference, anchors: opts.anchors, policy: opts.policy, at: opts.at, tsm: liveTsmRecord(rec, state)})
  if (!verdict.ok) throw new DeviceVerificationError(verdict)
  tsmStart(dev)
  const after = tsmReadState(dev)
  rec.accepted = true
  return {verdict, tdi_state: tdiStateName(after), device: summarize(rec)}
}

/** TDISP refuses START_INTERFACE outside CONFIG_LOCKED (exit 7, with what to do instead). */
function assertConfigLocked(rec: DeviceRecord, state: number): void {
  if (rec.tdi.state === 'CONFIG_LOCKED') return
  const hint = rec.tdi.state === 'CONFIG_UNLOCKED' ? `run 'tdxkit device lock ${rec.id}' first` : rec.tdi.state === 'RUN' ? 'it is already running' : `recover with 'tdxkit device unlock ${rec.id}' and lock it again`
  throw new RefusedError('TDI_NOT_LOCKED', `device ${rec.id} is ${tdiStateName(state)}: TDISP refuses START_INTERFACE outside CONFIG_LOCKED; ${hint}`, {
    detail: {tdi_state: tdiStateName(state)},
  })
}

/** What the TSM recorded about the device, as the verifier binds the evidence to it. */
function liveTsmRecord(rec: DeviceRecord, state: number) {
  const tsm = rec.tsm!
  return {
    hash_alg: TSM_HASH,
    tdi_state: state,
    lock_generation: rec.tdi.lock_generation,
    evidence_generation: tsm.evidence_generation ?? 0,
    digests: new Map(Object.entries(tsm.digests ?? {}).map(([k, v]) => [Number(k), Buffer.from(v, 'hex')])),
    source: 'the live TSM (TDG.TDI.RD)',
  }
}
