/**
 * The platform in the state directory: open the store, create a platform (a TDX Connect one comes
 * with its default TDISP devices), load it (creating the default platform on first use and saying
 * so), run a mutation under the state lock and save, show its status, remove it.
 *
 *   const p = await loadPlatform(store, notice)
 *   const r = await mutatePlatform(store, notice, (p) => extendRtmr(p, ...))
 */
import {RefusedError, StateError} from '../errors.js'
import {createDefaultDevices} from '../device/registry.js'
import {getSysInfo} from '../guest/sysinfo.js'
import {assertPlatformDoc} from '../module/doc.js'
import {DEFAULT_PROFILE, Platform, createPlatformDoc, profileInfo, randomSeed, type CreatePlatformOptions, type PlatformDoc, type ProfileName, type TdShape} from '../module/platform.js'
import {createTd, type CpuidEntry, type TdParams} from '../module/td-create.js'
import {StateStore, resolveStateDir} from '../state/store.js'
import type {StateDoc} from '../util/state-doc.js'

export type {StateStore} from '../state/store.js'

/** Where a human-facing note goes (stderr for the CLI). */
export type Notice = (message: string) => void

/** The state store for a --state-dir flag (else TDXKIT_STATE_DIR, else the XDG default). */
export function openStore(dir?: string): StateStore {
  return new StateStore(resolveStateDir(dir))
}

/** A fresh platform document; a TDX Connect platform comes with its TDISP devices attached (CONFIG_UNLOCKED). */
export function createPlatform(opts: CreatePlatformOptions): PlatformDoc {
  const doc = createPlatformDoc(opts)
  if (profileInfo(opts.profile).tdisp) doc.devices = createDefaultDevices(opts.seed)
  return doc
}

const defaultPlatform = (): PlatformDoc => createPlatform({profile: DEFAULT_PROFILE, seed: randomSeed()})

const hasPlatform = (doc: StateDoc | undefined): doc is StateDoc => doc !== undefined && doc.module !== undefined

/** The stderr notice of an auto-created platform. Never the seed: every simulated key derives from it. */
export function createdMessage(doc: PlatformDoc, dir: string): string {
  return `created default platform (profile ${doc.module.profile}, random seed) in ${dir}`
}

/** A TD configuration request: the shape kept in the document plus the CPUID entries checked at creation. */
export interface TdRequest extends TdShape {
  cpuid?: CpuidEntry[]
}

/** What the TD-creation step decided. */
export interface TdCreation {
  /** TD_PARAMS as KVM would pass them to TDH.MNG.INIT (absent when the kernel refuses the module itself). */
  params?: TdParams
  /** SEAMCALLs the read of sysinfo took (TD creation itself adds none). */
  sysinfo_seamcalls: number
  /** Why a kernel would not initialise this module at all (the TD was not validated). */
  module_refused?: string
  /** Why a v6.16+ kernel would refuse this module although the simulator reads it (tdx-1.0). */
  kernel_refuses?: string
}

/**
 * Create the TD of a platform the way the host does: read the module's sysinfo once, then
 * KVM_TDX_INIT_VM + TDH.MNG.INIT from it alone (src/module/td-create.ts). A refused configuration
 * throws TdCreateError (exit 7). A module the kernel refuses outright (no NO_RBP_MOD) is reported,
 * not thrown, so the platform can still show that refusal.
 */
export function createTdOnPlatform(doc: PlatformDoc, cpuid: CpuidEntry[] = []): TdCreation {
  const p = new Platform(doc)
  const before = p.module.counts.seamcall
  let si
  try {
    si = getSysInfo(p.module)
  } catch (error) {
    if (error instanceof RefusedError && error.code === 'NO_RBP_MOD') return {sysinfo_seamcalls: p.module.counts.seamcall - before, module_refused: error.message}
    throw error
  }
  const read = p.module.counts.seamcall - before
  const td = doc.td
  const params = createTd(si, {vcpus: td.num_vcpus, max_vcpus: td.max_vcpus, attributes: BigInt(td.attributes), xfam: BigInt(td.xfam), memory_bytes: td.memory_bytes, gpaw: td.gpaw, cpuid})
  const legacy = si.td_conf.max_vcpus_per_td === undefined && si.version.major_version === 1 && si.version.minor_version === 0
  return {
    params,
    sysinfo_seamcalls: read,
    ...(legacy ? {kernel_refuses: 'a TDX module 1.0 has no MAX_VCPUS_PER_TD, which Linux v6.16+ reads unconditionally; the TD was checked with module 1.0 rules'} : {}),
  }
}

/**
 * `module init`: create a platform and its TD (validated against the module's sysinfo). Refuses
 * to replace an existing one unless `force` (which first removes the whole previous state,
 * including other layers' sections and files). Nothing is written if the TD is refused.
 */
export async function initPlatformWithTd(
  store: StateStore,
  opts: {profile?: ProfileName; seed?: string; force?: boolean; features0?: bigint; td?: TdRequest} = {},
): Promise<{doc: PlatformDoc; td: TdCreation}> {
  const {cpuid, ...shape} = opts.td ?? {}
  const doc = createPlatform({profile: opts.profile ?? DEFAULT_PROFILE, seed: opts.seed ?? randomSeed(), features0: opts.features0, td: shape})
  const td = createTdOnPlatform(doc, cpuid)
  if (opts.force) await store.destroy()
  await store.withLock(() => {
    if (store.exists()) {
      throw new StateError('PLATFORM_EXISTS', `a simulated platform already exists in ${store.dir}; use --force to replace it (or 'tdxkit module reset')`)
    }
    store.save(doc)
  })
  return {doc, td}
}

/** `module init` without the TD-creation report (library callers and tests). */
export async function initPlatform(
  store: StateStore,
  opts: {profile?: ProfileName; seed?: string; force?: boolean; features0?: bigint; td?: TdRequest} = {},
): Promise<PlatformDoc> {
  return (await initPlatformWithTd(store, opts)).doc
}

/** Load the platform document, creating the default platform (random seed) if there is none. */
export async function ensurePlatform(store: StateStore): Promise<{doc: PlatformDoc; created: boolean}> {
  const doc = store.load()
  if (hasPlatform(doc)) {
    assertPlatformDoc(doc, store.file)
    return {doc, created: false}
  }
  return store.withLock(() => {
    const again = store.load()
    if (hasPlatform(again)) {
      assertPlatformDoc(again, store.file)
      return {doc: again, created: false}
    }
    const fresh = {...(again ?? {}), ...defaultPlatform()}
    store.save(fresh)
    return {doc: fresh, created: true}
  })
}

/**
 * Run fn under the state lock with the platform loaded (auto-created if absent), then save the
 * document — so concurrent invocations (16 `rtmr extend` at once) lose no update. Nothing is saved
 * if fn throws (except a platform created just now).
 */
export async function withPlatform<T>(
  store: StateStore,
  fn: (p: Platform) => T | Promise<T>,
  onCreate?: (doc: PlatformDoc) => void,
): Promise<{result: T; created: boolean}> {
  return store.withLock(async () => {
    let doc = store.load()
    let created = false
    if (!hasPlatform(doc)) {
      doc = {...(doc ?? {}), ...defaultPlatform()}
      created = true
      store.save(doc)
      onCreate?.(doc as PlatformDoc)
    }
    assertPlatformDoc(doc, store.file)
    const p = new Platform(doc)
    const result = await fn(p)
    store.save(p.doc)
    return {result, created}
  })
}

/** The platform for a read-only use (auto-created if absent, with a notice). */
export async function loadPlatform(store: StateStore, notice: Notice): Promise<Platform> {
  const {doc, created} = await ensurePlatform(store)
  if (created) notice(createdMessage(doc, store.dir))
  return new Platform(doc)
}

/** Run a mutation under the state lock (auto-creating the platform if absent, with a notice) and save. */
export async function mutatePlatform<T>(store: StateStore, notice: Notice, fn: (p: Platform) => T | Promise<T>): Promise<T> {
  const {result} = await withPlatform(store, fn, (doc) => notice(createdMessage(doc, store.dir)))
  return result
}

export type PlatformStatus = {exists: false; state_dir: string} | {exists: true; state_dir: string; doc: PlatformDoc; sections: string[]}

/** `module status`: the platform in the state directory, if any, and the sections its document holds. */
export function platformStatus(store: StateStore): PlatformStatus {
  const doc = store.load()
  if (!doc || doc.module === undefined) return {exists: false, state_dir: store.dir}
  assertPlatformDoc(doc, store.file)
  return {exists: true, state_dir: store.dir, doc, sections: Object.keys(doc).filter((k) => k !== 'schema_version')}
}

/** `module reset`: remove everything in the state directory. */
export async function resetPlatform(store: StateStore): Promise<{removed: boolean; state_dir: string}> {
  const removed = await store.destroy()
  return {removed, state_dir: store.dir}
}
