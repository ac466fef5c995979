/** 16 concurrent `rtmr extend` processes lose no update. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {cli, cliAsync, tempDir} from '../helpers/cli.js'

test('16 concurrent rtmr extend processes: 16 events, RTMR = fold of the events in recorded order', async () => {
  const d = tempDir()
  assert.is(cli(['module', 'init', '--seed', 'concurrent'], {stateDir: d}).code, 0)
  const digests = Array.from({length: 16}, (_, i) => createHash('sha384').update(`event ${i}`).digest('hex'))
  const results = await Promise.all(
    digests.map((dg) => cliAsync(['rtmr', 'extend', '--index', '3', '--digest', dg], {stateDir: d, env: {TDXKIT_LOCK_TIMEOUT_MS: '120000'}})),
  )
  for (const r of results) assert.is(r.code, 0, r.stderr)
  const doc = JSON.parse(readFileSync(join(d, 'state.json'), 'utf8'))
  assert.is(doc.events.length, 16)
  assert.equal(doc.events.map((e: {seq: number}) => e.seq), [...Array(16).keys()])
  assert.equal(doc.events.map((e: {digest: string}) => e.digest).sort(), [...digests].sort())
  let rtmr = Buffer.alloc(48)
  for (const e of doc.events) rtmr = createHash('sha384').update(rtmr).update(Buffer.from(e.digest, 'hex')).digest()
  assert.is(doc.td.rtmr[3], rtmr.toString('hex'))
})

test.run()
