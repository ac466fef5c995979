/**
 * Quote verification (issue 17), each target a ratio to an anchor measured in the same run:
 * - cold single-quote verify (fresh verifier, X.509 memo cleared) against the cold floor: the
 *   same 10 ECDSA P-256 verifications and 5 key imports with node:crypto, each key imported fresh
 *   and used for the signatures it checks in a real verification (OpenSSL 3 exports a key to its
 *   provider on first use: ~20 µs that a floor of warm keys would leave out), over messages of the
 *   real sizes (certificates' and CRLs' signed parts, TCB info, QE identity, QE report, quote);
 *   and against @phala/dcap-qvl (JS) and @phala/dcap-qvl-web (its Rust code as WASM);
 * - warm verify (a verifier that knows the platform, over three real quotes in turn) against one
 *   ECDSA verification with an imported key;
 * - importing `tdxkit/verify` (and the root) in a fresh node, over bare `node -e 0`;
 * - the built CLI over many quotes (`--files-from`, NDJSON to /dev/null), each at two list sizes
 *   so that differences cancel start-up: the CPU of each further quote against the warm in-process
 *   verify (process CPU time barely moves with the machine's load), `--jobs 2` against `--jobs 1`
 *   in wall time and in CPU-seconds (with 2 idle cores the throughput is 2 × CPU(jobs 1) /
 *   CPU(jobs 2) when the dispatcher keeps both threads busy; the wall-time ratio says what this
 *   machine gave), and peak RSS at 100k and 200k quotes.
 * Rounds are interleaved; targets use the best round (the least disturbed), the notes the median.
 * Needs dist/ (`npm run bench` builds it; TDXKIT_BENCH_ROOT points at another built tree).
 */
import {spawnSync} from 'node:child_process'
import {createPublicKey, generateKeyPairSync, sign, verify as cryptoVerify} from 'node:crypto'
import {createRequire} from 'node:module'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {QuoteVerifier} from '../src/verify/verifier.js'
import {parseQuote} from '../src/abi/quote.js'
import {clearX509Memo, parseCert, parseCrl, parsePemChain} from '../src/x509/dcap.js'
import type {QuoteCollateralV3} from '../src/abi/collateral.js'
import type {BenchResult} from './index.js'
import {interleaved, loadNote, measuredNode, median, target, targetAbsolute, targetOver, type Measured} from './lib.js'

const require = createRequire(import.meta.url)
const HERE = dirname(fileURLToPath(import.meta.url))
const VECTORS = process.env.TDXKIT_VECTORS ?? resolve(HERE, '../../shared/testvectors')
const ROOT = resolve(process.env.TDXKIT_BENCH_ROOT ?? join(HERE, '..'))
const AT = 1752919234
/** Rounds of the in-process comparisons. */
const ROUNDS = 9

interface Vector {
  quotes: Buffer[]
  collateral: QuoteCollateralV3
  collateralPath: string
}

function loadVector(): Vector {
  const dir = join(VECTORS, 'real')
  const collateralPath = join(dir, 'dcapqvl-tdx-v4-uptodate', 'collateral.json')
  return {
    quotes: [
      readFileSync(join(dir, 'dcapqvl-tdx-v4-uptodate', 'quote.bin')),
      readFileSync(join(dir, 'flashtestations-tdx-v4', 'quote-0xf200.bin')),
      readFileSync(join(dir, 'flashtestations-tdx-v4', 'quote-0x12c1.bin')),
    ],
    collateral: JSON.parse(readFileSync(collateralPath, 'utf8')) as QuoteCollateralV3,
    collateralPath,
  }
}

/**
 * The signatures a cold verification checks, by the key that checks them (in key-import order:
 * root, PCK CA, PCK leaf, TCB signing, attestation key), as the byte lengths of what is signed.
 */
function coldSignatures(v: Vector): number[][] {
  const q = parseQuote(v.quotes[0])
  const [leaf, ca, root] = parsePemChain(q.pck_chain_pem!, true).map((d) => parseCert(d))
  const tcbSigner = parseCert(parsePemChain(v.collateral.tcb_info_issuer_chain, false)[0])
  const rootCrl = parseCrl(Buffer.from(v.collateral.root_ca_crl, 'hex'))
  const pckCrl = parseCrl(Buffer.from(v.collateral.pck_crl, 'hex'))
  return [
    [root.tbs.length, ca.tbs.length, tcbSigner.tbs.length, rootCrl.tbs.length],
    [leaf.tbs.length, pckCrl.tbs.length],
    [q.qe_report.length],
    [Buffer.byteLength(v.collateral.tcb_info), Buffer.byteLength(v.collateral.qe_identity)],
    [q.signed_region.length],
  ]
}

/** The cold floor: for each key, import it fresh (JWK, as the verifier does) and check its signatures. */
function coldFloor(v: Vector): () => void {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const jwk = publicKey.export({format: 'jwk'})
  const plan = coldSignatures(v).map((sizes) => sizes.map((n) => {
    const data = Buffer.alloc(n, 0x5a)
    return {data, sig: sign('sha256', data, privateKey)}
  }))
  return () => {
    for (const sigs of plan) {
      const key = createPublicKey({key: jwk, format: 'jwk'})
      for (const s of sigs) if (!cryptoVerify('sha256', s.data, key, s.sig)) throw new Error('floor: signature')
    }
  }
}

/** One ECDSA P-256 verification with an imported key, over a quote's signed size (raw r ‖ s, as quotes carry). */
function oneSignature(size: number): () => void {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const data = Buffer.alloc(size, 0x5a)
  const sig = sign('sha256', data, {key: privateKey, dsaEncoding: 'ieee-p1363'})
  return () => {
    if (!cryptoVerify('sha256', data, {key: publicKey, dsaEncoding: 'ieee-p1363'}, sig)) throw new Error('floor: signature')
  }
}

interface DcapQvl {
  verify(q: Buffer, c: unknown, now: number): {status: string}
}
interface DcapQvlWeb {
  initSync(m: {module: Buffer}): unknown
  js_verify(q: Buffer, c: unknown, now: bigint): {status: string}
}

/** @phala/dcap-qvl-web: the WASM build, instantiated from its .wasm file (Node 20 runs it as is). */
async function dcapQvlWeb(): Promise<(q: Buffer, c: unknown) => string> {
  const entry = require.resolve('@phala/dcap-qvl-web')
  const web = (await import(entry)) as DcapQvlWeb
  web.initSync({module: readFileSync(join(dirname(entry), 'dcap-qvl-web_bg.wasm'))})
  return (q, c) => web.js_verify(q, c, BigInt(AT)).status
}

async function inProcessRows(v: Vector): Promise<{rows: BenchResult[]; warmCpuMs: number}> {
  const opts = {now: AT, collateral: v.collateral}
  const check = (s: string | null) => {
    if (s !== 'UpToDate') throw new Error(`benchmark quote did not verify: ${s}`)
  }
  const q = v.quotes[0]
  const dcapJs = require('@phala/dcap-qvl') as DcapQvl
  const wasm = await dcapQvlWeb()
  const floor = coldFloor(v)
  const cold = () => {
    clearX509Memo()
    check(new QuoteVerifier(opts).verify(q).status)
  }
  const others = {dcapJs: () => check(dcapJs.verify(q, v.collateral, AT).status), wasm: () => check(wasm(q, v.collateral))}
  interleaved(2, {cold: 20, floor: 20, ...{dcapJs: 3, wasm: 3}}, {cold, floor, ...others}) // JIT warm-up
  // Each comparison interleaves with its own anchor: the floor first, then the other verifiers
  // (whose garbage would otherwise be collected during tdxkit's rounds against the floor).
  const c = interleaved(ROUNDS, {cold: 30, floor: 30}, {cold, floor})
  const o = interleaved(ROUNDS, {cold: 10, dcapJs: 4, wasm: 4}, {cold, ...others})

  const warmVerifier = new QuoteVerifier(opts)
  let k = 0
  const warm = () => check(warmVerifier.verify(v.quotes[k++ % v.quotes.length]).status)
  const one = oneSignature(parseQuote(q).signed_region.length)
  interleaved(2, {warm: 500, one: 500}, {warm, one})
  const w = interleaved(ROUNDS, {warm: 1000, one: 1000}, {warm, one})
  // The warm verify's CPU time per quote: the batch CLI's anchor (both single-threaded).
  const cpu0 = process.cpuUsage()
  const N = 3000
  for (let i = 0; i < N; i++) warm()
  const cpu = process.cpuUsage(cpu0)
  const warmCpuMs = Math.min((cpu.user + cpu.system) / 1000 / N, w.warm.median)

  const coldAnchor = {name: 'tdxkit cold', value: o.cold.best}
  const rows: BenchResult[] = [
    {name: 'verify: cold floor (10 P-256 verifies, 5 fresh key imports, node:crypto)', value: c.floor.best, unit: 'ms', note: `median ${c.floor.median.toFixed(3)} ms`},
    {
      name: 'verify: tdxkit single quote, cold (fresh verifier, X.509 memo cleared)',
      value: c.cold.best,
      unit: 'ms',
      target: target(c.cold.best, {name: 'cold floor', value: c.floor.best}, '≤', 1.5),
      note: `median ${c.cold.median.toFixed(3)} ms, median ratio ${(c.cold.median / c.floor.median).toFixed(2)}×`,
    },
    {
      name: 'verify: @phala/dcap-qvl 0.3 (JS), same quote',
      value: o.dcapJs.best,
      unit: 'ms',
      target: target(o.dcapJs.best, coldAnchor, '≥', 6),
      note: `times slower than tdxkit cold (interleaved with it); median ratio ${(o.dcapJs.median / o.cold.median).toFixed(1)}×`,
    },
    {
      name: '@phala/dcap-qvl-web 0.3 (Rust as WASM), same quote',
      value: o.wasm.best,
      unit: 'ms',
      target: target(o.wasm.best, coldAnchor, '≥', 1),
      note: `times slower than tdxkit cold (interleaved with it); median ratio ${(o.wasm.median / o.cold.median).toFixed(1)}×`,
    },
    {name: 'verify: one-signature floor (1 P-256 verify, imported key)', value: w.one.best * 1000, unit: 'µs', note: `median ${(w.one.median * 1000).toFixed(1)} µs`},
    {
      name: 'verify: tdxkit warm (known platform; 3 real quotes in turn)',
      value: w.warm.best * 1000,
      unit: 'µs',
      target: target(w.warm.best * 1000, {name: '1 signature', value: w.one.best * 1000}, '≤', 1.2),
      note: `median ${(w.warm.median * 1000).toFixed(1)} µs, median ratio ${(w.warm.median / w.one.median).toFixed(2)}×; ${Math.round(1000 / w.warm.best)} quotes/s/thread`,
    },
  ]
  return {rows, warmCpuMs}
}

/** Interleaved runs of fresh node processes (`node -e 0` and the cases), `n` each: median wall time per case. */
function spawnMedians(n: number, cases: Record<string, string[]>): Record<string, number> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let i = 0; i < n + 1; i++) {
    for (const [k, args] of Object.entries(cases)) {
      const t = performance.now()
      const r = spawnSync(process.execPath, args, {cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe']})
      if (r.status !== 0) throw new Error(`node ${args.join(' ')}: exit ${r.status}: ${r.stderr}`)
      if (i > 0) times[k].push(performance.now() - t)
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, median(xs)]))
}

function importRows(): BenchResult[] {
  const esm = (code: string) => ['--input-type=module', '-e', code]
  const m = spawnMedians(15, {bare: ['-e', '0'], verify: esm("await import('tdxkit/verify')"), root: esm("await import('tdxkit')"), all: esm("const t = await import('tdxkit'); t.verify.verifyQuote; t.guest.getTdReport; t.device.listDevices")})
  const bare = {name: 'node -e 0', value: m.bare}
  return [
    {name: 'import tdxkit/verify (fresh node, ESM)', value: m.verify, unit: 'ms', target: targetOver(m.verify, bare, 60), note: 'median of 15 interleaved spawns'},
    {name: "import tdxkit (root; areas load on first use)", value: m.root, unit: 'ms', note: `+${(m.root - m.bare).toFixed(0)} ms over bare node; using the verify, guest and device areas: +${(m.all - m.bare).toFixed(0)} ms`},
  ]
}

// ---- the built CLI over many quotes ----

/** Lines of a list file naming the three quote files in turn (the verifier reads and checks each line's file anew). */
function listFile(dir: string, files: string[], n: number): string {
  const path = join(dir, `list-${n}.txt`)
  writeFileSync(path, Array.from({length: n}, (_x, i) => files[i % files.length]).join('\n') + '\n')
  return path
}

function batchRows(v: Vector, warmCpuMs: number): BenchResult[] {
  if (!existsSync(join(ROOT, 'dist/commands'))) throw new Error(`the batch bench needs the build under ${ROOT}: run \`npm run bench\`, which builds dist/`)
  const tmp = mkdtempSync(join(tmpdir(), 'tdxkit-bench-'))
  try {
    const files = v.quotes.map((q, i) => {
      const f = join(tmp, `q${i}.bin`)
      writeFileSync(f, q)
      return f
    })
    const run = (list: string, n: number, jobs: number): Measured => {
      const r = measuredNode([join(ROOT, 'bin/run.js'), 'quote', 'verify', '--files-from', list, '--collateral', v.collateralPath, '--at', String(AT), '--json', '--jobs', String(jobs), '--state-dir', tmp], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      if (r.status !== 0) throw new Error(`batch CLI (${n} quotes, --jobs ${jobs}): exit ${r.status}: ${r.stderr.trim()}`)
      return r
    }

    // Two list sizes, --jobs 1 and 2, rounds interleaved: differences of the medians cancel start-up
    // (node, oclif, collateral checks, worker boot) and leave the cost of each further quote.
    const [small, large] = [4000, 28000]
    const lists = {small: listFile(tmp, files, small), large: listFile(tmp, files, large)}
    const runs: Record<string, Measured[]> = {}
    for (let r = 0; r < 3; r++) for (const jobs of [1, 2]) for (const [k, n] of [['small', small], ['large', large]] as const) (runs[`${k}${jobs}`] ??= []).push(run(lists[k], n, jobs))
    const per = (jobs: number, what: 'wallMs' | 'cpuMs') => (median(runs[`large${jobs}`].map((x) => x[what])) - median(runs[`small${jobs}`].map((x) => x[what]))) / (large - small)
    const marginal = per(1, 'cpuMs')
    const speedup = per(1, 'wallMs') / per(2, 'wallMs')
    const cpuSpeedup = 2 * (per(1, 'cpuMs') / per(2, 'cpuMs'))
    // This machine right now: two --jobs 1 batches at once against one alone (aggregate throughput).
    const alone = run(lists.large, large, 1).wallMs
    const ceiling = twoAtOnce(() => [join(ROOT, 'bin/run.js'), 'quote', 'verify', '--files-from', lists.large, '--collateral', v.collateralPath, '--at', String(AT), '--json', '--jobs', '1', '--state-dir', tmp], alone)

    // Peak memory at 100k and 200k quotes (V8 sizes its heap to the allocation rate, so a few MB of
    // growth between two runs is the heap's sizing; per-quote state would grow it linearly).
    const memN = Math.max(20000, Number(process.env.TDXKIT_BENCH_MEM_N) || 100000)
    const rssN = run(listFile(tmp, files, memN), memN, 1).maxRssMb
    const rss2N = run(listFile(tmp, files, 2 * memN), 2 * memN, 1).maxRssMb

    const warmAnchor = {name: 'warm in-process', value: warmCpuMs * 1000}
    const jobs1 = {name: '--jobs 1', value: 1}
    return [
      {
        name: 'verify: batch CLI, CPU per further quote (--files-from, NDJSON, --jobs 1)',
        value: marginal * 1000,
        unit: 'µs',
        target: target(marginal * 1000, warmAnchor, '≤', 1.3),
        note: `process CPU, ${large} minus ${small} quotes, medians of 3; anchor: the warm verify's CPU per quote`,
      },
      {
        name: 'verify: batch CLI --jobs 2 throughput, wall (further quotes)',
        value: 1 / per(2, 'wallMs'),
        unit: 'quotes/ms',
        target: target(speedup, jobs1, '≥', 1.7),
        note: `--jobs 1: ${(1 / per(1, 'wallMs')).toFixed(1)}/ms; two batch processes at once got ${ceiling.toFixed(2)}× one here; ${loadNote()}`,
      },
      {
        name: 'verify: batch CLI --jobs 2 throughput, 2 idle cores (from CPU-seconds)',
        value: cpuSpeedup,
        unit: '×',
        target: target(cpuSpeedup, jobs1, '≥', 1.7),
        note: `CPU per further quote ${(per(1, 'cpuMs') * 1000).toFixed(0)} µs (--jobs 1) / ${(per(2, 'cpuMs') * 1000).toFixed(0)} µs (--jobs 2, both threads); default --jobs here: ${Math.min(availableParallelism(), 8)}`,
      },
      {name: `verify: batch CLI peak RSS, ${memN / 1000}k quotes`, value: rssN, unit: 'MB', target: targetAbsolute(rssN, '≤', 150)},
      {
        name: `verify: batch CLI peak RSS, ${(2 * memN) / 1000}k quotes`,
        value: rss2N,
        unit: 'MB',
        target: target(rss2N, {name: `${memN / 1000}k`, value: rssN}, '≤', 1.15),
        note: `${(((rss2N - rssN) * 1024 * 1024) / memN).toFixed(0)} bytes per extra quote`,
      },
    ]
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

/** Aggregate throughput of two copies of a CLI run at once, relative to one alone (`aloneMs`). */
function twoAtOnce(args: () => string[], aloneMs: number): number {
  const script = `
    const {spawn} = require('node:child_process')
    const t = performance.now()
    let done = 0
    const times = []
    for (let i = 0; i < 2; i++) spawn(process.execPath, ${JSON.stringify(args())}, {stdio: 'ignore'}).on('exit', () => { times.push(performance.now() - t); if (++done === 2) console.log(JSON.stringify(times)) })
  `
  const r = spawnSync(process.execPath, ['-e', script], {encoding: 'utf8'})
  const [a, b] = JSON.parse(r.stdout) as number[]
  return (1 / a + 1 / b) * aloneMs
}

export default async function bench(): Promise<BenchResult[]> {
  const v = loadVector()
  const {rows, warmCpuMs} = await inProcessRows(v)
  return [...rows, ...importRows(), ...batchRows(v, warmCpuMs)]
}

// Run directly: node --import tsx bench/verify.bench.ts
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  for (const r of await bench()) console.log(`${r.name.padEnd(72)} ${String(+r.value.toFixed(2)).padStart(10)} ${r.unit}${r.target ? `  ${r.target.ratio.toFixed(2)} (${r.target.direction} ${r.target.limit}) ${r.target.met ? 'MET' : 'MISSED'}` : ''}${r.note ? `  (${r.note})` : ''}`)
}
