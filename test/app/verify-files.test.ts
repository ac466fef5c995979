/**
 * Quote file lists (`quote verify --files-from FILE|-`): list parsing (CR LF, empty lines, a UTF-8
 * name cut by the read boundary, an over-long line), the CLI over a list file and over stdin giving
 * exactly the output of the same files as arguments, stdin asked for twice, no files at all; the
 * NDJSON lines' step lists (only where the verdict is not ok, all with --steps, the rest of each
 * line unchanged); a list that is a directory, a FIFO nobody writes to, or missing (one line,
 * exit 2, never a hang); and a streamed source through runBatch equal to the same names as an array.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {closeSync, constants as fsConstants, openSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {BATCH_CHUNK, runBatch, type QuoteOutcome} from '../../src/app/verify-batch.js'
import {listedFiles, MAX_LIST_LINE_BYTES} from '../../src/app/verify-files.js'
import {outcomeJson} from '../../src/cli/verify-render.js'
import {cli, tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

const AT = 1752919234
const list = (text: string | Buffer): string[] => {
  const f = join(tempDir(), 'list.txt')
  writeFileSync(f, text)
  return [...listedFiles(openSync(f, 'r'), f)]
}

test('list files: one path per line, CR LF and empty lines, UTF-8 across the read boundary, line bound', () => {
  assert.equal(list('a.bin\r\nb c.bin\n\n\nd.bin'), ['a.bin', 'b c.bin', 'd.bin'])
  assert.equal(list(''), [])
  // 65535 ASCII bytes, then a name whose 'é' straddles the 64 KiB read boundary.
  const long = 'x'.repeat((1 << 16) - 2)
  assert.equal(list(`${long}\né.bin\n`), [long, 'é.bin'])
  assert.throws(() => list('y'.repeat(MAX_LIST_LINE_BYTES + 2)), (e: Error & {code?: string}) => e.code === 'BAD_FILE_LIST')
  // The descriptor is closed when the list ends.
  const f = join(tempDir(), 'l')
  writeFileSync(f, 'a\n')
  const fd = openSync(f, 'r')
  assert.equal([...listedFiles(fd, f)], ['a'])
  assert.throws(() => closeSync(fd), /EBADF/)
})

test('CLI --files-from: a directory, a silent FIFO and a missing list are one-line errors (exit 2), not a hang', () => {
  const dir = tempDir()
  const fifo = join(dir, 'list.fifo')
  assert.is(spawnSync('mkfifo', [fifo]).status, 0)
  const writer = openSync(fifo, fsConstants.O_RDWR) // holds the FIFO open and never writes
  const run = (list: string) => {
    const r = cli(['quote', 'verify', '--files-from', list, '--signatures-only', '--json'], {stateDir: tempDir(), env: {TDXKIT_INPUT_IDLE_MS: '300'}})
    assert.is(r.code, 2, r.stderr)
    return (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
  }
  try {
    const silent = run(fifo)
    assert.is(silent.code, 'INPUT_TIMEOUT')
    assert.match(silent.message, /^--files-from: .*list\.fifo gave no data for 0\.3 s/)
  } finally {
    closeSync(writer)
  }
  const directory = run(dir)
  assert.is(directory.code, 'INPUT_IS_DIRECTORY')
  assert.match(directory.message, /^--files-from: .* is a directory, not a file$/)
  const missing = run(join(dir, 'absent.txt'))
  assert.is(missing.code, 'UNREADABLE_INPUT')
  assert.match(missing.message, /^--files-from: cannot read .*absent\.txt: no such file \(ENOENT\)$/)
})

/** n quote files of three real quotes; every 5th tampered (exit 3). */
function quoteFiles(n: number): string[] {
  const dir = tempDir()
  const quotes = [readVector('real', 'dcapqvl-tdx-v4-uptodate', 'quote.bin'), readVector('real', 'flashtestations-tdx-v4', 'quote-0xf200.bin'), readVector('real', 'flashtestations-tdx-v4', 'quote-0x12c1.bin')]
  return Array.from({length: n}, (_x, i) => {
    const f = join(dir, `q${i}.bin`)
    const b = Buffer.from(quotes[i % 3])
    if (i % 5 === 2) b[200] ^= 1
    writeFileSync(f, b)
    return f
  })
}

vectorTest(test, 'CLI --files-from FILE and - give the output of the same files as arguments; usage errors', () => {
  const files = quoteFiles(BATCH_CHUNK + 7)
  const col = vectorPath('real', 'dcapqvl-tdx-v4-uptodate', 'collateral.json')
  const state = tempDir()
  const listFile = join(tempDir(), 'quotes.txt')
  writeFileSync(listFile, files.slice(1).join('\n') + '\n')
  const common = ['--collateral', col, '--at', String(AT), '--json']
  const byArgs = cli(['quote', 'verify', ...files, ...common, '--jobs', '1'], {stateDir: state})
  assert.is(byArgs.code, 3, byArgs.stderr)
  const byList = cli(['quote', 'verify', files[0], '--files-from', listFile, ...common, '--jobs', '2'], {stateDir: state})
  assert.is(byList.code, 3, byList.stderr)
  assert.is(byList.stdout, byArgs.stdout)
  const byStdin = cli(['quote', 'verify', '--files-from', '-', ...common], {stateDir: state, input: files.join('\n')})
  assert.is(byStdin.stdout, byArgs.stdout)
  assert.is(byArgs.stdout.trimEnd().split('\n').length, files.length)

  // One name in a list: one pretty JSON object, as for one argument.
  const one = cli(['quote', 'verify', '--files-from', '-', ...common], {stateDir: state, input: files[0] + '\n'})
  assert.is(one.stdout, cli(['quote', 'verify', files[0], ...common], {stateDir: state}).stdout)

  const usage = (args: string[], input?: string) => {
    const r = cli(['quote', 'verify', ...args, '--collateral', col, '--json'], {stateDir: state, input})
    assert.is(r.code, 2, r.stdout)
    return (JSON.parse(r.stdout) as {error: {code: string; message: string}}).error
  }
  assert.match(usage(['-', '--files-from', '-'], 'x').message, /stdin/)
  assert.match(usage(['--files-from', '-', '--eventlog', '-'], 'x').message, /stdin/)
  assert.match(usage([]).message, /no quote files/)
  assert.is(usage(['--files-from', join(state, 'absent.txt')]).code, 'UNREADABLE_INPUT')
})

vectorTest(test, 'NDJSON lines: steps only where the verdict is not ok (all with --steps); the rest of each line is the full object', () => {
  const files = quoteFiles(6)
  const col = vectorPath('real', 'dcapqvl-tdx-v4-uptodate', 'collateral.json')
  const state = tempDir()
  const run = (extra: string[]) => cli(['quote', 'verify', ...files, '--collateral', col, '--at', String(AT), '--json', ...extra], {stateDir: state}).stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  const lean = run([])
  const full = run(['--steps'])
  assert.equal(lean.map((l) => l.verdict), ['ok', 'ok', 'error', 'ok', 'ok', 'ok'])
  lean.forEach((l, i) => {
    assert.is('steps' in l, l.verdict !== 'ok')
    const {steps: _s, ...rest} = full[i]
    assert.equal(l.verdict === 'ok' ? l : (({steps: _x, ...r}) => r)(l), rest)
    assert.ok(Array.isArray(full[i].steps) && (full[i].steps as unknown[]).length === 13)
  })
})

vectorTest(test, 'runBatch over a streamed source = the same names as an array (workers included)', async () => {
  const files = quoteFiles(BATCH_CHUNK * 3 + 5)
  const options = {now: AT, collateral: JSON.parse(readVector('real', 'dcapqvl-tdx-v4-uptodate', 'collateral.json').toString('utf8'))}
  const collect = async (source: Iterable<string> | AsyncIterable<string> | string[], jobs: number) => {
    const out: Array<[number, string]> = []
    const stats = await runBatch({files: source, options, jobs, onOutcome: (o: QuoteOutcome, i) => out.push([i, JSON.stringify(outcomeJson(o))])})
    return {out, stats}
  }
  const array = await collect(files, 1)
  async function* slowly(): AsyncGenerator<string> {
    for (const f of files) {
      if (f.endsWith('0.bin')) await new Promise((r) => setTimeout(r, 1))
      yield f
    }
  }
  const streamed = await collect(slowly(), 2)
  assert.equal(streamed.out, array.out)
  assert.is(streamed.stats.mainThread + streamed.stats.workers.reduce((a, w) => a + w.quotes, 0), files.length)
  const sync = await collect(files.values(), 3)
  assert.equal(sync.out, array.out)
})

test.run()
