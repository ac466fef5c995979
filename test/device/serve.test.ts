/**
 * `tdxkit device serve` and `device attest` as commands: serve prints its port as a JSON line, attest
 * (tdxkit as TSM) locks and starts the TDI over SPDM, the served device's state lands in the state
 * directory, --once stops the server after the SHUTDOWN, and bad inputs get one-line errors.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {writeFileSync} from 'node:fs'
import {BIN, cli, cliAsync, tempDir} from '../helpers/cli.js'

function startServe(stateDir: string, args: string[]): Promise<{port: number; lines: string[]; exit: Promise<number | null>}> {
  const child = spawn(process.execPath, [BIN, 'device', 'serve', ...args, '--port', '0', '--json'], {env: {...process.env, TDXKIT_STATE_DIR: stateDir, NO_COLOR: '1'}})
  const lines: string[] = []
  let buf = ''
  const exit = new Promise<number | null>((r) => child.on('close', (c) => r(c)))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      buf += d
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 1)
        lines.push(line)
        const o = JSON.parse(line)
        if (o.event === 'listening') resolve({port: o.port, lines, exit})
      }
    })
    child.on('close', (c) => reject(new Error(`serve exited ${c} before listening`)))
  })
}

test('device serve --once + device attest: TDI locked and started over SPDM, state persisted, server stops after SHUTDOWN', async () => {
  const state = tempDir('tdxkit-serve-')
  assert.is(cli(['module', 'init', '--profile', 'tdx-connect', '--seed', 'serve'], {stateDir: state}).code, 0)
  assert.is(cli(['device', 'add', '--model', 'nvme', '--id', 'd0', '--bdf', '0a:00.0'], {stateDir: state}).code, 0)
  const srv = await startServe(state, ['d0', '--once'])
  const ev = join(tempDir(), 'ev.cbor')
  const a = await cliAsync(['device', 'attest', '--connect', `127.0.0.1:${srv.port}`, '--function-id', '0a:00.0', '-o', ev, '--json'])
  assert.is(a.code, 0, a.stderr)
  assert.equal(JSON.parse(a.stdout).tdisp.states, ['CONFIG_UNLOCKED', 'CONFIG_LOCKED', 'RUN'])
  assert.is(await srv.exit, 0)
  const events = srv.lines.map((l) => JSON.parse(l))
  assert.equal(events.filter((e) => e.event === 'tdisp').map((e) => e.to), ['CONFIG_LOCKED', 'RUN'])
  const list = JSON.parse(cli(['device', 'list', '--json'], {stateDir: state}).stdout)
  assert.is(list.devices.find((d: {id: string}) => d.id === 'd0').tdi_state, 'RUN')
})

test('device serve / attest refuse bad input with one-line errors and documented exit codes', async () => {
  const state = tempDir('tdxkit-serve-bad-')
  cli(['module', 'init', '--profile', 'tdx-connect', '--seed', 'serve'], {stateDir: state})
  const key = join(tempDir(), 'k.pem')
  writeFileSync(key, 'not a key')
  const bad = cli(['device', 'serve', 'nic0', '--identity', key, '--identity-key', key], {stateDir: state})
  assert.is(bad.code, 2)
  assert.match(bad.stderr, /identity/)
  assert.is(cli(['device', 'serve', 'nope', '--port', '0'], {stateDir: state}).code, 2)
  const conn = cli(['device', 'attest', '--connect', '127.0.0.1:1', '-o', join(tempDir(), 'x'), '--timeout', '2'])
  assert.is(conn.code, 7)
  assert.is(conn.stderr.trim().split('\n').length, 1)
  assert.is(cli(['device', 'attest', '--connect', 'no-port', '-o', 'x']).code, 2)
})

test.run()
