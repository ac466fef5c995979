/**
 * `tdxkit tsm mount` end to end, the mount served by a child process and driven only from other
 * child processes (sh, Python, the CLI): quotes from an unmodified shell client verify with
 * tdxkit, @phala/dcap-qvl and Intel's QVL; a Python client written from the kernel's ABI document
 * gets 500 right quotes from 16 parallel instances; bad input gets the kernel's errnos; a killed
 * server leaves no hung client and no stale mount after `tsm unmount`. Skips (with the reason)
 * where FUSE is unavailable; fails instead under CI=true.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../src/abi/quote.js'
import {printfOctal} from '../../src/app/tsm-client.js'
import {findMount, fuseAvailability} from '../../src/app/tsm-mount-sys.js'
import {TSM_STEPS} from '../../src/demo/tsm-steps.js'
import {StateStore} from '../../src/state/store.js'
import {BIN, cli, tempDir} from '../helpers/cli.js'
import {REPO_ROOT, VECTORS_DIR} from '../helpers/vectors.js'
import {qvl} from '../host/fixtures.js'
import {fuseTest} from './tsm-helpers.js'

/** The Python clients (outside test/app so a test-path pattern never loads them as suites). */
const FIXTURES = join(REPO_ROOT, 'test/configfs-py')
const INTEL_QVL = resolve(VECTORS_DIR, '../oracles/intel-qvl/run-case.sh')
const STATE = tempDir('tdxkit-tsm-state-')
const READY_TIMEOUT_MS = 30_000
const CLIENT_TIMEOUT_MS = 120_000

interface Mount {
  dir: string
  child: ChildProcess
  ready: Record<string, unknown>
  stderr: () => string
  exited: Promise<number | null>
}

const live = new Set<Mount>()

/** Start `tsm mount DIR --json` in a child and wait for its readiness line. */
async function startMount(dir: string, args: string[] = []): Promise<Mount> {
  const child = spawn(process.execPath, [BIN, 'tsm', 'mount', dir, '--json', ...args], {env: {...process.env, TDXKIT_STATE_DIR: STATE, NO_COLOR: '1'}})
  let out = ''
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  const line = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`no readiness line within ${READY_TIMEOUT_MS} ms: ${err}`)), READY_TIMEOUT_MS)
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('\n')) (clearTimeout(timer), res(out.split('\n')[0]))
    })
    exited.then((code) => (clearTimeout(timer), rej(new Error(`tsm mount exited ${code}: ${err}`))))
  })
  const m: Mount = {dir, child, ready: JSON.parse(line), stderr: () => err, exited}
  live.add(m)
  return m
}

/** SIGTERM (or another signal) and wait; the exit code. */
async function stopMount(m: Mount, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  m.child.kill(signal)
  const code = await m.exited
  live.delete(m)
  return code
}

/** Run a child to completion (bounded): code, stdout, stderr. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeout = CLIENT_TIMEOUT_MS) {
  const r = spawnSync(cmd, args, {env: {...process.env, TDXKIT_STATE_DIR: STATE, ...env}, timeout, maxBuffer: 64 * 1024 * 1024})
  return {code: r.status, signal: r.signal, stdout: r.stdout?.toString() ?? '', stderr: r.stderr?.toString() ?? '', stdoutBuf: r.stdout}
}

/** Mount points this run made (cleaned up at the end even when a test failed). */
const made: string[] = []
const newDir = (name: string) => {
  const d = join(tempDir('tdxkit-tsm-mnt-'), name)
  made.push(d)
  return d
}
const octal = printfOctal

/** What a verifier needs for the simulated platform: collateral JSON and the root, PEM and DER. */
function simTrust(dir: string) {
  const collateral = join(dir, 'collateral.json')
  const rootPem = join(dir, 'root.pem')
  const rootDer = join(dir, 'root.der')
  for (const args of [['collateral', 'export', '-o', collateral], ['collateral', 'root', '-o', rootPem], ['collateral', 'root', '--format', 'der', '-o', rootDer]]) {
    assert.is(cli(args, {stateDir: STATE}).code, 0, args.join(' '))
  }
  return {collateral, rootPem, rootDer}
}

test.after(async () => {
  for (const m of [...live]) await stopMount(m, 'SIGKILL')
  for (const d of made) if (findMount(d)) cli(['tsm', 'unmount', d])
})

fuseTest(test, 'sh client (mkdir, printf, cat, rmdir): the quote verifies with tdxkit, dcap-qvl and Intel QVL and carries the REPORTDATA', async () => {
  const m = await startMount(newDir('sh'))
  assert.equal([m.ready.provider, m.ready.attributes, m.ready.report_root], ['tdx_guest', 'tdx', join(m.dir, 'report')])
  const work = tempDir('tdxkit-tsm-sh-')
  const nonce = createHash('sha512').update('sh client nonce').digest()
  const quoteFile = join(work, 'quote.bin')
  const script = `set -e; d="$1/sh-client"; mkdir "$d"; cat "$d/provider"; printf '${octal(nonce)}' > "$d/inblob"; cat "$d/outblob" > "$2"; cat "$d/generation"; rmdir "$d"`
  const r = run('sh', ['-c', script, 'sh', join(m.dir, 'report'), quoteFile])
  assert.is(r.code, 0, r.stderr)
  assert.is(r.stdout, 'tdx_guest\n1\n')
  const quote = readFileSync(quoteFile)
  assert.equal(parseQuote(quote).td!.report_data, nonce)
  const v = cli(['quote', 'verify', quoteFile, '--root-ca', 'sim', '--json'], {stateDir: STATE})
  assert.is(v.code, 0, v.stdout + v.stderr)
  const t = simTrust(work)
  const now = Math.floor(Date.now() / 1000)
  const q = qvl.QuoteVerifier.newWithRootCa(readFileSync(t.rootDer)).verify(quote, JSON.parse(readFileSync(t.collateral, 'utf8')), now)
  assert.is(q.status, 'UpToDate')
  if (existsSync(INTEL_QVL)) {
    const i = run(INTEL_QVL, [quoteFile, t.collateral, String(now), '--root', t.rootPem])
    assert.is(i.code, 0, i.stdout + i.stderr)
    assert.match(i.stdout, /^STATUS_OK pck=STATUS_OK tcb=STATUS_OK qe=STATUS_OK quote=STATUS_OK/)
  } else if (process.env.CI === 'true') {
    assert.unreachable(`Intel QVL oracle missing at ${INTEL_QVL}`)
  } else console.log(`  skip: Intel QVL part (no oracle at ${INTEL_QVL})`)
  assert.is(await stopMount(m), 0)
  assert.not.ok(findMount(m.dir))
})

fuseTest(test, 'Python client per the ABI document: 16 instances in parallel, 500 quotes, none mixed up, each logged and counted', async () => {
  const log = join(tempDir('tdxkit-tsm-log-'), 'tsm.log')
  const m = await startMount(newDir('py'), ['--log', log])
  const before = (cli(['module', 'status', '--json'], {stateDir: STATE}).stdout, countQuotes())
  const out = tempDir('tdxkit-tsm-py-')
  const r = run('python3', [join(FIXTURES, 'client.py'), join(m.dir, 'report'), out, '--quotes', '500', '--workers', '16'])
  assert.is(r.code, 0, r.stderr)
  const stats = JSON.parse(r.stdout)
  assert.equal(stats.errors, [])
  assert.is(stats.quotes, 500)
  const files = readdirSync(out)
  assert.is(files.length, 500)
  for (const f of files) {
    const want = createHash('sha512').update(f.replace(/\.bin$/, '')).digest()
    assert.equal(parseQuote(readFileSync(join(out, f))).td!.report_data, want, f)
  }
  assert.is(await stopMount(m), 0)
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  const logged = new Set(lines.filter((l) => l.event === 'quote').map((l) => l.report_data))
  for (const f of files) assert.ok(logged.has(createHash('sha512').update(f.replace(/\.bin$/, '')).digest('hex')), f)
  assert.ok(countQuotes() - before >= 500)
  assert.is(readdirSync(join(m.dir)).length, 0) // plain empty directory again
})

function countQuotes(): number {
  const doc = JSON.parse(readFileSync(join(STATE, 'state.json'), 'utf8')) as {alloc?: {quotes?: Record<string, number>}}
  return Object.values(doc.alloc?.quotes ?? {}).reduce((a, b) => a + b, 0)
}

fuseTest(test, 'racing clients on shared instances: the generation check and retry keep every quote right', async () => {
  const m = await startMount(newDir('race'))
  const out = tempDir('tdxkit-tsm-race-')
  const r = run('python3', [join(FIXTURES, 'client.py'), join(m.dir, 'report'), out, '--quotes', '80', '--workers', '4', '--shared', '2'])
  assert.is(r.code, 0, r.stderr)
  assert.equal(JSON.parse(r.stdout).errors, [])
  for (const f of readdirSync(out)) {
    assert.equal(parseQuote(readFileSync(join(out, f))).td!.report_data, createHash('sha512').update(f.replace(/\.bin$/, '')).digest(), f)
  }
  assert.is(await stopMount(m), 0)
})

/** Kernel errnos for each bad input (hand-derived from report.c, tdx-guest.c, configfs, VFS). */
const EXPECTED_ERRNOS = {
  mkdir: 'ok',
  mkdir_again: 'EEXIST',
  outblob_before_inblob: 'EINVAL',
  inblob_65: 'EFBIG',
  inblob_32: 'ok',
  outblob_after_32: 'EINVAL',
  write_outblob: 'EACCES',
  write_generation: 'EACCES',
  write_provider: 'EACCES',
  read_inblob: 'EACCES',
  create_file: 'EACCES',
  unlink_attr: 'EPERM',
  rename_instance: 'EPERM',
  mkdir_in_instance: 'EPERM',
  rmdir_report: 'EPERM',
  mkdir_beside_report: 'EPERM',
  rmdir_missing: 'ENOENT',
  inblob_64: 'ok',
  outblob_after_64: 'ok',
  rmdir: 'ok',
}

fuseTest(test, 'bad input gets the kernel errno (tdx_guest and all-attribute mounts); random misuse from 4 threads crashes nothing', async () => {
  const tdx = await startMount(newDir('errno-tdx'))
  const all = await startMount(newDir('errno-all'), ['--attributes', 'all', '--privlevel-floor', '1'])
  const errnos = (m: Mount) => {
    const r = run('python3', [join(FIXTURES, 'errnos.py'), join(m.dir, 'report')])
    assert.is(r.code, 0, r.stderr)
    return JSON.parse(r.stdout)
  }
  // privlevel is hidden by tdx_guest: creating it is EACCES; shown, the range is privlevel_floor..3.
  assert.equal(errnos(tdx), {...EXPECTED_ERRNOS, privlevel_7: 'EACCES', privlevel_word: 'EACCES', privlevel_2: 'EACCES', generation_at_end: '3'})
  assert.equal(errnos(all), {...EXPECTED_ERRNOS, privlevel_7: 'EINVAL', privlevel_word: 'EINVAL', privlevel_2: 'ok', generation_at_end: '4'})
  // Random misuse from 4 threads (bounded), then both still serve a good quote.
  const abuse = run('python3', [join(FIXTURES, 'abuse.py'), join(all.dir, 'report'), '200', '7'])
  assert.is(abuse.code, 0, abuse.stderr)
  const a = JSON.parse(abuse.stdout)
  assert.is(a.ops, 800)
  assert.equal(a.unexpected, [])
  for (const m of [tdx, all]) {
    const q = run(process.execPath, [BIN, 'quote', 'generate', '--provider', 'tsm', '--report-data', 'ab', '--json'], {TDXKIT_TSM_ROOT: join(m.dir, 'report')})
    assert.is(q.code, 0, q.stderr)
  }
  for (const m of [tdx, all]) assert.is(await stopMount(m), 0)
  assert.not.match(tdx.stderr() + all.stderr(), /internal_error/)
})

fuseTest(test, 'quote generate --provider tsm against the mount: verifies; simulated-path flags and privlevel on tdx_guest are usage errors', async () => {
  const m = await startMount(newDir('client'), ['--allocator', 'vmap-mapgpa', '--quote-version', '4'])
  const work = tempDir('tdxkit-tsm-client-')
  const root = join(m.dir, 'report')
  const byFlag = run(process.execPath, [BIN, 'quote', 'generate', '--provider', 'tsm', '--tsm-root', root, '--report-data', 'c0ffee', '-o', join(work, 'a.bin'), '--json'])
  assert.is(byFlag.code, 0, byFlag.stderr)
  const j = JSON.parse(byFlag.stdout)
  assert.equal([j.provider, j.tsm_provider, j.tsm_root, j.generation, j.attempts], ['tsm', 'tdx_guest', root, 1, 1])
  const byEnv = run(process.execPath, [BIN, 'quote', 'generate', '--provider', 'tsm', '--report-data', 'c0ffee', '-o', join(work, 'b.bin')], {TDXKIT_TSM_ROOT: root})
  assert.is(byEnv.code, 0, byEnv.stderr)
  for (const f of ['a.bin', 'b.bin']) {
    const quote = readFileSync(join(work, f))
    assert.is(parseQuote(quote).version, 4)
    assert.equal(parseQuote(quote).td!.report_data, Buffer.concat([Buffer.from('c0ffee', 'hex'), Buffer.alloc(61)]))
    const v = cli(['quote', 'verify', join(work, f), '--root-ca', 'sim'], {stateDir: STATE})
    assert.is(v.code, 0, v.stdout + v.stderr)
  }
  for (const [args, message] of [
    [['--allocator', 'dma-pool'], /--allocator does not apply to --provider tsm/],
    [['--trace'], /--trace does not apply to --provider tsm/],
    [['--privlevel', '1'], /--privlevel does not apply: provider tdx_guest has no privlevel attribute/],
    [['--aux-output', join(work, 'aux')], /--aux-output does not apply: provider tdx_guest/],
  ] as const) {
    const r = run(process.execPath, [BIN, 'quote', 'generate', '--provider', 'tsm', '--tsm-root', root, '--report-data', '00', ...args])
    assert.is(r.code, 2, args.join(' '))
    assert.match(r.stderr, message)
    assert.is(r.stderr.trim().split('\n').length, 1)
  }
  const sim = run(process.execPath, [BIN, 'quote', 'generate', '--report-data', '00', '--tsm-root', root])
  assert.is(sim.code, 2)
  assert.match(sim.stderr, /--tsm-root does not apply to --provider sim/)
  assert.is(await stopMount(m), 0)
})

fuseTest(test, 'server killed: a blocked client and new clients get errors, tsm unmount leaves no stale mount, the directory mounts again', async () => {
  const m = await startMount(newDir('kill'))
  const inst = join(m.dir, 'report', 'k')
  assert.is(run('sh', ['-c', `mkdir "${inst}" && printf '${octal(Buffer.alloc(64, 7))}' > "${inst}/inblob"`]).code, 0)
  m.child.kill('SIGSTOP')
  const reader = spawn('python3', ['-c', `import errno,sys\ntry:\n  open(sys.argv[1],'rb').read(); print('read')\nexcept OSError as e:\n  print(errno.errorcode[e.errno])`, join(inst, 'outblob')])
  let said = ''
  reader.stdout.on('data', (d) => (said += d))
  const readerDone = new Promise<number | null>((r) => reader.on('exit', r))
  await new Promise((r) => setTimeout(r, 500))
  assert.is(reader.exitCode, null) // blocked inside the kernel, waiting for the stopped server
  assert.is(await stopMount(m, 'SIGKILL'), null)
  const timer = setTimeout(() => reader.kill('SIGKILL'), 20_000)
  await readerDone
  clearTimeout(timer)
  assert.match(said.trim(), /^(ECONNABORTED|ENOTCONN)$/)
  const again = run('cat', [join(m.dir, 'report')], {}, 20_000)
  assert.is(again.code, 1)
  assert.match(again.stderr, /Transport endpoint is not connected/)
  const refused = run(process.execPath, [BIN, 'tsm', 'mount', m.dir])
  assert.is(refused.code, 2)
  assert.match(refused.stderr, /already a mount point .*tdxkit tsm unmount/)
  const u = run(process.execPath, [BIN, 'tsm', 'unmount', m.dir, '--json'])
  assert.is(u.code, 0, u.stderr)
  assert.is(JSON.parse(u.stdout).unmounted, true)
  assert.not.ok(findMount(m.dir))
  assert.equal(readdirSync(m.dir), [])
  const second = await startMount(m.dir)
  assert.is(await stopMount(second, 'SIGINT'), 0)
  assert.not.ok(findMount(m.dir))
})

fuseTest(test, 'tsm unmount of a live mount stops its server; mount refuses non-empty dirs; unmount refuses foreign mounts', async () => {
  const m = await startMount(newDir('live'))
  const u = run(process.execPath, [BIN, 'tsm', 'unmount', m.dir])
  assert.is(u.code, 0)
  assert.match(u.stdout, /^unmounted /)
  assert.is(await m.exited, 0)
  live.delete(m)
  assert.match(m.stderr(), /unmounted from outside; stopping/)
  const nothing = run(process.execPath, [BIN, 'tsm', 'unmount', m.dir])
  assert.is(nothing.code, 0)
  assert.match(nothing.stdout, /nothing mounted/)
  const full = newDir('full')
  mkdirSync(join(full, 'x'), {recursive: true})
  const r = run(process.execPath, [BIN, 'tsm', 'mount', full])
  assert.is(r.code, 2)
  assert.match(r.stderr, /^tdxkit: error: .* is not empty/)
  const foreign = run(process.execPath, [BIN, 'tsm', 'unmount', '/proc'])
  assert.is(foreign.code, 2)
  assert.match(foreign.stderr, /not a tdxkit configfs-tsm mount; refusing/)
})

test('demo step: mounts in-process, a shell client gets a verifying quote, unmounts (or says why FUSE is unavailable)', async () => {
  const fuse = fuseAvailability()
  const store = new StateStore(tempDir('tdxkit-tsm-demo-'))
  const r = await TSM_STEPS[0].run({store, workDir: tempDir(), bag: new Map()})
  if (!fuse.available) {
    assert.not.ok(process.env.CI === 'true', `FUSE is required under CI: ${fuse.reason}`)
    assert.equal(r.data, {skipped: true, reason: fuse.reason})
    assert.match(r.lines[0], /^skipped: FUSE is not available/)
    return
  }
  assert.is(r.data?.skipped, false)
  assert.is(r.data?.status, 'UpToDate')
  assert.equal(parseQuote(readFileSync(r.data!.quote_file as string)).td!.report_data.subarray(0, 13).toString(), 'tdxkit demo: ')
  assert.is(readFileSync('/proc/self/mountinfo', 'utf8').includes('tdxkit-demo-tsm-'), false)
})

test.run()
