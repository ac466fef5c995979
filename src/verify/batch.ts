/**
 * Many quotes: one QuoteVerifier per thread (collateral verified once, PCK chains cached), quotes
 * spread over worker threads when jobs > 1, outcomes delivered in input order.
 */
import {Worker} from 'node:worker_threads'
import {appraise, combinedExit, type Appraisal} from '../appraise/appraise.js'
import type {Policy} from '../appraise/policy.js'
import {TdxkitError} from '../errors.js'
import {readBinaryInput} from '../util/bytes.js'
import {QuoteVerifier, type VerifyOptions, type VerifyResult} from './verifier.js'

export interface QuoteOutcome {
  file: string
  exit_code: number
  /** Absent when the file could not be read. */
  result?: VerifyResult
  appraisal?: Appraisal
  error?: {code: string; message: string; exit_code: number}
}

export interface BatchJob {
  files: string[]
  options: VerifyOptions
  policy?: Policy
  jobs: number
  /** Called with each outcome, in input order. */
  onOutcome: (o: QuoteOutcome, index: number) => void
}

/** Verify + appraise one file with an existing verifier. */
export function verifyFile(verifier: QuoteVerifier, file: string, policy?: Policy): QuoteOutcome {
  let bytes: Buffer
  try {
    bytes = readBinaryInput(file, 'quote')
  } catch (e) {
    if (!(e instanceof TdxkitError)) throw e
    return {file, exit_code: e.exit, error: {code: e.code, message: e.message, exit_code: e.exit}}
  }
  return verifyBytes(verifier, file, bytes, policy)
}

export function verifyBytes(verifier: QuoteVerifier, file: string, bytes: Uint8Array, policy?: Policy): QuoteOutcome {
  const result = verifier.verify(bytes)
  const appraisal = result.ok && policy ? appraise(result, bytes, policy) : undefined
  return {file, exit_code: combinedExit(result, appraisal), result, ...(appraisal ? {appraisal} : {})}
}

const fromSources = import.meta.url.endsWith('.ts')

/**
 * The worker thread. From the built JS it is worker.js; from TypeScript sources (tests, bin/dev.js)
 * a tiny bootstrap registers the tsx loader inside the worker first (Node 20 does not apply
 * `--import` hooks to a worker's entry module).
 */
function newWorker(workerData: unknown): Worker {
  if (!fromSources) return new Worker(new URL('./worker.js', import.meta.url), {workerData})
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href)
  return new Worker(`import(${api}).then((m) => { m.register(); return import(${entry}) })`, {eval: true, workerData})
}

/** Run a batch; resolves when every outcome has been delivered. */
export async function runBatch(job: BatchJob): Promise<void> {
  const n = job.files.length
  const jobs = Math.max(1, Math.min(job.jobs, n))
  if (jobs === 1) {
    const v = new QuoteVerifier(job.options)
    job.files.forEach((f, i) => job.onOutcome(verifyFile(v, f, job.policy), i))
    return
  }
  const pending = new Map<number, QuoteOutcome>()
  let next = 0
  const flush = () => {
    while (pending.has(next)) {
      const o = pending.get(next)!
      pending.delete(next)
      job.onOutcome(o, next++)
    }
  }
  // Contiguous chunks keep each worker's chain cache warm for similar quotes.
  const size = Math.ceil(n / jobs)
  const runs: Array<Promise<void>> = []
  for (let w = 0; w < jobs; w++) {
    const start = w * size
    const files = job.files.slice(start, start + size)
    if (files.length === 0) continue
    runs.push(
      new Promise<void>((resolve, reject) => {
        const worker = newWorker({files, start, options: job.options, policy: job.policy})
        worker.on('message', (m: {index: number; outcome: QuoteOutcome}) => {
          pending.set(m.index, m.outcome)
          flush()
        })
        worker.once('error', reject)
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`verification worker exited with code ${code}`))))
      }),
    )
  }
  await Promise.all(runs)
  flush()
}
