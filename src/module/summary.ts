/** A platform's identity and measurements as display rows and a JSON object (module init / status). */
import {featureNames} from '../abi/fields.js'
import type {PlatformDoc} from './doc.js'
import {profileInfo} from './profiles.js'

/** "1.5.06" (the kernel's %u.%u.%02u format). */
export const moduleVersionString = (v: PlatformDoc['module']['version']): string =>
  `${v.major_version}.${v.minor_version}.${String(v.update_version).padStart(2, '0')}`

/**
 * The seed is in the result only with `showSeed` (module init/status --show-seed): every simulated
 * key, certificate and MAC key derives from it, so it is the platform's only secret.
 */
export function platformSummary(doc: PlatformDoc, stateDir: string, opts: {showSeed?: boolean} = {}): {rows: Array<[string, string]>; json: Record<string, unknown>} {
  const m = doc.module
  const td = doc.td
  const info = profileInfo(m.profile)
  const features = featureNames(BigInt(m.tdx_features0))
  const json = {
    state_dir: stateDir,
    profile: m.profile,
    ...(opts.showSeed ? {seed: m.seed} : {}),
    quote_version: info.quote_version,
    tdreport_version: info.tdreport_version,
    module_version: moduleVersionString(m.version),
    version: m.version,
    tdx_features0: m.tdx_features0,
    tdx_features0_names: features,
    cpusvn: m.cpusvn,
    tee_tcb_svn: m.tee_tcb_svn,
    ...(m.tee_tcb_svn2 ? {tee_tcb_svn2: m.tee_tcb_svn2} : {}),
    mrseam: m.mrseam,
    td: {
      attributes: td.attributes,
      xfam: td.xfam,
      mrtd: td.mrtd,
      rtmr: td.rtmr,
      gpaw: td.gpaw,
      num_vcpus: td.num_vcpus,
      memory_bytes: td.memory_bytes,
    },
    events: doc.events.length,
  }
  const rows: Array<[string, string]> = [
    ['profile', `${m.profile} (quote v${info.quote_version}, TDREPORT version ${info.tdreport_version})`],
    ...(opts.showSeed ? [['seed', m.seed] as [string, string]] : []),
    ['module version', `${moduleVersionString(m.version)} build ${m.version.build_num} (${m.version.build_date})`],
    ['tdx_features0', `${m.tdx_features0} ${features.join(' ')}`],
    ['cpusvn', m.cpusvn],
    ['tee_tcb_svn', m.tee_tcb_svn],
    ['mrseam', m.mrseam],
    ['td attributes', td.attributes],
    ['td xfam', td.xfam],
    ['mrtd', td.mrtd],
    ...td.rtmr.map((r, i): [string, string] => [`rtmr${i}`, r]),
    ['events', String(doc.events.length)],
  ]
  return {rows, json}
}
