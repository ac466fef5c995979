/** TDREPORTs on the platform of the state directory: make one (`report`), check one's MAC (`report show`). */
import {getTdReport} from '../guest/tdx-guest.js'
import {verifyTdReportMac} from '../module/platform.js'
import {loadPlatform, type Notice, type StateStore} from './platform.js'

/** TDG.MR.REPORT over 64 bytes of report data. */
export async function makeTdReport(store: StateStore, notice: Notice, reportData: Uint8Array): Promise<{profile: string; report: Buffer}> {
  const p = await loadPlatform(store, notice)
  return {profile: p.profile, report: getTdReport(p, reportData)}
}

/**
 * Does the TDREPORT's MAC verify under the platform in the state directory? null when there is no
 * (readable) platform to check it with: only the platform that made a report can check it.
 */
export function checkTdReportMac(store: StateStore, tdreport: Uint8Array): boolean | null {
  let doc
  try {
    doc = store.load()
  } catch {
    doc = undefined
  }
  return doc?.module !== undefined ? verifyTdReportMac(doc, tdreport) : null
}
