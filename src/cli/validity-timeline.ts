/**
 * The collateral validity timeline of `quote verify` text output: each dated item's window
 * (issueDate / thisUpdate → nextUpdate) on one shared time axis, with the verification time (--at)
 * marked, so an expired or not-yet-valid item is seen at a glance.
 *
 *   collateral validity at 2025-07-19T10:00:34Z (▼)
 *                              ▼
 *     tcb_info     ·····━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━···  2025-07-19 09:16 .. 2025-08-18 09:16  valid
 *     pck_crl      ·····━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━  2025-07-18 10:00 .. 2025-07-19 10:00  expired 34 s before --at
 */
import {isoOf, type ValidityItem} from '../verify/validity.js'
import {dim, green, red} from './render.js'

/** Columns of the time axis. */
const AXIS_WIDTH = 40
/** Width of the item-name column. */
const NAME_WIDTH = 12
const INDENT = '    '

const short = (iso: string) => iso.slice(0, 16).replace('T', ' ')

/** "3 d", "5 h", "40 s": the larger unit that fits. */
function span(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s >= 2 * 86400) return `${Math.round(s / 86400)} d`
  if (s >= 2 * 3600) return `${Math.round(s / 3600)} h`
  if (s >= 120) return `${Math.round(s / 60)} min`
  return `${s} s`
}

/** The timeline lines for the items around `atSec` (unix seconds); none without items. */
export function validityTimeline(items: readonly ValidityItem[], atSec: number): string[] {
  if (items.length === 0) return []
  const at = atSec * 1000
  const windows = items.map((i) => ({name: i.item, from: Date.parse(i.from), until: i.until ? Date.parse(i.until) : undefined, i}))
  const lo = Math.min(at, ...windows.map((w) => w.from))
  const hi = Math.max(at, ...windows.map((w) => w.until ?? w.from))
  const col = (t: number) => (hi === lo ? 0 : Math.min(AXIS_WIDTH - 1, Math.round(((t - lo) / (hi - lo)) * (AXIS_WIDTH - 1))))
  const atCol = col(at)
  const lines = [`  collateral validity at ${isoOf(at)} (▼)`, `${INDENT}${' '.repeat(NAME_WIDTH + 1 + atCol)}▼`]
  for (const w of windows) {
    const a = col(w.from)
    const b = w.until === undefined ? AXIS_WIDTH - 1 : col(w.until)
    let bar = ''
    for (let c = 0; c < AXIS_WIDTH; c++) bar += c >= a && c <= b ? '━' : '·'
    const state = at < w.from ? red(`not yet valid (starts ${span(w.from - at)} after --at)`) : w.until !== undefined && at > w.until ? red(`expired ${span(at - w.until)} before --at`) : green('valid')
    const range = dim(`${short(w.i.from)} .. ${w.i.until ? short(w.i.until) : 'open'}`)
    lines.push(`${INDENT}${w.name.padEnd(NAME_WIDTH)} ${bar}  ${range}  ${state}`)
  }
  lines.push(`${INDENT}${' '.repeat(NAME_WIDTH + 1)}${dim(short(new Date(lo).toISOString()))}${' '.repeat(Math.max(1, AXIS_WIDTH - 32))}${dim(short(new Date(hi).toISOString()))}`)
  return lines
}
