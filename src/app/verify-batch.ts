/**
 * Many quotes: the verifiers of one thread (a QuoteVerifier per platform: collateral verified once,
 * PCK chains cached; see src/verify/platforms.ts), outcomes delivered in input order.
 *
 * With jobs > 1 the files are cut into chunks of BATCH_CHUNK. Threads claim chunks from a shared
 * cursor (a SharedArrayBuffer, `Atomics.add`), so no thread ever waits for another to hand it
 * work. The main thread verifies chunks from the start while jobs-1 worker threads boot (a worker
 * imports the verifier and verifies the collateral before its first chunk); each worker
 * then claims chunks until the cursor passes the end and posts each chunk's results as it goes. A
 * worker still booting when the main thread finds the queue empty is cancelled (an atomic state
 * flip it checks before claiming) and terminated, so small batches finish at single-thread speed.
 *
 * Callers take either full outcomes (`onOutcome`) or, for NDJSON output, `onLine`: each outcome is
 * then rendered to its JSON line by the thread that verified it, and only the string crosses to the
 * main thread (a structured clone of a whole outcome, decoded body and step list included, costs
 * the main thread about 40 µs to receive; a line a few µs).
 */
import {Worker} from 'node:worker_threads'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import type {Policy} from '../appraise/policy.js'
import {outcomeJson, quoteVerdict, type QuoteOutcome, type VerdictContext} from '../appraise/verdict.js'
import {TdxkitError} from '../errors.js'
import {loadEventLog, type LoadedEventLog} from './eventlog-input.js'
import {readBinaryInput} from './files.js'
import type {EventLogSpec} from '../verify/eventlog-check.js'
import type {CollateralGetter, CollateralUnavailable, VerifyOptions} from '../verify/options.js'
import {collateralKeyString} from '../verify/pck-info.js'
import {PlatformVerifiers} from '../verify/platforms.js'

export type {QuoteOutcome} from '../appraise/verdict.js'
export type {EventLogSpec} from '../verify/eventlog-check.js'

/** Load (and so validate) the event log once per thread: malformed logs are input errors (exit 2). */
export const loadEventLogSpec = (spec: EventLogSpec): LoadedEventLog => loadEventLog(spec.log, spec.table)

/** One outcome as its NDJSON line (`JSON.stringify(outcomeJson(o))`, no newline) and exit code. */
export interface RenderedOutcome {
  exit_code: number
  line: string
}

/** Verification options as plain data (they cross to worker threads): per-platform collateral travels as `collateralSet`. */
export type BatchOptions = Omit<VerifyOptions, 'getCollateral'>

interface BatchCommon {
  files: string[]
  options: BatchOptions
  policy?: Policy
  /** Compare each quote's RTMRs with this event log. */
  eventlog?: EventLogSpec
  /** Several platforms' collateral: each quote is verified with its own (overrides options.collateral). */
  collateralSet?: CollateralSet
  jobs: number
  /** With jobs > 1, whether the main thread verifies chunks too (default true; false leaves all work to the workers). */
  mainThreadWorks?: boolean
}

/** A batch delivers either whole outcomes or their NDJSON lines, each exactly once, in input order. */
export type BatchJob = BatchCommon &
  (
    | {
        /** Called with each outcome, in input order. */
        onOutcome: (o: QuoteOutcome, index: number) => void
        onLine?: undefined
      }
    | {
        /** Called with each outcome's NDJSON line (rendered by the thread that verified it), in input order. */
        onLine: (line: string, exitCode: number, index: number) => void
        onOutcome?: undefined
      }
  )

/** Who did what in a batch (for benchmarks and diagnostics). */
export interface BatchStats {
  /** Quotes verified on the main thread. */
  mainThread: number
  /** Per worker started: quotes verified, and ms from spawn until it was ready to claim work (absent: cancelled while booting). */
  workers: Array<{quotes: number; readyMs?: number}>
}

/** Files per work unit claimed by a thread. */
export const BATCH_CHUNK = 64

/**
 * Collateral for batches that span several platforms (`quote verify --pccs-url` on quotes of
 * different FMSPCs): one bundle per collateralKeyString, or the error its fetch gave. Each quote is
 * verified against the bundle of its own PCK certificate's key.
 */
export type CollateralSet = Record<string, QuoteCollateralV3 | CollateralUnavailable>

/** The verifier options' collateral getter over a CollateralSet. */
export const collateralGetter =
  (set: CollateralSet): CollateralGetter =>
  (key) =>
    set[collateralKeyString(key)]

/** Everything one thread needs to verify files: verifiers (per platform), the policy, the loaded event log. */
export type VerifyContext = VerdictContext

export function newVerifyContext(options: BatchOptions, policy?: Policy, eventlog?: EventLogSpec, collateralSet?: CollateralSet): VerifyContext {
  return {
    verifiers: new PlatformVerifiers(collateralSet ? {...options, getCollateral: collateralGetter(collateralSet)} : options),
    ...(policy ? {policy} : {}),
    ...(eventlog ? {eventlog: {spec: eventlog, loaded: loadEventLogSpec(eventlog)}} : {}),
  }
}

/** Verify + appraise one file. */
export function verifyFile(ctx: VerifyContext, file: string): QuoteOutcome {
  let bytes: Buffer
  try {
    bytes = readBinaryInput(file, 'quote')
  } catch (e) {
    if (!(e instanceof TdxkitError)) throw e
    return {file, exit_code: e.exit, error: {code: e.code, message: e.message, exit_code: e.exit}}
  }
  return quoteVerdict(ctx, file, bytes)
}

/** An outcome as its NDJSON line. */
export function renderOutcome(o: QuoteOutcome): RenderedOutcome {
  return {exit_code: o.exit_code, line: JSON.stringify(outcomeJson(o))}
}

type Item = QuoteOutcome | RenderedOutcome

/** Verify the chunk of `files` starting at `start`. */
export function verifyChunk(ctx: VerifyContext, files: readonly string[], start: number, render: boolean): Item[] {
  const end = Math.min(files.length, start + BATCH_CHUNK)
  const items: Item[] = []
  for (let i = start; i < end; i++) {
    const o = verifyFile(ctx, files[i])
    items.push(render ? renderOutcome(o) : o)
  }
  return items
}

/**
 * The shared work queue: Int32 slot 0 is the index of the next unclaimed file; slot 1 + w is
 * worker w's state (booting → working when it starts claiming, or booting → cancelled by the
 * main thread; whoever flips it first wins).
 */
const CURSOR = 0
export const WORKER_BOOTING = 0
export const WORKER_WORKING = 1
export const WORKER_CANCELLED = 2

export function newQueue(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (1 + workers))
}

/** Claim the next chunk: its first index, or undefined when every file is claimed. */
export function claimChunk(queue: Int32Array, n: number): number | undefined {
  const start = Atomics.add(queue, CURSOR, BATCH_CHUNK)
  return start < n ? start : undefined
}

/** Stop every thread from claiming more work. */
function closeQueue(queue: Int32Array, n: number): void {
  Atomics.store(queue, CURSOR, n)
}

/** Flip a worker's state from booting; false when the other side got there first. */
export function leaveBooting(queue: Int32Array, worker: number, to: typeof WORKER_WORKING | typeof WORKER_CANCELLED): boolean {
  return Atomics.compareExchange(queue, 1 + worker, WORKER_BOOTING, to) === WORKER_BOOTING
}

const fromSources = import.meta.url.endsWith('.ts')

/** Messages from a verification worker. */
export type FromWorker = {type: 'ready'} | {type: 'results'; start: number; items: Item[]} | {type: 'failed'; message: string}
export interface WorkerInit {
  options: BatchOptions
  collateralSet?: CollateralSet
  policy?: Policy
  eventlog?: EventLogSpec
  files: string[]
  /** Post NDJSON lines instead of outcomes. */
  render: boolean
  queue: SharedArrayBuffer
  /** This worker's state slot in the queue. */
  slot: number
}

/**
 * A worker thread. From the built JS (dist/) it is the compiled verify-worker.js; from TypeScript sources
 * (tests, bin/dev.js) a bootstrap registers the tsx loader inside the worker first (Node 20 does not
 * apply `--import` hooks to a worker's entry module), which makes source-mode workers slow to start.
 */
function newWorker(workerData: WorkerInit): Worker {
  if (!fromSources) return new Worker(new URL('./verify-worker.js', import.meta.url), {workerData})
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./verify-worker.ts', import.meta.url).href)
  return new Worker(`import(${api}).then((m) => { m.register(); return import(${entry}) })`, {eval: true, workerData})
}

const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve))

/** How each delivered item reaches the caller: as a whole outcome, or as its NDJSON line. */
function emitterOf(job: BatchJob): (item: Item, index: number) => void {
  if (job.onLine) {
    const onLine = job.onLine
    return (item, i) => onLine((item as RenderedOutcome).line, item.exit_code, i)
  }
  const onOutcome = job.onOutcome
  return (item, i) => onOutcome(item as QuoteOutcome, i)
}

/** Worker threads to start besides the main thread: none for one chunk, or when stdin ('-') is an input (read once, by the main thread). */
function extraThreads(job: BatchJob): number {
  const stdin = job.files.includes('-') || job.eventlog?.log === '-' || job.eventlog?.table === '-'
  return stdin ? 0 : Math.max(0, Math.min(job.jobs, Math.ceil(job.files.length / BATCH_CHUNK)) - 1)
}

/** Items arrive by chunk from any thread; each is emitted once every item before it has been. */
function inInputOrder(emit: (item: Item, index: number) => void): {deliver: (start: number, items: Item[]) => void; delivered: () => number} {
  const pending = new Map<number, Item>()
  let next = 0
  const deliver = (start: number, items: Item[]) => {
    items.forEach((o, i) => pending.set(start + i, o))
    while (pending.has(next)) {
      const o = pending.get(next)!
      pending.delete(next)
      emit(o, next++)
    }
  }
  return {deliver, delivered: () => next}
}

/** What a running batch offers its threads: delivery, and the first failure (which stops the batch). */
interface BatchControl {
  deliver: (start: number, items: Item[]) => void
  fail: (e: unknown) => void
  failed: () => boolean
}

interface RunningWorker {
  slot: number
  /** Resolves when the thread has exited. */
  finished: Promise<void>
  stop: () => void
}

/** Start one worker thread; its messages are delivered (or fail the batch) and counted in `stat`. */
function startWorker(init: WorkerInit, stat: BatchStats['workers'][number], batch: BatchControl): RunningWorker {
  const spawned = performance.now()
  const w = newWorker(init)
  let terminating = false
  const stop = () => {
    terminating = true
    void w.terminate()
  }
  const finished = new Promise<void>((resolve) => {
    w.on('message', (m: FromWorker) => {
      try {
        if (m.type === 'ready') stat.readyMs = performance.now() - spawned
        else if (m.type === 'failed') batch.fail(new Error(`verification worker failed: ${m.message}`))
        else if (!batch.failed()) {
          stat.quotes += m.items.length
          batch.deliver(m.start, m.items)
        }
      } catch (e) {
        // The caller's callback threw (e.g. a closed output pipe): stop the batch.
        batch.fail(e)
      }
    })
    w.once('error', batch.fail)
    w.once('exit', (code) => {
      if (code !== 0 && !terminating) batch.fail(new Error(`verification worker exited with code ${code}`))
      resolve()
    })
  })
  return {slot: init.slot, finished, stop}
}

/** The main thread claims chunks too, yielding between them so worker results get delivered; returns how many it verified. */
async function workOnMainThread(ctx: VerifyContext, files: readonly string[], queue: Int32Array, render: boolean, batch: BatchControl): Promise<number> {
  let verified = 0
  for (let start = claimChunk(queue, files.length); start !== undefined && !batch.failed(); start = claimChunk(queue, files.length)) {
    const items = verifyChunk(ctx, files, start, render)
    verified += items.length
    batch.deliver(start, items)
    await yieldToEvents()
  }
  return verified
}

/** Run a batch; resolves, when every outcome has been delivered, with who verified how many. */
export async function runBatch(job: BatchJob): Promise<BatchStats> {
  const n = job.files.length
  const render = job.onLine !== undefined
  const emit = emitterOf(job)
  const ctx = newVerifyContext(job.options, job.policy, job.eventlog, job.collateralSet)
  const stats: BatchStats = {mainThread: 0, workers: []}
  const extra = extraThreads(job)
  if (extra === 0) {
    job.files.forEach((f, i) => {
      const o = verifyFile(ctx, f)
      emit(render ? renderOutcome(o) : o, i)
    })
    stats.mainThread = n
    return stats
  }

  const order = inInputOrder(emit)
  const sab = newQueue(extra)
  const queue = new Int32Array(sab)
  let failure: Error | undefined
  const batch: BatchControl = {
    deliver: order.deliver,
    fail: (e: unknown) => {
      failure ??= e instanceof Error ? e : new Error(String(e))
      closeQueue(queue, n)
    },
    failed: () => failure !== undefined,
  }
  const base = {options: job.options, ...(job.collateralSet ? {collateralSet: job.collateralSet} : {}), ...(job.policy ? {policy: job.policy} : {}), ...(job.eventlog ? {eventlog: job.eventlog} : {}), files: job.files, render, queue: sab}
  const workers = Array.from({length: extra}, (_, slot) => {
    const stat: BatchStats['workers'][number] = {quotes: 0}
    stats.workers.push(stat)
    return startWorker({...base, slot}, stat, batch)
  })

  try {
    if (job.mainThreadWorks !== false) {
      stats.mainThread = await workOnMainThread(ctx, job.files, queue, render, batch)
      // Queue empty: workers still booting are not needed.
      for (const x of workers) if (leaveBooting(queue, x.slot, WORKER_CANCELLED)) x.stop()
    }
  } catch (e) {
    batch.fail(e)
  }
  if (failure) for (const x of workers) x.stop()
  await Promise.all(workers.map((x) => x.finished))
  if (failure) throw failure
  if (order.delivered() !== n) throw new Error(`batch verification delivered ${order.delivered()} of ${n} outcomes`)
  return stats
}
