/**
 * doc.devices: the TDISP devices attached to the simulated tdx-connect platform, with their TDI
 * state, fault knobs and what the TSM (the TDX module) recorded about them. JSON only: byte
 * strings lowercase hex, 64-bit values "0x…".
 */
import {InputError, StateError} from '../errors.js'
import {functionIdFromBdf, parseBdf, type TdiStateName} from '../abi/tdisp.js'
import {CXL_TSP_STATE_NAMES, type CxlTspStateName} from '../abi/cxl-tsp.js'
import {deriveBytes} from '../util/seed.js'
import {MODEL_NAMES, modelSpec, swappedFirmware, type ModelName} from './models.js'

export type FaultName = 'firmware-swapped' | 'bme-cleared' | 'stale-nonce' | 'wrong-cert' | 'mmio-outside-bar'
export const FAULT_NAMES: readonly FaultName[] = ['firmware-swapped', 'bme-cleared', 'stale-nonce', 'wrong-cert', 'mmio-outside-bar']
export const FAULT_DOC: Record<FaultName, string> = {
  'firmware-swapped': 'device runs firmware other than the one the reference values were taken from',
  'bme-cleared': 'the host clears Bus Master Enable right after lock; the TDI drops to ERROR',
  'stale-nonce': 'the TSM hands out the measurements it cached at lock time instead of fresh ones',
  'wrong-cert': "the device presents a certificate chain that does not lead to its vendor's root",
  'mmio-outside-bar': "the interface report's last MMIO range runs past the end of its BAR",
}

export interface TsmRecord {
  /** lock generation the record belongs to */
  lock_generation: number
  /** SHA-384 of the DEVICE_INTERFACE_REPORT fetched at lock */
  report_digest: string
  /** the report bytes the TSM fetched at lock (the VMM caches them for the guest) */
  report: string
  /** SPDM transcript collected at lock with the TSM's own nonce (what a stale TSM returns) */
  lock_measurements: string
  lock_nonce_measurements: string
  /** last evidence collection: generation and per-object SHA-384 digests */
  evidence_generation?: number
  digests?: Record<string, string>
}

/** A CXL TSP target configuration as SET_TARGET_CONFIGURATION set it (secondary-session PSKs are never stored). */
export interface TspConfigurationRecord {
  memory_encryption_features: number
  memory_encryption_algorithm: number
  te_state_features: number
  explicit_oob_granularity: number
  configuration_features: number
  ckid_base: number
  number_of_ckids: number
  /** explicit in-band TE state granularity entries (granularity "0x…", length index; 0xff = unused) */
  explicit_ib: Array<{granularity: string; length_index: number}>
}

/** CXL devices only: the TSP target state (persisted like the TDI state; IDE keys stay in memory). */
export interface CxlRecord {
  tsp_state: CxlTspStateName
  tsp_configuration?: TspConfigurationRecord
  /** LOCK_TARGET_CONFIGURATION successes since the device was added */
  tsp_lock_generation: number
  /** device memory ranges in TE (trusted execution) state, disjoint and sorted ("0x…" start / length) */
  te_ranges?: Array<{start: string; length: string}>
}

export interface DeviceRecord {
  id: string
  model: ModelName
  bdf: string
  function_id: number
  firmware_version: string
  faults: FaultName[]
  /** BARs as the host placed them: index, host base and size ("0x…") */
  bars: Array<{index: number; base: string; size: string}>
  tdi: {
    state: TdiStateName
    lock_generation: number
    /** START_INTERFACE nonce the device drew at LOCK (hex) */
    start_nonce?: string
    lock_flags?: number
    mmio_reporting_offset?: string
    bme: boolean
  }
  /** counter for responder nonces and evidence generations */
  evidence_generation: number
  tsm?: TsmRecord
  accepted: boolean
  cxl?: CxlRecord
}

/** A TDI as the device comes up (added or reset): CONFIG_UNLOCKED, bus mastering on, its lock count kept. */
export function unlockedTdi(lockGeneration = 0): DeviceRecord['tdi'] {
  return {state: 'CONFIG_UNLOCKED', lock_generation: lockGeneration, bme: true}
}

/** A CXL TSP target as the device comes up: CONFIG_UNLOCKED, no configuration, no TE ranges, its lock count kept. */
export function unlockedCxl(lockGeneration = 0): CxlRecord {
  return {tsp_state: 'CONFIG_UNLOCKED', tsp_lock_generation: lockGeneration}
}

export interface DevicesSection {
  version: 1
  devices: DeviceRecord[]
}

const DEVICES_SECTION_VERSION = 1
const ID_RE = /^[a-z][a-z0-9_-]{0,31}$/

/** Default devices on `module init --profile tdx-connect`: one NIC and one GPU. */
export function createDefaultDevices(seed: string): DevicesSection {
  const section: DevicesSection = {version: DEVICES_SECTION_VERSION, devices: []}
  addDevice(section, seed, {model: 'nic'})
  addDevice(section, seed, {model: 'gpu'})
  return section
}

/** Host placement of BARs: 4 GiB upward, each aligned to its size, derived from the seed. */
function placeBars(seed: string, id: string, model: ModelName): DeviceRecord['bars'] {
  const spec = modelSpec(model)!
  const slot = BigInt(deriveBytes(seed, `device-bar-window:${id}`, 2).readUInt16BE(0) & 0x3ff)
  let cursor = 0x4000000000n + slot * 0x40000000n
  return spec.bars.map((b) => {
    cursor = ((cursor + b.size - 1n) / b.size) * b.size
    const base = cursor
    cursor += b.size
    return {index: b.index, base: '0x' + base.toString(16), size: '0x' + b.size.toString(16)}
  })
}

export interface AddDeviceOptions {
  model: string
  id?: string
  bdf?: string
  faults?: string[]
}

/** Add a device to the section (validated); returns the new record. */
export function addDevice(section: DevicesSection, seed: string, opts: AddDeviceOptions): DeviceRecord {
  const spec = modelSpec(opts.model)
  if (!spec) throw new InputError('DEVICE_BAD_MODEL', `unknown device model '${opts.model}' (expected ${MODEL_NAMES.join(', ')})`)
  const faults: FaultName[] = []
  for (const f of opts.faults ?? []) {
    if (!(FAULT_NAMES as readonly string[]).includes(f)) throw new InputError('DEVICE_BAD_FAULT', `unknown fault '${f}' (expected ${FAULT_NAMES.join(', ')})`)
    if (!faults.includes(f as FaultName)) faults.push(f as FaultName)
  }
  let id = opts.id
  if (id === undefined) {
    const prefix = spec.id_prefix ?? spec.model
    for (let n = 0; ; n++) {
      if (!section.devices.some((d) => d.id === `${prefix}${n}`)) {
        id = `${prefix}${n}`
        break
      }
    }
  }
  if (!ID_RE.test(id)) throw new InputError('DEVICE_BAD_ID', `device id '${id}' must be 1-32 of a-z, 0-9, _ or -, starting with a letter`)
  if (section.devices.some((d) => d.id === id)) throw new InputError('DEVICE_EXISTS', `a device named '${id}' already exists`)
  let bdf = opts.bdf
  if (bdf === undefined) {
    for (let dev = 2; dev < 0x20; dev++) {
      const cand = `00:${dev.toString(16).padStart(2, '0')}.0`
      if (!section.devices.some((d) => d.bdf === cand)) {
        bdf = cand
        break
      }
    }
    if (bdf === undefined) throw new InputError('DEVICE_NO_SLOT', 'no free PCI slot on bus 00')
  }
  const loc = parseBdf(bdf)
  if (!loc) throw new InputError('DEVICE_BAD_BDF', `'${bdf}' is not a PCI address like 00:03.0`)
  const canonical = `${loc.bus.toString(16).padStart(2, '0')}:${loc.dev.toString(16).padStart(2, '0')}.${loc.fn}`
  if (section.devices.some((d) => d.bdf === canonical)) throw new InputError('DEVICE_BDF_IN_USE', `PCI address ${canonical} is already in use`)
  const rec: DeviceRecord = {
    id,
    model: spec.model,
    bdf: canonical,
    function_id: functionIdFromBdf(loc.bus, loc.dev, loc.fn),
    firmware_version: faults.includes('firmware-swapped') ? swappedFirmware(spec) : spec.golden_firmware,
    faults,
    bars: placeBars(seed, id, spec.model),
    tdi: unlockedTdi(),
    evidence_generation: 0,
    accepted: false,
    ...(spec.cxl ? {cxl: unlockedCxl()} : {}),
  }
  section.devices.push(rec)
  return rec
}

export function findDevice(section: DevicesSection, id: string): DeviceRecord {
  const d = section.devices.find((x) => x.id === id || x.bdf === id)
  if (!d) {
    const known = section.devices.map((x) => x.id).join(', ') || 'none'
    throw new InputError('DEVICE_NOT_FOUND', `no device '${id}' (devices: ${known})`)
  }
  return d
}

/** Validate the shape of doc.devices as loaded from state.json. */
export function assertDevicesSection(v: unknown, file: string): asserts v is DevicesSection {
  const s = v as Partial<DevicesSection> | undefined
  if (!s || typeof s !== 'object' || s.version !== DEVICES_SECTION_VERSION || !Array.isArray(s.devices)) {
    throw new StateError('STATE_CORRUPT', `state file ${file} has a malformed devices section; run 'tdxkit module init --profile tdx-connect --force'`)
  }
  for (const d of s.devices) {
    const cxlBroken = !!modelSpec(d?.model)?.cxl && (typeof d.cxl !== 'object' || !(CXL_TSP_STATE_NAMES as readonly string[]).includes(d.cxl?.tsp_state))
    if (!d || typeof d.id !== 'string' || !modelSpec(d.model) || typeof d.tdi !== 'object' || cxlBroken) {
      throw new StateError('STATE_CORRUPT', `state file ${file} has a malformed device entry; run 'tdxkit module init --profile tdx-connect --force'`)
    }
  }
}
