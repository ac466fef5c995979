/** Worker thread for batch verification: verifies the chunks of files the main thread hands it. */
import {parentPort, workerData} from 'node:worker_threads'
import {newVerifyContext, verifyFile, type FromWorker, type ToWorker, type WorkerInit} from './batch.js'

const init = workerData as WorkerInit
const port = parentPort!
try {
  const ctx = newVerifyContext(init.options, init.policy, init.eventlog)
  ctx.verifier.prepare()
  port.on('message', (m: ToWorker) => {
    if (m.type === 'stop') {
      port.close()
      return
    }
    const outcomes = m.files.map((f) => verifyFile(ctx, f))
    port.postMessage({type: 'results', start: m.start, outcomes} satisfies FromWorker)
  })
  port.postMessage({type: 'ready'} satisfies FromWorker)
} catch (e) {
  port.postMessage({type: 'failed', message: (e as Error).message} satisfies FromWorker)
}
