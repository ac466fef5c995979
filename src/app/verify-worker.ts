/**
 * Worker thread for batch verification: builds its own verifier (collateral checked once), then
 * claims chunks from the shared queue until every file is claimed, posting each chunk's results.
 * It never waits for the main thread; it ends when the queue is empty.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {WORKER_WORKING, claimChunk, leaveBooting, newVerifyContext, verifyChunk, type FromWorker, type WorkerInit} from './verify-batch.js'

const init = workerData as WorkerInit
const port = parentPort!
const post = (m: FromWorker) => port.postMessage(m)
try {
  const ctx = newVerifyContext(init.options, init.policy, init.eventlog, init.collateralSet)
  ctx.verifiers.prepare()
  const queue = new Int32Array(init.queue)
  // Cancelled while booting (the main thread already finished the queue): nothing to do.
  if (leaveBooting(queue, init.slot, WORKER_WORKING)) {
    post({type: 'ready'})
    const n = init.files.length
    for (let start = claimChunk(queue, n); start !== undefined; start = claimChunk(queue, n)) {
      post({type: 'results', start, items: verifyChunk(ctx, init.files, start, init.render)})
    }
  }
} catch (e) {
  post({type: 'failed', message: (e as Error).message})
}
