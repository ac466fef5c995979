/**
 * Reading an event log (and optionally its CCEL table) from files or stdin, for `eventlog show` /
 * `replay` and batch verification (kept apart from app/eventlog.ts so verifier workers load only the parser).
 */
import {logAreaFromTable, parseCcelTable, parseEventLog} from '../eventlog/parse.js'
import type {CcelTable, EventLog} from '../eventlog/types.js'
import {readBinaryInput} from './files.js'

export interface LoadedEventLog {
  log: EventLog
  table?: CcelTable
  /** Bytes read from the log input. */
  input_bytes: number
}

/** A log from a path or '-' (raw/hex/base64), cut to the CCEL table's log area when a table is given. */
export function loadEventLog(logPath: string, tablePath?: string): LoadedEventLog {
  const raw = readBinaryInput(logPath, 'event log')
  const table = tablePath === undefined ? undefined : parseCcelTable(readBinaryInput(tablePath, 'CCEL table'))
  const log = parseEventLog(table ? logAreaFromTable(table, raw) : raw)
  return {log, ...(table ? {table} : {}), input_bytes: raw.length}
}
