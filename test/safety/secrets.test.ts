/**
 * Trust boundary: no command prints private key material. Every command runs (from the sources, in
 * one child process) in text mode and with --json on a simulated TDX Connect platform with a fixed
 * seed; stdout + stderr of all of them (and the files they write with -o, except an explicit
 * private-key export, of which there is none) are searched for the secrets the platform holds or
 * derives: the REPORTMAC key from state.json, the simulated Intel PKI keys (root, platform CA, PCK,
 * TCB signing), the QE attestation key, and every device vendor root / intermediate / leaf key and
 * CoRIM signer key, as hex (either case), base64 and base64url; and the platform seed itself, from
 * which all of them derive (printed only by `module init|status --show-seed`), including the random
 * seed of a platform a command creates on first use.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir} from '../helpers/cli.js'
import {runCommands} from './helpers.js'
import {deriveP256Key, KEY_LABEL} from '../../src/host/pki.js'
import {P256_ORDER} from '../../src/x509/ecdsa.js'
import {QE_ATTESTATION_KEY_LABEL} from '../../src/host/qe.js'
import {deriveScalar} from '../../src/util/seed.js'
import {deviceChain} from '../../src/device/device.js'
import {referenceSigningKey} from '../../src/device/reference.js'
import {vendorRoot} from '../../src/device/certs.js'
import {MODELS} from '../../src/device/models.js'

const SEED = 'secrets-audit'
const dir = tempDir('tdxkit-secrets-')
const state = join(dir, 'state')
const f = (name: string) => join(dir, name)

const base: Array<[string, string[]]> = [
  ['module/status', []],
  ['sysinfo', []],
  ['report/index', ['--report-data', 'aa', '-o', f('td.report')]],
  ['report/show', [f('td.report')]],
  ['rtmr/extend', ['--index', '2', '--digest', '11'.repeat(48)]],
  ['rtmr/show', []],
  ['quote/generate', ['--report-data', 'bb', '--allocator', 'dma-pool', '-o', f('q1.bin')]],
  ['quote/generate', ['--report-data', 'cc', '--allocator', 'vmap-mapgpa', '--trace', '-o', f('q2.bin')]],
  ['quote/show', [f('q1.bin')]],
  ['collateral/export', ['-o', f('collateral.json')]],
  ['collateral/root', ['-o', f('root.pem')]],
  ['quote/verify', [f('q1.bin'), '--collateral', f('collateral.json'), '--root-ca', 'sim']],
  ['policy/draft', [f('q1.bin'), '-o', f('policy.json')]],
  ['ghci/info', []],
  ['ghci/call', ['GetTdVmCallInfo', '--r12', '1']],
  ['device/list', []],
  ['device/add', ['--model', 'nvme', '--id', 'nvme9']],
  ['device/lock', ['nic0']],
  ['device/evidence', ['nic0', '--nonce', '22'.repeat(32), '-o', f('nic0.ev')]],
  ['device/reference', ['nic0', '--sign', '--signer-key-out', f('signer.jwk'), '-o', f('nic0.ref')]],
  ['device/verify', [f('nic0.ev'), '--reference', f('nic0.ref'), '--reference-key', f('signer.jwk'), '--nonce', '22'.repeat(32)]],
  ['device/accept', ['nic0']],
  ['device/unlock', ['nic0']],
  ['eventlog/export', ['-o', f('ccel.bin')]],
  ['eventlog/show', [f('ccel.bin')]],
  ['eventlog/replay', [f('ccel.bin'), '--quote', f('q1.bin')]],
  ['alloc/compare', ['--requests', '20']],
]

function secrets(doc: Record<string, any>): Array<{name: string; bytes: Buffer}> {
  const out: Array<{name: string; bytes: Buffer}> = [{name: 'module.reportmac_key', bytes: Buffer.from(doc.module.reportmac_key, 'hex')}]
  for (const [k, label] of Object.entries(KEY_LABEL)) out.push({name: `Intel-shaped PKI ${k} key`, bytes: Buffer.from(deriveP256Key(SEED, label).priv)})
  out.push({name: 'QE attestation key', bytes: deriveScalar(SEED, QE_ATTESTATION_KEY_LABEL, P256_ORDER, 32)})
  for (const spec of Object.values(MODELS)) {
    out.push({name: `${spec.vendor_label} vendor root key`, bytes: vendorRoot(SEED, spec.vendor_label, spec.vendor_name).key.priv})
    out.push({name: `${spec.vendor_label} CoRIM signer key`, bytes: referenceSigningKey(SEED, spec).priv})
  }
  for (const rec of doc.devices.devices) {
    const ch = deviceChain(SEED, rec)
    out.push({name: `${rec.id} leaf key`, bytes: ch.leafKey.priv}, {name: `${rec.id} intermediate-signed chain root key`, bytes: ch.rootKey.priv})
  }
  return out
}

const encodings = (b: Buffer): string[] => [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64').replace(/=+$/, ''), b.toString('base64url')]

test('no command output (text or --json) and no written file contains private key material', () => {
  const plan = [{id: 'module/init', argv: ['--profile', 'tdx-connect', '--seed', SEED]}]
  for (const [id, argv] of base) {
    plan.push({id, argv})
    plan.push({id, argv: [...argv.map((a) => a.replace(/(\.\w+)$/, '-json$1')), '--json']})
  }
  const r = runCommands(plan, {stateDir: state})
  assert.is(r.status, 0, r.stderr.slice(-2000))
  // every command ran to a contract exit code (1 = internal error would hide output)
  const internal = r.results.filter((x) => x.code === 1)
  assert.equal(internal.map((x) => `${x.id} ${x.argv.join(' ')}: ${x.stderr.slice(0, 300)}`), [])
  assert.ok(r.results.filter((x) => x.code === 0).length >= 2 * base.length - 6, r.results.filter((x) => x.code !== 0).map((x) => `${x.id} → ${x.code} ${x.stderr.slice(0, 200)}`).join('\n'))

  const doc = JSON.parse(readFileSync(join(state, 'state.json'), 'utf8'))
  const keys = secrets(doc)
  const files = readdirSync(dir).filter((n) => n !== 'state').map((n) => ({n, text: readFileSync(join(dir, n)).toString('latin1')}))
  const haystacks = [...r.results.map((x) => ({n: `${x.id} ${x.argv.join(' ')}`, text: x.stdout + x.stderr})), ...files]
  const leaks: string[] = []
  for (const k of keys) for (const e of encodings(k.bytes)) for (const h of haystacks) if (h.text.includes(e)) leaks.push(`${k.name} in ${h.n}`)
  // raw bytes in binary files too
  for (const k of keys) for (const fl of files) if (Buffer.from(fl.text, 'latin1').includes(k.bytes)) leaks.push(`${k.name} (raw) in ${fl.n}`)
  console.log(`  secrets: ${r.results.length} command runs, ${files.length} output files, ${keys.length} private keys × 4 encodings searched; leaks ${leaks.length}`)
  assert.equal(leaks, [])
  // the search is live: the state itself does hold the REPORTMAC key
  assert.ok(readFileSync(join(state, 'state.json'), 'utf8').includes(encodings(keys[0].bytes)[0]))
  // The seed every key derives from: in no output but the explicit --show-seed.
  const seedLeaks = haystacks.filter((h) => h.text.includes(SEED)).map((h) => h.n)
  assert.equal(seedLeaks, [], 'the platform seed is printed only with --show-seed')
  const shown = runCommands([{id: 'module/status', argv: ['--show-seed']}, {id: 'module/status', argv: ['--json', '--show-seed']}], {stateDir: state})
  assert.ok(shown.results.every((x) => x.code === 0 && x.stdout.includes(SEED)), 'and --show-seed does print it')
})

test('a platform created on first use: its random seed is in no output (the notice says "random seed")', () => {
  const fresh = join(dir, 'auto-state')
  const r = runCommands(
    [
      {id: 'report/index', argv: ['--report-data', '01']},
      {id: 'module/status', argv: []},
      {id: 'module/status', argv: ['--json']},
      {id: 'quote/generate', argv: ['--report-data', '02', '--json']},
      {id: 'collateral/root', argv: []},
    ],
    {stateDir: fresh},
  )
  assert.ok(r.results.every((x) => x.code === 0), r.stderr)
  assert.match(r.results[0].stderr, /created default platform \(profile tdx-1\.5, random seed\)/)
  const seed = JSON.parse(readFileSync(join(fresh, 'state.json'), 'utf8')).module.seed as string
  assert.match(seed, /^[0-9a-f]{16}$/)
  const leaks = r.results.filter((x) => (x.stdout + x.stderr).toLowerCase().includes(seed.toLowerCase())).map((x) => `${x.id} ${x.argv.join(' ')}`)
  assert.equal(leaks, [])
})

test.run()
