/**
 * A dependency-free SVG line chart: side-by-side panels sharing one x axis (the swept parameter),
 * one line per series. Self-contained SVG 1.1 (no scripts, no external fonts) that any browser
 * renders.
 */

export interface ChartSeries {
  name: string
  values: number[]
  color?: string
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
}

const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e']
const PANEL_W = 440
const PANEL_H = 300
const MARGIN = {top: 70, right: 20, bottom: 60, left: 70}
const GAP = 40

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

export function renderChart(spec: ChartSpec): string {
  if (spec.xs.length === 0) throw new Error('chart needs at least one x value')
  const n = spec.panels.length
  const width = MARGIN.left + n * PANEL_W + (n - 1) * (GAP + MARGIN.left) + MARGIN.right
  const height = MARGIN.top + PANEL_H + MARGIN.bottom + 30
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
  const out: string[] = []
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`)
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`)
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`)
  if (spec.subtitle) out.push(`<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${escapeXml(spec.subtitle)}</text>`)

  spec.panels.forEach((panel, pi) => {
    const ox = MARGIN.left + pi * (PANEL_W + GAP + MARGIN.left)
    const oy = MARGIN.top
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
      // Legend inside the panel, top-left.
      const ly = 14 + si * 18
      out.push(`<rect x="12" y="${ly - 9}" width="14" height="4" fill="${color}"/>`)
      out.push(`<text x="32" y="${ly - 3}" fill="#222">${escapeXml(s.name)}</text>`)
    })
    out.push(`</g>`)
  })
  out.push(`</svg>`)
  return out.join('\n') + '\n'
}
