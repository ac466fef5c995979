/** The atomic write (src/state/atomic.ts): new content or old, the file mode, no temp file left behind, no parent created. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {writeFileAtomic} from '../../src/state/atomic.js'
import {tempDir} from '../helpers/cli.js'

test('replaces the content whole, with mode 0600 by default, and leaves only the target', () => {
  const dir = tempDir()
  const p = join(dir, 'out.bin')
  writeFileSync(p, 'old content that is longer')
  writeFileAtomic(p, Buffer.from([1, 2, 3]))
  assert.equal([...readFileSync(p)], [1, 2, 3])
  assert.is(statSync(p).mode & 0o777, 0o600)
  writeFileAtomic(p, 'text', 0o644)
  assert.is(readFileSync(p, 'utf8'), 'text')
  assert.is(statSync(p).mode & 0o777, 0o644)
  assert.equal(readdirSync(dir), ['out.bin'])
})

test('a missing parent directory is an error and nothing is created', () => {
  const dir = tempDir()
  assert.throws(() => writeFileAtomic(join(dir, 'missing', 'out.bin'), 'x'), /ENOENT/)
  assert.equal(readdirSync(dir), [])
})

test('a target that is a directory fails and leaves no temp file', () => {
  const dir = tempDir()
  mkdirSync(join(dir, 'target'))
  assert.throws(() => writeFileAtomic(join(dir, 'target'), 'x'))
  assert.equal(readdirSync(dir), ['target'])
})

test.run()
