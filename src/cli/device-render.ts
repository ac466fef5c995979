/** Text rendering of a device verdict (`device verify`, `device accept`, the demo): one line per step, then the summary. */
import type {Verdict} from '../device/verifier.js'
import {check, kv} from './render.js'

/** Human lines for a verdict: one line per step, failed checks underneath. */
export function verdictLines(v: Verdict): string[] {
  const lines: string[] = []
  for (const s of v.steps) {
    lines.push(`${s.status === 'skip' ? '-' : check(s.status === 'pass')} ${s.id.padEnd(22)} ${s.detail}`)
  }
  lines.push('')
  lines.push(...kv([
    ['device', `${v.device.id} (${v.device.bdf}, ${v.device.model})`],
    ['verdict', v.ok ? 'VERIFIED' : v.status === 'authenticity_failed' ? 'AUTHENTICITY FAILED' : 'POLICY VIOLATED'],
    ['exit code', String(v.exit_code)],
  ], 0).split('\n'))
  return lines
}
