/**
 * Event logs: the ACPI CCEL table, TCG2 crypto-agile logs (parse, decode), RTMR replay, comparison
 * with a quote's RTMRs, and the simulator's extends written as a CCEL-format log.
 */
export {parseCcelTable, parseEventLog, logAreaFromTable, sha384Of} from './parse.js'
export {replayRtmrs, replayTrace, compareToRtmrs, extendRtmr} from './replay.js'
export type {CompareOptions, CompareResult, Divergence, DivergenceReason, ReplayStep, RtmrComparison} from './replay.js'
export {eventsToCcelLog, encodeCcelTable, encodeEvent2, encodeSpecIdEvent, encodeSpecIdRecord, SIM_DEFAULT_EVENT_TYPE, SIM_ANNOTATION_EVENT_TYPE, SIM_EVENT_TAG, SIM_VENDOR_INFO} from './encode.js'
export {decodeEventData, formatDevicePath, formatGuid} from './decode.js'
export {eventToJson, eventLogToJson, ccelTableToJson} from './json.js'
export type {CcelTable, DataCheck, DecodedEventData, EventDigest, EventLog, LogEvent, SpecIdAlgorithm, SpecIdEvent, StateEvent} from './types.js'
