/**
 * Length and resource limits on the verifier side: absurd declared lengths (signature data, outer and
 * inner certification data, QE auth data, v5 body size), huge PEM chains, and gigantic stdin for
 * `quote verify -` and `quote show -` give a clear typed error (exit 2 for malformed input), never a
 * crash, an allocation of the declared size, or a hang.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../src/abi/quote.js'
import {MAX_INPUT_BYTES} from '../../src/app/files.js'
import {QuoteVerifier} from '../../src/verify/verifier.js'
import {cli, tempDir} from '../helpers/cli.js'
import {applyQuoteMutation, type LengthField} from './lib/quote-mutate.js'
import {simSeeds} from './lib/seeds.js'

const [v4, v5] = await simSeeds()

const parseCode = (b: Buffer): string => {
  try {
    parseQuote(b)
    return 'parsed'
  } catch (e) {
    return (e as {code?: string}).code ?? String(e)
  }
}

test('absurd declared lengths: typed parse errors (exit 2), for v4 and v5', () => {
  const cases: Array<[LengthField, number, string]> = [
    ['sig_data_len', 0xffffffff, 'SIG_DATA_LENGTH'],
    ['sig_data_len', 0x80000000, 'SIG_DATA_LENGTH'],
    ['sig_data_len', 0, 'SIG_DATA_LENGTH'],
    ['cert_data_size', 0xffffffff, 'CERT_DATA_SIZE'],
    ['cert_data_size', 0, 'CERT_DATA_SIZE'],
    ['qe_auth_data_size', 0xffff, 'SIG_DATA_LENGTH'],
    ['inner_cert_size', 0xffffffff, 'CERT_DATA_SIZE'],
    ['inner_cert_size', 0, 'CERT_DATA_SIZE'],
    ['inner_cert_type', 0xffff, 'CERT_DATA_TYPE'],
  ]
  for (const s of [v4, v5]) {
    for (const [field, value, code] of cases) {
      const m = applyQuoteMutation(s.quote, {kind: 'field', field, value})
      assert.is(parseCode(m), code, `${s.name} ${field}=${value}`)
      const r = new QuoteVerifier({now: s.at, trustedRoots: s.trustedRoots, collateral: s.collateral}).verify(m)
      assert.is(r.exit_code, 2)
      assert.is(r.error?.step, 'parse')
    }
  }
  const body = applyQuoteMutation(v5.quote, {kind: 'field', field: 'body_size', value: 0xffffffff})
  assert.is(parseCode(body), 'BODY_SIZE_MISMATCH')
})

test('QE auth data of the maximum u16 size, consistently declared: parses, then fails the key binding (exit 3)', () => {
  const m = applyQuoteMutation(v4.quote, {kind: 'auth_data', length: 0xffff, fill: 0x5a})
  const q = parseQuote(m)
  assert.is(q.qe_auth_data.length, 0xffff)
  const r = new QuoteVerifier({now: v4.at, trustedRoots: v4.trustedRoots, collateral: v4.collateral}).verify(m)
  assert.is(r.error?.code, 'QE_REPORT_DATA_MISMATCH')
  assert.is(r.exit_code, 3)
})

test('a PCK chain of 900 certificates (about 2.5 MB of PEM): PCK_CHAIN_LENGTH, checked before any certificate is parsed', () => {
  const m = applyQuoteMutation(v4.quote, {kind: 'pem', edit: 'many_certs', n: 299})
  const q = parseQuote(m)
  assert.ok(q.pck_cert_data.length > 1_000_000)
  const r = new QuoteVerifier({now: v4.at, trustedRoots: v4.trustedRoots, collateral: v4.collateral}).verify(m)
  assert.is(r.error?.code, 'PCK_CHAIN_LENGTH')
  assert.is(r.exit_code, 3)
})

test('CLI: gigantic stdin for quote verify - and quote show -: INPUT_TOO_LARGE, exit 2, one line, no stack', () => {
  const big = Buffer.alloc(MAX_INPUT_BYTES + 4096, 0x41)
  for (const args of [['quote', 'verify', '-', '--signatures-only'], ['quote', 'show', '-', '--json']]) {
    const r = cli(args, {stateDir: tempDir(), input: big})
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stdout + r.stderr, /larger than \d+ bytes/)
    assert.not.match(r.stderr, /\n\s+at /)
  }
})

test('CLI: truncated and garbage stdin: exit 2 with the parse error code', () => {
  for (const input of [v4.quote.subarray(0, 700), Buffer.from('not a quote at all\n')]) {
    const r = cli(['quote', 'show', '-', '--json'], {stateDir: tempDir(), input})
    assert.is(r.code, 2, r.stdout + r.stderr)
  }
})

test.run()
