/**
 * Batch verification over worker threads (the --jobs path): outcomes arrive in input order and equal
 * the single-thread ones, with policy and event log applied in the workers; the main thread's own
 * share and the workers' shares agree.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {defaultPolicy} from '../../src/appraise/policy.js'
import {runBatch, type QuoteOutcome} from '../../src/app/verify-batch.js'
import {outcomeJson} from '../../src/cli/verify-render.js'
import {tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

const CCEL = 'gotdx-tdx-v4-cos113-ccel'

vectorTest(test, 'jobs 2 (workers only, and workers + main thread) = jobs 1, in order, with policy and event log', async () => {
  const dir = tempDir()
  const quote = readVector('real', CCEL, 'quote.bin')
  const files: string[] = []
  for (let i = 0; i < 150; i++) {
    const f = join(dir, `q${i}.bin`)
    const b = Buffer.from(quote)
    if (i % 10 === 3) b[100] ^= 1 // some fail (body byte: quote signature)
    writeFileSync(f, b)
    files.push(f)
  }
  files.push(join(dir, 'missing.bin'))
  const options = {now: 1720000000}
  const eventlog = {log: vectorPath('real', CCEL, 'ccel_data.bin'), table: vectorPath('real', CCEL, 'ccel_table.bin')}
  const policy = {...defaultPolicy(), allow_debug: true, allow_missing_sept_ve_disable: true}
  const run = async (jobs: number, mainThreadWorks = true) => {
    const out: Array<[number, QuoteOutcome]> = []
    await runBatch({files, options, policy, eventlog, jobs, mainThreadWorks, onOutcome: (o, i) => out.push([i, o])})
    return out
  }
  const one = await run(1)
  assert.equal(one.map(([i]) => i), files.map((_f, i) => i))
  assert.is(one.filter(([, o]) => o.exit_code === 0).length, 135)
  assert.is(one.filter(([, o]) => o.exit_code === 3).length, 15)
  assert.is(one.at(-1)![1].error?.code, 'UNREADABLE_INPUT')
  assert.is(one[0][1].eventlog?.result, 'pass')
  const norm = (xs: Array<[number, QuoteOutcome]>) => xs.map(([i, o]) => [i, JSON.stringify(outcomeJson(o))])
  const workersOnly = await run(2, false)
  assert.equal(norm(workersOnly), norm(one))
  const both = await run(3)
  assert.equal(norm(both), norm(one))
})

test.run()
