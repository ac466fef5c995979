/**
 * Seeds for the verifier-side fuzzing and tamper sweeps: every real quote in
 * ../shared/testvectors/real (with its collateral and the times of its expected.json checks), and
 * simulated v4 / v5 quotes from a seeded platform with the simulated root and collateral. The
 * simulated platform's signing keys are re-derived from its seed so mutants can be re-signed and
 * reach the checks behind the signatures (TDX module identity, TCB level matching).
 */
import {existsSync, readdirSync} from 'node:fs'
import {p256} from '@noble/curves/nist.js'
import type {QuoteCollateralV3} from '../../../src/abi/collateral.js'
import {generateQuote} from '../../../src/app/quote.js'
import {QE_ATTESTATION_KEY_LABEL} from '../../../src/host/qe.js'
import {deriveP256Key, KEY_LABEL} from '../../../src/host/pki.js'
import {loadSimCollateral} from '../../../src/app/sim-collateral.js'
import {initPlatform} from '../../../src/app/platform.js'
import {StateStore} from '../../../src/state/store.js'
import {deriveScalar} from '../../../src/util/seed.js'
import {fingerprintOf} from '../../../src/verify/roots.js'
import {INTEL_SGX_ROOT_CA_SHA256} from '../../../src/verify/roots.js'
import {QuoteVerifier} from '../../../src/verify/verifier.js'
import {tempDir} from '../cli.js'
import {readVector, vectorPath, vectorsPresent} from '../vectors.js'

export interface QuoteSeed {
  name: string
  quote: Buffer
  collateral?: QuoteCollateralV3
  /** Unix seconds at which (quote, collateral) is meant to be verified. */
  at: number
  trustedRoots: string[]
  /** True when the untouched quote verifies (ok) with this collateral at `at`. */
  verifies: boolean
  /** Attestation private key (simulated quotes only): lets a mutator re-sign header ‖ body. */
  attestationPriv?: Buffer
}

interface Check {
  at_unix?: number
  quote?: string
  with?: string
}

const json = <T>(...p: string[]): T => JSON.parse(readVector(...p).toString('utf8')) as T

/** Every real quote file with the first collateral bundle and check time its expected.json names. */
export function realSeeds(): QuoteSeed[] {
  if (!vectorsPresent()) return []
  const out: QuoteSeed[] = []
  for (const dir of readdirSync(vectorPath('real')).sort()) {
    if (!existsSync(vectorPath('real', dir, 'expected.json'))) continue
    const exp = json<{quote?: {file: string}; quotes?: Array<{file: string}>; checks?: Check[]}>('real', dir, 'expected.json')
    const files = exp.quotes?.map((q) => q.file) ?? [exp.quote?.file ?? 'quote.bin']
    for (const file of files) {
      if (!existsSync(vectorPath('real', dir, file))) continue
      const quote = readVector('real', dir, file)
      const checks = (exp.checks ?? []).filter((c) => c.at_unix !== undefined && (c.quote === undefined || c.quote === file))
      // Prefer a check with collateral that verifies ok; else the first timed check without collateral.
      let chosen: QuoteSeed | undefined
      for (const c of checks) {
        const rel = c.with ?? 'collateral.json'
        const collateral = existsSync(vectorPath('real', dir, rel)) ? json<QuoteCollateralV3>('real', dir, rel) : undefined
        const seed: QuoteSeed = {name: `${dir}/${file}`, quote, ...(collateral ? {collateral} : {}), at: c.at_unix!, trustedRoots: [INTEL_SGX_ROOT_CA_SHA256], verifies: false}
        seed.verifies = new QuoteVerifier({now: seed.at, trustedRoots: seed.trustedRoots, ...(collateral ? {collateral} : {})}).verify(quote).ok
        if (!chosen || (seed.verifies && (!chosen.verifies || (collateral && !chosen.collateral)))) chosen = seed
      }
      out.push(chosen ?? {name: `${dir}/${file}`, quote, at: 1720000000, trustedRoots: [INTEL_SGX_ROOT_CA_SHA256], verifies: false})
    }
  }
  return out
}

/** Real quotes that verify with their collateral at their expected.json time: the tamper-sweep set. */
export const realVerifyingWithCollateral = (seeds: QuoteSeed[]): QuoteSeed[] => seeds.filter((s) => s.collateral && s.verifies)

export const SIM_SEED = 'a11ce0fdeadbeef01'

export interface SimPlatform {
  stateDir: string
  store: StateStore
  collateral: QuoteCollateralV3
  rootFingerprint: string
  /** Every private key the simulated platform derives (hex), for "nothing logs a private key" checks. */
  privateKeys: Record<string, Buffer>
  attestationPriv: Buffer
}

/** A seeded tdx-1.5 platform in a fresh state directory, with its collateral and keys. */
export async function simPlatform(seed = SIM_SEED, stateDir = tempDir('tdxkit-vfuzz-')): Promise<SimPlatform> {
  const store = new StateStore(stateDir)
  await initPlatform(store, {profile: 'tdx-1.5', seed})
  const sim = await loadSimCollateral(store)
  const attestationPriv = deriveScalar(seed, QE_ATTESTATION_KEY_LABEL, p256.Point.CURVE().n, 32)
  const privateKeys: Record<string, Buffer> = {attestation: attestationPriv}
  for (const [name, label] of Object.entries(KEY_LABEL)) privateKeys[name] = deriveP256Key(seed, label).priv
  return {stateDir, store, collateral: sim.collateral, rootFingerprint: fingerprintOf(sim.root_ca_der), privateKeys, attestationPriv}
}

/** Simulated v4 and v5 (TD15 body) quotes from `simPlatform`, verifying with the simulated root. */
export async function simSeeds(p?: SimPlatform): Promise<QuoteSeed[]> {
  const plat = p ?? (await simPlatform())
  const at = Math.floor(Date.now() / 1000)
  const out: QuoteSeed[] = []
  for (const version of [4, 5] as const) {
    const r = await generateQuote(plat.store, {input: {reportData: Buffer.alloc(64, version)}, quoteVersion: version})
    const seed: QuoteSeed = {name: `sim-v${version}`, quote: r.quote, collateral: plat.collateral, at, trustedRoots: [plat.rootFingerprint], verifies: false, attestationPriv: plat.attestationPriv}
    seed.verifies = new QuoteVerifier({now: at, trustedRoots: seed.trustedRoots, collateral: plat.collateral}).verify(r.quote).ok
    out.push(seed)
  }
  return out
}
