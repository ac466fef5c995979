/**
 * Store-facing access to the simulated host's collateral and root CA: loads the platform (creating
 * the default one on first use), builds doc.host if it is missing or stale, persists it, and hands
 * out the QuoteCollateralV3 bundle, the root CA and the FMSPC.
 */
import {createHash} from 'node:crypto'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {withPlatform} from './platform.js'
import type {StateStore} from '../state/store.js'
import {pcsDate} from '../host/collateral.js'
import {parseCert} from '../x509/cert.js'
import {nameText} from '../x509/name.js'
import {pemToDers} from '../x509/pem.js'
import {OPEN_PROFILE} from '../x509/profile.js'
import {ensureHostPki, freshHost, type HostScenario, type HostState} from '../host/qe.js'

export interface SimCollateral {
  collateral: QuoteCollateralV3
  /** DER of the simulated root CA (what a verifier pins with `--root-ca sim`). */
  root_ca_der: Buffer
  /** FMSPC of the simulated platform, lowercase hex. */
  fmspc: string
  /** True when this call had to create the default platform. */
  platform_created: boolean
}

/** The host state for the store's platform, built and saved if needed (read-only fast path when fresh). */
export async function loadHostState(store: StateStore): Promise<{host: HostState; platform_created: boolean}> {
  const doc = store.load()
  const ready = doc ? freshHost(doc) : undefined
  if (ready) return {host: ready, platform_created: false}
  const {result, created} = await withPlatform(store, (p) => ensureHostPki(p.doc))
  return {host: result, platform_created: created}
}

export async function loadSimCollateral(store: StateStore): Promise<SimCollateral> {
  const {host, platform_created} = await loadHostState(store)
  return {collateral: host.collateral, root_ca_der: rootCaDer(host), fmspc: host.platform.fmspc, platform_created}
}

/** Reconfigure the unhappy-path scenario (TCB status, revoked PCK, expired collateral) and persist. */
export async function setHostScenario(store: StateStore, scenario: Partial<HostScenario>): Promise<HostState> {
  const {result} = await withPlatform(store, (p) => ensureHostPki(p.doc, scenario))
  return result
}

export const rootCaDer = (host: HostState): Buffer => pemToDers(host.certs.root_ca)[0]

/** Summary of the simulated root CA for display. */
export function describeRootCa(der: Buffer): {subject: string; sha256: string; not_before: string; not_after: string} {
  const c = parseCert(der, OPEN_PROFILE)
  return {
    subject: nameText(c.subjectName),
    sha256: c.fingerprint,
    not_before: pcsDate(new Date(c.notBefore)),
    not_after: pcsDate(new Date(c.notAfter)),
  }
}

/** What `collateral export` reports about the bundle (stable snake_case for --json). */
export function collateralSummary(host: HostState) {
  const tcbInfo = JSON.parse(host.collateral.tcb_info) as {issueDate: string; nextUpdate: string; tcbEvaluationDataNumber: number; tcbLevels: unknown[]}
  return {
    fmspc: host.platform.fmspc,
    pce_id: host.platform.pce_id,
    tcb_status: host.scenario.tcb_status,
    scenario: host.scenario,
    issue_date: tcbInfo.issueDate,
    next_update: tcbInfo.nextUpdate,
    tcb_evaluation_data_number: tcbInfo.tcbEvaluationDataNumber,
    tcb_levels: tcbInfo.tcbLevels.length,
    root_ca_sha256: createHash('sha256').update(rootCaDer(host)).digest('hex'),
  }
}
