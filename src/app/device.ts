/**
 * Device lifecycle on the state directory, each operation one transaction under the state lock
 * (withPlatform): a refused TDISP transition or a failed verification throws before anything is
 * saved, so the device stays where it was. Devices exist only on a TDISP-capable profile
 * (tdx-connect); on an empty state directory a tdx-connect platform is created, and doc.devices is
 * created with the defaults the first time a device command runs.
 */
import {RefusedError, TdxkitError} from '../errors.js'
import {assertDevicesSection, createDefaultDevices, type AddDeviceOptions} from '../device/registry.js'
import {
  acceptInterface,
  addDeviceTo,
  deviceEvidence,
  deviceList,
  deviceReference,
  lockInterface,
  resetDevice,
  unlockInterface,
  type AcceptOptions,
  type DeviceContext,
} from '../device/service.js'
import {profileInfo} from '../module/platform.js'
import {initPlatform, withPlatform, type StateStore} from './platform.js'
import type {Platform} from '../module/platform.js'

export interface DeviceOutcome<T> {
  result: T
  platform_created: boolean
  /** doc.devices was created (defaults) in this transaction */
  defaults_created: boolean
}

/** Device commands need TDX Connect: on an empty state directory, create a tdx-connect platform. */
async function ensureConnectPlatform(store: StateStore): Promise<boolean> {
  if (store.load()?.module) return false
  try {
    await initPlatform(store, {profile: 'tdx-connect'})
    return true
  } catch (error) {
    if (!(error instanceof TdxkitError && error.code === 'PLATFORM_EXISTS')) throw error
    return false
  }
}

/** Run fn with the devices section (and the platform, e.g. the TD's memory) under the state lock; refuses non-TDISP profiles. */
export async function withDevices<T>(store: StateStore, fn: (ctx: DeviceContext, p: Platform) => T | Promise<T>): Promise<DeviceOutcome<T>> {
  let defaultsCreated = false
  const connectCreated = await ensureConnectPlatform(store)
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
    return fn({seed: p.doc.module.seed, section: doc.devices}, p)
  })
  return {result, platform_created: created || connectCreated, defaults_created: defaultsCreated}
}

export async function listDevices(store: StateStore) {
  return withDevices(store, deviceList)
}

export async function addDeviceOp(store: StateStore, opts: AddDeviceOptions) {
  return withDevices(store, (ctx) => addDeviceTo(ctx, opts))
}

export async function lockDevice(store: StateStore, id: string) {
  return withDevices(store, (ctx) => lockInterface(ctx, id))
}

export async function unlockDevice(store: StateStore, id: string) {
  return withDevices(store, (ctx) => unlockInterface(ctx, id))
}

export async function resetDeviceOp(store: StateStore, id: string) {
  return withDevices(store, (ctx) => resetDevice(ctx, id))
}

export async function collectEvidence(store: StateStore, id: string, nonce?: Buffer) {
  return withDevices(store, (ctx) => deviceEvidence(ctx, id, nonce))
}

export async function exportReference(store: StateStore, id: string, opts: {sign?: boolean} = {}) {
  return withDevices(store, (ctx) => deviceReference(ctx, id, opts))
}

/**
 * `device accept`: refuse unless the TDI is CONFIG_LOCKED (exit 7), verify evidence (given or
 * collected now) bound to the live TSM digests against the reference values at `at` (default:
 * now), then START_INTERFACE → RUN. A failed verification changes nothing.
 */
export async function acceptDevice(store: StateStore, id: string, opts: AcceptOptions = {}) {
  return withDevices(store, (ctx) => acceptInterface(ctx, id, {...opts, at: opts.at ?? new Date()}))
}
