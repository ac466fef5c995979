/**
 * Worker thread for batch verification: builds its own verifier (collateral checked once), says it
 * is ready, then verifies each chunk of file names the main thread sends and posts the chunk's
 * results (outcomes, or NDJSON lines). The main thread terminates it when the batch is done.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {newVerifyContext, verifyChunk, type FromWorker, type ToWorker, type WorkerInit} from './verify-batch.js'

const init = workerData as WorkerInit
const port = parentPort!
const post = (m: FromWorker) => port.postMessage(m)
try {
  const ctx = newVerifyContext(init.options, init.policy, init.eventlog, init.collateralSet)
  ctx.verifiers.prepare()
  port.on('message', (m: ToWorker) => {
    try {
      post({type: 'results', start: m.start, items: verifyChunk(ctx, m.files, init.render, init.lineOptions)})
    } catch (e) {
      post({type: 'failed', message: (e as Error).message})
    }
  })
  post({type: 'ready'})
} catch (e) {
  post({type: 'failed', message: (e as Error).message})
}
