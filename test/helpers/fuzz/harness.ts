/**
 * The fuzz property and its bookkeeping. For every input a target either returns, or throws a
 * TdxkitError (the project's typed errors); anything else (TypeError, RangeError, an untyped
 * Error, a rejected promise with a non-error) is a crash, and an input that takes longer than the
 * time budget is a hang. Crashes and hangs are collected (not thrown) so one run reports them all.
 */
import fc from 'fast-check'
import {TdxkitError} from '../../../src/errors.js'
import type {Corpora} from './seeds.js'
import type {Target} from './targets.js'

type Outcome = {kind: 'ok'} | {kind: 'typed'; code: string} | {kind: 'crash'; error: string} | {kind: 'hang'; ms: number}

export interface Finding {
  target: string
  kind: 'crash' | 'hang'
  detail: string
  input: Buffer
}

export interface TargetStats {
  target: string
  tried: number
  ok: number
  typed: number
  crashes: number
  hangs: number
  /** typed error codes seen, with counts */
  codes: Record<string, number>
  ms: number
  max_input_ms: number
}

const DEFAULT_BUDGET_MS = 2000

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) + (e.stack ? `\n${e.stack.split('\n').slice(1, 5).join('\n')}` : '') : `non-error thrown: ${String(e)}`)

/** Run one input through a target and classify the outcome. */
export async function runOne(target: Target, input: Buffer, c: Corpora, budgetMs = DEFAULT_BUDGET_MS): Promise<{outcome: Outcome; ms: number}> {
  const t0 = performance.now()
  let outcome: Outcome
  try {
    await target.run(input, c)
    outcome = {kind: 'ok'}
  } catch (error) {
    outcome = error instanceof TdxkitError ? {kind: 'typed', code: error.code} : {kind: 'crash', error: describe(error)}
  }
  const ms = performance.now() - t0
  if (ms > budgetMs && outcome.kind !== 'crash') outcome = {kind: 'hang', ms}
  return {outcome, ms}
}

interface FuzzOptions {
  seed: number
  runs: number
  budgetMs?: number
  /** called before each input (the long-campaign worker publishes it for its watchdog) */
  onInput?: (input: Buffer) => void
}

/** Keep at most this many crash / hang findings per target. */
const MAX_FINDINGS = 20

/**
 * Count one input's outcome into `stats` (a code for typed errors, and for results that carry one),
 * keeping the first MAX_FINDINGS crashes and hangs, built by `finding`.
 */
export function recordOutcome<F>(
  stats: TargetStats,
  findings: F[],
  o: {kind: 'ok' | 'typed' | 'crash' | 'hang'; code?: string; detail?: string},
  ms: number,
  finding: (kind: 'crash' | 'hang', detail: string) => F,
): void {
  stats.tried++
  stats.max_input_ms = Math.max(stats.max_input_ms, ms)
  if (o.kind === 'ok') stats.ok++
  else if (o.kind === 'typed') stats.typed++
  else if (o.kind === 'crash') stats.crashes++
  else stats.hangs++
  if (o.code) stats.codes[o.code] = (stats.codes[o.code] ?? 0) + 1
  if ((o.kind === 'crash' || o.kind === 'hang') && findings.length < MAX_FINDINGS) findings.push(finding(o.kind, o.detail ?? ''))
}

/** Fuzz one target with fast-check (fixed seed → the same inputs every time). */
export async function fuzzTarget(target: Target, c: Corpora, opts: FuzzOptions): Promise<{stats: TargetStats; findings: Finding[]}> {
  const stats: TargetStats = {target: target.name, tried: 0, ok: 0, typed: 0, crashes: 0, hangs: 0, codes: {}, ms: 0, max_input_ms: 0}
  const findings: Finding[] = []
  const t0 = performance.now()
  const prop = fc.asyncProperty(target.arbitrary(c), async (input) => {
    opts.onInput?.(input)
    const {outcome, ms} = await runOne(target, input, c, opts.budgetMs)
    const detail = outcome.kind === 'crash' ? outcome.error : outcome.kind === 'hang' ? `${outcome.ms.toFixed(0)} ms` : undefined
    recordOutcome(stats, findings, {kind: outcome.kind, ...(outcome.kind === 'typed' ? {code: outcome.code} : {}), ...(detail ? {detail} : {})}, ms, (kind, d) => ({target: target.name, kind, detail: d, input}))
    return true
  })
  await fc.assert(prop, {seed: opts.seed, numRuns: opts.runs, endOnFailure: true})
  stats.ms = performance.now() - t0
  return {stats, findings}
}

export function formatStats(s: TargetStats): string {
  const top = Object.entries(s.codes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ')
  return `${s.target.padEnd(18)} tried ${String(s.tried).padStart(6)}  ok ${String(s.ok).padStart(6)}  typed ${String(s.typed).padStart(6)}  crashes ${s.crashes}  hangs ${s.hangs}  ${(s.ms / 1000).toFixed(1)}s  (max ${s.max_input_ms.toFixed(0)} ms/input; ${top})`
}
