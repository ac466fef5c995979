/** `tdxkit alloc compare` as a real process: JSON shape, sweep + chart, bad input → exit 2. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {cli, tempDir} from '../helpers/cli.js'

const state = tempDir()

test('alloc compare --json: every figure, reference-sized overhead, winners', () => {
  const r = cli(['alloc', 'compare', '--requests', '50', '--vcpus', '32', '--json'], {stateDir: state})
  assert.is(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  const A = j.results.vmap_mapgpa
  const B = j.results.preshared_pool // issue 16: dma-pool is now preshared-pool
  assert.ok(Math.abs(A.overhead_us.total - 94) / 94 < 0.1, String(A.overhead_us.total))
  assert.is(A.per_request.forced_exits, 93)
  assert.is(B.per_request.pages_converted, 0)
  assert.is(j.pages_per_buffer, 2)
  const row = j.rows.find((x: {id: string}) => x.id === 'forced_exits')
  assert.ok(['preshared-pool', 'swiotlb', 'upstream', 'tie'].includes(row.winner), row.winner)
  assert.is(row.vmap_mapgpa, 93)
  assert.is(row.preshared_pool, 0)
  assert.ok(Array.isArray(j.reading) && j.reading.length >= 4)
  assert.ok(j.profile.primitives.some((p: {key: string; kind: string}) => p.key === 't_kick' && p.kind === 'measured'))
})

test('sweep with a chart: one point per value, SVG written', () => {
  const svg = join(state, 'alloc.svg')
  const r = cli(['alloc', 'compare', '--requests', '20', '--sweep', 'vcpus=8,248', '--chart', svg, '--json'], {stateDir: state})
  assert.is(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.equal(j.sweep.points.map((p: {x: number}) => p.x), [8, 248])
  assert.ok(j.sweep.points[1].results.vmap_mapgpa.overhead_us.total > j.sweep.points[0].results.vmap_mapgpa.overhead_us.total)
  assert.ok(existsSync(svg))
  const text = readFileSync(svg, 'utf8')
  assert.match(text, /<svg /)
  // issue 16: five panels (latency, allocator time, forced exits, direct-map splits, pool exhaustion) × five strategies
  assert.is((text.match(/<polyline /g) ?? []).length, 25)
})

test('bad input: clear one-line errors and exit 2 (text and --json)', () => {
  const bad = join(state, 'bad-profile.json')
  writeFileSync(bad, '{"primitives": {"t_call": "quick"}}')
  // (every rule is covered in-process by workload/profiles tests; here: the CLI mapping of each family)
  for (const args of [['--size', '0'], ['--profile', bad]]) {
    const r = cli(['alloc', 'compare', ...args], {stateDir: state})
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, /^tdxkit: error: /)
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.not.match(r.stderr, /\n\s+at /)
  }
  const j = cli(['alloc', 'compare', '--pool-size', '4KiB', '--json'], {stateDir: state})
  assert.is(j.code, 2)
  assert.is(JSON.parse(j.stdout).error.exit_code, 2)
})

test.run()
