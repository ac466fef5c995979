/**
 * `tdxkit eventlog show|replay` as real processes: text and --json output over the real CCEL vector
 * and the simulator's log, exit codes for mismatch (3) and malformed input (2), no stack traces.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cli, tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'
import {QUOTE_HEADER, TD10_BODY} from '../../src/abi/quote.js'
import {field} from '../../src/abi/layout.js'
import {TCG_PCR_EVENT2_HEADER} from '../../src/abi/tcg.js'
import {eventsToCcelLog, parseEventLog} from '../../src/eventlog/index.js'
import {runDemo} from '../../src/demo/index.js'
import {EVENTLOG_STEPS, EVENTLOG_PATH_KEY} from '../../src/demo/eventlog-steps.js'
import {StateStore} from '../../src/state/store.js'

const VEC = 'real/gotdx-tdx-v4-cos113-ccel'
const quoteRtmrHex = () =>
  (['rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'] as const).map((f) => field(TD10_BODY, readVector(VEC, 'quote.bin'), f, QUOTE_HEADER.size).toString('hex'))
const noStack = (s: string) => assert.not.match(s, /\n\s+at /)

vectorTest(test, 'eventlog show --table: decoded events in text, full structure under --json', () => {
  const args = ['eventlog', 'show', vectorPath(VEC, 'ccel_data.bin'), '--table', vectorPath(VEC, 'ccel_table.bin')]
  const text = cli(args)
  assert.is(text.code, 0, text.stderr)
  assert.match(text.stdout, /cc type\s+2 \(Intel TDX\)/)
  assert.match(text.stdout, /log area\s+262144 bytes at 0xbedbf000/)
  assert.match(text.stdout, /15\s+EV_EFI_ACTION\s+RTMR1\s+77a0dab2312b4e1…\s+"Calling EFI Application from Boot Option"/)
  assert.match(text.stdout, /3\s+EV_EFI_VARIABLE_DRIVER_CONFIG\s+RTMR0\s+\S+\s+SecureBoot = 0/)
  const json = cli([...args, '--json', '--rtmr', '1'])
  assert.is(json.code, 0, json.stderr)
  const r = JSON.parse(json.stdout)
  assert.is(r.event_count, 44)
  assert.is(r.shown, 7)
  assert.is(r.table.laml, '262144')
  assert.is(r.spec_id.algorithms[0].alg, 'sha384')
  assert.ok(r.events.every((e: {rtmr_index: number}) => e.rtmr_index === 1))
  assert.is(r.events[0].index, 15)
  assert.is(r.events[0].register, 'RTMR1')
  assert.is(r.events[0].digests[0].digest.length, 96)
})

vectorTest(test, 'eventlog replay: RTMR0-3 equal the quote body; --quote checks them (exit 0)', () => {
  const j = cli(['eventlog', 'replay', vectorPath(VEC, 'ccel_data.bin'), '--quote', vectorPath(VEC, 'quote.bin'), '--json'])
  assert.is(j.code, 0, j.stderr)
  const r = JSON.parse(j.stdout)
  assert.equal(r.rtmrs, quoteRtmrHex())
  assert.equal(r.extended_events, [16, 7, 20, 0])
  assert.is(r.comparison.ok, true)
  assert.equal(r.comparison.rtmrs.map((x: {expected: string}) => x.expected), quoteRtmrHex())
})

vectorTest(test, 'eventlog replay --quote over a tampered log: exit 3, divergence named, same code under --json', () => {
  const dir = tempDir()
  const data = Buffer.from(readVector(VEC, 'ccel_data.bin'))
  const log = parseEventLog(data)
  const ev = log.events[8] // EV_SEPARATOR in RTMR0: the spec fixes its digest to SHA-384 of its data
  data[ev.offset + TCG_PCR_EVENT2_HEADER.size + 2] ^= 0x01
  const f = join(dir, 'tampered.bin')
  writeFileSync(f, data)
  const text = cli(['eventlog', 'replay', f, '--quote', vectorPath(VEC, 'quote.bin')])
  assert.is(text.code, 3)
  assert.match(text.stdout, /✘ RTMR0/)
  assert.match(text.stdout, /first divergence: event #8 \(event_data_mismatch\)/)
  const json = cli(['eventlog', 'replay', f, '--quote', vectorPath(VEC, 'quote.bin'), '--json'])
  assert.is(json.code, 3)
  const r = JSON.parse(json.stdout)
  assert.is(r.comparison.ok, false)
  assert.is(r.comparison.first_divergence.event_index, 8)
  assert.equal(r.comparison.rtmrs.map((x: {match: boolean}) => x.match), [false, true, true, true])
})

test('malformed and missing inputs: one-line error, exit 2, typed code under --json', () => {
  const dir = tempDir()
  const good = eventsToCcelLog([{rtmr_index: 2, digest: 'cd'.repeat(48), data: '00'}])
  const trunc = join(dir, 'trunc.bin')
  writeFileSync(trunc, good.subarray(0, good.length - 20))
  const t = cli(['eventlog', 'show', trunc])
  assert.is(t.code, 2)
  assert.match(t.stderr, /^tdxkit: error: event log: record 1: truncated/)
  assert.is(t.stderr.trim().split('\n').length, 1)
  noStack(t.stderr)
  const missing = cli(['eventlog', 'replay', join(dir, 'nope.bin'), '--json'])
  assert.is(missing.code, 2)
  const e = JSON.parse(missing.stdout).error
  assert.is(e.code, 'UNREADABLE_INPUT')
  assert.match(e.message, /cannot read .*nope\.bin/)
  assert.is(missing.stderr, '')
})

test('demo steps: the simulator log replays to the RTMRs the module holds; a tampered digest is named', async () => {
  const store = new StateStore(tempDir())
  const bag = new Map<string, unknown>()
  const out = await runDemo(EVENTLOG_STEPS, {store, workDir: tempDir(), bag})
  assert.equal(out.steps.map((s) => s.id), ['eventlog-write', 'eventlog-replay', 'eventlog-tamper'])
  const doc = store.load() as unknown as {td: {rtmr: string[]}; events: Array<{rtmr_index: number; digest: string}>}
  // Independent truth: the module's RTMRs, and a hand fold of its events.
  const fold = [0, 1, 2, 3].map((i) =>
    doc.events.filter((e) => e.rtmr_index === i).reduce((acc, e) => createHash('sha384').update(Buffer.concat([acc, Buffer.from(e.digest, 'hex')])).digest(), Buffer.alloc(48)).toString('hex'),
  )
  assert.equal(doc.td.rtmr, fold)
  assert.equal(out.steps[1].data?.rtmrs, doc.td.rtmr)
  assert.ok(doc.events.length >= 3)
  assert.is((out.steps[2].data?.first_divergence as {event_index: number}).event_index, out.steps[2].data?.tampered_event)
  // The written file replays through the CLI to `rtmr show`'s values.
  const r = cli(['eventlog', 'replay', bag.get(EVENTLOG_PATH_KEY) as string, '--json'])
  assert.is(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).rtmrs, doc.td.rtmr)
})

test.run()
