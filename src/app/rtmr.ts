/** The runtime measurement registers of the platform in the state directory: extend (and log), show. */
import {extendRtmr, type RtmrEventInput} from '../guest/tdx-guest.js'
import type {EventRecord} from '../module/doc.js'
import {loadPlatform, mutatePlatform, type Notice, type StateStore} from './platform.js'

/** TDG.MR.RTMR.EXTEND under the state lock; the event is recorded. Returns it and the new RTMR value. */
export async function extendRtmrEvent(store: StateStore, notice: Notice, index: number, digest: Uint8Array, event: RtmrEventInput = {}): Promise<{rec: EventRecord; rtmr: string}> {
  return mutatePlatform(store, notice, (p) => {
    const rec = extendRtmr(p, index, digest, event)
    return {rec, rtmr: p.doc.td.rtmr[index]}
  })
}

/** RTMR0-3 and the recorded extend events. */
export async function readRtmrs(store: StateStore, notice: Notice): Promise<{rtmr: string[]; events: EventRecord[]}> {
  const p = await loadPlatform(store, notice)
  return {rtmr: p.doc.td.rtmr, events: p.doc.events}
}
