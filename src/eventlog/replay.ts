/**
 * Replay a CCEL event log to RTMR0–3 and compare the result with the RTMRs a quote (or TDREPORT)
 * carries. RTMR[i] starts at 48 zero bytes; each extended event does
 * RTMR[i] = SHA-384(RTMR[i] ‖ digest) with the event's SHA-384 digest — exactly TDG.MR.RTMR.EXTEND.
 */
import {RTMR_COUNT, RTMR_SIZE} from '../abi/ccel.js'
import {InputError, ParseError} from '../errors.js'
import {sha384, sha384Of} from './parse.js'
import type {EventLog, LogEvent} from './types.js'

export const extendRtmr = (rtmr: Buffer, digest: Uint8Array): Buffer => sha384(Buffer.concat([rtmr, digest]))

/** One step of the replay: the RTMR value after this event. */
export interface ReplayStep {
  event_index: number
  rtmr_index: number
  value: Buffer
}

function digestFor(e: LogEvent): Buffer {
  const d = sha384Of(e)
  if (!d) {
    throw new ParseError('EVENTLOG_NO_SHA384', `event log: record ${e.index} has no SHA-384 digest (RTMRs are SHA-384 registers; the log declares ${e.digests.map((x) => x.alg).join(', ')})`)
  }
  return d
}

/** Replay with the running value after every extended event. */
export function replayTrace(log: EventLog): {rtmrs: Buffer[]; steps: ReplayStep[]} {
  const rtmrs: Buffer[] = Array.from({length: RTMR_COUNT}, () => Buffer.alloc(RTMR_SIZE))
  const steps: ReplayStep[] = []
  for (const e of log.events) {
    if (!e.extended || e.rtmr_index === null) continue
    rtmrs[e.rtmr_index] = extendRtmr(rtmrs[e.rtmr_index], digestFor(e))
    steps.push({event_index: e.index, rtmr_index: e.rtmr_index, value: rtmrs[e.rtmr_index]})
  }
  return {rtmrs, steps}
}

/** RTMR0–3 (4 × 48 bytes) recomputed from the log. */
export function replayRtmrs(log: EventLog): Buffer[] {
  return replayTrace(log).rtmrs
}

export type DivergenceReason =
  /** The quote's value equals the log replayed up to an earlier event: later events are not in the quote. */
  | 'log_has_extra_events'
  /** An event's data does not hash to its digest (a spec-defined data hash, or the register's own convention). */
  | 'event_data_mismatch'
  /** The quote's register was extended but the log has no event for it. */
  | 'log_missing_events'
  /** The values differ and nothing in the log points at one event. */
  | 'not_locatable'

export interface Divergence {
  rtmr_index: number
  /** The first event that diverges, or null when the log cannot say which. */
  event_index: number | null
  offset?: number
  event_type?: number
  type_name?: string
  reason: DivergenceReason
  message: string
}

export interface RtmrComparison {
  index: number
  /** Hex of the replayed value. */
  replayed: string
  /** Hex of the quote's value. */
  expected: string
  match: boolean
  /** match | mismatch | runtime (RTMR3 differs but runtime extends outside the log were allowed). */
  status: 'match' | 'mismatch' | 'runtime'
  /** Events of the log extended into this register. */
  events: number
  divergence?: Divergence
}

export interface CompareResult {
  ok: boolean
  rtmrs: RtmrComparison[]
  first_divergence?: Divergence
  /** Events whose data contradicts their digest though every RTMR matches (the log's descriptions are not what was measured). */
  data_mismatches: number[]
}

export interface CompareOptions {
  /**
   * RTMR3 is extended at runtime by the OS / agents and those extends are not in CCEL: when true an
   * RTMR3 mismatch is reported (status 'runtime') but does not fail the comparison. RTMR0–2 are always enforced.
   */
  allowRtmr3Runtime?: boolean
}

const RUNTIME_RTMR = 3

function describe(e: LogEvent) {
  return {event_index: e.index, offset: e.offset, event_type: e.event_type, type_name: e.type_name}
}

/**
 * Events that contradict their digest: spec-defined data hashes that fail, and data-bearing events
 * of a type whose other events in this log all carry SHA-384(data) as their digest (the convention
 * of the simulator and of `rtmr extend --data`) but which do not.
 */
function suspects(events: LogEvent[], all: LogEvent[]): LogEvent[] {
  const selfMeasuredTypes = new Set(all.filter((e) => e.data_check === 'match').map((e) => e.event_type))
  return events.filter((e) => e.data_check === 'mismatch' || (e.data_check === 'unchecked' && e.data.length > 0 && selfMeasuredTypes.has(e.event_type)))
}

function locate(rtmrIndex: number, expected: Buffer, events: LogEvent[], steps: ReplayStep[], all: LogEvent[]): Divergence {
  const name = `RTMR${rtmrIndex}`
  if (events.length === 0) {
    return {rtmr_index: rtmrIndex, event_index: null, reason: 'log_missing_events', message: `${name}: the quote's value is not the initial (zero) value but the log has no events for ${name}`}
  }
  // The quote reflects a prefix of the log's events for this register (zero value = empty prefix).
  const prefix = expected.equals(Buffer.alloc(RTMR_SIZE)) ? 0 : steps.findIndex((s) => s.value.equals(expected)) + 1
  if (prefix > 0 || expected.equals(Buffer.alloc(RTMR_SIZE))) {
    const e = events[prefix]
    return {
      rtmr_index: rtmrIndex,
      ...describe(e),
      reason: 'log_has_extra_events',
      message: `${name}: the quote matches the log up to ${prefix === 0 ? 'its start' : `event #${events[prefix - 1].index}`}; event #${e.index} (${e.type_name}) and later are not reflected in the quote`,
    }
  }
  const bad = suspects(events, all)[0]
  if (bad) {
    return {
      rtmr_index: rtmrIndex,
      ...describe(bad),
      reason: 'event_data_mismatch',
      message: `${name}: event #${bad.index} (${bad.type_name}) at offset ${bad.offset}: its data does not hash to its SHA-384 digest${
        bad.data_check === 'mismatch' ? '' : ` (as the log's other ${bad.type_name} events do)`
      }`,
    }
  }
  return {
    rtmr_index: rtmrIndex,
    event_index: null,
    reason: 'not_locatable',
    message: `${name}: replay of ${events.length} event(s) does not match the quote and no prefix of the log does; an event was altered, removed or added (which one cannot be told from the digests alone)`,
  }
}

function checkRtmrs(rtmrs: Buffer[]): void {
  if (!Array.isArray(rtmrs) || rtmrs.length !== RTMR_COUNT) {
    throw new InputError('BAD_RTMRS', `expected ${RTMR_COUNT} RTMR values, got ${Array.isArray(rtmrs) ? rtmrs.length : typeof rtmrs}`)
  }
  rtmrs.forEach((r, i) => {
    if (!(r instanceof Uint8Array) || r.length !== RTMR_SIZE) throw new InputError('BAD_RTMRS', `RTMR${i}: expected ${RTMR_SIZE} bytes, got ${r?.length}`)
  })
}

/**
 * Compare the log's replay with RTMR0–3 from a quote. `first_divergence` names the earliest event
 * (by log position) at which replay and quote part ways, or, when all RTMRs match, the first event
 * whose data contradicts its digest.
 */
export function compareToRtmrs(log: EventLog, rtmrs: Buffer[], opts: CompareOptions = {}): CompareResult {
  checkRtmrs(rtmrs)
  const {rtmrs: replayed, steps} = replayTrace(log)
  const out: RtmrComparison[] = []
  for (let i = 0; i < RTMR_COUNT; i++) {
    const expected = Buffer.from(rtmrs[i])
    const match = replayed[i].equals(expected)
    const events = log.events.filter((e) => e.extended && e.rtmr_index === i)
    const runtime = !match && i === RUNTIME_RTMR && opts.allowRtmr3Runtime === true
    out.push({
      index: i,
      replayed: replayed[i].toString('hex'),
      expected: expected.toString('hex'),
      match,
      status: match ? 'match' : runtime ? 'runtime' : 'mismatch',
      events: events.length,
      ...(match ? {} : {divergence: locate(i, expected, events, steps.filter((s) => s.rtmr_index === i), log.events)}),
    })
  }
  const failing = out.filter((r) => r.status === 'mismatch').map((r) => r.divergence!)
  const data_mismatches = log.events.filter((e) => e.extended && e.data_check === 'mismatch').map((e) => e.index)
  let first = failing.sort((a, b) => (a.event_index ?? Infinity) - (b.event_index ?? Infinity) || a.rtmr_index - b.rtmr_index)[0]
  if (!first && data_mismatches.length > 0) {
    const e = log.events[data_mismatches[0]]
    first = {
      rtmr_index: e.rtmr_index!,
      ...describe(e),
      reason: 'event_data_mismatch',
      message: `event #${e.index} (${e.type_name}) at offset ${e.offset}: its data does not hash to its SHA-384 digest, though the RTMRs match`,
    }
  }
  return {ok: !first, rtmrs: out, ...(first ? {first_divergence: first} : {}), data_mismatches}
}
