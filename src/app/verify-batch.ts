/**
 * Many quotes: the verifiers of one thread (a QuoteVerifier per platform: collateral verified once,
 * PCK chains cached; see src/verify/platforms.ts), outcomes delivered in input order, in memory
 * that does not grow with the number of quotes.
 *
 * File names come from a list or an (async) iterable (a list file or stdin: verify-files.ts), read
 * in chunks of BATCH_CHUNK as the batch goes. With jobs > 1 the main thread hands chunks to jobs-1
 * worker threads (each keeps WORKER_QUEUE chunks in hand, so none waits for the next) and verifies
 * chunks itself between deliveries while the workers boot and after; a chunk naming stdin ('-') is
 * always the main thread's (stdin is read once, there). Outcomes are re-ordered through a buffer
 * that holds only the chunks in flight. Workers that are still booting when the input runs out are
 * terminated, so small batches finish at single-thread speed.
 *
 * Callers take either full outcomes (`onOutcome`) or, for NDJSON output, `onLine`: each outcome is
 * then rendered to its JSON line by the thread that verified it, and only the string crosses to the
 * main thread (a structured clone of a whole outcome, decoded body and step list included, costs
 * the main thread about 40 µs to receive; a line a few µs).
 */
import {createRequire} from 'node:module'
import {availableParallelism} from 'node:os'
import {pathToFileURL} from 'node:url'
import type {Worker} from 'node:worker_threads'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import type {Policy} from '../appraise/policy.js'
import {outcomeJson, quoteVerdict, type OutcomeJsonOptions, type QuoteOutcome, type VerdictContext} from '../appraise/verdict.js'
import {TdxkitError} from '../errors.js'
import {loadEventLog, type LoadedEventLog} from './eventlog-input.js'
import {readBinaryInputInto, type ReadBuffer} from './files.js'
import type {EventLogSpec} from '../verify/eventlog-check.js'
import type {CollateralGetter, CollateralUnavailable, VerifyOptions} from '../verify/options.js'
import {collateralKeyString} from '../verify/pck-info.js'
import {PlatformVerifiers} from '../verify/platforms.js'

export type {QuoteOutcome} from '../appraise/verdict.js'
export type {EventLogSpec} from '../verify/eventlog-check.js'

/** Load (and so validate) the event log once per thread: malformed logs are input errors (exit 2). */
export const loadEventLogSpec = (spec: EventLogSpec): LoadedEventLog => loadEventLog(spec.log, spec.table)

/** One outcome as its NDJSON line (`JSON.stringify(outcomeJson(o, lineOptions))`, no newline) and exit code. */
interface RenderedOutcome {
  exit_code: number
  line: string
}

/** Verification options as plain data (they cross to worker threads): per-platform collateral travels as `collateralSet`. */
export type BatchOptions = Omit<VerifyOptions, 'getCollateral'>

/** The quote files of a batch: a list, or names produced as the batch reads them (a list file, stdin). */
export type FileSource = readonly string[] | Iterable<string> | AsyncIterable<string>

interface BatchCommon {
  files: FileSource
  options: BatchOptions
  policy?: Policy
  /** Compare each quote's RTMRs with this event log. */
  eventlog?: EventLogSpec
  /** Several platforms' collateral: each quote is verified with its own (overrides options.collateral). */
  collateralSet?: CollateralSet
  jobs: number
  /** With jobs > 1, whether the main thread verifies chunks too (default true; false leaves all work to the workers, except stdin's). */
  mainThreadWorks?: boolean
  /** NDJSON lines: how much of each outcome they carry (see outcomeJson). */
  lineOptions?: OutcomeJsonOptions
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
  /** Per worker started: quotes verified, and ms from spawn until it was ready for work (absent: terminated while booting). */
  workers: Array<{quotes: number; readyMs?: number}>
}

/** The most threads `quote verify` uses when --jobs is not given (one per CPU up to this). */
const MAX_DEFAULT_JOBS = 8
/** --jobs when not given: one thread per CPU (the main thread and jobs-1 workers), up to MAX_DEFAULT_JOBS. */
export const defaultJobs = (): number => Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_JOBS))

/** Files per unit of work handed to a thread. */
export const BATCH_CHUNK = 64
/** Chunks a worker holds (being verified + queued), so that it never waits for the next. */
const WORKER_QUEUE = 2

/**
 * Collateral for batches that span several platforms (`quote verify --pccs-url` on quotes of
 * different FMSPCs): one bundle per collateralKeyString, or the error its fetch gave. Each quote is
 * verified against the bundle of its own PCK certificate's key.
 */
export type CollateralSet = Record<string, QuoteCollateralV3 | CollateralUnavailable>

/** The verifier options' collateral getter over a CollateralSet. */
const collateralGetter =
  (set: CollateralSet): CollateralGetter =>
  (key) =>
    set[collateralKeyString(key)]

/** Everything one thread needs to verify files: verifiers (per platform), the policy, the loaded event log, a read buffer. */
type VerifyContext = VerdictContext & {scratch?: ReadBuffer}

export function newVerifyContext(options: BatchOptions, policy?: Policy, eventlog?: EventLogSpec, collateralSet?: CollateralSet): VerifyContext {
  return {
    verifiers: new PlatformVerifiers(collateralSet ? {...options, getCollateral: collateralGetter(collateralSet)} : options),
    ...(policy ? {policy} : {}),
    ...(eventlog ? {eventlog: {spec: eventlog, loaded: loadEventLogSpec(eventlog)}} : {}),
  }
}

/**
 * A quote file's bytes (raw, hex or base64), read by app/files.readBinaryInputInto into the
 * context's kept buffer: the bytes are valid until the next read. A batch reads one file per quote;
 * allocating 64 KB and copying twice for each was a tenth of the per-quote time.
 */
const readQuoteFile = (ctx: VerifyContext, file: string): Buffer => readBinaryInputInto(file, 'quote', (ctx.scratch ??= {}))

/** Verify + appraise one file. */
function verifyFile(ctx: VerifyContext, file: string): QuoteOutcome {
  let bytes: Buffer
  try {
    bytes = readQuoteFile(ctx, file)
  } catch (e) {
    if (!(e instanceof TdxkitError)) throw e
    return {file, exit_code: e.exit, error: {code: e.code, message: e.message, exit_code: e.exit}}
  }
  return quoteVerdict(ctx, file, bytes)
}

/** An outcome as its NDJSON line. */
function renderOutcome(o: QuoteOutcome, options?: OutcomeJsonOptions): RenderedOutcome {
  return {exit_code: o.exit_code, line: JSON.stringify(outcomeJson(o, options))}
}

type Item = QuoteOutcome | RenderedOutcome

/** Verify one chunk of file names; `render` gives NDJSON lines (with `lineOptions`) instead of outcomes. */
export function verifyChunk(ctx: VerifyContext, files: readonly string[], render: boolean, lineOptions?: OutcomeJsonOptions): Item[] {
  return files.map((f) => {
    const o = verifyFile(ctx, f)
    return render ? renderOutcome(o, lineOptions) : o
  })
}

const fromSources = import.meta.url.endsWith('.ts')

/** Messages between the main thread and a verification worker. */
export type FromWorker = {type: 'ready'} | {type: 'results'; start: number; items: Item[]} | {type: 'failed'; message: string}
export type ToWorker = {type: 'chunk'; start: number; files: string[]}
export interface WorkerInit {
  options: BatchOptions
  collateralSet?: CollateralSet
  policy?: Policy
  eventlog?: EventLogSpec
  /** Post NDJSON lines instead of outcomes. */
  render: boolean
  lineOptions?: OutcomeJsonOptions
}

/**
 * The built worker: dist/src/app/verify-worker.js, which the build replaces with a bundle of itself
 * (one module to load instead of ~50, so a worker is ready sooner). It is found from the package
 * root, not from this module, because this module is also inlined into the bundled `quote verify`
 * command elsewhere under dist/.
 */
const builtWorker = (): URL => new URL('dist/src/app/verify-worker.js', pathToFileURL(createRequire(import.meta.url).resolve('tdxkit/package.json')))

/**
 * A worker thread. From the built JS (dist/) it is the bundled verify-worker.js; from TypeScript sources
 * (tests, bin/dev.js) a bootstrap registers the tsx loader inside the worker first (Node 20 does not
 * apply `--import` hooks to a worker's entry module), which makes source-mode workers slow to start.
 */
function newWorker(workerData: WorkerInit): Worker {
  // Loaded here: node:worker_threads costs ~3 ms to load, and one quote needs no worker.
  const {Worker} = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')
  if (!fromSources) return new Worker(builtWorker(), {workerData})
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

/** Items arrive by chunk from any thread; each is emitted once every item before it has been. */
function inInputOrder(emit: (item: Item, index: number) => void): {deliver: (start: number, items: Item[]) => void; delivered: () => number} {
  const pending = new Map<number, Item[]>()
  let next = 0
  const deliver = (start: number, items: Item[]) => {
    pending.set(start, items)
    for (let chunk = pending.get(next); chunk; chunk = pending.get(next)) {
      pending.delete(next)
      for (const item of chunk) emit(item, next++)
    }
  }
  return {deliver, delivered: () => next}
}

/** Chunks of up to BATCH_CHUNK names from the batch's source, numbered by the index of their first name. */
async function* chunksOf(files: FileSource): AsyncGenerator<{start: number; files: string[]}> {
  if (Array.isArray(files)) {
    for (let start = 0; start < files.length; start += BATCH_CHUNK) yield {start, files: files.slice(start, start + BATCH_CHUNK)}
    return
  }
  let chunk: string[] = []
  let start = 0
  for await (const f of files as AsyncIterable<string>) {
    chunk.push(f)
    if (chunk.length === BATCH_CHUNK) {
      yield {start, files: chunk}
      start += chunk.length
      chunk = []
    }
  }
  if (chunk.length) yield {start, files: chunk}
}

/** Whether the batch's event log is read from stdin (then stdin feeds no quote, and only the main thread can have it). */
const eventLogOnStdin = (job: BatchJob) => job.eventlog?.log === '-' || job.eventlog?.table === '-'

/** A running worker: its chunks in hand, whether it has said it is ready (and not exited since), and how to stop it. */
interface RunningWorker {
  w: Worker
  stat: BatchStats['workers'][number]
  ready: boolean
  exited: boolean
  inHand: number
  /** Resolves when the thread has exited. */
  finished: Promise<void>
  stop: () => void
}

/**
 * The batch's work loop on the main thread: hands chunks to ready workers, verifies chunks itself
 * when it may (or when they name stdin), and waits for worker messages otherwise. One wake-up
 * promise is renewed after every message, so the loop sleeps only when it has nothing to do.
 */
class Dispatcher {
  private readonly order: ReturnType<typeof inInputOrder>
  private readonly workers: RunningWorker[] = []
  private failure: Error | undefined
  private wake: () => void = () => {}
  private woken: Promise<void>
  private readonly ctx: VerifyContext
  private readonly render: boolean
  readonly stats: BatchStats = {mainThread: 0, workers: []}

  constructor(private readonly job: BatchJob) {
    this.render = job.onLine !== undefined
    this.order = inInputOrder(emitterOf(job))
    this.ctx = newVerifyContext(job.options, job.policy, job.eventlog, job.collateralSet)
    this.woken = this.renewWake()
  }

  private renewWake(): Promise<void> {
    return (this.woken = new Promise<void>((resolve) => (this.wake = resolve)))
  }

  private fail(e: unknown): void {
    this.failure ??= e instanceof Error ? e : new Error(String(e))
    this.wake()
  }

  private deliver(start: number, items: Item[]): void {
    try {
      this.order.deliver(start, items)
    } catch (e) {
      // The caller's callback threw (e.g. a closed output pipe): stop the batch.
      this.fail(e)
    }
  }

  /** Start the batch's worker threads (jobs - 1 of them). */
  startWorkers(): void {
    const job = this.job
    const init: WorkerInit = {
      options: job.options,
      ...(job.collateralSet ? {collateralSet: job.collateralSet} : {}),
      ...(job.policy ? {policy: job.policy} : {}),
      ...(job.eventlog ? {eventlog: job.eventlog} : {}),
      render: this.render,
      ...(job.lineOptions ? {lineOptions: job.lineOptions} : {}),
    }
    for (let i = 1; i < job.jobs; i++) this.workers.push(this.startWorker(init))
  }

  private startWorker(init: WorkerInit): RunningWorker {
    const spawned = performance.now()
    const stat: BatchStats['workers'][number] = {quotes: 0}
    this.stats.workers.push(stat)
    const w = newWorker(init)
    let terminating = false
    const running: RunningWorker = {w, stat, ready: false, exited: false, inHand: 0, finished: Promise.resolve(), stop: () => {}}
    running.stop = () => {
      terminating = true
      void w.terminate()
    }
    running.finished = new Promise<void>((resolve) => {
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          stat.readyMs = performance.now() - spawned
          running.ready = true
        } else if (m.type === 'failed') this.fail(new Error(`verification worker failed: ${m.message}`))
        else if (!this.failure) {
          running.inHand--
          stat.quotes += m.items.length
          this.deliver(m.start, m.items)
        }
        this.wake()
      })
      w.once('error', (e) => this.fail(e))
      w.once('exit', (code) => {
        running.exited = true
        running.ready = false
        if (!terminating && (code !== 0 || running.inHand > 0)) this.fail(new Error(`verification worker exited with code ${code}${running.inHand ? ' before finishing its work' : ''}`))
        resolve()
        this.wake()
      })
    })
    return running
  }

  private verifyHere(chunk: {start: number; files: string[]}): void {
    const items = verifyChunk(this.ctx, chunk.files, this.render, this.job.lineOptions)
    this.stats.mainThread += items.length
    this.deliver(chunk.start, items)
  }

  /** A ready worker with room in its queue. */
  private idleWorker(): RunningWorker | undefined {
    return this.workers.find((x) => x.ready && x.inHand < WORKER_QUEUE)
  }

  /** Run the batch to its end (or first failure); resolves with who verified how many. */
  async run(): Promise<BatchStats> {
    const chunks = chunksOf(this.job.files)
    const mainWorks = this.job.mainThreadWorks !== false || this.job.jobs <= 1
    let next = await chunks.next()
    try {
      // A second chunk is what makes workers worth starting.
      let second = next.done ? next : await chunks.next()
      if (!second.done && this.job.jobs > 1 && !eventLogOnStdin(this.job)) this.startWorkers()
      const take = async (): Promise<{start: number; files: string[]} | undefined> => {
        const c = next.done ? undefined : next.value
        next = second
        second = next.done ? next : await chunks.next()
        return c
      }
      let chunk = await take()
      while ((chunk || this.inFlight()) && !this.failure) {
        if (chunk && chunk.files.includes('-')) {
          this.verifyHere(chunk)
          chunk = await take()
        } else if (chunk && this.idleWorker()) {
          const w = this.idleWorker()!
          w.inHand++
          w.w.postMessage({type: 'chunk', start: chunk.start, files: chunk.files} satisfies ToWorker)
          chunk = await take()
        } else if (chunk && (mainWorks || this.workers.every((x) => x.exited))) {
          this.verifyHere(chunk)
          chunk = await take()
          // Let worker messages (ready, results) in between chunks.
          await yieldToEvents()
        } else {
          if (!chunk) this.stopBootingWorkers()
          await this.woken
          this.renewWake()
        }
      }
    } finally {
      for (const x of this.workers) x.stop()
      await Promise.all(this.workers.map((x) => x.finished))
    }
    if (this.failure) throw this.failure
    return this.stats
  }

  /** Whether a worker still holds chunks. */
  private inFlight(): boolean {
    return this.workers.some((x) => x.inHand > 0)
  }

  /** The input is used up: workers still booting are not needed (the others end with the batch). */
  private stopBootingWorkers(): void {
    for (const x of this.workers) if (!x.ready && !x.exited && x.inHand === 0) x.stop()
  }

  delivered(): number {
    return this.order.delivered()
  }
}

/** Run a batch; resolves, when every outcome has been delivered, with who verified how many. */
export async function runBatch(job: BatchJob): Promise<BatchStats> {
  const d = new Dispatcher(job)
  const stats = await d.run()
  return stats
}
