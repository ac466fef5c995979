/** Shared fixtures for the host tests: platforms, host state, the dcap-qvl oracle. */
import {createRequire} from 'node:module'
import type {QuoteCollateralV3} from '../../src/abi/collateral.js'
import {createPlatformDoc, Platform, type ProfileName} from '../../src/module/platform.js'
import {getTdReport} from '../../src/guest/tdx-guest.js'
import {ensureHostPki, type HostScenario, type HostState} from '../../src/host/qe.js'
import {pemToDers} from '../../src/x509/pem.js'

export const PROFILES: readonly ProfileName[] = ['tdx-1.0', 'tdx-1.5', 'tdx-connect']

/** A platform with its host PKI provisioned. */
export function platformWithHost(profile: ProfileName, seed: string, scenario?: Partial<HostScenario>): {p: Platform; host: HostState} {
  const p = new Platform(createPlatformDoc({profile, seed}))
  const host = ensureHostPki(p.doc, scenario)
  return {p, host}
}

/** A TDREPORT made by the simulated module through TDG.MR.REPORT (guest driver path). */
export const tdReport = (p: Platform, fill = 0x5a): Buffer => getTdReport(p, Buffer.alloc(64, fill))

export const rootDer = (host: HostState): Buffer => pemToDers(host.certs.root_ca)[0]

interface QvlReport {
  status: string
  advisory_ids: string[]
  report: {type: string; data: any}
}
interface QvlVerifier {
  verify(quote: Uint8Array, collateral: QuoteCollateralV3, nowSecs: number): QvlReport
}
interface QvlModule {
  QuoteVerifier: {newWithRootCa(der: Buffer): QvlVerifier; newProd(): QvlVerifier}
}
/** @phala/dcap-qvl (pure JS, CommonJS): the independent verifier used as an oracle. */
export const qvl = createRequire(import.meta.url)('@phala/dcap-qvl') as QvlModule

/** A fixed verification instant inside the simulated collateral's validity (2026-06-01). */
export const VERIFY_AT = Math.floor(Date.UTC(2026, 5, 1) / 1000)
