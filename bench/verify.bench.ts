/**
 * Quote verification speed, in one run on the same quotes and collateral (dcapqvl-tdx-v4-uptodate
 * and the two flashtestations quotes of the same FMSPC):
 * - tdxkit single-quote verify, cold (fresh verifier, X.509 parse memo cleared) and with a fresh
 *   verifier but warm parse memo (what a long-running service sees per new collateral);
 * - @phala/dcap-qvl (pure JS) single-quote verify;
 * - tdxkit batch throughput from files (collateral and chains cached) on 1 and 2 worker threads.
 */
import {createRequire} from 'node:module'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {join, resolve, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {QuoteVerifier} from '../src/verify/verifier.js'
import {runBatch} from '../src/verify/batch.js'
import {clearX509Memo} from '../src/verify/x509.js'
import type {QuoteCollateralV3} from '../src/abi/collateral.js'

const require = createRequire(import.meta.url)
const VECTORS = process.env.TDXKIT_VECTORS ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/testvectors')
const AT = 1752919234

interface Row {
  name: string
  value: number
  unit: string
  note?: string
}

function timeIt(n: number, fn: () => void): number {
  const t = performance.now()
  for (let i = 0; i < n; i++) fn()
  return (performance.now() - t) / n
}

export default async function bench(): Promise<Row[]> {
  const dir = join(VECTORS, 'real')
  const quotes = [
    readFileSync(join(dir, 'dcapqvl-tdx-v4-uptodate', 'quote.bin')),
    readFileSync(join(dir, 'flashtestations-tdx-v4', 'quote-0xf200.bin')),
    readFileSync(join(dir, 'flashtestations-tdx-v4', 'quote-0x12c1.bin')),
  ]
  const collateral = JSON.parse(readFileSync(join(dir, 'dcapqvl-tdx-v4-uptodate', 'collateral.json'), 'utf8')) as QuoteCollateralV3
  const opts = {now: AT, collateral}
  const q = quotes[0]
  const check = (s: string | null) => {
    if (s !== 'UpToDate') throw new Error(`benchmark quote did not verify: ${s}`)
  }
  // Warm up the JIT for both implementations.
  for (let i = 0; i < 20; i++) check(new QuoteVerifier(opts).verify(q).status)
  const dcap = require('@phala/dcap-qvl') as {verify(q: Buffer, c: unknown, now: number): {status: string}}
  for (let i = 0; i < 5; i++) check(dcap.verify(q, collateral, AT).status)

  const cold = timeIt(30, () => {
    clearX509Memo()
    check(new QuoteVerifier(opts).verify(q).status)
  })
  const fresh = timeIt(200, () => check(new QuoteVerifier(opts).verify(q).status))
  const theirs = timeIt(30, () => check(dcap.verify(q, collateral, AT).status))
  const shared = new QuoteVerifier(opts)
  const hot = timeIt(2000, () => check(shared.verify(quotes[1]).status))

  // Batch from files: N quote files, verified through runBatch (file read + parse + verify + appraise).
  const tmp = mkdtempSync(join(tmpdir(), 'tdxkit-bench-'))
  const N = 3000
  const files: string[] = []
  for (let i = 0; i < N; i++) {
    const f = join(tmp, `q${i}.bin`)
    if (i < quotes.length) writeFileSync(f, quotes[i])
    files.push(f)
  }
  for (let i = quotes.length; i < N; i++) writeFileSync(files[i], quotes[i % quotes.length])
  const batch = async (jobs: number) => {
    let ok = 0
    const t = performance.now()
    await runBatch({files, options: opts, jobs, onOutcome: (o) => void (o.exit_code === 0 && ok++)})
    if (ok !== N) throw new Error(`batch: ${N - ok} quotes failed`)
    return N / ((performance.now() - t) / 1000)
  }
  const b1 = await batch(1)
  const b2 = await batch(2)
  rmSync(tmp, {recursive: true, force: true})
  const cores = availableParallelism()
  return [
    {name: 'verify: tdxkit single quote, cold (no caches)', value: +cold.toFixed(2), unit: 'ms', note: `${(theirs / cold).toFixed(1)}× faster than dcap-qvl JS`},
    {name: 'verify: tdxkit single quote, fresh verifier (parse memo warm)', value: +fresh.toFixed(2), unit: 'ms', note: `${(theirs / fresh).toFixed(1)}× faster than dcap-qvl JS`},
    {name: 'verify: @phala/dcap-qvl JS single quote', value: +theirs.toFixed(2), unit: 'ms'},
    {name: 'verify: tdxkit per quote, collateral + chain cached', value: +(hot * 1000).toFixed(0), unit: 'µs', note: `${Math.round(1000 / hot)} quotes/s on one thread`},
    {name: 'verify: tdxkit batch from files, --jobs 1', value: Math.round(b1), unit: 'quotes/s', note: `${N} files`},
    {name: 'verify: tdxkit batch from files, --jobs 2', value: Math.round(b2), unit: 'quotes/s', note: `${N} files, ${cores} CPUs available; includes worker start-up`},
  ]
}

// Run directly: node --import tsx bench/verify.bench.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  for (const r of await bench()) console.log(`${r.name.padEnd(64)} ${String(r.value).padStart(8)} ${r.unit}${r.note ? `  (${r.note})` : ''}`)
}
