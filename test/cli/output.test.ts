/**
 * THE output writer (src/cli/output.ts over src/app/files.ts), for every command flag that writes a
 * file: a directory is a one-line usage error (exit 2, was exit 1 EISDIR in several), a missing
 * parent is a usage error and is never created (was created, even at /), `-` is stdout with the
 * human summary on stderr (was a file named "-"), and the check comes before any state change.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir} from '../helpers/cli.js'
import {runCommands} from '../safety/helpers.js'

const dir = tempDir('tdxkit-output-')
const state = join(dir, 'state')
const f = (name: string) => join(dir, name)

/** Every output flag: command id, argv with OUT where the path goes, and whether `-o -` can run here. */
const OUTPUTS: Array<{id: string; argv: string[]; stdout: boolean; same?: boolean}> = [
  {id: 'report/index', argv: ['--report-data', '00', '-o', 'OUT'], stdout: true, same: true},
  {id: 'quote/generate', argv: ['--report-data', '00', '-o', 'OUT'], stdout: true},
  {id: 'policy/draft', argv: [f('q.bin'), '-o', 'OUT'], stdout: true, same: true},
  {id: 'eventlog/export', argv: ['-o', 'OUT'], stdout: true, same: true},
  {id: 'collateral/export', argv: ['-o', 'OUT'], stdout: true, same: true},
  {id: 'collateral/root', argv: ['-o', 'OUT'], stdout: true, same: true},
  {id: 'collateral/root', argv: ['--format', 'der', '-o', 'OUT'], stdout: true, same: true},
  {id: 'alloc/compare', argv: ['--requests', '5', '--sweep', 'vcpus=8,32', '--chart', 'OUT'], stdout: true, same: true},
  {id: 'device/evidence', argv: ['nic0', '--nonce', '11'.repeat(32), '-o', 'OUT'], stdout: true},
  {id: 'device/reference', argv: ['nic0', '-o', 'OUT'], stdout: true, same: true},
  {id: 'device/reference', argv: ['nic0', '--sign', '-o', f('ref-signed.cbor'), '--signer-key-out', 'OUT'], stdout: true, same: true},
  {id: 'device/attest', argv: ['--connect', '127.0.0.1:9', '-o', 'OUT'], stdout: false},
]

const label = (o: (typeof OUTPUTS)[number]) => `${o.id} ${o.argv[o.argv.indexOf('OUT') - 1]}`
const withOut = (argv: string[], path: string) => argv.map((a) => (a === 'OUT' ? path : a))

test('setup: a TDX Connect platform with a quote and a locked device', () => {
  const r = runCommands(
    [
      {id: 'module/init', argv: ['--profile', 'tdx-connect', '--seed', 'output-writer']},
      {id: 'quote/generate', argv: ['--report-data', '00', '-o', f('q.bin')]},
      {id: 'device/lock', argv: ['nic0']},
    ],
    {stateDir: state},
  )
  assert.equal(r.results.map((x) => x.code), [0, 0, 0], r.results.map((x) => x.stderr).join(''))
})

test('-o DIR: exit 2, one line (text) or {"error": UNWRITABLE_OUTPUT} (--json), state untouched', () => {
  const before = readFileSync(join(state, 'state.json'))
  const plan = OUTPUTS.flatMap((o) => [
    {id: o.id, argv: withOut(o.argv, dir)},
    {id: o.id, argv: [...withOut(o.argv, dir), '--json']},
  ])
  const r = runCommands(plan, {stateDir: state, timeoutMs: 300_000})
  const bad: string[] = []
  OUTPUTS.forEach((o, i) => {
    const [text, json] = [r.results[2 * i], r.results[2 * i + 1]]
    if (text.code !== 2 || !/^tdxkit: error: cannot write .* it is a directory; name a file in it\n$/.test(text.stderr)) bad.push(`${label(o)}: ${text.code} ${text.stderr}`)
    let code: string | undefined
    try {
      code = JSON.parse(json.stdout).error.code
    } catch {}
    if (json.code !== 2 || code !== 'UNWRITABLE_OUTPUT') bad.push(`${label(o)} --json: ${json.code} ${json.stdout.slice(0, 200)}`)
  })
  assert.equal(bad, [])
  assert.equal(readFileSync(join(state, 'state.json')), before, 'refused before any state change')
})

test('-o MISSING/DIR/x: exit 2 naming the missing directory, which is not created', () => {
  const plan = OUTPUTS.map((o, i) => ({id: o.id, argv: withOut(o.argv, join(dir, `missing-${i}`, 'sub', 'x.out'))}))
  const r = runCommands(plan, {stateDir: state, timeoutMs: 300_000})
  const bad: string[] = []
  OUTPUTS.forEach((o, i) => {
    const x = r.results[i]
    if (x.code !== 2 || !/^tdxkit: error: cannot write .*x\.out \(--[a-z-]+\): directory .*sub does not exist \(tdxkit does not create it\)\n$/.test(x.stderr)) bad.push(`${label(o)}: ${x.code} ${x.stderr}`)
  })
  assert.equal(bad, [])
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('missing-')), [], 'no parent directory was created')
})

test('-o -: the data on stdout (what -o FILE writes), the human summary on stderr, no file named "-"', () => {
  const runnable = OUTPUTS.filter((o) => o.stdout)
  const plan = runnable.flatMap((o, i) => [
    {id: o.id, argv: withOut(o.argv, f(`out-${i}`))},
    {id: o.id, argv: withOut(o.argv, '-')},
  ])
  const r = runCommands(plan, {stateDir: state, timeoutMs: 300_000})
  const bad: string[] = []
  runnable.forEach((o, i) => {
    const [file, dash] = [r.results[2 * i], r.results[2 * i + 1]]
    if (file.code !== 0 || dash.code !== 0) return void bad.push(`${label(o)}: exit ${file.code} / ${dash.code}: ${file.stderr}${dash.stderr}`)
    const written = readFileSync(f(`out-${i}`))
    const stdout = Buffer.from(dash.stdout, 'latin1')
    if (o.same ? !stdout.equals(written) : stdout.length !== written.length) bad.push(`${label(o)}: stdout (${stdout.length} bytes) is not what -o FILE wrote (${written.length} bytes)`)
    if (file.stdout.length > 0 && dash.stderr.length === 0) bad.push(`${label(o)}: the summary did not move to stderr`)
  })
  assert.equal(bad, [])
  assert.not.ok(existsSync(join(process.cwd(), '-')), 'no file named "-"')
})

test('-o - with --json, or two outputs on stdout: a usage error', () => {
  const r = runCommands(
    [
      {id: 'report/index', argv: ['-o', '-', '--json']},
      {id: 'device/reference', argv: ['nic0', '--sign', '--signer-key-out', '-']},
      {id: 'device/reference', argv: ['nic0', '--sign', '-o', '-', '--signer-key-out', '-']},
    ],
    {stateDir: state},
  )
  assert.is(JSON.parse(r.results[0].stdout).error.code, 'UNWRITABLE_OUTPUT')
  assert.is(r.results[0].code, 2)
  for (const x of r.results.slice(1)) {
    assert.is(x.code, 2, x.stderr)
    assert.match(x.stderr, /^tdxkit: error: --signer-key-out -: stdout already carries the CoRIM; name a file\n$/)
  }
})

test.run()
