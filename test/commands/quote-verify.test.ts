/** `quote verify`, `quote show`, `policy draft` as real processes: exit codes, JSON, NDJSON, bad input. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

const v = (dir: string, f = 'quote.bin') => vectorPath('real', dir, f)
const state = tempDir()
const run = (args: string[]) => cliAsync(args, {stateDir: state})

vectorTest(test, 'vectors via the CLI: ok / collateral expired / TCB unsupported / policy / authenticity', async () => {
  const tmp = tempDir()
  const tampered = join(tmp, 'tampered.bin')
  const q = Buffer.from(readVector('real', 'dcapqvl-tdx-v4-uptodate', 'quote.bin'))
  q[700] ^= 1 // attestation key / signature region
  writeFileSync(tampered, q)
  const [ok, expired, unmatched, debug, debugAllowed, auth] = await Promise.all([
    run(['quote', 'verify', v('trustee-tdx-v4-tdx03-outofdate'), '--collateral', v('trustee-tdx-v4-tdx03-outofdate', 'collateral.json'), '--at', '2025-11-12T10:45:31Z']),
    run(['quote', 'verify', v('dcapqvl-tdx-v4-uptodate'), '--collateral', v('dcapqvl-tdx-v4-uptodate', 'collateral.json'), '--at', '1752919236', '--json']),
    run(['quote', 'verify', v('dcapqvl-tdx-v5-tcb-unmatched'), '--collateral', v('dcapqvl-tdx-v5-tcb-unmatched', 'collateral.json'), '--at', '1774003274', '--json']),
    run(['quote', 'verify', v('trustee-tdx-v4-debug'), '--collateral', v('gotdx-tdx-v4-spr', 'collateral.json'), '--at', '1688173200', '--json']),
    run(['quote', 'verify', v('trustee-tdx-v4-debug'), '--collateral', v('gotdx-tdx-v4-spr', 'collateral.json'), '--at', '1688173200', '--allow-debug']),
    run(['quote', 'verify', tampered, '--collateral', v('dcapqvl-tdx-v4-uptodate', 'collateral.json'), '--at', '1752919234', '--json']),
  ])
  assert.is(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /result: OutOfDate/)
  assert.match(ok.stdout, /✔ TDX module identity .* TDX_03/)
  assert.is(expired.code, 4)
  const e = JSON.parse(expired.stdout)
  assert.is(e.error.code, 'CRL_EXPIRED')
  assert.is(e.error.step, 'crls')
  assert.is(e.steps.length, 13)
  assert.is(unmatched.code, 5)
  assert.is(JSON.parse(unmatched.stdout).error.code, 'TCB_NOT_SUPPORTED')
  assert.is(debug.code, 6)
  const d = JSON.parse(debug.stdout)
  assert.is(d.status, 'UpToDate')
  assert.is(d.verdict, 'policy_violation')
  assert.equal(d.policy.violations.map((x: {rule: string}) => x.rule), ['debug'])
  assert.is(debugAllowed.code, 0, debugAllowed.stdout)
  assert.is(auth.code, 3)
  assert.match(JSON.parse(auth.stdout).error.code, /QUOTE_SIGNATURE_INVALID|ATTESTATION_KEY_INVALID|QE_REPORT_DATA_MISMATCH/)
})

vectorTest(test, 'several quotes: NDJSON in input order with 2 workers; exit = lowest failing code', async () => {
  const col = v('dcapqvl-tdx-v4-uptodate', 'collateral.json')
  const files = [v('flashtestations-tdx-v4', 'quote-0xf200.bin'), v('flashtestations-tdx-v4', 'quote-0x12c1.bin'), v('dcapqvl-tdx-v4-uptodate'), v('gotdx-tdx-v4-spr')]
  const r = await run(['quote', 'verify', ...files, '--collateral', col, '--at', '1752919234', '--jobs', '2', '--json'])
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
  assert.equal(lines.map((l) => l.file), files)
  assert.equal(lines.map((l) => l.exit_code), [0, 0, 0, 4])
  assert.is(lines[3].error.code, 'FMSPC_MISMATCH')
  assert.is(r.code, 4)
})

vectorTest(test, 'quote show, policy draft → verify --policy, bad input', async () => {
  const tmp = tempDir()
  const policy = join(tmp, 'policy.json')
  const badPolicy = join(tmp, 'bad.json')
  writeFileSync(badPolicy, '{\n  "allow_debug": false,\n  "expected": {"mrtd": "00"}\n}\n')
  const truncated = join(tmp, 'short.bin')
  writeFileSync(truncated, readVector('real', 'gotdx-tdx-v5', 'quote.bin').subarray(0, 700))
  const garbage = join(tmp, 'garbage.json')
  writeFileSync(garbage, 'not json at all')
  const shape = join(tmp, 'shape.json')
  writeFileSync(shape, '{"tcb_info": 5}')
  const [show, draft, bad, short, garb, shp, none] = await Promise.all([
    run(['quote', 'show', v('gotdx-tdx-v5'), '--json']),
    run(['policy', 'draft', v('gotdx-tdx-v5'), '-o', policy]),
    run(['quote', 'verify', v('gotdx-tdx-v5'), '--signatures-only', '--at', '1770080400', '--policy', badPolicy]),
    run(['quote', 'verify', truncated, '--signatures-only']),
    run(['quote', 'verify', v('gotdx-tdx-v5'), '--collateral', garbage]),
    run(['quote', 'verify', v('gotdx-tdx-v5'), '--collateral', shape, '--json']),
    run(['quote', 'verify', v('gotdx-tdx-v5')]),
  ])
  assert.is(show.code, 0)
  const s = JSON.parse(show.stdout)
  assert.is(s.version, 5)
  assert.equal(s.fields.find((f: {name: string}) => f.name === 'td_body.report_data').offset, 574)
  // The PCK chain is decoded (not verified): FMSPC and PCE-ID as expected.json gives them.
  const exp = JSON.parse(readVector('real', 'gotdx-tdx-v5', 'expected.json').toString('utf8')).quote
  assert.is(s.pck_chain.sgx_extension.fmspc, exp.fmspc)
  assert.is(s.pck_chain.sgx_extension.pceid, exp.pce_id)
  assert.equal(s.pck_chain.certificates.map((c: {subject_cn: string}) => c.subject_cn), ['Intel SGX PCK Certificate', exp.pck_issuer_cn, 'Intel SGX Root CA'])
  assert.is(draft.code, 0, draft.stderr)
  const [withPolicy, wrongPolicy] = await Promise.all([
    run(['quote', 'verify', v('gotdx-tdx-v5'), '--collateral', v('gotdx-tdx-v5', 'collateral.json'), '--at', '1772549365', '--policy', policy]),
    run(['quote', 'verify', v('dcapqvl-tdx-v5-tcb-unmatched'), '--signatures-only', '--at', '1774003274', '--policy', policy, '--json']),
  ])
  assert.is(withPolicy.code, 0, withPolicy.stdout)
  assert.is(wrongPolicy.code, 6)
  assert.ok(JSON.parse(wrongPolicy.stdout).policy.violations.some((x: {rule: string}) => x.rule === 'expected.mrtd'))
  assert.is(bad.code, 2)
  assert.match(bad.stderr, /bad\.json:3:24: "mrtd" must be 48 bytes of hex/)
  assert.is(short.code, 2)
  assert.match(short.stdout, /QUOTE_TRUNCATED/)
  assert.is(garb.code, 2)
  assert.match(garb.stderr, /not valid JSON/)
  assert.is(shp.code, 4)
  assert.is(none.code, 2)
  assert.match(none.stderr, /no collateral/)
  for (const r of [bad, short, garb, none]) assert.not.match(r.stderr, /\n\s+at /, 'no stack trace')
})

test.run()
