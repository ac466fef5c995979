/**
 * The simulated platform: a state document's `module` / `td` / `events` sections brought to life as
 * a SimTdxModule over a GuestMemory. Creation is deterministic from the seed (HKDF labels):
 * `module init --seed S` gives byte-identical measurements, keys and TDREPORTs everywhere.
 */
import {createHash, randomBytes} from 'node:crypto'
import {StateError} from '../errors.js'
import {GuestMemory} from '../machine/memory.js'
import {STATE_SCHEMA_VERSION, type StateDoc, type StateStore} from '../state/store.js'
import {deriveBytes} from '../util/seed.js'
import {TD_ATTR_SEPT_VE_DISABLE} from '../abi/fields.js'
import {MEASUREMENT_SIZE, TDREPORT_SIZE} from '../abi/tdreport.js'
import {DEFAULT_PROFILE, assertPlatformDoc, hex64, type PlatformDoc, type ProfileName} from './doc.js'
import {profileDef, profileInfo, teeTcbSvn} from './profiles.js'
import {checkReportMac, computeMrtd, simulatedTdImage} from './measure.js'
import {SimTdxModule} from './tdcall.js'
import {createDefaultDevices} from '../device/registry.js'

export {profileInfo} from './profiles.js'
export type {ProfileInfo} from './profiles.js'
export type {ProfileName, PlatformDoc, ModuleDoc, TdDoc, EventRecord} from './doc.js'
export {PROFILE_NAMES, DEFAULT_PROFILE} from './doc.js'

/** Default TD configuration: SEPT_VE_DISABLE set (as production TDs have), XFAM x87|SSE|AVX|AVX-512|PKRU|CET|AMX-ish. */
export const DEFAULT_TD_ATTRIBUTES = TD_ATTR_SEPT_VE_DISABLE
export const DEFAULT_TD_XFAM = 0x00000000000618e7n
export const DEFAULT_TD_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
export const DEFAULT_TD_VCPUS = 2

const zeros = (n: number) => '00'.repeat(n)

export interface CreatePlatformOptions {
  profile: ProfileName
  seed: string
  /** Override TDX_FEATURES0 (e.g. to simulate an old module without NO_RBP_MOD). */
  features0?: bigint
}

/** A fresh state document holding a platform (module + TD + empty event list). */
export function createPlatformDoc(opts: CreatePlatformOptions): PlatformDoc {
  const def = profileDef(opts.profile)
  const info = profileInfo(opts.profile)
  const version = {...def.version}
  const tcbSvn = teeTcbSvn(opts.profile, version).toString('hex')
  const v = `${version.major_version}.${version.minor_version}.${version.update_version}.${version.internal_version}+${version.build_num}`
  return {
    schema_version: STATE_SCHEMA_VERSION,
    module: {
      profile: opts.profile,
      seed: opts.seed,
      version,
      tdx_features0: hex64(opts.features0 ?? def.features0),
      cpusvn: def.cpusvn,
      tee_tcb_svn: tcbSvn,
      ...(info.td15 ? {tee_tcb_svn2: tcbSvn} : {}),
      // MRSEAM identifies the module binary: the same for every platform running this profile's module.
      mrseam: createHash('sha384').update(`tdxkit SIMULATED TDX module ${opts.profile} ${v}`).digest('hex'),
      mrsignerseam: zeros(MEASUREMENT_SIZE),
      seam_attributes: zeros(8),
      reportmac_key: deriveBytes(opts.seed, 'module/reportmac-key', 32).toString('hex'),
    },
    td: {
      attributes: hex64(DEFAULT_TD_ATTRIBUTES),
      xfam: hex64(DEFAULT_TD_XFAM),
      mrtd: computeMrtd(simulatedTdImage(opts.seed)).toString('hex'),
      mrconfigid: zeros(MEASUREMENT_SIZE),
      mrowner: zeros(MEASUREMENT_SIZE),
      mrownerconfig: zeros(MEASUREMENT_SIZE),
      servtd_hash: zeros(MEASUREMENT_SIZE),
      rtmr: [zeros(MEASUREMENT_SIZE), zeros(MEASUREMENT_SIZE), zeros(MEASUREMENT_SIZE), zeros(MEASUREMENT_SIZE)],
      gpaw: def.gpaw,
      num_vcpus: DEFAULT_TD_VCPUS,
      max_vcpus: DEFAULT_TD_VCPUS,
      memory_bytes: DEFAULT_TD_MEMORY_BYTES,
    },
    events: [],
    // A TDX Connect platform comes with its TDISP devices attached (still CONFIG_UNLOCKED).
    ...(info.tdisp ? {devices: createDefaultDevices(opts.seed)} : {}),
  }
}

export const randomSeed = (): string => randomBytes(8).toString('hex')

/** The running platform built from a state document (mutations go to `doc`). */
export class Platform {
  readonly doc: PlatformDoc
  readonly module: SimTdxModule
  readonly memory: GuestMemory

  constructor(doc: StateDoc) {
    assertPlatformDoc(doc)
    this.doc = doc
    this.memory = new GuestMemory({gpaw: doc.td.gpaw, sizeBytes: doc.td.memory_bytes})
    this.module = new SimTdxModule(doc, this.memory)
  }

  get profile(): ProfileName {
    return this.doc.module.profile
  }
}

const hasPlatform = (doc: StateDoc | undefined): doc is StateDoc => doc !== undefined && doc.module !== undefined

/**
 * `module init`: create a platform. Refuses to replace an existing one unless `force` (which
 * first removes the whole previous state, including other layers' sections and files).
 */
export async function initPlatform(
  store: StateStore,
  opts: {profile?: ProfileName; seed?: string; force?: boolean; features0?: bigint} = {},
): Promise<PlatformDoc> {
  if (opts.force) await store.destroy()
  const doc = createPlatformDoc({profile: opts.profile ?? DEFAULT_PROFILE, seed: opts.seed ?? randomSeed(), features0: opts.features0})
  await store.withLock(() => {
    if (store.exists()) {
      throw new StateError('PLATFORM_EXISTS', `a simulated platform already exists in ${store.dir}; use --force to replace it (or 'tdxkit module reset')`)
    }
    store.save(doc)
  })
  return doc
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
    const fresh = {...(again ?? {}), ...createPlatformDoc({profile: DEFAULT_PROFILE, seed: randomSeed()})}
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
      doc = {...(doc ?? {}), ...createPlatformDoc({profile: DEFAULT_PROFILE, seed: randomSeed()})}
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

/** What the quoting enclave uses to check a TDREPORT came from this platform's module. */
export function verifyTdReportMac(doc: StateDoc, tdreport: Uint8Array): boolean {
  assertPlatformDoc(doc)
  if (tdreport.length !== TDREPORT_SIZE) return false
  return checkReportMac(Buffer.from(doc.module.reportmac_key, 'hex'), tdreport)
}
