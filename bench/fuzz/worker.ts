/**
 * Campaign worker thread: fuzzes the targets it is given and reports stats and findings. Before each
 * input it publishes the input into shared memory and bumps a counter, so the main thread can keep
 * the input that hangs or exhausts the heap (the worker is then terminated from outside).
 */
import {parentPort, workerData} from 'node:worker_threads'
import {corpora} from '../../test/helpers/fuzz/seeds.js'
import {targetByName} from '../../test/helpers/fuzz/targets.js'
import {fuzzTarget} from '../../test/helpers/fuzz/harness.js'
import {SHARED_HEADER, type WorkerJob} from './shared.js'


const job = workerData as WorkerJob
const meta = new Int32Array(job.shared, 0, 4)
const bytes = new Uint8Array(job.shared, SHARED_HEADER)

const c = await corpora()
for (let i = 0; i < job.targets.length; i++) {
  const {name, runs} = job.targets[i]
  Atomics.store(meta, 1, i)
  const {stats, findings} = await fuzzTarget(targetByName(name), c, {
    seed: job.seed,
    runs,
    budgetMs: job.budgetMs,
    onInput: (input) => {
      const n = Math.min(input.length, bytes.length)
      bytes.set(input.subarray(0, n))
      Atomics.store(meta, 2, n)
      Atomics.add(meta, 0, 1)
    },
  })
  parentPort!.postMessage({type: 'target', stats, findings: findings.map((f) => ({...f, input: Buffer.from(f.input).toString('hex')}))})
}
parentPort!.postMessage({type: 'done'})
