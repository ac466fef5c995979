/**
 * The simulated platform: a state document's `module` / `td` / `events` sections brought to life as
 * a SimTdxModule over a GuestMemory. Creation is deterministic from the seed (HKDF labels):
 * `module init --seed S` gives byte-identical measurements, keys and TDREPORTs everywhere.
 * Loading and saving the document (and adding a TDX Connect platform's devices) is src/app's.
 */
import {createHash, randomBytes} from 'node:crypto'
import {GuestMemory} from '../machine/memory.js'
import {STATE_SCHEMA_VERSION, type StateDoc} from '../util/state-doc.js'
import {deriveBytes} from '../util/seed.js'
import {TD_ATTR_SEPT_VE_DISABLE} from '../abi/fields.js'
import {MEASUREMENT_SIZE, TDREPORT_SIZE} from '../abi/tdreport.js'
import {assertPlatformDoc, hex64, type PlatformDoc, type ProfileName} from './doc.js'
import {migratedFeatures0, profileDef, profileInfo, teeTcbSvn} from './profiles.js'
import {checkReportMac, computeMrtd, simulatedTdImage} from './measure.js'
import {SimTdxModule} from './tdcall.js'

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

/** The TD configuration a platform is created with (validated by src/module/td-create.ts). */
export interface TdShape {
  vcpus?: number
  max_vcpus?: number
  attributes?: bigint
  xfam?: bigint
  memory_bytes?: number
}

export interface CreatePlatformOptions {
  profile: ProfileName
  seed: string
  /** Override TDX_FEATURES0 (e.g. to simulate an old module without NO_RBP_MOD). */
  features0?: bigint
  /** The TD's configuration (defaults: 2 vCPUs, SEPT_VE_DISABLE, DEFAULT_TD_XFAM, 2 GiB). */
  td?: TdShape
}

/** A fresh state document holding a platform (module + TD + empty event list; devices are the app's). */
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
      ...(opts.features0 !== undefined ? {tdx_features0_chosen: true as const} : {}),
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
      attributes: hex64(opts.td?.attributes ?? DEFAULT_TD_ATTRIBUTES),
      xfam: hex64(opts.td?.xfam ?? DEFAULT_TD_XFAM),
      mrtd: computeMrtd(simulatedTdImage(opts.seed)).toString('hex'),
      mrconfigid: zeros(MEASUREMENT_SIZE),
      mrowner: zeros(MEASUREMENT_SIZE),
      mrownerconfig: zeros(MEASUREMENT_SIZE),
      servtd_hash: zeros(MEASUREMENT_SIZE),
      rtmr: [zeros(MEASUREMENT_SIZE), zeros(MEASUREMENT_SIZE), zeros(MEASUREMENT_SIZE), zeros(MEASUREMENT_SIZE)],
      gpaw: def.gpaw,
      num_vcpus: opts.td?.vcpus ?? DEFAULT_TD_VCPUS,
      max_vcpus: opts.td?.max_vcpus ?? opts.td?.vcpus ?? DEFAULT_TD_VCPUS,
      memory_bytes: opts.td?.memory_bytes ?? DEFAULT_TD_MEMORY_BYTES,
    },
    events: [],
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
    if (!doc.module.tdx_features0_chosen) {
      const features0 = BigInt(doc.module.tdx_features0)
      const migrated = migratedFeatures0(doc.module.profile, features0)
      if (migrated !== features0) doc.module.tdx_features0 = hex64(migrated)
    }
    this.doc = doc
    this.memory = new GuestMemory({gpaw: doc.td.gpaw, sizeBytes: doc.td.memory_bytes})
    this.module = new SimTdxModule(doc, this.memory)
  }

  get profile(): ProfileName {
    return this.doc.module.profile
  }
}

/** What the quoting enclave uses to check a TDREPORT came from this platform's module. */
export function verifyTdReportMac(doc: StateDoc, tdreport: Uint8Array): boolean {
  assertPlatformDoc(doc)
  if (tdreport.length !== TDREPORT_SIZE) return false
  return checkReportMac(Buffer.from(doc.module.reportmac_key, 'hex'), tdreport)
}

