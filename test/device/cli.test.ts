/** The device commands as real processes: exit codes, --json shapes, files, concurrency. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cli, cliAsync, tempDir} from '../helpers/cli.js'

const state = tempDir('tdxkit-devcli-')
const work = tempDir('tdxkit-devcli-files-')
const run = (...args: string[]) => cli(args, {stateDir: state})
const json = (r: {stdout: string}) => JSON.parse(r.stdout)

test('non-connect platform refuses with exit 7 and a one-line error', () => {
  const s = tempDir('tdxkit-devcli-15-')
  assert.is(cli(['module', 'init', '--profile', 'tdx-1.5', '--seed', 's'], {stateDir: s}).code, 0)
  const j = cli(['device', 'list', '--json'], {stateDir: s})
  assert.is(j.code, 7)
  assert.is(json(j).error.code, 'TDISP_UNSUPPORTED')
  assert.match(json(j).error.message, /module init --profile tdx-connect/)
})

test('lock → evidence → reference → verify → accept from the CLI', () => {
  assert.is(run('module', 'init', '--profile', 'tdx-connect', '--seed', 'cli').code, 0)
  const acceptEarly = run('device', 'accept', 'nic0')
  assert.is(acceptEarly.code, 7)
  assert.match(acceptEarly.stderr, /CONFIG_UNLOCKED/)
  assert.is(run('device', 'lock', 'nic0').code, 0)
  const ev = join(work, 'ev.cbor')
  const e = run('device', 'evidence', 'nic0', '--nonce', '11'.repeat(32), '-o', ev, '--json')
  assert.is(e.code, 0, e.stderr)
  assert.is(json(e).nonce, '11'.repeat(32))
  assert.is(json(e).tsm.tdi_state, 'CONFIG_LOCKED')
  assert.ok(existsSync(ev))
  const ref = join(work, 'ref.cbor')
  assert.is(run('device', 'reference', 'nic0', '-o', ref).code, 0)
  const v = cli(['device', 'verify', ev, '--reference', ref, '--nonce', '11'.repeat(32), '--json'])
  assert.is(v.code, 0, v.stdout + v.stderr)
  assert.is(json(v).status, 'verified')
  const wrongNonce = cli(['device', 'verify', ev, '--reference', ref, '--nonce', '22'.repeat(32)])
  assert.is(wrongNonce.code, 3)
  assert.match(wrongNonce.stdout, /✘ freshness/)
  const acc = run('device', 'accept', 'nic0', '--evidence', ev, '--reference', ref, '--json')
  assert.is(acc.code, 0, acc.stdout + acc.stderr)
  assert.is(json(acc).tdi_state, 'RUN')
  assert.is(run('device', 'unlock', 'nic0').code, 0)
})

test('fault knob via device add: accept refused with the verifier exit code, device stays CONFIG_LOCKED', () => {
  assert.is(run('device', 'add', '--model', 'gpu', '--id', 'badgpu', '--fault', 'firmware-swapped').code, 0)
  assert.is(run('device', 'lock', 'badgpu').code, 0)
  const r = run('device', 'accept', 'badgpu', '--json')
  assert.is(r.code, 6)
  assert.is(json(r).error.step, 'measurements')
  assert.is(json(r).error.detail.verdict.failed_steps[0], 'measurements')
})

test('bad input: unknown device, malformed evidence, bad nonce → exit 2, one line', () => {
  const garbage = join(work, 'garbage.bin')
  writeFileSync(garbage, Buffer.from([0xa1, 0x01]))
  const ref = join(work, 'ref.cbor')
  for (const r of [
    run('device', 'lock', 'nope'),
    cli(['device', 'verify', garbage, '--reference', ref]),
    run('device', 'evidence', 'gpu0', '--nonce', 'abcd'),
  ]) {
    assert.is(r.code, 2, r.stderr)
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.not.match(r.stderr, /\n\s+at /)
  }
})

test('concurrent locks of different devices lose no update', async () => {
  const ids = ['nic0', 'gpu0']
  const rs = await Promise.all(ids.map((id) => cliAsync(['device', 'lock', id], {stateDir: state})))
  for (const r of rs) assert.is(r.code, 0, r.stderr)
  const devs = json(run('device', 'list', '--json')).devices as Array<{id: string; tdi_state: string}>
  for (const id of ids) assert.is(devs.find((d) => d.id === id)!.tdi_state, 'CONFIG_LOCKED')
})

test('cxl-mem: add names it mem0 with a TSP state; reset returns a locked TDI to CONFIG_UNLOCKED', () => {
  const add = run('device', 'add', '--model', 'cxl-mem', '--json')
  assert.is(add.code, 0, add.stderr)
  assert.is(json(add).device.id, 'mem0')
  const mem = (json(run('device', 'list', '--json')).devices as Array<{id: string; cxl?: {tsp_state: string}}>).find((d) => d.id === 'mem0')!
  assert.equal(mem.cxl, {tsp_state: 'CONFIG_UNLOCKED', tsp_lock_generation: 0, te_ranges: []})
  assert.match(run('device', 'list').stdout, /mem0 .* CONFIG_UNLOCKED \(TSP CONFIG_UNLOCKED\)/)
  const r = run('device', 'reset', 'nic0', '--json')
  assert.is(r.code, 0, r.stderr)
  assert.is(json(r).from.tdi_state, 'CONFIG_LOCKED')
  assert.is(json(r).tdi_state, 'CONFIG_UNLOCKED')
  assert.match(run('device', 'reset', 'mem0').stdout, /mem0: reset: TDI CONFIG_UNLOCKED → CONFIG_UNLOCKED, CXL TSP CONFIG_UNLOCKED → CONFIG_UNLOCKED/)
  assert.is(run('device', 'reset', 'nope').code, 2)
})

test('device dma: exit 7 and one clear line before accept; after lock → verify → accept it succeeds (T=1)', () => {
  const s = tempDir('tdxkit-devcli-dma-')
  const d = (...args: string[]) => cli(args, {stateDir: s})
  assert.is(d('module', 'init', '--profile', 'tdx-connect', '--seed', 'dma').code, 0)
  const before = d('device', 'dma', 'nic0', '--gpa', '0x10000000', '--bytes', '64')
  assert.is(before.code, 7)
  assert.is(before.stderr.trim().split('\n').length, 1, before.stderr)
  assert.match(before.stderr, /IOMMU blocked nic0's DMA write of 64 bytes at private GPA 0x10000000: T=0 traffic/)
  assert.is(json(d('device', 'dma', 'nic0', '--gpa', '0x10000000', '--read', '--json')).error.code, 'DMA_BLOCKED')
  const shared = d('device', 'dma', 'nic0', '--gpa', '0x10000000', '--shared', '--json')
  assert.is(shared.code, 0, shared.stderr)
  assert.is(json(shared).tlp, 'T=0')
  assert.is(d('device', 'lock', 'nic0').code, 0)
  assert.is(d('device', 'accept', 'nic0').code, 0)
  const after = d('device', 'dma', 'nic0', '--gpa', '0x10000000', '--bytes', '64', '--json')
  assert.is(after.code, 0, after.stderr)
  assert.equal([json(after).allowed, json(after).tlp, json(after).alias, json(after).verified], [true, 'T=1', 'private', true])
  assert.match(d('device', 'dma', 'nic0', '--gpa', '0x10000000', '--data', 'cafe').stdout, /allowed \(T=1; nic0 is RUN and accepted by the TD\)[\s\S]*cafecafe/)
  assert.is(d('device', 'dma', 'nic0', '--gpa', 'zz').code, 2)
  assert.is(d('device', 'dma', 'nic0', '--gpa', '1', '--read', '--write').code, 2)
})

test.run()
