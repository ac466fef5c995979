/**
 * The CLI contract of `quote generate`, `ghci info` and `ghci call`: outputs, --json shapes, the
 * trace, and the documented exit codes (0 ok, 2 bad input, 7 refused by the simulated hardware /
 * host). Independent invocations run in parallel to keep the file fast.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../src/abi/quote.js'
import {cliAsync, tempDir} from '../helpers/cli.js'

const run = (args: string[], env?: NodeJS.ProcessEnv) => cliAsync(args, {stateDir: tempDir(), env})

test('quote generate / ghci: outputs and exit codes', async () => {
  const out = join(tempDir(), 'q.bin')
  const [traced, down, tsm, info, privGpa] = await Promise.all([
    run(['quote', 'generate', '--report-data', '0011', '--allocator', 'vmap-mapgpa', '--trace', '-o', out]),
    run(['quote', 'generate', '--report-data', '00', '--qgs', 'down', '--json']),
    run(['quote', 'generate', '--report-data', '00', '--provider', 'tsm'], {TDXKIT_TSM_ROOT: join(tempDir(), 'no-configfs')}),
    run(['ghci', 'info', '--json']),
    run(['ghci', 'call', 'GetQuote', '--r12', '0x1000000', '--r13', '0x2000', '--json']),
  ])
  assert.is(traced.code, 0, traced.stderr)
  for (const s of ['TDG.MR.REPORT', 'MapGPA  → TDVMCALL_STATUS_SUCCESS', 'GetQuote  → TDVMCALL_STATUS_SUCCESS', 'TDG.MEM.PAGE.ACCEPT', 'KVM_HC_MAP_GPA_RANGE', 'quote v5']) {
    assert.ok(traced.stdout.includes(s), `trace lacks ${s}`)
  }
  const q = parseQuote(readFileSync(out))
  assert.is(q.td!.report_data.toString('hex'), '0011' + '00'.repeat(62))

  assert.is(down.code, 7)
  assert.is(JSON.parse(down.stdout).error.code, 'QGS_UNAVAILABLE')
  assert.is(tsm.code, 2)
  assert.match(tsm.stderr, /configfs-tsm is not available/)
  assert.is(info.code, 0)
  const i = JSON.parse(info.stdout)
  assert.is(i.leaf0.base_ghci, true)
  assert.is(i.leaf1.setup_event_notify_interrupt, true)
  assert.is(privGpa.code, 7)
  const e = JSON.parse(privGpa.stdout).error
  assert.is(e.detail.r10_name, 'TDVMCALL_STATUS_INVALID_OPERAND')
  for (const r of [down, tsm, privGpa]) assert.not.match(r.stderr, /\n\s+at /) // no stack traces
})

test('preshared-pool (default, formerly dma-pool) state persists: the second run reuses the pool and does one TDVMCALL; hex on stdout', async () => {
  const dir = tempDir()
  const first = await cliAsync(['quote', 'generate', '--report-data', 'aa', '--json'], {stateDir: dir})
  assert.is(first.code, 0, first.stderr)
  const a = JSON.parse(first.stdout)
  assert.is(a.allocator, 'preshared-pool') // issue 16: dma-pool renamed for what it is (the old name is an alias)
  assert.is(a.pool.restored, false)
  assert.is(a.run_counters.mapgpa_calls, 1)
  const [second, hex] = await Promise.all([
    cliAsync(['quote', 'generate', '--report-data', 'bb', '--json', '--notify'], {stateDir: dir}),
    cliAsync(['quote', 'generate', '--report-data', 'cc'], {stateDir: dir}),
  ])
  assert.is(second.code, 0, second.stderr)
  const b = JSON.parse(second.stdout)
  assert.is(b.pool.restored, true)
  assert.is(b.run_counters.mapgpa_calls, 0)
  assert.is(b.counters.getquote_calls, 1)
  assert.is(b.counters.notifies, 1)
  assert.is(parseQuote(Buffer.from(b.quote, 'hex')).td!.report_data[0], 0xbb)
  assert.is(hex.code, 0, hex.stderr)
  assert.is(parseQuote(Buffer.from(hex.stdout.trim(), 'hex')).td!.report_data[0], 0xcc)
  assert.match(hex.stderr, /reused from an earlier run/)
})

test.run()
