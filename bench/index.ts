/**
 * Benchmark runner: imports every bench/*.bench.ts (each default-exports an async function that
 * returns [{name, value, unit, note?, target?}]), runs them in name order and prints one table (or
 * --json), with the machine's load before and after. A row with a target is a ratio to an anchor
 * measured in the same run (bench/lib.ts): the table shows the anchor, the ratio, the limit and
 * MET or MISSED, so a loaded machine slows both sides instead of faking or hiding a result.
 *
 *   npm run bench                      # builds dist/, then runs every bench
 *   node --import tsx bench/index.ts foundation --json
 *
 * Benches that spawn the CLI use bin/run.js over dist/ in TDXKIT_BENCH_ROOT (default: the repo).
 */
import {readdirSync} from 'node:fs'
import {cpus} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {loadNote, type Target} from './lib.js'

export interface BenchResult {
  name: string
  value: number
  unit: string
  note?: string
  target?: Target
}
export type Bench = () => Promise<BenchResult[]>

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const json = args.includes('--json')
const filters = args.filter((a) => !a.startsWith('--'))

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

const rows: Array<BenchResult & {bench: string}> = []
let failed = 0
const loadBefore = loadNote()
for (const f of files) {
  const bench = f.replace(/\.bench\.ts$/, '')
  if (!json) process.stderr.write(`bench: running ${bench}…\n`)
  try {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as {default: Bench}
    for (const r of await mod.default()) rows.push({bench, ...r})
  } catch (error) {
    failed++
    rows.push({bench, name: 'FAILED', value: NaN, unit: '', note: (error as Error).message})
  }
}

const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}); ${loadBefore} before, ${loadNote()} after`
if (json) {
  process.stdout.write(JSON.stringify({machine, results: rows}, null, 2) + '\n')
} else {
  const fmt = (v: number) => (Number.isNaN(v) ? '-' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2))
  const targetCells = (t?: Target): string[] =>
    t
      ? [
          t.kind === 'absolute' ? '' : `${fmt(t.anchorValue)} (${t.anchor})`,
          t.kind === 'ratio' ? `${t.ratio.toFixed(2)}×` : t.kind === 'over' ? `+${fmt(t.ratio)}` : '',
          t.kind === 'ratio' ? `${t.direction} ${t.limit}×` : t.kind === 'over' ? `${t.direction} +${t.limit}` : `${t.direction} ${t.limit}`,
          t.met ? 'MET' : 'MISSED',
        ]
      : ['', '', '', '']
  const cells = rows.map((r) => [r.bench, r.name, fmt(r.value), r.unit, ...targetCells(r.target), r.note ?? ''])
  const head = ['bench', 'measure', 'value', 'unit', 'anchor (same run)', 'ratio', 'target', '', 'note']
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c: string[]) => c.map((x, i) => (i === 2 || i === 5 ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  ').trimEnd()
  console.log(`machine: ${machine}`)
  console.log(line(head))
  console.log(w.map((n) => '─'.repeat(n)).join('  '))
  for (const c of cells) console.log(line(c))
  const targets = rows.filter((r) => r.target)
  console.log(`targets: ${targets.filter((r) => r.target!.met).length} met, ${targets.filter((r) => !r.target!.met).length} missed`)
}
process.exitCode = failed ? 1 : 0
