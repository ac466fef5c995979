/**
 * `quote verify --eventlog`: replay a CCEL / TCG2 event log and compare RTMR0-3 with the quote's
 * body, as one more verification step. A mismatch is a binding failure (exit 3): the log does not
 * describe the TD that produced the quote. The step is independent of collateral (it needs only the
 * quote body), so it runs in --signatures-only mode too.
 */
import {ExitCode, TdxkitError} from '../errors.js'
import {compareToRtmrs, type CompareResult, type EventLog} from '../eventlog/index.js'
import {quoteRtmrs} from '../eventlog/quote-rtmrs.js'

const EVENTLOG_STEP = {id: 'eventlog', title: "event log replay matches the quote's RTMR0-3"} as const
const EVENTLOG_MISMATCH = 'EVENTLOG_MISMATCH'

/** An `--eventlog` request: the log (and CCEL table) files, read by the app (src/app/verify-batch.ts), and how to compare. */
export interface EventLogSpec {
  log: string
  table?: string
  /** An RTMR3 mismatch explained by runtime extends not in the log does not fail. */
  allowRtmr3Runtime?: boolean
}

export interface EventLogCheck {
  id: 'eventlog'
  title: string
  result: 'pass' | 'fail' | 'skip'
  detail: string
  code?: string
  /** Exit code this step imposes (3 on a mismatch, else 0). */
  exit_code: number
  comparison?: CompareResult
}

/** A parsed event log, as the app loads it (src/app/eventlog-input.ts LoadedEventLog has this shape). */
export interface LoadedLog {
  log: EventLog
}

/** Replay a parsed event log (loaded by the app: src/app/verify-batch.ts) and compare it with the quote's RTMR0-3. */
export function checkEventLog(quote: Uint8Array, loaded: LoadedLog, spec: EventLogSpec): EventLogCheck {
  const base = {id: EVENTLOG_STEP.id, title: EVENTLOG_STEP.title}
  let rtmrs: Buffer[]
  try {
    rtmrs = quoteRtmrs(quote)
  } catch (e) {
    if (!(e instanceof TdxkitError)) throw e
    return {...base, result: 'skip', detail: `not compared: ${e.message}`, exit_code: ExitCode.OK}
  }
  const comparison = compareToRtmrs(loaded.log, rtmrs, {allowRtmr3Runtime: spec.allowRtmr3Runtime === true})
  const events = loaded.log.events.length
  if (comparison.ok) {
    const runtime = comparison.rtmrs.some((r) => r.status === 'runtime')
    return {...base, result: 'pass', detail: `${events} events replayed; ${runtime ? 'RTMR0-2 match (RTMR3 has runtime extends, allowed)' : 'RTMR0-3 match'}`, exit_code: ExitCode.OK, comparison}
  }
  const d = comparison.first_divergence!
  const where = d.event_index === null ? `RTMR${d.rtmr_index}` : `event #${d.event_index}`
  return {...base, result: 'fail', code: EVENTLOG_MISMATCH, detail: `first divergence at ${where} (${d.reason}): ${d.message}`, exit_code: ExitCode.AUTHENTICITY, comparison}
}
