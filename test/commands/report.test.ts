/** CLI: report (formats, bad input) and report show (every field, real TDREPORT). */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import {cli, tempDir} from '../helpers/cli.js'
import {vectorPath, vectorTest} from '../helpers/vectors.js'

const json = (stdout: string) => JSON.parse(stdout)
const dir = tempDir()
cli(['module', 'init', '--seed', 'report-cli'], {stateDir: dir})

test('report: -o bin / stdout hex / base64 agree; report data is zero-padded; --json', () => {
  const f = join(dir, 'r.bin')
  const a = cli(['report', '--report-data', '0x00112233', '-o', f], {stateDir: dir})
  assert.is(a.code, 0, a.stderr)
  const bin = readFileSync(f)
  assert.is(bin.length, 1024)
  assert.is(bin.subarray(128, 192).toString('hex'), '00112233' + '00'.repeat(60))
  const hex = cli(['report', '--report-data', '00112233'], {stateDir: dir})
  assert.is(hex.stdout.trim(), bin.toString('hex'))
  const b64 = cli(['report', '--report-data', '00112233', '--format', 'base64'], {stateDir: dir})
  assert.is(b64.stdout.trim(), bin.toString('base64'))
  const j = json(cli(['report', '--report-data', '00112233', '--json'], {stateDir: dir}).stdout)
  assert.is(j.tdreport, bin.toString('hex'))
  assert.is(j.size, 1024)
})

test('report: odd hex, non-hex, more than 64 bytes → exit 2, one line, no output file', () => {
  const f = join(dir, 'never.bin')
  for (const [data, re] of [['abc', /odd number of hex digits/], ['zz', /not a hex string/], ['00'.repeat(65), /at most 64 bytes/]] as const) {
    const r = cli(['report', '--report-data', data, '-o', f], {stateDir: dir})
    assert.is(r.code, 2, data)
    assert.match(r.stderr, re)
    assert.is(r.stderr.trim().split('\n').length, 1)
    assert.is(r.stdout, '')
  }
  assert.throws(() => readFileSync(f))
  const j = cli(['report', '--report-data', 'abc', '--json'], {stateDir: dir})
  assert.is(j.code, 2)
  assert.equal(json(j.stdout).error.code, 'ODD_HEX')
})

test('report show: every field with offsets, hash and MAC checks; piped hex from stdin', () => {
  const hex = cli(['report', '--report-data', 'aa'], {stateDir: dir}).stdout
  const r = cli(['report', 'show', '-', '--json'], {stateDir: dir, input: hex})
  assert.is(r.code, 0, r.stderr)
  const j = json(r.stdout)
  const at = (name: string) => j.fields.find((f: {name: string; section: string}) => `${f.section}.${f.name}` === name)
  assert.is(at('report_mac_struct.report_data').offset, 128)
  assert.is(at('td_info.rtmr0').offset, 720)
  assert.is(at('tee_tcb_info.mrseam').offset, 280)
  assert.is(at('report_mac_struct.report_data').value, 'aa' + '00'.repeat(63))
  assert.equal(j.checks, {tee_tcb_info_hash_ok: true, tee_info_hash_ok: true, mac_ok: true})
  // Another platform cannot check the MAC.
  const other = tempDir()
  cli(['module', 'init', '--seed', 'someone-else'], {stateDir: other})
  assert.is(json(cli(['report', 'show', '-', '--json'], {stateDir: other, input: hex}).stdout).checks.mac_ok, false)
  const text = cli(['report', 'show', '-'], {stateDir: dir, input: hex})
  assert.match(text.stdout, /720\s+48\s+td_info\.rtmr0/)
  assert.match(text.stdout, /✔ MAC verifies/)
})

test('report show: wrong size / unreadable file → exit 2', () => {
  const f = join(dir, 'short.bin')
  writeFileSync(f, Buffer.alloc(1000, 0x81))
  let r = cli(['report', 'show', f], {stateDir: dir})
  assert.is(r.code, 2)
  assert.match(r.stderr, /exactly 1024 bytes, got 1000/)
  r = cli(['report', 'show', join(dir, 'missing.bin')], {stateDir: dir})
  assert.is(r.code, 2)
  assert.match(r.stderr, /cannot read/)
})

vectorTest(test, 'report show decodes the real Azure TDREPORT; its hash relations hold', () => {
  const path = vectorPath('real', 'trustee-tdx-v4-azure-vtpm', 'tdreport.bin')
  const raw = readFileSync(path)
  const r = cli(['report', 'show', path, '--json'], {stateDir: tempDir()})
  assert.is(r.code, 0, r.stderr)
  const j = json(r.stdout)
  assert.equal(j.checks, {tee_tcb_info_hash_ok: true, tee_info_hash_ok: true, mac_ok: null})
  assert.is(j.report_version, 0)
  const mrtd = j.fields.find((f: {name: string}) => f.name === 'mrtd')
  assert.is(mrtd.offset, 528)
  assert.is(mrtd.value, raw.subarray(528, 576).toString('hex'))
  assert.is(createHash('sha384').update(raw.subarray(512)).digest('hex'), j.fields.find((f: {name: string}) => f.name === 'tee_info_hash').value)
})

test.run()
