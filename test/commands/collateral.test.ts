/**
 * `tdxkit collateral export|root` as real processes: files and stdout, --json, determinism across
 * state directories with the same seed, auto-created platform notice, bad input exit codes without stack traces,
 * and the exported collateral + root verifying a simulated quote under @phala/dcap-qvl.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash, X509Certificate} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cli, cliAsync, tempDir} from '../helpers/cli.js'
import {COLLATERAL_FIELDS} from '../../src/abi/collateral.js'
import {quoteTdReport} from '../../src/host/qe.js'
import {SIM_CN} from '../../src/host/pki.js'
import {getTdReport} from '../../src/guest/tdx-guest.js'
import {initPlatform} from '../../src/app/platform.js'
import {Platform} from '../../src/module/platform.js'
import {StateStore} from '../../src/state/store.js'
import {qvl, VERIFY_AT} from '../helpers/host-fixtures.js'

const noStack = (s: string) => assert.not.match(s, /\n\s+at /)

test('export -o / root -o: files, summaries, determinism across state dirs with the same seed', async () => {
  const [a, b] = [tempDir(), tempDir()]
  const out = tempDir()
  // Two independent state directories with the same seed (module init is the foundation's command; the library call is equivalent).
  await initPlatform(new StateStore(a), {seed: 'cli-seed'})
  await initPlatform(new StateStore(b), {seed: 'cli-seed'})
  const [ea, eb, ra] = await Promise.all([
    cliAsync(['collateral', 'export', '-o', join(out, 'a.json')], {stateDir: a}),
    cliAsync(['collateral', 'export', '-o', join(out, 'b.json')], {stateDir: b}),
    cliAsync(['collateral', 'root', '--format', 'der', '-o', join(out, 'root.der')], {stateDir: a}),
  ])
  for (const r of [ea, eb, ra]) assert.is(r.code, 0, r.stderr)
  assert.match(ea.stdout, /wrote .*a\.json \(QuoteCollateralV3, SIMULATED\)/)
  assert.match(ea.stdout, /tcb status\s+UpToDate/)
  const fa = readFileSync(join(out, 'a.json'))
  assert.ok(fa.equals(readFileSync(join(out, 'b.json'))), 'same seed → byte-identical collateral')
  const col = JSON.parse(fa.toString())
  for (const f of COLLATERAL_FIELDS) assert.type(col[f], 'string')
  assert.is(JSON.parse(col.tcb_info).id, 'TDX')
  const der = readFileSync(join(out, 'root.der'))
  const root = new X509Certificate(der)
  assert.match(root.subject, `CN=${SIM_CN.root}`)
  assert.match(ra.stdout, new RegExp(`sha256\\s+${createHash('sha256').update(der).digest('hex')}`))

  // The exported files are what a relying party uses: verify a quote from the same platform with dcap-qvl.
  const doc = new StateStore(a).load()!
  const p = new Platform(doc)
  const quote = quoteTdReport(p.doc, getTdReport(p, Buffer.alloc(64, 3)))
  assert.is(qvl.QuoteVerifier.newWithRootCa(der).verify(quote, col, VERIFY_AT).status, 'UpToDate')
})

test('stdout forms and --json: PEM / JSON on stdout, stable snake_case fields', async () => {
  const dir = tempDir()
  await initPlatform(new StateStore(dir), {seed: 'cli-json', profile: 'tdx-1.0'})
  const [pem, exp, expJson] = await Promise.all([
    cliAsync(['collateral', 'root'], {stateDir: dir}),
    cliAsync(['collateral', 'export'], {stateDir: dir}),
    cliAsync(['collateral', 'export', '--json'], {stateDir: dir}),
  ])
  for (const r of [pem, exp, expJson]) assert.is(r.code, 0, r.stderr)
  assert.match(pem.stdout, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/)
  const rootSha = createHash('sha256').update(new X509Certificate(pem.stdout).raw).digest('hex')
  const collateral = JSON.parse(exp.stdout)
  const ej = JSON.parse(expJson.stdout)
  assert.equal(ej.collateral, collateral)
  assert.is(ej.tcb_status, 'UpToDate')
  assert.equal(ej.scenario, {tcb_status: 'UpToDate', pck_revoked: false, collateral_expired: false})
  assert.is(ej.fmspc, JSON.parse(collateral.tcb_info).fmspc.toLowerCase())
  assert.is(ej.root_ca_sha256, rootSha)
})

test('no platform yet: one is created (noticed on stderr); bad input → exit 2, one line, no stack', async () => {
  const dir = tempDir()
  const first = cli(['collateral', 'root', '-o', join(dir, 'r.pem'), '--json'], {stateDir: dir})
  assert.is(first.code, 0, first.stderr)
  assert.match(first.stderr, /created a default simulated platform/)
  const rj = JSON.parse(first.stdout)
  assert.is(rj.pem, readFileSync(join(dir, 'r.pem'), 'utf8'))
  assert.is(rj.output, join(dir, 'r.pem'))
  assert.match(rj.subject, /SIMULATED/)

  const [badFormat, badOut, badOutJson] = await Promise.all([
    cliAsync(['collateral', 'root', '--format', 'xml'], {stateDir: dir}),
    cliAsync(['collateral', 'export', '-o', '/dev/null/x.json'], {stateDir: dir}),
    cliAsync(['collateral', 'export', '-o', '/dev/null/x.json', '--json'], {stateDir: dir}),
  ])
  assert.is(badFormat.code, 2)
  assert.match(badFormat.stderr, /--format/)
  assert.is(badOut.code, 2)
  assert.match(badOut.stderr, /^tdxkit: error: cannot write \/dev\/null\/x\.json/m)
  noStack(badOut.stderr)
  assert.is(badOutJson.code, 2)
  assert.is(JSON.parse(badOutJson.stdout).error.code, 'UNWRITABLE_OUTPUT')

  const corrupt = tempDir()
  writeFileSync(join(corrupt, 'state.json'), '{not json')
  const r = cli(['collateral', 'export'], {stateDir: corrupt})
  assert.is(r.code, 2)
  assert.match(r.stderr, /corrupt/)
  noStack(r.stderr)
})

test.run()
