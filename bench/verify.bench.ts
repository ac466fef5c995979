/**
 * Quote verification speed, in one run on the same quotes and collateral (dcapqvl-tdx-v4-uptodate
 * and the two flashtestations quotes of the same FMSPC):
 * - tdxkit single-quote verify, cold (fresh verifier, X.509 parse memo cleared) and with a fresh
 *   verifier but warm parse memo (what a long-running service sees per new collateral);
 * - @phala/dcap-qvl (pure JS) single-quote verify, interleaved with tdxkit, best of 7 rounds each;
 * - the OpenSSL floor of a cold verify: its signature checks and key imports timed alone;
 * - tdxkit batch throughput (collateral and chains cached): the built CLI, end to end, as a user
 *   runs it: `bin/run.js quote verify <N files> --collateral C --json --jobs 1|2` (NDJSON to a
 *   file), median wall time of TDXKIT_BENCH_BATCH_REPS runs (default 3) over
 *   TDXKIT_BENCH_BATCH_N files (default 12,000); start-up (the same command on one file: node,
 *   oclif, collateral checks) separately, and per-core throughput with start-up excluded; worker
 *   start-up (spawn until ready to claim work) from the built runBatch; and the machine's own
 *   ceiling for two threads: the same verify loop in two independent processes at once, aggregate
 *   throughput relative to one process alone. Needs dist/ (`npm run bench` builds it;
 *   TDXKIT_BENCH_ROOT points at another built tree).
 */
import {spawn, spawnSync} from 'node:child_process'
import {createPublicKey, generateKeyPairSync, sign, verify as cryptoVerify} from 'node:crypto'
import {createRequire} from 'node:module'
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {join, resolve, dirname} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {QuoteVerifier} from '../src/verify/verifier.js'
import {clearX509Memo} from '../src/x509/dcap.js'
import type {QuoteCollateralV3} from '../src/abi/collateral.js'
import type {BatchStats} from '../src/app/verify-batch.js'
import {bestOf, median} from './lib.js'

const require = createRequire(import.meta.url)
const VECTORS = process.env.TDXKIT_VECTORS ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/testvectors')
const AT = 1752919234

interface Row {
  name: string
  value: number
  unit: string
  note?: string
}

/**
 * The OpenSSL work a cold verification cannot avoid, timed alone: P-256 / SHA-256 signature checks
 * (quote, QE report, PCK leaf, PCK CA, root self-signature, TCB signing certificate, root CA CRL,
 * PCK CRL, TCB info, QE identity) and P-256 public keys imported (PCK leaf, PCK CA, root, TCB
 * signing, attestation key).
 */
export const COLD_SIGNATURE_CHECKS = 10
export const COLD_KEY_IMPORTS = 5

function cryptoFloorMs(): number {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const jwk = publicKey.export({format: 'jwk'})
  const data = Buffer.alloc(640, 0x5a)
  const sig = sign('sha256', data, privateKey)
  const once = () => {
    for (let i = 0; i < COLD_SIGNATURE_CHECKS; i++) if (!cryptoVerify('sha256', data, publicKey, sig)) throw new Error('floor: signature')
    for (let i = 0; i < COLD_KEY_IMPORTS; i++) createPublicKey({key: jwk, format: 'jwk'})
  }
  for (let i = 0; i < 20; i++) once()
  return bestOf(7, 30, once)
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

  // Interleaved best-of rounds: both implementations see the same machine state.
  let cold = Infinity
  let theirs = Infinity
  for (let r = 0; r < 7; r++) {
    cold = Math.min(
      cold,
      bestOf(1, 30, () => {
        clearX509Memo()
        check(new QuoteVerifier(opts).verify(q).status)
      }),
    )
    theirs = Math.min(theirs, bestOf(1, 10, () => check(dcap.verify(q, collateral, AT).status)))
  }
  const fresh = bestOf(7, 100, () => check(new QuoteVerifier(opts).verify(q).status))
  const floor = cryptoFloorMs()
  const shared = new QuoteVerifier(opts)
  const hot = bestOf(5, 1000, () => check(shared.verify(quotes[1]).status))

  return [
    {name: 'verify: tdxkit single quote, cold (no caches)', value: +cold.toFixed(2), unit: 'ms', note: `${(theirs / cold).toFixed(1)}× faster than dcap-qvl JS`},
    {name: 'verify: tdxkit single quote, fresh verifier (parse memo warm)', value: +fresh.toFixed(2), unit: 'ms', note: `${(theirs / fresh).toFixed(1)}× faster than dcap-qvl JS`},
    {name: 'verify: @phala/dcap-qvl JS single quote', value: +theirs.toFixed(2), unit: 'ms'},
    {
      name: `verify: OpenSSL floor of a cold verify (${COLD_SIGNATURE_CHECKS} ECDSA checks + ${COLD_KEY_IMPORTS} key imports)`,
      value: +floor.toFixed(2),
      unit: 'ms',
      note: `dcap-qvl / floor = ${(theirs / floor).toFixed(1)}×: the most any cold verify on Node's crypto could reach`,
    },
    {name: 'verify: tdxkit per quote, collateral + chain cached', value: +(hot * 1000).toFixed(0), unit: 'µs', note: `${Math.round(1000 / hot)} quotes/s on one thread`},
    ...(await batchRows(quotes, join(dir, 'dcapqvl-tdx-v4-uptodate', 'collateral.json'))),
  ]
}

// ---- Batch throughput (the built CLI and runBatch from dist/) ----

const ROOT = resolve(process.env.TDXKIT_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const BATCH_N = Math.max(1000, Number(process.env.TDXKIT_BENCH_BATCH_N) || 12000)
const BATCH_REPS = Math.max(1, Number(process.env.TDXKIT_BENCH_BATCH_REPS) || 3)
/** Quotes per process in the 2-thread ceiling measurement. */
const CEILING_N = 3000


async function batchRows(quotes: Buffer[], collateralPath: string): Promise<Row[]> {
  const batchJs = join(ROOT, 'dist/src/app/verify-batch.js')
  if (!existsSync(batchJs)) throw new Error(`batch bench needs the build (${batchJs}): run \`npm run bench\`, which builds dist/`)
  const tmp = mkdtempSync(join(tmpdir(), 'tdxkit-bench-'))
  try {
    // Relative names (cwd = tmp) keep the command line short.
    const name = (i: number) => `q${String(i).padStart(5, '0')}.bin`
    const files = Array.from({length: BATCH_N}, (_x, i) => name(i))
    files.forEach((f, i) => writeFileSync(join(tmp, f), quotes[i % quotes.length]))
    /** Wall time (s) of the built CLI on `list`, JSON to a file; every quote must verify. */
    const cli = (list: string[], jobs: number): number => {
      const outPath = join(tmp, 'out.ndjson')
      const out = openSync(outPath, 'w')
      const t = performance.now()
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/run.js'), 'quote', 'verify', ...list, '--collateral', collateralPath, '--at', String(AT), '--jobs', String(jobs), '--json'], {
        cwd: tmp,
        stdio: ['ignore', out, 'pipe'],
      })
      const s = (performance.now() - t) / 1000
      closeSync(out)
      const text = readFileSync(outPath)
      let lines = 0
      for (let at = text.indexOf(0x0a); at !== -1; at = text.indexOf(0x0a, at + 1)) lines++
      // One quote prints one pretty JSON object; several print one line each.
      if (r.status !== 0 || (list.length > 1 && lines !== list.length)) throw new Error(`batch CLI --jobs ${jobs}: exit ${r.status}, ${lines}/${list.length} lines: ${r.stderr.toString().trim()}`)
      return s
    }
    cli(files.slice(0, 1), 1) // warm the file cache
    const startup = median(Array.from({length: BATCH_REPS + 2}, () => cli(files.slice(0, 1), 1)))
    const runs: Record<1 | 2, number[]> = {1: [], 2: []}
    for (let r = 0; r < BATCH_REPS; r++) for (const j of [1, 2] as const) runs[j].push(cli(files, j))
    const [w1, w2] = [median(runs[1]), median(runs[2])]
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)} s`

    // Plain node child processes on the built library (the bench itself runs under tsx).
    const script = (...body: string[]) =>
      new Promise<string>((done, failed) => {
        const head = [
          `const {newVerifyContext, runBatch, verifyFile} = await import(${JSON.stringify(pathToFileURL(batchJs).href)})`,
          `const {readFileSync} = await import('node:fs')`,
          `const options = {now: ${AT}, collateral: JSON.parse(readFileSync(${JSON.stringify(collateralPath)}, 'utf8'))}`,
          `const name = ${name.toString()}`,
        ]
        // A file, not -e: runBatch's worker would inherit --input-type, which workers reject.
        const file = join(tmp, 'bench-child.mjs')
        writeFileSync(file, [...head, ...body].join('\n'))
        const child = spawn(process.execPath, [file], {cwd: tmp, stdio: ['ignore', 'pipe', 'inherit']})
        let out = ''
        child.stdout.on('data', (d: Buffer) => (out += d.toString()))
        child.on('close', (code) => (code === 0 ? done(out) : failed(new Error(`bench child process exited ${code}`))))
      })
    // Worker start-up and the main/worker split: runBatch --jobs 2 with NDJSON lines, as the CLI.
    const stats = JSON.parse(
      await script(`const stats = await runBatch({files: Array.from({length: ${BATCH_N}}, (_x, i) => name(i)), options, jobs: 2, onLine: () => {}})`, `process.stdout.write(JSON.stringify(stats))`),
    ) as BatchStats
    const worker = stats.workers[0]

    // The same verify loop in one process alone, then in two at once: no batch machinery at all.
    const loop = () =>
      script(
        `const ctx = newVerifyContext(options)`,
        `const files = Array.from({length: ${CEILING_N}}, (_x, i) => name(i))`,
        `for (const f of files.slice(0, 300)) verifyFile(ctx, f)`,
        `const t = performance.now(); for (const f of files) verifyFile(ctx, f)`,
        `process.stdout.write(String((performance.now() - t) / files.length))`,
      ).then(Number)
    const ceilings: number[] = []
    for (let r = 0; r < BATCH_REPS; r++) {
      const alone = await loop()
      const [a, b] = await Promise.all([loop(), loop()])
      ceilings.push((1 / a + 1 / b) * alone)
    }
    const perCore = (wall: number, jobs: number) => BATCH_N / (wall - startup) / jobs
    return [
      {name: 'verify: batch CLI start-up (1 quote: node, oclif, collateral checks)', value: Math.round(startup * 1000), unit: 'ms', note: `median of ${BATCH_REPS + 2}`},
      {name: 'verify: batch CLI NDJSON, --jobs 1', value: Math.round(BATCH_N / w1), unit: 'quotes/s', note: `${BATCH_N} files, wall incl. start-up; runs ${range(runs[1])}`},
      {name: 'verify: batch CLI NDJSON, --jobs 2', value: Math.round(BATCH_N / w2), unit: 'quotes/s', note: `${(w1 / w2).toFixed(2)}× --jobs 1; runs ${range(runs[2])}; ${availableParallelism()} CPUs`},
      {name: 'verify: batch per core, --jobs 2 (start-up excluded)', value: Math.round(perCore(w2, 2)), unit: 'quotes/s', note: `--jobs 1: ${Math.round(perCore(w1, 1))}/s; target ≥ 1,500`},
      {name: 'verify: 2-thread ceiling of this machine (2 processes / 1)', value: +median(ceilings).toFixed(2), unit: '×', note: `aggregate verify throughput, ${CEILING_N} quotes each; --jobs 2 reached ${((w1 - startup) / (w2 - startup)).toFixed(2)}× (start-up excluded)`},
      {name: 'verify: batch worker start-up (spawn → ready, built JS)', value: Math.round(worker?.readyMs ?? NaN), unit: 'ms', note: `runBatch --jobs 2: main thread ${stats.mainThread}, worker ${worker?.quotes ?? 0} quotes`},
    ]
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

// Run directly: node --import tsx bench/verify.bench.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  for (const r of await bench()) console.log(`${r.name.padEnd(64)} ${String(r.value).padStart(8)} ${r.unit}${r.note ? `  (${r.note})` : ''}`)
}
