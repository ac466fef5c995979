/**
 * A quote's verdict: verification, appraisal against the policy and (with --eventlog) the event-log
 * check, combined into one outcome with one exit code; and that outcome's stable JSON object (the
 * `quote verify --json` object and each NDJSON line of a batch, rendered by the thread that
 * verified the quote). Pure: the bytes and the loaded event log come in.
 */
import {parseQuote, type ParsedQuote} from '../abi/quote.js'
import {checkEventLog, type EventLogCheck, type EventLogSpec, type LoadedLog} from '../verify/eventlog-check.js'
import {QuoteVerifier, type VerifyResult} from '../verify/verifier.js'
import type {PlatformVerifiers} from '../verify/platforms.js'
import {appraise, combinedExit, type Appraisal} from './appraise.js'
import type {Policy} from './policy.js'

export interface QuoteOutcome {
  file: string
  exit_code: number
  /** Absent when the file could not be read (or its platform has no collateral). */
  result?: VerifyResult
  appraisal?: Appraisal
  /** The event log comparison (with --eventlog). */
  eventlog?: EventLogCheck
  error?: {code: string; message: string; exit_code: number}
}

/** What judging a quote needs: verifiers (per platform), the policy, the loaded event log. */
export interface VerdictContext {
  verifiers: PlatformVerifiers
  policy?: Policy
  eventlog?: {spec: EventLogSpec; loaded: LoadedLog}
}

/** Verify, appraise and (with an event log) compare RTMRs for one quote's bytes. */
export function quoteVerdict(ctx: VerdictContext, file: string, bytes: Uint8Array): QuoteOutcome {
  // Parsed once for the verifier, the platform lookup and the appraisal (a quote that does not parse is the verifier's to report).
  let q: ParsedQuote | undefined
  try {
    q = parseQuote(bytes)
  } catch {
    q = undefined
  }
  const verifier = ctx.verifiers.forQuote(bytes, q)
  if (!(verifier instanceof QuoteVerifier)) return {file, exit_code: verifier.exit_code, error: verifier}
  const result = verifier.verify(bytes, q)
  const appraisal = result.ok && ctx.policy ? appraise(result, q ?? bytes, ctx.policy) : undefined
  let exit = combinedExit(result, appraisal)
  const eventlog = ctx.eventlog ? checkEventLog(bytes, ctx.eventlog.loaded, ctx.eventlog.spec) : undefined
  // A log that does not match the quote is a binding failure: it outranks a policy violation.
  if (eventlog && eventlog.exit_code !== 0) exit = exit === 0 ? eventlog.exit_code : Math.min(exit, eventlog.exit_code)
  return {file, exit_code: exit, result, ...(appraisal ? {appraisal} : {}), ...(eventlog ? {eventlog} : {})}
}

/** The event log check as a step record (same shape as the verifier's steps). */
export const eventLogStep = (e: EventLogCheck) => ({id: e.id, title: e.title, result: e.result, detail: e.detail, ...(e.code ? {code: e.code} : {})})

/** How much of an outcome its JSON carries. */
export interface OutcomeJsonOptions {
  /**
   * `steps` on every outcome ('always', the default: `quote verify --json` on one quote, the
   * library), or only where the verdict is not ok ('unless-ok': the NDJSON lines of a batch without
   * --steps, where the step list was ~40 % of each line and of its rendering time).
   */
  steps?: 'always' | 'unless-ok'
}

/** The stable JSON object for one quote (snake_case). */
export function outcomeJson(o: QuoteOutcome, options: OutcomeJsonOptions = {}): Record<string, unknown> {
  const r = o.result
  const logFailed = o.eventlog?.result === 'fail'
  const verdict = o.exit_code === 0 ? 'ok' : r && r.ok && !logFailed && o.appraisal && !o.appraisal.ok ? 'policy_violation' : 'error'
  const withSteps = options.steps !== 'unless-ok' || verdict !== 'ok'
  return {
    file: o.file,
    verdict,
    exit_code: o.exit_code,
    ...(r
      ? {
          status: r.status,
          advisory_ids: r.advisory_ids,
          mode: r.mode,
          at: r.at,
          error: r.error ?? (logFailed ? {code: o.eventlog!.code!, message: o.eventlog!.detail, step: o.eventlog!.id, exit_code: o.eventlog!.exit_code} : null),
          ...(withSteps ? {steps: o.eventlog ? [...r.steps, eventLogStep(o.eventlog)] : r.steps} : {}),
          policy: o.appraisal ? {ok: o.appraisal.ok, violations: o.appraisal.violations, checked: o.appraisal.checked} : null,
          quote: r.quote,
          tcb: r.tcb,
          collateral: r.collateral,
          body: r.body,
          ...(o.eventlog ? {eventlog: {result: o.eventlog.result, detail: o.eventlog.detail, ...(o.eventlog.comparison ? {comparison: o.eventlog.comparison} : {})}} : {}),
        }
      : {error: o.error}),
  }
}
