/**
 * The verifier-side fuzz property. An input (a mutation descriptor over a seed) is built first;
 * then the target runs it. The target must return, or throw one of the project's typed errors
 * (TdxkitError and its subclasses). Anything else is a crash; an input slower than the
 * budget is a hang. Findings are collected, not thrown, so one run reports them all.
 */
import fc from 'fast-check'
import {TdxkitError} from '../../../src/errors.js'
import {recordOutcome, type TargetStats} from '../fuzz/harness.js'

export interface VTarget<I = unknown> {
  name: string
  what: string
  /** Relative share of the runs. */
  weight?: number
  arb: fc.Arbitrary<I>
  /** Turn the generated descriptor into the concrete input (mutators run here, outside the timed region). */
  build?: (input: I) => unknown
  /** Returns an outcome label to count (e.g. the verifier's error code), or nothing. */
  run(built: any): string | void
}

export interface VFinding {
  target: string
  kind: 'crash' | 'hang'
  detail: string
  /** The generated input (mutation descriptor), JSON. */
  input: string
}

/** Per-target counts: the same shape as the other fuzz harness's, so reports read alike. */
type VStats = TargetStats

const DEFAULT_BUDGET_MS = 3000

const isTyped = (e: unknown): boolean => e instanceof TdxkitError

const codeOf = (e: unknown): string => (e as TdxkitError).code

const describe = (e: unknown): string =>
  e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) + (e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : '') : `non-error thrown: ${String(e)}`

const toJson = (v: unknown): string => {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))?.slice(0, 20000) ?? String(v)
  } catch {
    return String(v)
  }
}

/** Run one input; classify it. Exported for regression tests. */
function runInput<I>(t: VTarget<I>, input: I, budgetMs = DEFAULT_BUDGET_MS): {kind: 'ok' | 'typed' | 'crash' | 'hang'; code?: string; detail?: string; ms: number} {
  let built: unknown
  try {
    built = t.build ? t.build(input) : input
  } catch (e) {
    return {kind: 'crash', detail: `mutator failed (harness bug, not a finding in the code under test): ${describe(e)}`, ms: 0}
  }
  const t0 = performance.now()
  let kind: 'ok' | 'typed' | 'crash' | 'hang' = 'ok'
  let code: string | undefined
  let detail: string | undefined
  try {
    const label = t.run(built)
    if (label) code = label
  } catch (e) {
    if (isTyped(e)) {
      kind = 'typed'
      code = codeOf(e)
    } else {
      kind = 'crash'
      detail = describe(e)
    }
  }
  const ms = performance.now() - t0
  if (ms > budgetMs && kind !== 'crash') {
    kind = 'hang'
    detail = `${ms.toFixed(0)} ms > budget ${budgetMs} ms`
  }
  return {kind, ms, ...(code ? {code} : {}), ...(detail ? {detail} : {})}
}

/** `runs` inputs from the target's arbitrary (seeded, reproducible), each through the property. */
export function fuzzTarget<I>(t: VTarget<I>, opts: {seed: number; runs: number; budgetMs?: number}): {stats: VStats; findings: VFinding[]} {
  const stats: VStats = {target: t.name, tried: 0, ok: 0, typed: 0, crashes: 0, hangs: 0, codes: {}, ms: 0, max_input_ms: 0}
  const findings: VFinding[] = []
  const t0 = performance.now()
  // Generate in batches to keep memory flat on long campaigns.
  const batch = 500
  for (let done = 0, round = 0; done < opts.runs; round++) {
    const n = Math.min(batch, opts.runs - done)
    const inputs = fc.sample(t.arb, {seed: opts.seed + round * 7919, numRuns: n})
    for (const input of inputs) {
      const r = runInput(t, input, opts.budgetMs)
      recordOutcome(stats, findings, r, r.ms, (kind, detail) => ({target: t.name, kind, detail, input: toJson(input)}))
    }
    done += n
  }
  stats.ms = performance.now() - t0
  return {stats, findings}
}

export function formatStats(s: VStats): string {
  const top = Object.entries(s.codes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ')
  return `${s.target}: inputs tried ${s.tried}, ok ${s.ok}, typed errors ${s.typed}, crashes ${s.crashes}, hangs ${s.hangs}; ${(s.ms / 1000).toFixed(1)} s, slowest input ${s.max_input_ms.toFixed(0)} ms${top ? ` [${top}]` : ''}`
}
