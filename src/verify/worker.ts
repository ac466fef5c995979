/** Worker thread for batch verification: verifies its slice of files and posts each outcome. */
import {parentPort, workerData} from 'node:worker_threads'
import type {Policy} from '../appraise/policy.js'
import {verifyFile} from './batch.js'
import {QuoteVerifier, type VerifyOptions} from './verifier.js'

const data = workerData as {files: string[]; start: number; options: VerifyOptions; policy?: Policy}
const verifier = new QuoteVerifier(data.options)
data.files.forEach((file, i) => {
  const outcome = verifyFile(verifier, file, data.policy)
  parentPort!.postMessage({index: data.start + i, outcome})
})
