/** Text rendering helpers (src/cli/render.ts): column alignment that ignores colour codes, key/value lines. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {stripVTControlCharacters} from 'node:util'
import {check, kv, table} from '../../src/cli/render.js'

test('table: columns padded to the widest visible cell, two spaces apart, trailing spaces trimmed', () => {
  const out = table(['id', 'state'], [
    ['nic0', 'LOCKED'],
    ['gpu-long', '\u001B[32mRUN\u001B[0m'],
  ])
  const lines = stripVTControlCharacters(out).split('\n')
  assert.equal(lines, ['id        state', '────────  ──────', 'nic0      LOCKED', 'gpu-long  RUN'])
})

test('kv: keys padded to the longest, indented', () => {
  assert.is(kv([['a', '1'], ['long key', '2']]), '  a         1\n  long key  2')
  assert.is(kv([['k', 'v']], 0), 'k  v')
})

test('check: a tick or a cross (colour only on a TTY)', () => {
  assert.match(check(true), /✔/)
  assert.match(check(false), /✘/)
})

test.run()
