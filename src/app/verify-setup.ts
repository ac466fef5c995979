/**
 * Turning `quote verify` flags into what the pure verifier takes: trusted roots (intel | sim | FILE),
 * verification time (--at, default the clock), the collateral source (file, PCCS URL with its
 * on-disk cache, the simulated platform, or none) and the appraisal policy (file and flags).
 */
import {join} from 'node:path'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {applyPolicyFlags, type PolicyFlags} from '../appraise/flags.js'
import {defaultPolicy, MAX_POLICY_BYTES, parsePolicy, type Policy} from '../appraise/policy.js'
import {InputError, TdxkitError} from '../errors.js'
import type {StateStore} from '../state/store.js'
import {MAX_CERT_FILE_BYTES, readBinaryInput, readRawInput, readTextInput} from './files.js'
import {defaultOptions} from '../verify/options.js'
import {collateralKeyString, type CollateralKey} from '../verify/pck-info.js'
import {collateralKeyOfBytes} from '../verify/platforms.js'
import {fingerprintOf, isFingerprint, normalizeFingerprint, rootFingerprints} from '../verify/roots.js'
import {loadCollateralFile} from './collateral-file.js'
import type {PcsClient} from './pcs-client.js'
import type {BatchOptions, CollateralSet, EventLogSpec, FileSource} from './verify-batch.js'
import {openFileList, quoteFileNames} from './verify-files.js'

/** `--at`: unix seconds or an ISO 8601 date; default the current time. */
export function parseAt(text: string | undefined, clock = Date.now): number {
  if (text === undefined) return Math.floor(clock() / 1000)
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text)
  const t = Date.parse(text)
  if (Number.isNaN(t)) throw new InputError('BAD_TIME', `--at: not unix seconds or an ISO date: ${text}`)
  return t / 1000
}

/** Fingerprints of the certificates in a root CA file (PEM, possibly several, or DER): verify/roots reads both. */
export function rootFingerprintsFromFile(path: string): string[] {
  const raw = readRawInput(path, '--root-ca', MAX_CERT_FILE_BYTES)
  const text = raw.toString('latin1')
  try {
    return rootFingerprints(text.includes('-----BEGIN CERTIFICATE-----') ? text : raw)
  } catch (e) {
    throw new InputError('BAD_ROOT_CA', `--root-ca: ${path}: ${(e as Error).message}`)
  }
}

/**
 * One --root-ca value other than intel / sim: a SHA-256 fingerprint, PEM text pasted in place of a
 * file name, or a PEM / DER certificate file.
 */
function rootFingerprintsOf(value: string): string[] {
  if (isFingerprint(value)) return [normalizeFingerprint(value)]
  if (value.includes('-----BEGIN')) {
    try {
      return rootFingerprints(value)
    } catch (e) {
      throw new InputError('BAD_ROOT_CA', `--root-ca: ${(e as Error).message}`)
    }
  }
  return rootFingerprintsFromFile(value)
}

interface VerifySetupFlags {
  files: string[]
  /** --root-ca values (repeatable): intel, sim, a fingerprint, or a PEM / DER file. */
  rootCa: string | string[]
  collateral?: string
  pccsUrl?: string
  signaturesOnly: boolean
  at?: string
  /** --pccs-url fetches: per-request timeout (ms) and retries. */
  timeoutMs?: number
  retries?: number
}

interface VerifySetup {
  /** What to hand the verifier (defaultOptions(now) with the chosen roots and single bundle). */
  options: BatchOptions
  now: number
  trustedRoots: string[]
  collateral?: QuoteCollateralV3
  /** Several platforms' collateral (--pccs-url on quotes of different FMSPCs or CA types). */
  collateralSet?: CollateralSet
  collateral_source: string
  root_source: string
  /** Human notes for stderr. */
  notes: string[]
}

export async function resolveVerifySetup(flags: VerifySetupFlags, store: () => StateStore | Promise<StateStore>): Promise<VerifySetup> {
  const notes: string[] = []
  const sources = [flags.collateral, flags.pccsUrl, flags.signaturesOnly ? 'x' : undefined].filter(Boolean)
  if (sources.length > 1) throw new InputError('USAGE', 'use only one of --collateral, --pccs-url and --signatures-only')
  const now = parseAt(flags.at)
  const defaults = defaultOptions(now)
  const rootValues = typeof flags.rootCa === 'string' ? [flags.rootCa] : flags.rootCa.length ? flags.rootCa : ['intel']
  const trustedRoots: string[] = []
  let simCollateral: QuoteCollateralV3 | undefined
  for (const value of rootValues) {
    if (value === 'intel') trustedRoots.push(...(defaults.trustedRoots as string[]))
    else if (value === 'sim') {
      // Loaded on demand: the simulated host (PKI builder, pkijs) is not needed to verify real quotes.
      const {loadSimCollateral} = await import('./sim-collateral.js')
      const sim = await loadSimCollateral(await store())
      if (sim.platform_created) notes.push('created the default simulated platform')
      trustedRoots.push(fingerprintOf(sim.root_ca_der))
      simCollateral = sim.collateral
    } else trustedRoots.push(...rootFingerprintsOf(value))
  }

  let collateral: QuoteCollateralV3 | undefined
  let collateralSet: CollateralSet | undefined
  let source: string
  if (flags.collateral) {
    collateral = loadCollateralFile(flags.collateral)
    source = flags.collateral
  } else if (flags.pccsUrl) {
    const {PcsClient} = await import('./pcs-client.js')
    const client = new PcsClient({
      baseUrl: flags.pccsUrl,
      cacheDir: join((await store()).dir, 'pcs-cache'),
      ...(flags.timeoutMs !== undefined ? {timeoutMs: flags.timeoutMs} : {}),
      ...(flags.retries !== undefined ? {retries: flags.retries} : {}),
    })
    const fetched = await fetchForFiles(client, flags.files)
    if (fetched.collateral) collateral = fetched.collateral
    else collateralSet = fetched.set
    source = `${flags.pccsUrl} (${fetched.summary})`
  } else if (flags.signaturesOnly) {
    source = 'none (--signatures-only: TCB status not evaluated)'
  } else if (simCollateral) {
    collateral = simCollateral
    source = 'simulated platform'
  } else {
    throw new InputError('NO_COLLATERAL', 'no collateral: pass --collateral FILE or --pccs-url URL (or --signatures-only to check signatures and the PCK chain only)')
  }
  return {
    options: {...defaults, trustedRoots, ...(collateral ? {collateral} : {})},
    now,
    trustedRoots,
    ...(collateral ? {collateral} : {}),
    ...(collateralSet ? {collateralSet} : {}),
    collateral_source: source,
    root_source: rootValues.map((v) => (v.includes('-----BEGIN') ? 'PEM text' : v)).join(', '),
    notes,
  }
}

/**
 * --pccs-url: the collateral of every platform among the quote files. Each file's collateral key
 * (TEE, FMSPC, PCK CA type) is read from its PCK certificate, and each distinct key is fetched once
 * (served from the on-disk cache until its nextUpdate). One platform gives one bundle, as before;
 * several give a CollateralSet, in which a failed fetch is recorded for that platform's quotes
 * rather than failing the others. Files that do not parse are left to the verifier to report.
 */
export async function fetchForFiles(client: PcsClient, files: string[]): Promise<{collateral?: QuoteCollateralV3; set: CollateralSet; summary: string}> {
  const keys = new Map<string, CollateralKey>()
  const memo = new Map<string, CollateralKey>()
  let firstError: TdxkitError | undefined
  for (const f of files) {
    let bytes: Buffer
    try {
      bytes = readBinaryInput(f, 'quote')
    } catch {
      continue
    }
    try {
      const key = collateralKeyOfBytes(bytes, memo)
      if (key !== undefined) keys.set(collateralKeyString(key), key)
    } catch (e) {
      if (!(e instanceof TdxkitError)) throw e
      firstError ??= e
    }
  }
  if (keys.size === 0) {
    if (firstError) throw firstError
    // Nothing parses: fetch for the first file so its own error is the one reported.
    await client.fetchForQuote(readBinaryInput(files[0], 'quote'))
  }
  const set: CollateralSet = {}
  let cached = 0
  let total = 0
  for (const [id, {tee, fmspc, ca}] of keys) {
    try {
      const r = await client.fetch(tee, fmspc, ca)
      set[id] = r.collateral
      cached += r.sources.filter((s) => s.cached).length
      total += r.sources.length
    } catch (e) {
      if (!(e instanceof TdxkitError) || keys.size === 1) throw e
      set[id] = {error: {code: e.code, message: `platform ${id}: ${e.message}`, exit_code: e.exit}}
    }
  }
  const [only] = keys.values()
  const summary = `${keys.size === 1 ? `FMSPC ${only.fmspc}, ca=${only.ca}` : `${keys.size} platforms: ${[...keys.keys()].join(', ')}`}; ${cached}/${total} from cache`
  const single = keys.size === 1 ? set[collateralKeyString(only)] : undefined
  return single && !('error' in single) ? {collateral: single, set, summary} : {set, summary}
}

/** A policy file: bounded strict UTF-8 read (a BOM is fine), then parsed with file:line:column errors. */
export function loadPolicyFile(path: string): Policy {
  return parsePolicy(readTextInput(path, 'policy', MAX_POLICY_BYTES), path)
}

/** The appraisal policy of `quote verify`: the --policy file (or the default policy), then the flags over it. */
export function policyFromFlags(f: PolicyFlags): Policy {
  return applyPolicyFlags(f.policy ? loadPolicyFile(f.policy) : defaultPolicy(), f)
}

/**
 * The quote files: the command line's, then `--files-from`'s list (read as the batch goes; held in
 * memory only when every name is needed first, e.g. --pccs-url looks up each quote's platform).
 * USAGE when there are none, or when stdin would feed two inputs.
 */
export function quoteFilesFromFlags(argvFiles: string[], filesFrom: string | undefined, eventlogFiles: ReadonlyArray<string | undefined>, needAllFirst: boolean): FileSource {
  if (argvFiles.length === 0 && filesFrom === undefined) throw new InputError('USAGE', 'no quote files: give them as arguments, or as a list with --files-from FILE (- for stdin)')
  if (filesFrom === undefined) return argvFiles
  if (filesFrom === '-' && (argvFiles.includes('-') || eventlogFiles.includes('-'))) {
    throw new InputError('USAGE', 'stdin (-) can feed one input: --files-from -, a quote or the event log')
  }
  const names = quoteFileNames(argvFiles, openFileList(filesFrom))
  return needAllFirst ? [...names] : names
}

/** `--eventlog F [--eventlog-table T] [--allow-rtmr3-runtime]`: the request, or USAGE for flags without --eventlog or stdin asked for twice. */
export function eventLogFromFlags(f: {eventlog?: string; eventlogTable?: string; allowRtmr3Runtime?: boolean}, files: readonly string[]): EventLogSpec | undefined {
  const eventlog = f.eventlog ? {log: f.eventlog, ...(f.eventlogTable ? {table: f.eventlogTable} : {}), allowRtmr3Runtime: f.allowRtmr3Runtime === true} : undefined
  if (!eventlog && (f.eventlogTable || f.allowRtmr3Runtime)) {
    throw new InputError('USAGE', '--eventlog-table and --allow-rtmr3-runtime need --eventlog')
  }
  if (eventlog && files.includes('-') && (eventlog.log === '-' || eventlog.table === '-')) {
    throw new InputError('USAGE', 'stdin (-) can feed either the quote or the event log, not both')
  }
  return eventlog
}
