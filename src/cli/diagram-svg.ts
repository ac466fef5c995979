/**
 * Two small dependency-free SVG diagram renderers (no browser, no fonts fetched; self-contained SVG
 * 1.1 like the allocator chart): a sequence diagram (participants, calls, returns, notes) for
 * `quote generate --trace-svg`, and a state diagram (states, labelled transitions, self-loops) for
 * the TDISP state machine in docs/guide/device.md. Text is monospace so widths are predictable.
 */
import {escapeXml} from '../cost/chart.js'

const FAMILY = 'font-family="ui-monospace, Menlo, Consolas, monospace"'
const FONT = `${FAMILY} font-size="11"`
/** Width of one character of the 11 px monospace font, for layout. */
const CHAR_W = 6.7
const r = (v: number) => Number(v.toFixed(1))
const textWidth = (s: string) => s.length * CHAR_W

const ARROW_DEFS =
  '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">' +
  '<path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>'

function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${r(width)}" height="${r(height)}" viewBox="0 0 ${r(width)} ${r(height)}">`,
    `<title>${escapeXml(title)}</title>`,
    ARROW_DEFS,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" ${FAMILY} font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n')
}

/** A message of a sequence diagram: an arrow between two participants, or a note on one. */
export interface SequenceStep {
  kind: 'call' | 'return' | 'note'
  from: string
  /** Target participant (calls and returns). */
  to?: string
  label: string
  /** Draw in the alarm colour (a failure). */
  alarm?: boolean
}

export interface SequenceSpec {
  title: string
  participants: readonly string[]
  steps: SequenceStep[]
}

const SEQ = {left: 20, top: 44, colW: 200, headH: 30, rowH: 26, bottom: 24, noteMax: 60}

/** A sequence diagram: one lifeline per participant, one row per step, top to bottom. */
export function sequenceDiagramSvg(spec: SequenceSpec): string {
  const col = new Map(spec.participants.map((p, i) => [p, i]))
  const xOf = (p: string) => {
    const i = col.get(p)
    if (i === undefined) throw new Error(`sequence diagram: unknown participant ${p}`)
    return SEQ.left + SEQ.colW / 2 + i * SEQ.colW
  }
  const label = (s: string) => (s.length > SEQ.noteMax ? `${s.slice(0, SEQ.noteMax - 1)}…` : s)
  const widest = Math.max(0, ...spec.steps.filter((s) => s.kind === 'note').map((s) => xOf(s.from) + 8 + textWidth(label(s.label)) + 10))
  const width = Math.max(SEQ.left * 2 + spec.participants.length * SEQ.colW, widest + SEQ.left)
  const bodyTop = SEQ.top + SEQ.headH + 16
  const height = bodyTop + spec.steps.length * SEQ.rowH + SEQ.bottom + SEQ.headH
  const out: string[] = []
  const heads = (y: number) =>
    spec.participants.map((p) => {
      const x = xOf(p)
      const w = Math.max(textWidth(p) + 20, 90)
      return `<rect x="${r(x - w / 2)}" y="${y}" width="${r(w)}" height="${SEQ.headH}" rx="4" fill="#eef3fb" stroke="#4a6fa5"/><text x="${r(x)}" y="${y + 19}" ${FONT} text-anchor="middle">${escapeXml(p)}</text>`
    })
  out.push(...heads(SEQ.top))
  for (const p of spec.participants) out.push(`<line x1="${r(xOf(p))}" y1="${SEQ.top + SEQ.headH}" x2="${r(xOf(p))}" y2="${r(height - SEQ.headH - 8)}" stroke="#999" stroke-dasharray="4 4"/>`)
  spec.steps.forEach((s, i) => {
    const y = bodyTop + i * SEQ.rowH + SEQ.rowH / 2
    const colour = s.alarm ? '#c0392b' : '#333'
    const text = escapeXml(label(s.label))
    if (s.kind === 'note') {
      const x = xOf(s.from) + 8
      out.push(`<rect x="${r(x)}" y="${r(y - 9)}" width="${r(textWidth(label(s.label)) + 8)}" height="17" rx="2" fill="${s.alarm ? '#fdecea' : '#fffbe6'}" stroke="${s.alarm ? '#c0392b' : '#d4c27a'}"/>`)
      out.push(`<text x="${r(x + 4)}" y="${r(y + 4)}" ${FONT} fill="${colour}">${text}</text>`)
      return
    }
    const [x1, x2] = [xOf(s.from), xOf(s.to ?? s.from)]
    const dash = s.kind === 'return' ? ' stroke-dasharray="5 3"' : ''
    out.push(`<line x1="${r(x1)}" y1="${r(y + 4)}" x2="${r(x2)}" y2="${r(y + 4)}" stroke="${colour}"${dash} marker-end="url(#arrow)"/>`)
    out.push(`<text x="${r((x1 + x2) / 2)}" y="${r(y)}" ${FONT} text-anchor="middle" fill="${colour}">${text}</text>`)
  })
  out.push(...heads(height - SEQ.headH - 8))
  return svgDocument(width, height, spec.title, out)
}

/** A state of a state diagram, placed by the caller (centre coordinates). */
export interface DiagramState {
  id: string
  x: number
  y: number
  /** Drawn with a double border (e.g. the initial state). */
  initial?: boolean
  /** Drawn in the alarm colour. */
  alarm?: boolean
}

export interface DiagramTransition {
  from: string
  to: string
  /** One or more lines of label text. */
  label: string[]
  /**
   * How far the curve bows to the left of its direction, in px (default 0, or 28 when the opposite
   * transition exists too); a large bend routes an arrow around the states between its ends.
   */
  bend?: number
}

export interface StateSpec {
  title: string
  width: number
  height: number
  states: DiagramState[]
  transitions: DiagramTransition[]
  /** Lines of text under the diagram. */
  caption?: string[]
}

const STATE = {w: 230, h: 36, lineH: 14}

/**
 * A state diagram: rounded boxes, one arrow per transition (a pair of opposite transitions is
 * drawn as two curves bowing apart), a self-transition as a "↻ label" line inside its box, and
 * labels at each curve's midpoint on a white backing so crossings stay readable.
 */
export function stateDiagramSvg(spec: StateSpec): string {
  const byId = new Map(spec.states.map((s) => [s.id, s]))
  const at = (id: string) => {
    const s = byId.get(id)
    if (!s) throw new Error(`state diagram: unknown state ${id}`)
    return s
  }
  const loops = (id: string) => spec.transitions.filter((t) => t.from === id && t.to === id).flatMap((t) => t.label)
  const heightOf = (s: DiagramState) => STATE.h + loops(s.id).length * STATE.lineH
  const out: string[] = []
  const labelBlock = (x: number, y: number, lines: string[]) => {
    const w = Math.max(...lines.map(textWidth)) + 8
    const h = lines.length * 13 + 4
    out.push(`<rect x="${r(x - w / 2)}" y="${r(y - h / 2)}" width="${r(w)}" height="${r(h)}" fill="#ffffff" fill-opacity="0.9"/>`)
    lines.forEach((l, i) => out.push(`<text x="${r(x)}" y="${r(y - h / 2 + 13 + i * 13)}" ${FONT} text-anchor="middle">${escapeXml(l)}</text>`))
  }
  const labels: Array<() => void> = []
  for (const t of spec.transitions) {
    const [a, b] = [at(t.from), at(t.to)]
    if (a === b) continue
    const reverse = spec.transitions.some((u) => u.from === t.to && u.to === t.from)
    const bend = t.bend ?? (reverse ? 28 : 0)
    const len = Math.hypot(b.x - a.x, b.y - a.y) || 1
    // Control point: the midpoint of the centres, moved `bend` px to the left of the direction a → b.
    const [cx, cy] = [(a.x + b.x) / 2 + ((b.y - a.y) / len) * bend, (a.y + b.y) / 2 - ((b.x - a.x) / len) * bend]
    const [p1, p2] = [edgePoint(a, heightOf(a), bend ? [cx, cy] : [b.x, b.y]), edgePoint(b, heightOf(b), bend ? [cx, cy] : [a.x, a.y])]
    out.push(`<path d="M${r(p1[0])},${r(p1[1])} Q${r(cx)},${r(cy)} ${r(p2[0])},${r(p2[1])}" fill="none" stroke="#333" marker-end="url(#arrow)"/>`)
    // The curve's midpoint (t = 0.5 of the quadratic Bézier).
    labels.push(() => labelBlock((p1[0] + 2 * cx + p2[0]) / 4, (p1[1] + 2 * cy + p2[1]) / 4, t.label))
  }
  for (const s of spec.states) {
    const h = heightOf(s)
    const [x, y] = [s.x - STATE.w / 2, s.y - h / 2]
    const stroke = s.alarm ? '#c0392b' : '#4a6fa5'
    out.push(`<rect x="${r(x)}" y="${r(y)}" width="${STATE.w}" height="${r(h)}" rx="16" fill="${s.alarm ? '#fdecea' : '#eef3fb'}" stroke="${stroke}" stroke-width="1.5"/>`)
    if (s.initial) out.push(`<rect x="${r(x + 3)}" y="${r(y + 3)}" width="${STATE.w - 6}" height="${r(h - 6)}" rx="13" fill="none" stroke="${stroke}"/>`)
    out.push(`<text x="${r(s.x)}" y="${r(y + 22)}" ${FAMILY} font-size="12" font-weight="bold" text-anchor="middle">${escapeXml(s.id)}</text>`)
    loops(s.id).forEach((l, i) => out.push(`<text x="${r(s.x)}" y="${r(y + 22 + (i + 1) * STATE.lineH)}" ${FONT} text-anchor="middle" fill="#333">↻ ${escapeXml(l)}</text>`))
  }
  for (const l of labels) l()
  ;(spec.caption ?? []).forEach((c, i) => out.push(`<text x="16" y="${r(spec.height - 12 - ((spec.caption?.length ?? 0) - 1 - i) * 14)}" ${FONT} fill="#555">${escapeXml(c)}</text>`))
  return svgDocument(spec.width, spec.height, spec.title, out)
}

/** Where the straight line from a's centre towards `to` leaves a's box (height h). */
function edgePoint(a: DiagramState, h: number, to: [number, number]): [number, number] {
  const [dx, dy] = [to[0] - a.x, to[1] - a.y]
  const sx = dx === 0 ? Infinity : STATE.w / 2 / Math.abs(dx)
  const sy = dy === 0 ? Infinity : h / 2 / Math.abs(dy)
  const s = Math.min(sx, sy)
  return [a.x + dx * s, a.y + dy * s]
}
