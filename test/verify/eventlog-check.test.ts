/**
 * `quote verify --eventlog`: the event log replay is a verification step. The real CCEL vector
 * (no collateral: --signatures-only) matches its quote's RTMR0-3; a tampered log fails with exit 3
 * naming the divergent event; a simulated quote checks against the log `eventlog export` writes.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parseEventLog, logAreaFromTable, parseCcelTable} from '../../src/eventlog/index.js'
import {loadEventLogSpec} from '../../src/app/verify-batch.js'
import {checkEventLog} from '../../src/verify/eventlog-check.js'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

const CCEL = 'gotdx-tdx-v4-cos113-ccel'
const AT = '1720000000'
const relaxed = ['--allow-debug', '--allow-missing-sept-ve-disable']

/** The CCEL log with one byte of event #`index`'s SHA-384 digest flipped. */
function tamperedLog(index: number): string {
  const table = parseCcelTable(readVector('real', CCEL, 'ccel_table.bin'))
  const raw = readVector('real', CCEL, 'ccel_data.bin')
  const log = parseEventLog(logAreaFromTable(table, raw))
  const e = log.events[index]
  const d = e.digests.find((x) => x.alg === 'sha384')!
  const out = Buffer.from(raw)
  const at = out.indexOf(d.digest, e.offset)
  assert.ok(at >= 0)
  out[at] ^= 0x01
  const file = join(tempDir(), 'ccel-tampered.bin')
  writeFileSync(file, out)
  return file
}

vectorTest(test, 'library: the CCEL vector log matches its quote; a tampered event is named', () => {
  const quote = readVector('real', CCEL, 'quote.bin')
  const spec = {log: vectorPath('real', CCEL, 'ccel_data.bin'), table: vectorPath('real', CCEL, 'ccel_table.bin')}
  const ok = checkEventLog(quote, loadEventLogSpec(spec), spec)
  assert.is(ok.result, 'pass')
  assert.is(ok.exit_code, 0)
  assert.ok(ok.comparison!.rtmrs.every((r) => r.match), 'all four RTMRs match')
  const bad = {...spec, log: tamperedLog(5)}
  const r = checkEventLog(quote, loadEventLogSpec(bad), bad)
  assert.is(r.result, 'fail')
  assert.is(r.code, 'EVENTLOG_MISMATCH')
  assert.is(r.exit_code, 3)
  assert.match(r.detail, /first divergence at (event #\d+|RTMR\d)/)
})

vectorTest(test, 'CLI: CCEL vector with --signatures-only: the step passes while collateral is missing (text and --json)', async () => {
  const q = vectorPath('real', CCEL, 'quote.bin')
  const args = ['quote', 'verify', q, '--signatures-only', '--at', AT, '--eventlog', vectorPath('real', CCEL, 'ccel_data.bin'), '--eventlog-table', vectorPath('real', CCEL, 'ccel_table.bin'), ...relaxed]
  const text = await cliAsync(args, {stateDir: tempDir()})
  assert.is(text.code, 0, text.stderr)
  assert.match(text.stdout, /✔ event log replay matches the quote's RTMR0-3 — \d+ events replayed; RTMR0-3 match/)
  const js = await cliAsync([...args, '--json'], {stateDir: tempDir()})
  assert.is(js.code, 0, js.stderr)
  const o = JSON.parse(js.stdout)
  assert.is(o.verdict, 'ok')
  assert.is(o.mode, 'signatures-only')
  const step = o.steps.find((s: {id: string}) => s.id === 'eventlog')
  assert.is(step.result, 'pass')
  assert.is(o.steps.find((s: {id: string}) => s.id === 'tcb_info').result, 'skip')
  assert.is(o.eventlog.comparison.rtmrs.length, 4)
})

vectorTest(test, 'CLI: a tampered CCEL log fails with exit 3 and names the first divergent event', async () => {
  const q = vectorPath('real', CCEL, 'quote.bin')
  const args = ['quote', 'verify', q, '--signatures-only', '--at', AT, '--eventlog', tamperedLog(7), '--eventlog-table', vectorPath('real', CCEL, 'ccel_table.bin'), ...relaxed]
  const js = await cliAsync([...args, '--json'], {stateDir: tempDir()})
  assert.is(js.code, 3, js.stderr)
  const o = JSON.parse(js.stdout)
  assert.is(o.verdict, 'error')
  assert.is(o.error.code, 'EVENTLOG_MISMATCH')
  assert.is(o.error.step, 'eventlog')
  assert.ok(typeof o.eventlog.comparison.first_divergence.event_index === 'number' || o.eventlog.comparison.first_divergence.event_index === null)
  const text = await cliAsync(args, {stateDir: tempDir()})
  assert.is(text.code, 3)
  assert.match(text.stdout, /✘ event log replay .*first divergence at/)
  assert.match(text.stdout, /FAILED at eventlog — EVENTLOG_MISMATCH \(exit 3/)
  // A log that is not a log at all is bad input (exit 2), before any verification.
  const junk = join(tempDir(), 'junk.bin')
  writeFileSync(junk, Buffer.alloc(100, 0x41))
  const bad = await cliAsync(['quote', 'verify', q, '--signatures-only', '--at', AT, '--eventlog', junk], {stateDir: tempDir()})
  assert.is(bad.code, 2, bad.stdout + bad.stderr)
  assert.not.match(bad.stderr, /\n\s+at /, 'no stack trace')
})

test('CLI: a simulated quote checks against its own exported log; a later extend breaks the binding', async () => {
  const stateDir = tempDir()
  const dir = tempDir()
  const data = join(dir, 'app.txt')
  writeFileSync(data, 'application v1')
  for (const idx of ['2', '3']) {
    const ex = await cliAsync(['rtmr', 'extend', '--index', idx, '--data', data], {stateDir})
    assert.is(ex.code, 0, ex.stderr)
  }
  const q = join(dir, 'q.bin')
  assert.is((await cliAsync(['quote', 'generate', '--report-data', '01', '-o', q], {stateDir})).code, 0)
  const log = join(dir, 'ccel.bin')
  assert.is((await cliAsync(['eventlog', 'export', '-o', log], {stateDir})).code, 0)
  const ok = await cliAsync(['quote', 'verify', q, '--root-ca', 'sim', '--eventlog', log, '--json'], {stateDir})
  assert.is(ok.code, 0, ok.stdout)
  assert.is(JSON.parse(ok.stdout).steps.at(-1).result, 'pass')
  // One more runtime extend: the log now has an event the quote does not reflect.
  assert.is((await cliAsync(['rtmr', 'extend', '--index', '3', '--data', data], {stateDir})).code, 0)
  assert.is((await cliAsync(['eventlog', 'export', '-o', log], {stateDir})).code, 0)
  const bad = await cliAsync(['quote', 'verify', q, '--root-ca', 'sim', '--eventlog', log, '--json'], {stateDir})
  assert.is(bad.code, 3)
  const o = JSON.parse(bad.stdout)
  assert.is(o.eventlog.comparison.first_divergence.reason, 'log_has_extra_events')
  assert.is(o.eventlog.comparison.first_divergence.rtmr_index, 3)
  // ... which --allow-rtmr3-runtime accepts (RTMR0-2 still enforced).
  const rt = await cliAsync(['quote', 'verify', q, '--root-ca', 'sim', '--eventlog', log, '--allow-rtmr3-runtime'], {stateDir})
  assert.is(rt.code, 0, rt.stdout)
  assert.match(rt.stdout, /RTMR0-2 match \(RTMR3 has runtime extends, allowed\)/)
})

test.run()
