/**
 * The configfs-tsm mount: quotes per second a client gets through `tdxkit tsm mount` (served by a
 * child process, driven by the Python ABI-document client from the tests, one instance and 16
 * parallel instances), against the anchor measured in the same run: the same quote use case
 * called in-process (generateQuote on the same kind of state directory). The ratio is the cost of
 * the kernel round trips (FUSE) and of the client's extra reads. Skipped (with the reason) where
 * FUSE is unavailable.
 */
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {fuseAvailability} from '../src/app/tsm-mount-sys.js'
import {initPlatform} from '../src/app/platform.js'
import {generateQuote} from '../src/app/quote.js'
import {StateStore} from '../src/state/store.js'
import type {BenchResult} from './index.js'

const ROOT = resolve(process.env.TDXKIT_BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const CLIENT = join(ROOT, 'test/configfs-py/client.py')
const QUOTES = Math.max(50, Number(process.env.TDXKIT_BENCH_TSM_QUOTES) || 300)

async function inProcess(dir: string): Promise<number> {
  const store = new StateStore(dir)
  for (let i = 0; i < 10; i++) await generateQuote(store, {input: {reportData: Buffer.alloc(64, i)}})
  const t = performance.now()
  for (let i = 0; i < QUOTES; i++) await generateQuote(store, {input: {reportData: Buffer.alloc(64, i)}})
  return (QUOTES / (performance.now() - t)) * 1000
}

/** Start the mount in a child; resolves with a stop function once its readiness line is out. */
function startMount(dir: string, state: string): Promise<() => Promise<void>> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), 'tsm', 'mount', dir, '--json'], {env: {...process.env, TDXKIT_STATE_DIR: state}, stdio: ['ignore', 'pipe', 'ignore']})
  const exited = new Promise<void>((r) => child.on('exit', () => r()))
  return new Promise((res, rej) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), rej(new Error('tsm mount: no readiness line in 30 s'))), 30_000)
    child.stdout.once('data', () => {
      clearTimeout(timer)
      res(async () => {
        child.kill('SIGTERM')
        await exited
      })
    })
    child.on('exit', (code) => (clearTimeout(timer), rej(new Error(`tsm mount exited ${code}`))))
  })
}

function throughMount(reportRoot: string, workers: number): number {
  const out = mkdtempSync(join(tmpdir(), 'tdxkit-bench-tsm-q-'))
  try {
    const t = performance.now()
    const r = spawnSync('python3', [CLIENT, reportRoot, out, '--quotes', String(QUOTES), '--workers', String(workers)], {encoding: 'utf8', timeout: 600_000})
    const ms = performance.now() - t
    if (r.status !== 0 || JSON.parse(r.stdout).quotes !== QUOTES) throw new Error(`tsm client failed: ${r.stderr || r.stdout}`)
    return (QUOTES / ms) * 1000
  } finally {
    rmSync(out, {recursive: true, force: true})
  }
}

export default async function tsm(): Promise<BenchResult[]> {
  const fuse = fuseAvailability()
  if (!fuse.available) return [{name: 'quotes through the tsm mount', value: NaN, unit: 'quotes/s', note: `skipped: ${fuse.reason}`}]
  const state = mkdtempSync(join(tmpdir(), 'tdxkit-bench-tsm-'))
  const mnt = mkdtempSync(join(tmpdir(), 'tdxkit-bench-tsm-mnt-'))
  try {
    await initPlatform(new StateStore(state), {seed: 'bench-tsm'})
    const anchor = await inProcess(state)
    const stop = await startMount(mnt, state)
    let one: number
    let sixteen: number
    try {
      one = throughMount(join(mnt, 'report'), 1)
      sixteen = throughMount(join(mnt, 'report'), 16)
    } finally {
      await stop()
    }
    const note = `${QUOTES} quotes; state saved per quote in both`
    return [
      {name: 'quote generate in-process (anchor)', value: anchor, unit: 'quotes/s', note},
      {name: 'through the tsm mount, 1 client', value: one, unit: 'quotes/s', note: `Python ABI client, one instance; ${note}`},
      {name: 'through the tsm mount, 16 clients', value: sixteen, unit: 'quotes/s', note: `16 instances in parallel; ${note}`},
      {name: 'mount / in-process, 1 client', value: one / anchor, unit: 'ratio', note: 'same run'},
      {name: 'mount / in-process, 16 clients', value: sixteen / anchor, unit: 'ratio', note: 'same run'},
    ]
  } finally {
    spawnSync(process.execPath, [join(ROOT, 'bin/run.js'), 'tsm', 'unmount', mnt], {stdio: 'ignore'})
    rmSync(state, {recursive: true, force: true})
    rmSync(mnt, {recursive: true, force: true})
  }
}
