/** CLI: rtmr extend / show, bad input, stale lock recovery. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawnSync} from 'node:child_process'
import {writeFileSync, existsSync} from 'node:fs'
import {hostname} from 'node:os'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import {cli, tempDir} from '../helpers/cli.js'

const json = (stdout: string) => JSON.parse(stdout)
const sha384 = (...b: Buffer[]) => createHash('sha384').update(Buffer.concat(b)).digest()

test('rtmr extend --digest / --data fold as SHA-384(old ‖ digest); events keep data; rtmr show', () => {
  const d = tempDir()
  cli(['module', 'init', '--seed', 'rtmr-cli'], {stateDir: d})
  const digest = Buffer.alloc(48, 0xab)
  let r = cli(['rtmr', 'extend', '--index', '2', '--digest', digest.toString('hex'), '--json'], {stateDir: d})
  assert.is(r.code, 0, r.stderr)
  const r1 = sha384(Buffer.alloc(48), digest)
  assert.is(json(r.stdout).rtmr, r1.toString('hex'))
  const file = join(d, 'event.txt')
  writeFileSync(file, 'hello rtmr\n')
  r = cli(['rtmr', 'extend', '--index', '2', '--data', file, '--description', 'greeting', '--event-type', '13', '--json'], {stateDir: d})
  assert.is(r.code, 0, r.stderr)
  const fileDigest = sha384(Buffer.from('hello rtmr\n'))
  assert.is(json(r.stdout).digest, fileDigest.toString('hex'))
  const show = json(cli(['rtmr', 'show', '--json'], {stateDir: d}).stdout)
  assert.is(show.rtmr[2], sha384(r1, fileDigest).toString('hex'))
  assert.is(show.rtmr[0], '00'.repeat(48))
  assert.equal(show.events[1], {seq: 1, rtmr_index: 2, digest: fileDigest.toString('hex'), data: Buffer.from('hello rtmr\n').toString('hex'), event_type: 13, description: 'greeting'})
  // The TDREPORT carries it at RTMR2 (offset 816).
  const rep = cli(['report', '--format', 'bin'], {stateDir: d}).stdoutBuf
  assert.is(rep.subarray(816, 864).toString('hex'), show.rtmr[2])
})

test('rtmr extend bad input: index 4 → exit 7 (module refusal); wrong digest length / odd hex / both sources → exit 2', () => {
  const d = tempDir()
  cli(['module', 'init'], {stateDir: d})
  let r = cli(['rtmr', 'extend', '--index', '4', '--digest', '00'.repeat(48)], {stateDir: d})
  assert.is(r.code, 7)
  assert.match(r.stderr, /TDX_OPERAND_INVALID \(operand RDX\) 0xC000010000000002.*index 4/)
  r = cli(['rtmr', 'extend', '--index', '4', '--digest', '00'.repeat(48), '--json'], {stateDir: d})
  assert.is(r.code, 7)
  assert.is(json(r.stdout).error.code, 'TDCALL_FAILED')
  r = cli(['rtmr', 'extend', '--index', '0', '--digest', '00'.repeat(32)], {stateDir: d})
  assert.is(r.code, 2)
  assert.match(r.stderr, /expected 48 bytes/)
  r = cli(['rtmr', 'extend', '--index', '0', '--digest', '0'.repeat(95)], {stateDir: d})
  assert.is(r.code, 2)
  r = cli(['rtmr', 'extend', '--index', '0', '--digest', '00'.repeat(48), '--data', '/etc/hostname'], {stateDir: d})
  assert.is(r.code, 2)
  r = cli(['rtmr', 'extend', '--index', '0', '--data', join(d, 'nope')], {stateDir: d})
  assert.is(r.code, 2)
  assert.match(r.stderr, /cannot read/)
  assert.equal(json(cli(['rtmr', 'show', '--json'], {stateDir: d}).stdout).events, [], 'nothing recorded')
})

test('a stale lock left by a dead process is broken; the command succeeds', () => {
  const d = tempDir()
  cli(['module', 'init', '--seed', 'stale'], {stateDir: d})
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
  writeFileSync(join(d, 'state.lock'), JSON.stringify({pid: Number(dead), hostname: hostname(), acquired_at: '2020-01-01T00:00:00Z', nonce: 'dead'}))
  const r = cli(['rtmr', 'extend', '--index', '1', '--digest', '11'.repeat(48)], {stateDir: d, env: {TDXKIT_LOCK_TIMEOUT_MS: '3000'}})
  assert.is(r.code, 0, r.stderr)
  assert.not.ok(existsSync(join(d, 'state.lock')))
})

test('a lock held by a live process times out with exit 2 naming the owner', () => {
  const d = tempDir()
  cli(['module', 'init', '--seed', 'held'], {stateDir: d})
  writeFileSync(join(d, 'state.lock'), JSON.stringify({pid: process.pid, hostname: hostname(), acquired_at: '2020-01-01T00:00:00Z', nonce: 'live'}))
  const r = cli(['rtmr', 'extend', '--index', '1', '--digest', '11'.repeat(48)], {stateDir: d, env: {TDXKIT_LOCK_TIMEOUT_MS: '300'}})
  assert.is(r.code, 2)
  assert.match(r.stderr, new RegExp(`locked by pid ${process.pid}`))
})

test.run()
