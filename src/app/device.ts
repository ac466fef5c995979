/**
 * Device lifecycle on the state directory, each operation one transaction under the state lock
 * (withPlatform): a refused TDISP transition or a failed verification throws before anything is
 * saved, so the device stays where it was. Whether the platform can do device security at all is
 * the module's answer, read from sysinfo the way the TDX Connect host driver decides it (see
 * tsmLimits); on an empty state directory a tdx-connect platform is created, and doc.devices is
 * created with the defaults the first time a device command runs.
 */
import {RefusedError, TdxkitError} from '../errors.js'
import {TDX_FEATURES0_TDXCONNECT} from '../abi/fields.js'
import {getSysInfo} from '../guest/sysinfo.js'
import type {TsmLimits} from '../device/tsm.js'
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

/**
 * Can this platform do device security, and within which limits? Decided as tdx-host.c's
 * tdx_connect_init() decides it (TDX Connect host series, Xu Yilun, "[PATCH v2 …/31]", LKML
 * 2026-03-28): from the module's sysinfo, read once (getSysInfo: no SEAMCALL of its own here) —
 * without TDXCONNECT in TDX_FEATURES0 no TSM is registered, so no device command can work. With it,
 * the TSM's limits are sysinfo's `connect` group: the device-info buffer is spdm_max_dev_info_pages.
 */
export function tsmLimits(p: Platform): TsmLimits {
  const si = getSysInfo(p.module)
  const features0 = si.features.tdx_features0
  if ((features0 & TDX_FEATURES0_TDXCONNECT) === 0n || si.connect === undefined) {
    throw new RefusedError(
      'TDISP_UNSUPPORTED',
      `the ${p.profile} platform's TDX module lacks TDX Connect (TDX_FEATURES0 0x${features0.toString(16)}, bit 6 TDXCONNECT clear): no TSM, no device security; create a TDX Connect platform with 'tdxkit module init --profile tdx-connect'`,
      {detail: {feature: 'TDXCONNECT', tdx_features0: '0x' + features0.toString(16).padStart(16, '0')}},
    )
  }
  return {spdm_max_dev_info_pages: si.connect.spdm_max_dev_info_pages}
}

/**
 * The device step of one transaction on a loaded platform: refuse a platform without TDX Connect,
 * create the default devices on first use, run fn with the TSM limits from sysinfo. Exported for
 * tests that run it on a platform they built (e.g. a module with one limit changed).
 */
export async function devicesOn<T>(p: Platform, fn: (ctx: DeviceContext, p: Platform) => T | Promise<T>, where = 'the platform document'): Promise<{result: T; defaults_created: boolean}> {
  const tsm = tsmLimits(p)
  const doc = p.doc as typeof p.doc & {devices?: unknown}
  let defaultsCreated = false
  if (doc.devices === undefined) {
    doc.devices = createDefaultDevices(p.doc.module.seed)
    defaultsCreated = true
  }
  assertDevicesSection(doc.devices, where)
  return {result: await fn({seed: p.doc.module.seed, section: doc.devices, tsm}, p), defaults_created: defaultsCreated}
}

/** Run fn with the devices section (and the platform, e.g. the TD's memory) under the state lock; refuses a platform without TDX Connect. */
export async function withDevices<T>(store: StateStore, fn: (ctx: DeviceContext, p: Platform) => T | Promise<T>): Promise<DeviceOutcome<T>> {
  const connectCreated = await ensureConnectPlatform(store)
  const {result, created} = await withPlatform(store, (p) => devicesOn(p, fn, store.file))
  return {result: result.result, platform_created: created || connectCreated, defaults_created: result.defaults_created}
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
