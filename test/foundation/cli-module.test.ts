/** CLI: module init / status / reset, determinism across state dirs, sysinfo, state errors. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cli, tempDir} from '../helpers/cli.js'

const json = (stdout: string) => JSON.parse(stdout)

test('module init --seed 7 in two fresh dirs → byte-identical TDREPORTs; seed 8 differs', () => {
  const dirs = [tempDir(), tempDir(), tempDir()]
  const seeds = ['7', '7', '8']
  dirs.forEach((d, i) => assert.is(cli(['module', 'init', '--seed', seeds[i]], {stateDir: d}).code, 0))
  const reports = dirs.map((d) => {
    const r = cli(['report', '--report-data', 'cafe', '--format', 'bin'], {stateDir: d})
    assert.is(r.code, 0, r.stderr)
    return r.stdoutBuf
  })
  assert.is(reports[0].length, 1024)
  assert.ok(reports[0].equals(reports[1]), 'same seed, same bytes')
  assert.not.ok(reports[0].equals(reports[2]), 'different seed differs')
})

test('module init refuses to overwrite without --force (exit 2); --force replaces; status; reset', () => {
  const d = tempDir()
  assert.is(cli(['module', 'init', '--seed', 'a'], {stateDir: d}).code, 0)
  const again = cli(['module', 'init', '--seed', 'b'], {stateDir: d})
  assert.is(again.code, 2)
  assert.match(again.stderr, /already exists.*--force/)
  const forced = cli(['module', 'init', '--seed', 'b', '--profile', 'tdx-1.0', '--force', '--json'], {stateDir: d})
  assert.is(forced.code, 0, forced.stderr)
  assert.not.ok('seed' in json(forced.stdout), 'module init prints the seed only with --show-seed')
  assert.not.ok('seed' in json(cli(['module', 'status', '--json'], {stateDir: d}).stdout), 'module status prints the seed only with --show-seed')
  assert.not.match(cli(['module', 'status'], {stateDir: d}).stdout, /\bseed\b/)
  const st = json(cli(['module', 'status', '--json', '--show-seed'], {stateDir: d}).stdout)
  assert.is(st.exists, true)
  assert.is(st.profile, 'tdx-1.0')
  assert.is(st.seed, 'b')
  assert.is(st.quote_version, 4)
  assert.is(st.module_version, '1.0.03')
  const reset = json(cli(['module', 'reset', '--json'], {stateDir: d}).stdout)
  assert.is(reset.removed, true)
  assert.is(json(cli(['module', 'status', '--json'], {stateDir: d}).stdout).exists, false)
})

test('sysinfo: auto-creates the default platform (stderr notice), rd vs rdall, JSON names', () => {
  const d = tempDir()
  const r = cli(['sysinfo', '--json'], {stateDir: d})
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stderr, /created default platform \(profile tdx-1\.5, random seed\) in /)
  const seed = json(cli(['module', 'status', '--json', '--show-seed'], {stateDir: d}).stdout).seed as string
  assert.match(seed, /^[0-9a-f]{16}$/)
  assert.not.ok(r.stderr.includes(seed), 'the auto-created seed is not printed')
  const j = json(r.stdout)
  assert.is(j.method, 'rd')
  assert.is(j.seamcalls, 62)
  assert.is(j.version.major_version, 1)
  // Issue 16: MAX_VCPUS_PER_TD is mandatory for Linux v6.16+ and present in the 1.5 profile.
  assert.is(j.td_conf.max_vcpus_per_td, 576)
  assert.equal(j.absent, [])
  const all = cli(['sysinfo', '--method', 'rdall', '--json'], {stateDir: d})
  assert.is(all.stderr, '', 'no second creation notice')
  assert.is(json(all.stdout).seamcalls, 1)
  const text = cli(['sysinfo'], {stateDir: d})
  assert.match(text.stdout, /max_vcpus_per_td\s+576/)
  assert.match(text.stdout, /62 SEAMCALLs/)
})

test('sysinfo on a module without NO_RBP_MOD → exit 7 with a clear error (also under --json)', () => {
  const d = tempDir()
  assert.is(cli(['module', 'init', '--features0', '0x3d'], {stateDir: d}).code, 0)
  const r = cli(['sysinfo'], {stateDir: d})
  assert.is(r.code, 7)
  assert.match(r.stderr, /NO_RBP_MOD/)
  assert.not.match(r.stderr, /\n.+\n/, 'one line')
  const j = cli(['sysinfo', '--json'], {stateDir: d})
  assert.is(j.code, 7)
  assert.is(json(j.stdout).error.code, 'NO_RBP_MOD')
})

test('corrupt state, newer schema, malformed platform section → exit 2 naming the file and the fix', () => {
  const d = tempDir()
  writeFileSync(join(d, 'state.json'), '{not json')
  let r = cli(['report'], {stateDir: d})
  assert.is(r.code, 2)
  assert.match(r.stderr, /state\.json is corrupt.*module (reset|init --force)/)
  writeFileSync(join(d, 'state.json'), JSON.stringify({schema_version: 99}))
  r = cli(['rtmr', 'show', '--json'], {stateDir: d})
  assert.is(r.code, 2)
  assert.is(json(r.stdout).error.code, 'STATE_TOO_NEW')
  const good = tempDir()
  assert.is(cli(['module', 'init', '--seed', 'x'], {stateDir: good}).code, 0)
  const doc = JSON.parse(readFileSync(join(good, 'state.json'), 'utf8'))
  doc.td.rtmr = ['zz']
  writeFileSync(join(good, 'state.json'), JSON.stringify(doc))
  r = cli(['rtmr', 'show'], {stateDir: good})
  assert.is(r.code, 2)
  assert.match(r.stderr, /corrupt \(td\.rtmr/)
  // module reset recovers
  assert.is(cli(['module', 'reset'], {stateDir: d}).code, 0)
  assert.is(cli(['module', 'init'], {stateDir: d}).code, 0)
})

test.run()
