/**
 * REPORTDATA for `report` and `quote generate` from hex, a file's raw bytes, base64, or a fresh
 * --nonce (printed, in --json, and bound: the quote verifies with --expect report_data=<nonce>).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {reportDataFromFlags} from '../../src/cli/report-data.js'
import {TdxkitError} from '../../src/errors.js'
import {cli, tempDir} from '../helpers/cli.js'

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc(64 - b.length)])
const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    assert.instance(e, TdxkitError)
    return (e as TdxkitError).code
  }
  return 'no error'
}

test('hex, file, base64 and base64url give the same zero-padded 64 bytes; nothing given is undefined', () => {
  const bytes = Buffer.from('c0ffee00112233445566778899', 'hex')
  const file = join(tempDir(), 'rd.bin')
  writeFileSync(file, bytes)
  for (const flags of [{'report-data': bytes.toString('hex')}, {'report-data-file': file}, {'report-data-base64': bytes.toString('base64')}, {'report-data-base64': bytes.toString('base64url')}]) {
    assert.equal(reportDataFromFlags(flags), {bytes: pad(bytes)}, JSON.stringify(flags))
  }
  assert.is(reportDataFromFlags({}), undefined)
})

test('--nonce: 64 fresh random bytes each time, marked as the nonce', () => {
  const a = reportDataFromFlags({nonce: true})!
  const b = reportDataFromFlags({nonce: true})!
  assert.is(a.bytes.length, 64)
  assert.equal(a.nonce, a.bytes)
  assert.not.equal(a.bytes, b.bytes)
})

test('more than 64 bytes or bad base64: one-line input errors', () => {
  const file = join(tempDir(), 'long.bin')
  writeFileSync(file, Buffer.alloc(65, 1))
  assert.is(codeOf(() => reportDataFromFlags({'report-data-file': file})), 'INPUT_TOO_LARGE')
  assert.is(codeOf(() => reportDataFromFlags({'report-data-base64': Buffer.alloc(65).toString('base64')})), 'BAD_LENGTH')
  assert.is(codeOf(() => reportDataFromFlags({'report-data-base64': 'not*base64'})), 'BAD_BASE64')
})

test('CLI: report --report-data-file and --nonce; quote generate --nonce binds it (verify --expect) and prints it', () => {
  const state = tempDir()
  const file = join(state, 'rd.bin')
  writeFileSync(file, Buffer.from('hello'))
  const rep = cli(['report', '--report-data-file', file, '--json'], {stateDir: state})
  assert.is(rep.code, 0, rep.stderr)
  assert.is(JSON.parse(rep.stdout).report_data, pad(Buffer.from('hello')).toString('hex'))
  const repNonce = JSON.parse(cli(['report', '--nonce', '--json'], {stateDir: state}).stdout)
  assert.match(repNonce.nonce, /^[0-9a-f]{128}$/)
  assert.is(repNonce.report_data, repNonce.nonce)

  const q = join(state, 'q.bin')
  const gen = cli(['quote', 'generate', '--nonce', '-o', q, '--json'], {stateDir: state})
  assert.is(gen.code, 0, gen.stderr)
  const nonce = JSON.parse(gen.stdout).nonce as string
  assert.match(nonce, /^[0-9a-f]{128}$/)
  assert.is(cli(['quote', 'verify', '--root-ca', 'sim', '--expect', `report_data=${nonce}`, q], {stateDir: state}).code, 0)
  const text = cli(['quote', 'generate', '--nonce', '-o', q], {stateDir: state})
  assert.match(text.stdout, /^nonce [0-9a-f]{128} \(REPORTDATA; verify with --expect report_data=<nonce>\)$/m)
  const b64 = cli(['quote', 'generate', '--report-data-base64', Buffer.from('hello').toString('base64'), '-o', q], {stateDir: state})
  assert.is(b64.code, 0, b64.stderr)
  assert.is(cli(['quote', 'verify', '--root-ca', 'sim', '--expect', `report_data=${pad(Buffer.from('hello')).toString('hex')}`, q], {stateDir: state}).code, 0)
})

test('CLI: two REPORTDATA sources at once, or one with --tdreport, is a usage error (exit 2)', () => {
  const state = tempDir()
  for (const argv of [['report', '--nonce', '--report-data', '00'], ['quote', 'generate', '--report-data-base64', 'AA==', '--tdreport', 'x'], ['quote', 'generate', '--nonce', '--report-data-file', 'x']]) {
    const r = cli(argv, {stateDir: state})
    assert.is(r.code, 2, `${argv.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, /cannot also be provided|cannot be used with/)
  }
})

test.run()
