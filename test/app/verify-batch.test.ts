/**
 * Batch verification (`quote verify F... --jobs N`): every outcome delivered exactly once and in
 * input order whoever verified it; NDJSON lines rendered in the workers equal the main thread's
 * rendering of the same outcomes; a worker failure or a throwing callback rejects the batch; a single
 * chunk starts no worker; stdin among many files is read by the main thread; the CLI's one-pass file
 * split agrees with oclif's parser.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {copyFileSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Flags, Parser} from '@oclif/core'
import QuoteVerify from '../../commands/quote/verify.js'
import {splitFileArgs} from '../../src/cli/argv.js'
import {TdxCommand} from '../../src/cli/base.js'
import {defaultPolicy} from '../../src/appraise/policy.js'
import {BATCH_CHUNK, runBatch, type BatchStats, type QuoteOutcome} from '../../src/app/verify-batch.js'
import {outcomeJson} from '../../src/cli/verify-render.js'
import {cli, cliAsync, tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

const AT = 1752919234
const COLLATERAL = () => JSON.parse(readVector('real', 'dcapqvl-tdx-v4-uptodate', 'collateral.json').toString('utf8'))

/** n quote files cycling over three real quotes of one FMSPC; every 7th has a flipped body byte (exit 3); one path is missing (exit 2). */
function quoteFiles(n: number): {files: string[]; expected: number[]} {
  const dir = tempDir()
  const quotes = [readVector('real', 'dcapqvl-tdx-v4-uptodate', 'quote.bin'), readVector('real', 'flashtestations-tdx-v4', 'quote-0xf200.bin'), readVector('real', 'flashtestations-tdx-v4', 'quote-0x12c1.bin')]
  const files: string[] = []
  const expected: number[] = []
  for (let i = 0; i < n; i++) {
    const f = join(dir, `q${i}.bin`)
    if (i === 5) {
      expected.push(2) // never written: unreadable
    } else {
      const b = Buffer.from(quotes[i % 3])
      if (i % 7 === 3) b[200] ^= 1 // TD body byte: the quote signature fails
      writeFileSync(f, b)
      expected.push(i % 7 === 3 ? 3 : 0)
    }
    files.push(f)
  }
  return {files, expected}
}

const total = (s: BatchStats) => s.mainThread + s.workers.reduce((a, w) => a + w.quotes, 0)

vectorTest(test, 'NDJSON lines from workers = full outcomes rendered on the main thread; each index once, in order', async () => {
  const n = BATCH_CHUNK * 4 + 9
  const {files, expected} = quoteFiles(n)
  const options = {now: AT, collateral: COLLATERAL()}
  const outcomes: Array<[number, QuoteOutcome]> = []
  const single = await runBatch({files, options, jobs: 1, onOutcome: (o, i) => outcomes.push([i, o])})
  assert.equal(single, {mainThread: n, workers: []})
  assert.equal(outcomes.map(([i]) => i), files.map((_f, i) => i))
  assert.equal(outcomes.map(([, o]) => o.exit_code), expected)
  assert.is(outcomes[5][1].error?.code, 'UNREADABLE_INPUT')
  const reference = outcomes.map(([, o]) => JSON.stringify(outcomeJson(o)))

  // Workers only (two of them), posting rendered lines.
  const lines: Array<[number, string, number]> = []
  const stats = await runBatch({files, options, jobs: 3, mainThreadWorks: false, onLine: (l, code, i) => lines.push([i, l, code])})
  assert.equal(lines.map(([i]) => i), files.map((_f, i) => i))
  assert.equal(lines.map(([, l]) => l), reference)
  assert.equal(lines.map(([, , c]) => c), expected)
  assert.is(stats.mainThread, 0)
  assert.is(stats.workers.length, 2)
  assert.is(total(stats), n)
  for (const w of stats.workers) if (w.quotes > 0) assert.ok(w.readyMs !== undefined)

  // Main thread and a worker together, full outcomes (the worker may be cancelled while booting).
  const both: Array<[number, string]> = []
  const mixed = await runBatch({files, options, jobs: 2, onOutcome: (o, i) => both.push([i, JSON.stringify(outcomeJson(o))])})
  assert.equal(both, reference.map((l, i) => [i, l]))
  assert.is(total(mixed), n)
  assert.ok(mixed.mainThread > 0)
})

vectorTest(test, 'no worker for a single chunk; policy and event log apply in workers', async () => {
  const {files} = quoteFiles(BATCH_CHUNK)
  const options = {now: AT, collateral: COLLATERAL()}
  const few = await runBatch({files, options, jobs: 8, onLine: () => {}})
  assert.equal(few.workers, [])

  // A policy violation (an expected MRTD the quote does not have) and an event log check, computed inside the workers.
  const dir = tempDir()
  const ccel = 'gotdx-tdx-v4-cos113-ccel'
  const many = Array.from({length: BATCH_CHUNK + 1}, (_x, i) => {
    const f = join(dir, `c${i}.bin`)
    copyFileSync(vectorPath('real', ccel, 'quote.bin'), f)
    return f
  })
  const eventlog = {log: vectorPath('real', ccel, 'ccel_data.bin'), table: vectorPath('real', ccel, 'ccel_table.bin')}
  const strict = {...defaultPolicy(), expected: {mrtd: ['00'.repeat(48)]}}
  const lines: string[] = []
  const stats = await runBatch({files: many, options: {now: 1720000000}, policy: strict, eventlog, jobs: 2, mainThreadWorks: false, onLine: (l) => lines.push(l)})
  assert.is(stats.workers[0].quotes, many.length)
  const parsed = lines.map((l) => JSON.parse(l) as {verdict: string; exit_code: number; eventlog: {result: string}; policy: {violations: Array<{rule: string}>}})
  assert.ok(parsed.every((p) => p.verdict === 'policy_violation' && p.exit_code === 6 && p.eventlog.result === 'pass'))
  assert.equal(parsed[0].policy.violations.map((v) => v.rule), ['expected.mrtd'])
})

vectorTest(test, 'a failing worker or a throwing callback rejects the batch (no hang, nothing delivered twice)', async () => {
  const {files} = quoteFiles(BATCH_CHUNK * 2 + 1)
  const options = {now: AT, collateral: COLLATERAL()}
  // The event log disappears after the main thread loaded it: the worker cannot build its context.
  const dir = tempDir()
  const log = join(dir, 'ccel.bin')
  copyFileSync(vectorPath('real', 'gotdx-tdx-v4-cos113-ccel', 'ccel_data.bin'), log)
  const seen: number[] = []
  const pending = runBatch({files, options, eventlog: {log}, jobs: 2, mainThreadWorks: false, onLine: (_l, _c, i) => seen.push(i)})
  unlinkSync(log)
  const err = await pending.then(() => undefined, (e: Error) => e)
  assert.instance(err, Error)
  assert.match(err!.message, /verification worker failed/)
  assert.equal(seen, [])

  const got: number[] = []
  const boom = await runBatch({
    files,
    options,
    jobs: 2,
    mainThreadWorks: false,
    onOutcome: (_o, i) => {
      if (i === 70) throw new Error('output closed')
      got.push(i)
    },
  }).then(() => undefined, (e: Error) => e)
  assert.is(boom?.message, 'output closed')
  assert.equal(got, Array.from({length: 70}, (_x, i) => i))
})

/** The flags oclif sees for `quote verify` (command flags, base flags, --json). */
const verifyFlags = {...TdxCommand.baseFlags, ...QuoteVerify.flags, json: Flags.boolean()}

test('file split = oclif parse on every command line it accepts (and it accepts the usual ones)', async () => {
  const saved = process.env.TDXKIT_STATE_DIR
  delete process.env.TDXKIT_STATE_DIR
  const parse = (argv: string[]) =>
    Parser.parse(argv, {flags: verifyFlags, args: QuoteVerify.args, strict: false}).then(
      (r) => ({flags: r.flags, argv: r.argv.map(String)}),
      (e: Error) => ({error: e.message}),
    )
  const token = fc.oneof(
    fc.constantFrom('a.bin', 'b.bin', 'q/c.bin', '-', 'x=y', '--json', '--allow-debug', '--signatures-only', '--collateral', '--collateral=c.json', '--at', '-j', '--jobs=2', '--root-ca', '--policy'),
    fc.constantFrom('--expect', 'mrtd=00', '--allow-advisory', 'INTEL-SA-1', '--', '-j2', '-5', '--nope', '-x', '--jobs', '3', '--at=1', '--no-json', '--state-dir'),
  )
  let accepted = 0
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(token, {maxLength: 14}), async (argv) => {
        const split = splitFileArgs(argv, verifyFlags, false)
        if (!split) return
        accepted++
        const full = await parse(argv)
        const fast = await parse([...split.files.slice(0, 1), ...split.flagArgv])
        if ('error' in full) {
          assert.ok('error' in fast, `${argv.join(' ')}: oclif fails (${full.error}), the split does not`)
          return
        }
        assert.ok(!('error' in fast), `${argv.join(' ')}: ${'error' in fast ? fast.error : ''}`)
        if ('error' in fast) return
        assert.equal(fast.flags, full.flags, argv.join(' '))
        // oclif sorts argv by each word's first index, which regroups repeated files; the split keeps
        // command-line order (the batch's input order).
        if (new Set(split.files).size === split.files.length) assert.equal(split.files, full.argv, argv.join(' '))
        else assert.equal([...split.files].sort(), [...full.argv].sort(), argv.join(' '))
      }),
      {numRuns: 1500, seed: 4},
    )
  } finally {
    if (saved !== undefined) process.env.TDXKIT_STATE_DIR = saved
  }
  assert.ok(accepted > 100, `only ${accepted} command lines took the fast path`)
  // The common shape: flags anywhere among thousands of files.
  const files = Array.from({length: 5000}, (_x, i) => `q/${i}.bin`)
  const argv = [...files.slice(0, 10), '--collateral', 'c.json', '-j', '2', ...files.slice(10), '--json', '--at=1752919234']
  assert.equal(splitFileArgs(argv, verifyFlags, false), {flagArgv: ['--collateral', 'c.json', '-j', '2', '--json', '--at=1752919234'], files})
  // Repeatable flags take one value per occurrence (multipleNonGreedy, issue 18 item 4): the words
  // after it are files, as in oclif with the same flag definitions.
  assert.equal(splitFileArgs(['a.bin', '--expect', 'mrtd=00', 'b.bin', '--json', 'c.bin', '--at', '1', 'd.bin'], verifyFlags, false), {
    flagArgv: ['--expect', 'mrtd=00', '--json', '--at', '1'],
    files: ['a.bin', 'b.bin', 'c.bin', 'd.bin'],
  })
})

vectorTest(test, 'CLI: --jobs 2 NDJSON = --jobs 1, flags among the files, exit = lowest failing code', async () => {
  const {files, expected} = quoteFiles(BATCH_CHUNK + 20)
  const col = vectorPath('real', 'dcapqvl-tdx-v4-uptodate', 'collateral.json')
  const state = tempDir()
  const [one, two] = await Promise.all([
    cliAsync(['quote', 'verify', ...files, '--collateral', col, '--at', String(AT), '--json'], {stateDir: state}),
    cliAsync(['quote', 'verify', ...files.slice(0, 40), '-j', '2', '--collateral', col, ...files.slice(40), '--json', `--at=${AT}`], {stateDir: state}),
  ])
  assert.is(one.code, 2, one.stderr)
  assert.is(two.code, 2, two.stderr)
  assert.is(two.stdout, one.stdout)
  const lines = one.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as {file: string; exit_code: number})
  assert.equal(lines.map((l) => l.file), files)
  assert.equal(lines.map((l) => l.exit_code), expected)

  // '-' among many files: stdin (here a tampered quote) is read once, by the main thread.
  const bad = Buffer.from(readVector('real', 'dcapqvl-tdx-v4-uptodate', 'quote.bin'))
  bad[200] ^= 1
  const withStdin = cli(['quote', 'verify', ...files.slice(6, 6 + BATCH_CHUNK), '-', ...files.slice(6, 6 + BATCH_CHUNK), '--collateral', col, '--at', String(AT), '--jobs', '3', '--json'], {stateDir: state, input: bad})
  const out = withStdin.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as {file: string; exit_code: number; error: {code: string} | null})
  assert.is(out.length, 2 * BATCH_CHUNK + 1)
  assert.is(out[BATCH_CHUNK].file, '-')
  assert.is(out[BATCH_CHUNK].error?.code, 'QUOTE_SIGNATURE_INVALID')
  assert.equal(out.map((l) => l.exit_code), [...expected.slice(6, 6 + BATCH_CHUNK), 3, ...expected.slice(6, 6 + BATCH_CHUNK)])
})

test.run()
