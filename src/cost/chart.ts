/**
 * A dependency-free SVG line chart: panels on a grid sharing one x axis (the swept parameter), one
 * line per series, one legend for all panels in its own band under the title (never over a plot),
 * and optional marked points (e.g. where a pool ran out), drawn as hollow rings with a tooltip.
 * Self-contained SVG 1.1 (no scripts, no external fonts) that any browser renders.
 */

export interface ChartSeries {
  name: string
  values: number[]
  color?: string
  /** Points to ring (same length as values; true = marked). */
  marks?: boolean[]
}

export interface ChartPanel {
  title: string
  yLabel: string
  series: ChartSeries[]
  /** Tick label formatter for y values. */
  formatY?: (v: number) => string
}

export interface ChartSpec {
  title: string
  xLabel: string
  xs: number[]
  /** Labels for the x points (default: the numbers). */
  xLabels?: string[]
  panels: ChartPanel[]
  subtitle?: string
  /** Panels per row (default: all in one row). */
  columns?: number
  /** What a ring means (shown in the legend band when any point is marked). */
  markLabel?: string
}

const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e']
const PANEL_W = 440
const PANEL_H = 300
const MARGIN = {right: 20, bottom: 60, left: 70}
const TITLE_H = 56
const LEGEND_ROW_H = 22
const PANEL_TITLE_H = 30
const GAP = 40
const ROW_GAP = 30

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (ch) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;'})[ch]!)
}

/** "Nice" tick values covering [0, max]. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1]
  const raw = max / target
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const ticks: number[] = []
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)))
  return ticks
}

const fmtDefault = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : String(Number(v.toPrecision(4))))
const r = (v: number) => Number(v.toFixed(2))

/** Series names in first-seen order with their colours (the legend's entries). */
function legendEntries(spec: ChartSpec): Array<{name: string; color: string}> {
  const out: Array<{name: string; color: string}> = []
  for (const p of spec.panels) {
    p.series.forEach((s, si) => {
      if (!out.some((e) => e.name === s.name)) out.push({name: s.name, color: s.color ?? PALETTE[si % PALETTE.length]})
    })
  }
  return out
}

/** The legend band: swatches in rows across the full width, between the title and the panels. */
function renderLegend(out: string[], spec: ChartSpec, width: number): number {
  const entries = legendEntries(spec)
  const anyMark = spec.panels.some((p) => p.series.some((s) => s.marks?.some(Boolean)))
  const items = [...entries.map((e) => ({...e, ring: false})), ...(anyMark ? [{name: spec.markLabel ?? 'marked point', color: '#000', ring: true}] : [])]
  const itemW = 190
  const perRow = Math.max(1, Math.floor((width - 2 * MARGIN.left) / itemW))
  const rows = Math.ceil(items.length / perRow)
  items.forEach((it, i) => {
    const x = MARGIN.left + (i % perRow) * itemW
    const y = TITLE_H + Math.floor(i / perRow) * LEGEND_ROW_H + 12
    if (it.ring) out.push(`<circle cx="${x + 7}" cy="${y - 4}" r="6" fill="none" stroke="${it.color}" stroke-width="1.5"/>`)
    else out.push(`<rect x="${x}" y="${y - 6}" width="14" height="4" fill="${it.color}"/>`)
    out.push(`<text x="${x + 20}" y="${y}" fill="#222">${escapeXml(it.name)}</text>`)
  })
  return rows * LEGEND_ROW_H + 10
}

export function renderChart(spec: ChartSpec): string {
  if (spec.xs.length === 0) throw new Error('chart needs at least one x value')
  const n = spec.panels.length
  const cols = Math.max(1, Math.min(n, spec.columns ?? n))
  const rowsN = Math.ceil(n / cols)
  const cellW = MARGIN.left + PANEL_W + GAP
  const width = cols * cellW - GAP + MARGIN.right
  const xs = spec.xs
  const positive = xs.every((x) => x > 0)
  const xmin = Math.min(...xs)
  const xmax = Math.max(...xs)
  const logX = positive && xmax / xmin >= 20
  const tx = (x: number): number => {
    if (xmax === xmin) return PANEL_W / 2
    if (logX) return ((Math.log(x) - Math.log(xmin)) / (Math.log(xmax) - Math.log(xmin))) * PANEL_W
    return ((x - xmin) / (xmax - xmin)) * PANEL_W
  }
  const body: string[] = []
  const legendH = renderLegend(body, spec, width)
  const top = TITLE_H + legendH
  const cellH = PANEL_TITLE_H + PANEL_H + MARGIN.bottom + ROW_GAP
  const height = top + rowsN * cellH
  const out: string[] = []
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`)
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`)
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`)
  if (spec.subtitle) out.push(`<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${escapeXml(spec.subtitle)}</text>`)
  out.push(...body)

  spec.panels.forEach((panel, pi) => {
    const ox = MARGIN.left + (pi % cols) * cellW
    const oy = top + Math.floor(pi / cols) * cellH + PANEL_TITLE_H
    const fmtY = panel.formatY ?? fmtDefault
    const ymaxData = Math.max(0, ...panel.series.flatMap((s) => s.values.filter((v) => Number.isFinite(v))))
    const ticks = niceTicks(ymaxData === 0 ? 1 : ymaxData)
    const ymax = ticks[ticks.length - 1]
    const ty = (y: number) => PANEL_H - (y / ymax) * PANEL_H
    out.push(`<g transform="translate(${ox},${oy})">`)
    out.push(`<text x="${PANEL_W / 2}" y="-12" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`)
    for (const t of ticks) {
      const y = r(ty(t))
      out.push(`<line x1="0" y1="${y}" x2="${PANEL_W}" y2="${y}" stroke="#e5e5e5"/>`)
      out.push(`<text x="-8" y="${y + 4}" text-anchor="end" fill="#333">${escapeXml(fmtY(t))}</text>`)
    }
    xs.forEach((x, i) => {
      const px = r(tx(x))
      out.push(`<line x1="${px}" y1="${PANEL_H}" x2="${px}" y2="${PANEL_H + 5}" stroke="#333"/>`)
      out.push(`<text x="${px}" y="${PANEL_H + 18}" text-anchor="middle" fill="#333">${escapeXml(spec.xLabels?.[i] ?? String(x))}</text>`)
    })
    out.push(`<line x1="0" y1="${PANEL_H}" x2="${PANEL_W}" y2="${PANEL_H}" stroke="#333"/>`)
    out.push(`<line x1="0" y1="0" x2="0" y2="${PANEL_H}" stroke="#333"/>`)
    out.push(`<text x="${PANEL_W / 2}" y="${PANEL_H + 40}" text-anchor="middle">${escapeXml(spec.xLabel + (logX ? ' (log scale)' : ''))}</text>`)
    out.push(`<text transform="translate(-55,${PANEL_H / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`)
    panel.series.forEach((s, si) => {
      const color = s.color ?? PALETTE[si % PALETTE.length]
      const pts = xs.map((x, i) => [r(tx(x)), r(ty(Number.isFinite(s.values[i]) ? s.values[i] : 0))] as const)
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => p.join(',')).join(' ')}"/>`)
      for (const [px, py] of pts) out.push(`<circle cx="${px}" cy="${py}" r="3.5" fill="${color}"/>`)
      pts.forEach(([px, py], i) => {
        if (!s.marks?.[i]) return
        const tip = `${s.name} at ${spec.xLabels?.[i] ?? xs[i]}: ${spec.markLabel ?? 'marked'}`
        out.push(`<ellipse cx="${px}" cy="${py}" rx="8" ry="8" fill="none" stroke="${color}" stroke-width="1.5"><title>${escapeXml(tip)}</title></ellipse>`)
      })
    })
    out.push(`</g>`)
  })
  out.push(`</svg>`)
  return out.join('\n') + '\n'
}
