/** THE output writer (src/cli/output.ts) as a unit: the checks made before any work, and where the data and the human line go. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {OutputTarget} from '../../src/cli/output.js'
import {errorCode} from '../helpers/errors.js'
import {tempDir} from '../helpers/cli.js'

test('a directory, a missing parent and an empty path are refused when the target is made', () => {
  const dir = tempDir()
  mkdirSync(join(dir, 'sub'))
  assert.is(errorCode(() => OutputTarget.of(join(dir, 'sub'))), 'UNWRITABLE_OUTPUT')
  assert.is(errorCode(() => OutputTarget.of(join(dir, 'missing', 'f.bin'))), 'UNWRITABLE_OUTPUT')
  assert.is(errorCode(() => OutputTarget.of('')), 'UNWRITABLE_OUTPUT')
})

test('"-" is stdout, refused under --json and when stdout is already taken', () => {
  const t = OutputTarget.of('-', '--chart')
  assert.ok(t.given && t.toStdout)
  assert.is(t.file, undefined)
  assert.is(t.name, 'stdout')
  assert.is(errorCode(() => OutputTarget.of('-', '--chart', {json: true})), 'UNWRITABLE_OUTPUT')
  assert.is(errorCode(() => OutputTarget.of('-', '--chart', {stdoutTakenBy: '--output -'})), 'UNWRITABLE_OUTPUT')
})

test('a file target writes the data; an absent flag writes nothing', () => {
  const dir = tempDir()
  const p = join(dir, 'out.txt')
  const t = OutputTarget.of(p)
  assert.ok(t.given && !t.toStdout)
  assert.is(t.file, p)
  assert.is(t.name, p)
  t.write('hello\n')
  assert.is(readFileSync(p, 'utf8'), 'hello\n')
  const none = OutputTarget.of(undefined)
  assert.not.ok(none.given)
  none.write('ignored')
})

test.run()
