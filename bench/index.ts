/**
 * Benchmark runner: imports every bench/*.bench.ts (each default-exports an async function that
 * returns [{name, value, unit, note?}]), runs them in name order and prints one table (or --json).
 *
 *   npm run bench                      # builds dist/, then runs every bench
 *   node --import tsx bench/index.ts foundation --json
 *
 * Benches that spawn the CLI use bin/run.js over dist/ in TDXKIT_BENCH_ROOT (default: the repo).
 */
import {readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export interface BenchResult {
  name: string
  value: number
  unit: string
  note?: string
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

if (json) {
  process.stdout.write(JSON.stringify({results: rows}, null, 2) + '\n')
} else {
  const fmt = (v: number) => (Number.isNaN(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))
  const cells = rows.map((r) => [r.bench, r.name, fmt(r.value), r.unit, r.note ?? ''])
  const head = ['bench', 'measure', 'value', 'unit', 'note']
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c: string[]) => c.map((x, i) => (i === 2 ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  ').trimEnd()
  console.log(line(head))
  console.log(w.map((n) => '─'.repeat(n)).join('  '))
  for (const c of cells) console.log(line(c))
}
process.exitCode = failed ? 1 : 0
