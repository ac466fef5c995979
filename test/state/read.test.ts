/**
 * The one bounded read (src/state/read.ts) and the store's use of it: /dev/zero, a FIFO nobody
 * writes to, a FIFO without a writer, a 2 GB (sparse) file, a directory, and state.json / its lock
 * as a symlink to /dev/zero or a FIFO are each a one-line typed error, never a hang.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {closeSync, constants as fsConstants, ftruncateSync, mkdirSync, openSync, symlinkSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {readFileBounded, readFileInto, type ReadBuffer} from '../../src/state/read.js'
import {StateStore} from '../../src/state/store.js'
import {InputError, StateError, TdxkitError} from '../../src/errors.js'
import {tempDir} from '../helpers/cli.js'

const GiB = 2 ** 30

function errorOf(fn: () => unknown): TdxkitError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, TdxkitError)
    assert.not.match((error as Error).message, /\n/, 'one line')
    return error as TdxkitError
  }
  throw new Error('expected a TdxkitError')
}

const mkfifo = (path: string): void => {
  const r = spawnSync('mkfifo', [path])
  assert.is(r.status, 0, r.stderr?.toString())
}

test('a regular file within the limit is read whole; the limit itself is allowed', () => {
  const f = join(tempDir(), 'a.bin')
  writeFileSync(f, Buffer.alloc(100, 7))
  assert.equal(readFileBounded(f, {limit: 100, what: 'x'}), Buffer.alloc(100, 7))
  const e = errorOf(() => readFileBounded(f, {limit: 99, what: '--root-ca'}))
  assert.is(e.code, 'INPUT_TOO_LARGE')
  assert.match(e.message, /^--root-ca: .*a\.bin: larger than 99 bytes \(it has 100\)$/)
})

test('a 2 GB sparse file is refused from its size before any byte is read (not ERR_FS_FILE_TOO_LARGE)', () => {
  const f = join(tempDir(), 'big.bin')
  const fd = openSync(f, 'w')
  ftruncateSync(fd, 2 * GiB)
  closeSync(fd)
  const e = errorOf(() => readFileBounded(f, {limit: 64 * 2 ** 20, what: 'quote'}))
  assert.is(e.code, 'INPUT_TOO_LARGE')
  assert.match(e.message, /larger than 67108864 bytes \(it has 2147483648\)/)
  assert.is(e.exit, 2)
})

test('/dev/zero stops at the limit: INPUT_TOO_LARGE', () => {
  const e = errorOf(() => readFileBounded('/dev/zero', {limit: 1 << 20, what: 'policy'}))
  assert.is(e.code, 'INPUT_TOO_LARGE')
  assert.match(e.message, /^policy: \/dev\/zero: larger than 1048576 bytes/)
})

test('a FIFO without a writer is empty at once; one held open by a silent writer times out (INPUT_TIMEOUT)', () => {
  const fifo = join(tempDir(), 'f')
  mkfifo(fifo)
  assert.is(readFileBounded(fifo, {limit: 100, what: 'x', idleMs: 100}).length, 0)
  // O_RDWR on a FIFO opens without blocking and counts as a writer that never writes.
  const writer = openSync(fifo, fsConstants.O_RDWR)
  try {
    const e = errorOf(() => readFileBounded(fifo, {limit: 100, what: '--trust-anchor', idleMs: 100}))
    assert.is(e.code, 'INPUT_TIMEOUT')
    assert.match(e.message, /^--trust-anchor: .*f gave no data for 0\.1 s/)
  } finally {
    closeSync(writer)
  }
})

test('a FIFO with data is read; more than the limit through it is INPUT_TOO_LARGE', () => {
  const fifo = join(tempDir(), 'f')
  mkfifo(fifo)
  const w = openSync(fifo, fsConstants.O_RDWR)
  try {
    writeFileSync(w, 'hello')
    // The writer stays open, so the reader only ends by the limit or the idle limit.
    assert.is(errorOf(() => readFileBounded(fifo, {limit: 4, what: 'x', idleMs: 100})).code, 'INPUT_TOO_LARGE')
  } finally {
    closeSync(w)
  }
})

test('a directory, a missing file, and regularOnly on a device: one line each with the errno in detail', () => {
  const d = tempDir()
  assert.is(errorOf(() => readFileBounded(d, {limit: 10, what: 'x'})).code, 'INPUT_IS_DIRECTORY')
  const missing = errorOf(() => readFileBounded(join(d, 'nope'), {limit: 10, what: 'policy'}))
  assert.is(missing.code, 'UNREADABLE_INPUT')
  assert.match(missing.message, /^policy: cannot read .*nope: no such file \(ENOENT\)$/)
  assert.is(missing.detail?.errno, 'ENOENT')
  assert.is(errorOf(() => readFileBounded('/dev/zero', {limit: 10, what: 'x', regularOnly: true})).code, 'INPUT_NOT_A_FILE')
  assert.instance(missing, InputError)
})

test('readFileInto (batches): one kept buffer across files, grown past its first size; the same refusals', () => {
  const d = tempDir()
  const into: ReadBuffer = {}
  const small = join(d, 'small.bin')
  const large = join(d, 'large.bin')
  writeFileSync(small, Buffer.alloc(100, 1))
  writeFileSync(large, Buffer.alloc(200_000, 2))
  assert.equal(readFileInto(small, {limit: 1 << 20, what: 'quote'}, into), Buffer.alloc(100, 1))
  assert.equal(readFileInto(large, {limit: 1 << 20, what: 'quote'}, into), Buffer.alloc(200_000, 2))
  assert.equal(readFileInto(small, {limit: 1 << 20, what: 'quote'}, into), Buffer.alloc(100, 1))
  const big = join(d, 'big.bin')
  const fd = openSync(big, 'w')
  ftruncateSync(fd, 2 * GiB)
  closeSync(fd)
  const e = errorOf(() => readFileInto(big, {limit: 64 * 2 ** 20, what: 'quote'}, into))
  assert.is(e.code, 'INPUT_TOO_LARGE')
  assert.match(e.message, /larger than 67108864 bytes \(it has 2147483648\)/)
  assert.is(errorOf(() => readFileInto('/dev/zero', {limit: 1 << 20, what: 'quote'}, into)).code, 'INPUT_TOO_LARGE')
  assert.is(errorOf(() => readFileInto(d, {limit: 10, what: 'quote'}, into)).code, 'INPUT_IS_DIRECTORY')
  const fifo = join(d, 'f')
  mkfifo(fifo)
  const writer = openSync(fifo, fsConstants.O_RDWR)
  try {
    assert.is(errorOf(() => readFileInto(fifo, {limit: 100, what: 'quote', idleMs: 100}, into)).code, 'INPUT_TIMEOUT')
  } finally {
    closeSync(writer)
  }
})

test('state.json as a symlink to /dev/zero, or a FIFO, is STATE_UNREADABLE at once (was a hang)', () => {
  for (const make of [(p: string) => symlinkSync('/dev/zero', p), (p: string) => mkfifo(p)]) {
    const dir = tempDir()
    make(join(dir, 'state.json'))
    const e = errorOf(() => new StateStore(dir).load())
    assert.instance(e, StateError)
    assert.is(e.code, 'STATE_UNREADABLE')
    assert.match(e.message, /state\.json is not a regular file/)
  }
})

test('a lock file that is a symlink to /dev/zero is treated as unreadable and broken, not read forever', async () => {
  const dir = tempDir()
  mkdirSync(dir, {recursive: true})
  symlinkSync('/dev/zero', join(dir, 'state.lock'))
  const s = new StateStore(dir, {lockTimeoutMs: 2000})
  assert.is(await s.mutate((d) => ((d as {n?: number}).n = 1), () => ({schema_version: 1})), 1)
})

test.run()
