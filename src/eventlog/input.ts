/** Read an event log (and optionally its CCEL table) from files or stdin, for the commands. */
import {readBinaryInput} from '../util/bytes.js'
import {logAreaFromTable, parseCcelTable, parseEventLog} from './parse.js'
import type {CcelTable, EventLog} from './types.js'

export interface LoadedEventLog {
  log: EventLog
  table?: CcelTable
  /** Bytes read from the log input. */
  input_bytes: number
}

export function loadEventLog(logPath: string, tablePath?: string): LoadedEventLog {
  const raw = readBinaryInput(logPath, 'event log')
  const table = tablePath === undefined ? undefined : parseCcelTable(readBinaryInput(tablePath, 'CCEL table'))
  const log = parseEventLog(table ? logAreaFromTable(table, raw) : raw)
  return {log, ...(table ? {table} : {}), input_bytes: raw.length}
}
