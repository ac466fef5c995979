/**
 * The collateral validity timeline of `quote verify` text output: hand-placed windows on a 40-column
 * axis (column = round((t - lo) / (hi - lo) * 39)), the --at marker over the right column, each
 * item's state; and the real vector at its PCK CRL's nextUpdate + 1 s, where the timeline names
 * the expired item while --json stays as it was (no timeline fields).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {stripVTControlCharacters} from 'node:util'
import {validityTimeline} from '../../src/cli/validity-timeline.js'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {vectorPath, vectorTest} from '../helpers/vectors.js'

const strip = (s: string) => stripVTControlCharacters(s)
/** Column of the bar after the 4-space indent, the 12-wide name and a space. */
const BAR_START = 4 + 12 + 1

test('windows on one axis, the --at marker, valid / expired / not yet valid', () => {
  const day = 86400
  const t0 = Date.UTC(2025, 0, 1) / 1000
  // Axis from t0 to t0 + 39 days: one column per day.
  const lines = validityTimeline(
    [
      {item: 'tcb_info', from: new Date(t0 * 1000).toISOString(), until: new Date((t0 + 30 * day) * 1000).toISOString()},
      {item: 'pck_crl', from: new Date(t0 * 1000).toISOString(), until: new Date((t0 + 10 * day) * 1000).toISOString()},
      {item: 'qe_identity', from: new Date((t0 + 25 * day) * 1000).toISOString(), until: new Date((t0 + 39 * day) * 1000).toISOString()},
    ],
    t0 + 20 * day,
  ).map(strip)
  assert.is(lines[0], '  collateral validity at 2025-01-21T00:00:00Z (▼)')
  assert.is(lines[1].indexOf('▼'), BAR_START + 20)
  const bar = (l: string) => l.slice(BAR_START, BAR_START + 40)
  assert.is(bar(lines[2]), '━'.repeat(31) + '·'.repeat(9))
  assert.match(lines[2], /valid$/)
  assert.is(bar(lines[3]), '━'.repeat(11) + '·'.repeat(29))
  assert.match(lines[3], /expired 10 d before --at$/)
  assert.is(bar(lines[4]), '·'.repeat(25) + '━'.repeat(15))
  assert.match(lines[4], /not yet valid \(starts 5 d after --at\)$/)
  assert.match(lines[5], /2025-01-01 00:00 +2025-02-09 00:00/)
  assert.equal(validityTimeline([], t0), [])
})

const DIR = 'dcapqvl-tdx-v4-uptodate'

vectorTest(test, 'quote verify text shows the timeline with the expired PCK CRL; --json is unchanged', async () => {
  const args = ['quote', 'verify', vectorPath('real', DIR, 'quote.bin'), '--collateral', vectorPath('real', DIR, 'collateral.json'), '--at', '2025-07-19T10:00:36Z']
  const state = tempDir()
  const text = await cliAsync(args, {stateDir: state})
  assert.is(text.code, 4)
  const out = strip(text.stdout)
  assert.match(out, /collateral validity at 2025-07-19T10:00:36Z/)
  assert.match(out, /pck_crl +[·━]{40} +2025-06-19 10:00 \.\. 2025-07-19 10:00 +expired 1 s before --at/)
  assert.match(out, /tcb_info +[·━]{40} +2025-06-19 10:16 \.\. 2025-07-19 10:16 +valid/)
  const json = JSON.parse((await cliAsync([...args, '--json'], {stateDir: state})).stdout)
  assert.equal(Object.keys(json), ['file', 'verdict', 'exit_code', 'status', 'advisory_ids', 'mode', 'at', 'error', 'steps', 'policy', 'quote', 'tcb', 'collateral', 'body'])
})

test.run()
