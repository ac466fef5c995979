import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {spawn, spawnSync} from 'node:child_process'
import {hostname} from 'node:os'
import {StateStore, STATE_SCHEMA_VERSION, resolveStateDir} from '../../src/state/store.js'
import {StateError, ExitCode} from '../../src/errors.js'
import {REPO_ROOT} from '../helpers/vectors.js'

const fresh = () => mkdtempSync(join(tmpdir(), 'tdxkit-store-'))
const init = () => ({schema_version: STATE_SCHEMA_VERSION, counter: 0})

function expectStateError(fn: () => unknown, code: string): StateError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, StateError)
    assert.is((error as StateError).code, code)
    assert.is((error as StateError).exit, ExitCode.USAGE)
    assert.ok(!(error as Error).message.includes('\n'), 'one-line message')
    return error as StateError
  }
  throw new Error(`expected StateError ${code}`)
}

test('resolveStateDir: flag, then TDXKIT_STATE_DIR, then XDG_STATE_HOME', () => {
  assert.is(resolveStateDir('/a/b', {}), '/a/b')
  assert.is(resolveStateDir(undefined, {TDXKIT_STATE_DIR: '/x'}), '/x')
  assert.is(resolveStateDir(undefined, {XDG_STATE_HOME: '/xdg'}), '/xdg/tdxkit')
})

test('absent state loads as undefined; mutate without init refuses clearly', async () => {
  const s = new StateStore(fresh())
  assert.is(s.load(), undefined)
  try {
    await s.mutate(() => 1)
    assert.unreachable()
  } catch (error) {
    assert.is((error as StateError).code, 'NO_STATE')
  }
})

test('mutate creates, persists and leaves no temp or lock files behind', async () => {
  const dir = fresh()
  const s = new StateStore(dir)
  await s.mutate((d) => {
    d.counter = 41
  }, init)
  await s.mutate((d) => {
    d.counter = (d.counter as number) + 1
  })
  assert.is(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).counter, 42)
  assert.equal(readdirSync(dir).sort(), ['state.json'])
})

test('corrupt JSON, missing schema and newer schema give distinct clear errors naming the file', () => {
  const dir = fresh()
  const s = new StateStore(dir)
  writeFileSync(join(dir, 'state.json'), '{"schema_version": 1, "mod')
  const e = expectStateError(() => s.load(), 'STATE_CORRUPT')
  assert.match(e.message, join(dir, 'state.json'))
  assert.match(e.message, 'module reset')
  writeFileSync(join(dir, 'state.json'), '[1,2]')
  expectStateError(() => s.load(), 'STATE_CORRUPT')
  writeFileSync(join(dir, 'state.json'), JSON.stringify({schema_version: STATE_SCHEMA_VERSION + 1}))
  const e2 = expectStateError(() => s.load(), 'STATE_TOO_NEW')
  assert.match(e2.message, 'newer')
})

test('a stale lock left by a dead process is recovered', async () => {
  const dir = fresh()
  const s = new StateStore(dir)
  // A pid that certainly is not running: spawn a process and wait for it to exit.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!
  writeFileSync(join(dir, 'state.lock'), JSON.stringify({pid: dead, hostname: hostname(), acquired_at: 'then', nonce: 'dead'}))
  await s.mutate((d) => {
    d.counter = 1
  }, init)
  assert.is(s.load()!.counter, 1)
  assert.not.ok(existsSync(join(dir, 'state.lock')))
})

test('a lock held by a live process times out with a clear error naming the owner', async () => {
  const dir = fresh()
  const s = new StateStore(dir, {lockTimeoutMs: 150})
  writeFileSync(join(dir, 'state.lock'), JSON.stringify({pid: process.pid, hostname: hostname(), acquired_at: 'now', nonce: 'other'}))
  try {
    await s.mutate(() => 0, init)
    assert.unreachable()
  } catch (error) {
    assert.is((error as StateError).code, 'STATE_LOCKED')
    assert.match((error as Error).message, `pid ${process.pid}`)
    assert.match((error as Error).message, 'state.lock')
  }
  // The foreign lock was not broken.
  assert.ok(existsSync(join(dir, 'state.lock')))
})

test('concurrent mutations in one process lose no update', async () => {
  const s = new StateStore(fresh())
  await Promise.all(
    Array.from({length: 25}, () =>
      s.mutate(async (d) => {
        const v = d.counter as number
        await new Promise((r) => setTimeout(r, 1))
        d.counter = v + 1
      }, init),
    ),
  )
  assert.is(s.load()!.counter, 25)
})

test('concurrent mutations from 8 real processes lose no update', async () => {
  const dir = fresh()
  const script = `
    import {StateStore} from ${JSON.stringify(join(REPO_ROOT, 'src/state/store.ts'))}
    const s = new StateStore(${JSON.stringify(dir)})
    for (let i = 0; i < 5; i++) await s.mutate((d) => { d.counter = (d.counter ?? 0) + 1 }, () => ({schema_version: 1, counter: 0}))
  `
  const runs = Array.from(
    {length: 8},
    () =>
      new Promise<number>((resolve) => {
        const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {stdio: 'inherit'})
        c.on('close', (code) => resolve(code ?? -1))
      }),
  )
  assert.equal(await Promise.all(runs), Array(8).fill(0))
  assert.is(new StateStore(dir).load()!.counter, 40)
})

test.run()
