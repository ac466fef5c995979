/**
 * Every file a command reads goes through the one bounded reader (src/app/files.ts): for each flag
 * and argument naming a file, /dev/zero, a FIFO that never ends (a writer pouring data), a FIFO
 * whose writer stays silent and a 2 GB file are each refused with exit 2 and one line (not a hang,
 * not memory growth, not Node's ERR_FS_FILE_TOO_LARGE). The commands run in one child process
 * from the sources; a hang would trip the runner's time guard (a failure, not a timing assertion).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawn, spawnSync} from 'node:child_process'
import {closeSync, constants as fsConstants, ftruncateSync, openSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tempDir} from '../helpers/cli.js'
import {runCommands} from '../safety/helpers.js'

const dir = tempDir('tdxkit-inputs-')
const state = join(dir, 'state')
const f = (name: string) => join(dir, name)
const SEED = 'bounded-inputs'

/** Each input that names a file: command id and argv with FILE where the file goes. */
const INPUTS: Array<[string, string[]]> = [
  ['quote/verify', ['FILE', '--signatures-only']],
  ['quote/verify', [f('q.bin'), '--root-ca', 'FILE']],
  ['quote/verify', [f('q.bin'), '--collateral', 'FILE']],
  ['quote/verify', [f('q.bin'), '--signatures-only', '--policy', 'FILE']],
  ['quote/verify', [f('q.bin'), '--signatures-only', '--eventlog', 'FILE']],
  ['quote/verify', [f('q.bin'), '--signatures-only', '--eventlog', f('ccel.bin'), '--eventlog-table', 'FILE']],
  ['quote/show', ['FILE']],
  ['quote/generate', ['--tdreport', 'FILE']],
  ['report/show', ['FILE']],
  ['policy/draft', ['FILE']],
  ['rtmr/extend', ['--index', '2', '--data', 'FILE']],
  ['eventlog/show', ['FILE']],
  ['eventlog/show', [f('ccel.bin'), '--table', 'FILE']],
  ['eventlog/replay', ['FILE']],
  ['eventlog/replay', [f('ccel.bin'), '--quote', 'FILE']],
  ['device/verify', ['FILE', '--reference', f('ref.cbor')]],
  ['device/verify', [f('ev.cbor'), '--reference', 'FILE']],
  ['device/verify', [f('ev.cbor'), '--reference', f('ref.cbor'), '--reference-key', 'FILE']],
  ['device/verify', [f('ev.cbor'), '--reference', f('ref.cbor'), '--trust-anchor', 'FILE']],
  ['device/verify', [f('ev.cbor'), '--reference', f('ref.cbor'), '--policy', 'FILE']],
  ['device/accept', ['nic0', '--trust-anchor', 'FILE']],
  ['device/accept', ['nic0', '--policy', 'FILE']],
  ['device/accept', ['nic0', '--reference', 'FILE']],
  ['device/accept', ['nic0', '--evidence', 'FILE', '--reference', f('ref.cbor')]],
  ['device/serve', ['nic0', '--port', '0', '--identity', 'FILE', '--identity-key', f('ref.cbor')]],
  ['device/serve', ['nic0', '--port', '0', '--identity', f('root.pem'), '--identity-key', 'FILE']],
  ['alloc/compare', ['--requests', '5', '--profile', 'FILE']],
]

const mkfifo = (path: string) => assert.is(spawnSync('mkfifo', [path]).status, 0)

function sparse(path: string, bytes: number): string {
  const fd = openSync(path, 'w')
  ftruncateSync(fd, bytes)
  closeSync(fd)
  return path
}

/** A writer that pours zeros into each FIFO in turn until its reader goes away. */
function pour(fifos: string[]) {
  const script = `const fs=require('fs');const b=Buffer.alloc(1<<16);for(const p of JSON.parse(process.argv[1])){const fd=fs.openSync(p,'w');try{for(;;)fs.writeSync(fd,b)}catch{}try{fs.closeSync(fd)}catch{}}`
  return spawn(process.execPath, ['-e', script, JSON.stringify(fifos)], {stdio: 'ignore'})
}

test('setup: a TDX Connect platform with a quote, an event log, device evidence and reference values', () => {
  const r = runCommands(
    [
      {id: 'module/init', argv: ['--profile', 'tdx-connect', '--seed', SEED]},
      {id: 'quote/generate', argv: ['--report-data', '00', '-o', f('q.bin')]},
      {id: 'eventlog/export', argv: ['-o', f('ccel.bin')]},
      {id: 'device/lock', argv: ['nic0']},
      {id: 'device/evidence', argv: ['nic0', '-o', f('ev.cbor')]},
      {id: 'device/reference', argv: ['nic0', '-o', f('ref.cbor')]},
      {id: 'collateral/root', argv: ['-o', f('root.pem')]},
    ],
    {stateDir: state},
  )
  assert.equal(r.results.map((x) => [x.id, x.code]), r.results.map((x) => [x.id, 0]), r.results.map((x) => x.stderr).join(''))
})

test('every file input refuses /dev/zero, an endless FIFO, a silent FIFO and a 2 GB file: exit 2, one line', () => {
  const big = sparse(f('two-gb.bin'), 2 * 2 ** 30)
  const silent = f('silent.fifo')
  mkfifo(silent)
  const silentWriter = openSync(silent, fsConstants.O_RDWR) // a writer that never writes
  const endless = INPUTS.map((_, i) => f(`endless-${i}.fifo`))
  for (const p of endless) mkfifo(p)
  const writer = pour(endless)
  const plan: Array<{id: string; argv: string[]; source: string; flag: string}> = []
  INPUTS.forEach(([id, argv], i) => {
    const flag = `${id} ${argv[argv.indexOf('FILE') - 1]?.startsWith('--') ? argv[argv.indexOf('FILE') - 1] : 'FILE'}`
    for (const [source, path] of [['/dev/zero', '/dev/zero'], ['endless FIFO', endless[i]], ['silent FIFO', silent], ['2 GB file', big]]) {
      plan.push({id, argv: argv.map((a) => (a === 'FILE' ? path : a)), source, flag})
    }
  })
  let r
  try {
    r = runCommands(plan, {stateDir: state, timeoutMs: 300_000, env: {TDXKIT_INPUT_IDLE_MS: '300'}})
  } finally {
    writer.kill()
    closeSync(silentWriter)
  }
  assert.is(r.status, 0, `runner did not finish (a hang?): ${r.stderr.slice(-500)}`)
  const bad: string[] = []
  r.results.forEach((x, i) => {
    const {flag, source} = plan[i]
    // quote verify reports each quote file on its own line of its per-file report (stdout), like any other bad quote.
    const perFile = flag === 'quote/verify FILE'
    const lines = (perFile ? x.stdout.split('\n').filter((l) => l.includes('✘')) : x.stderr.split('\n')).filter(Boolean)
    const ok = x.code === 2 && lines.length === 1 && (perFile || /^tdxkit: error: /.test(lines[0])) && !/ERR_FS_FILE_TOO_LARGE|internal error/.test(x.stdout + x.stderr)
    const expected = source === 'silent FIFO' ? /gave no data for 0\.3 s/ : /larger than \d+ bytes/
    if (!ok || !expected.test(lines[0] ?? '')) bad.push(`${flag} ← ${source}: exit ${x.code}: ${x.stderr.trim().slice(0, 200)}`)
  })
  console.log(`  bounded inputs: ${INPUTS.length} file inputs × 4 sources, ${r.results.length - bad.length} refused as expected`)
  assert.equal(bad, [])
})

test('the same refusal under --json is the {"error"} object with the reader\'s code', () => {
  const r = runCommands([{id: 'quote/verify', argv: [f('q.bin'), '--root-ca', '/dev/zero', '--json']}], {stateDir: state, timeoutMs: 120_000})
  const x = r.results[0]
  assert.is(x.code, 2)
  assert.is(JSON.parse(x.stdout).error.code, 'INPUT_TOO_LARGE')
})

test('a cost profile, policy and collateral file: invalid UTF-8 is BAD_ENCODING; a UTF-8 BOM is accepted', () => {
  const policy = f('bom-policy.json')
  writeFileSync(policy, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"allow_debug": false}\n')]))
  const latin1 = f('latin1-policy.json')
  writeFileSync(latin1, Buffer.concat([Buffer.from('{"comment": "caf'), Buffer.from([0xe9]), Buffer.from('", "allow_debug": false}\n')]))
  const r = runCommands(
    [
      {id: 'quote/verify', argv: [f('q.bin'), '--root-ca', 'sim', '--policy', policy]},
      {id: 'quote/verify', argv: [f('q.bin'), '--root-ca', 'sim', '--policy', latin1]},
      {id: 'quote/verify', argv: [f('q.bin'), '--root-ca', 'sim', '--collateral', latin1]},
      {id: 'alloc/compare', argv: ['--requests', '5', '--profile', latin1]},
    ],
    {stateDir: state, timeoutMs: 120_000},
  )
  const [bom, bad, badCollateral, badProfile] = r.results
  assert.is(bom.code, 0, bom.stderr)
  for (const x of [bad, badCollateral, badProfile]) {
    assert.is(x.code, 2, x.stderr)
    assert.match(x.stderr, /^tdxkit: error: .* is not UTF-8 text \(invalid byte sequence at offset 16\)\n$/)
  }
})

test.run()
