/**
 * Many quotes: one QuoteVerifier per thread (collateral verified once, PCK chains cached), outcomes
 * delivered in input order.
 *
 * With jobs > 1 the files are cut into small chunks on a shared queue. The main thread verifies
 * chunks itself from the start while jobs-1 worker threads boot (importing the verifier and pkijs
 * and verifying the collateral costs a worker most of a second); each worker asks for a chunk when
 * ready and for the next one when it posts its results. Small batches therefore finish on the main
 * thread at single-thread speed (idle workers are terminated), and large ones use every thread.
 */
import {Worker} from 'node:worker_threads'
import {appraise, combinedExit, type Appraisal} from '../appraise/appraise.js'
import type {Policy} from '../appraise/policy.js'
import {TdxkitError} from '../errors.js'
import type {LoadedEventLog} from '../eventlog/input.js'
import {readBinaryInput} from '../util/bytes.js'
import {checkEventLog, loadEventLogSpec, type EventLogCheck, type EventLogSpec} from './eventlog-check.js'
import {QuoteVerifier, type VerifyOptions, type VerifyResult} from './verifier.js'

export interface QuoteOutcome {
  file: string
  exit_code: number
  /** Absent when the file could not be read. */
  result?: VerifyResult
  appraisal?: Appraisal
  /** The event log comparison (with --eventlog). */
  eventlog?: EventLogCheck
  error?: {code: string; message: string; exit_code: number}
}

export interface BatchJob {
  files: string[]
  options: VerifyOptions
  policy?: Policy
  /** Compare each quote's RTMRs with this event log. */
  eventlog?: EventLogSpec
  jobs: number
  /** With jobs > 1, whether the main thread verifies chunks too (default true; false leaves all work to the workers). */
  mainThreadWorks?: boolean
  /** Called with each outcome, in input order. */
  onOutcome: (o: QuoteOutcome, index: number) => void
}

/** Files per work unit handed to a thread. */
export const BATCH_CHUNK = 64

/** Everything one thread needs to verify files: a verifier, the policy, the loaded event log. */
export interface VerifyContext {
  verifier: QuoteVerifier
  policy?: Policy
  eventlog?: {spec: EventLogSpec; loaded: LoadedEventLog}
}

export function newVerifyContext(options: VerifyOptions, policy?: Policy, eventlog?: EventLogSpec): VerifyContext {
  return {verifier: new QuoteVerifier(options), ...(policy ? {policy} : {}), ...(eventlog ? {eventlog: {spec: eventlog, loaded: loadEventLogSpec(eventlog)}} : {})}
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
  return verifyBytes(ctx, file, bytes)
}

export function verifyBytes(ctx: VerifyContext, file: string, bytes: Uint8Array): QuoteOutcome {
  const result = ctx.verifier.verify(bytes)
  const appraisal = result.ok && ctx.policy ? appraise(result, bytes, ctx.policy) : undefined
  let exit = combinedExit(result, appraisal)
  const eventlog = ctx.eventlog ? checkEventLog(bytes, ctx.eventlog.loaded, ctx.eventlog.spec) : undefined
  // A log that does not match the quote is a binding failure: it outranks a policy violation.
  if (eventlog && eventlog.exit_code !== 0) exit = exit === 0 ? eventlog.exit_code : Math.min(exit, eventlog.exit_code)
  return {file, exit_code: exit, result, ...(appraisal ? {appraisal} : {}), ...(eventlog ? {eventlog} : {})}
}

const fromSources = import.meta.url.endsWith('.ts')

/** Messages between the main thread and a verification worker. */
export type ToWorker = {type: 'chunk'; start: number; files: string[]} | {type: 'stop'}
export type FromWorker = {type: 'ready'} | {type: 'results'; start: number; outcomes: QuoteOutcome[]} | {type: 'failed'; message: string}
export interface WorkerInit {
  options: VerifyOptions
  policy?: Policy
  eventlog?: EventLogSpec
}

/**
 * A worker thread. From the built JS (dist/) it is the compiled worker.js; from TypeScript sources
 * (tests, bin/dev.js) a bootstrap registers the tsx loader inside the worker first (Node 20 does not
 * apply `--import` hooks to a worker's entry module), which makes source-mode workers slow to start.
 */
function newWorker(workerData: WorkerInit): Worker {
  if (!fromSources) return new Worker(new URL('./worker.js', import.meta.url), {workerData})
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href)
  return new Worker(`import(${api}).then((m) => { m.register(); return import(${entry}) })`, {eval: true, workerData})
}

const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Run a batch; resolves when every outcome has been delivered. */
export async function runBatch(job: BatchJob): Promise<void> {
  const n = job.files.length
  const ctx = newVerifyContext(job.options, job.policy, job.eventlog)
  // stdin ('-') can be read once, by the main thread only.
  const stdin = job.files.includes('-') || job.eventlog?.log === '-' || job.eventlog?.table === '-'
  const extra = stdin ? 0 : Math.max(0, Math.min(job.jobs, Math.ceil(n / BATCH_CHUNK)) - 1)
  if (extra === 0) {
    job.files.forEach((f, i) => job.onOutcome(verifyFile(ctx, f), i))
    return
  }
  const pending = new Map<number, QuoteOutcome>()
  let next = 0
  const deliver = (start: number, outcomes: QuoteOutcome[]) => {
    outcomes.forEach((o, i) => pending.set(start + i, o))
    while (pending.has(next)) {
      const o = pending.get(next)!
      pending.delete(next)
      job.onOutcome(o, next++)
    }
  }
  let cursor = 0
  const take = (): {start: number; files: string[]} | undefined => {
    if (cursor >= n) return undefined
    const start = cursor
    cursor = Math.min(n, cursor + BATCH_CHUNK)
    return {start, files: job.files.slice(start, cursor)}
  }

  const init: WorkerInit = {options: job.options, ...(job.policy ? {policy: job.policy} : {}), ...(job.eventlog ? {eventlog: job.eventlog} : {})}
  let failure: Error | undefined
  const workers = Array.from({length: extra}, () => {
    const w = newWorker(init)
    let busy = false
    let exited = false
    const finished = new Promise<void>((resolve) => {
      w.on('message', (m: FromWorker) => {
        if (m.type === 'failed') failure ??= new Error(`verification worker failed: ${m.message}`)
        if (m.type === 'results') deliver(m.start, m.outcomes)
        const c = failure ? undefined : take()
        busy = c !== undefined
        w.postMessage((c ? {type: 'chunk', ...c} : {type: 'stop'}) satisfies ToWorker)
      })
      w.once('error', (e) => {
        failure ??= e
        exited = true
        resolve()
      })
      w.once('exit', () => {
        exited = true
        resolve()
      })
    })
    return {w, finished, busy: () => busy, exited: () => exited}
  })

  // The main thread works through the queue too, yielding between chunks so workers get served.
  if (job.mainThreadWorks !== false) {
    for (let c = take(); c && !failure; c = take()) {
      deliver(c.start, c.files.map((f) => verifyFile(ctx, f)))
      await yieldToEvents()
    }
  } else {
    while (cursor < n && !failure && workers.some((x) => !x.exited())) await new Promise((r) => setTimeout(r, 5))
  }
  // Queue empty: workers that are still booting (or idle) are not needed.
  for (const x of workers) if (!x.busy()) void x.w.terminate()
  await Promise.all(workers.map((x) => x.finished))
  if (failure) throw failure
  if (next !== n) throw new Error(`batch verification delivered ${next} of ${n} outcomes`)
}
