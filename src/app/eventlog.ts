/** `eventlog export`: the platform's recorded RTMR extends as a CCEL-format (TCG2 crypto-agile) log. */
import {eventsToCcelLog} from '../eventlog/index.js'
import {loadPlatform, type Notice, type StateStore} from './platform.js'

export async function exportEventLog(store: StateStore, notice: Notice): Promise<{events: number; log: Buffer}> {
  const p = await loadPlatform(store, notice)
  const events = p.doc.events ?? []
  return {events: events.length, log: eventsToCcelLog(events)}
}
