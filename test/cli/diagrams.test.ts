/**
 * The SVG pictures: `quote generate --trace-svg` (the trace as a sequence diagram guest → module →
 * GHCI → VMM → QGS → QE and back) and the guides' figures, which are generated from the code
 * (scripts/doc-figures.ts) and must match the committed files. The TDISP state machine the figure
 * shows is found by driving the device model; here it is checked against the transition table of
 * shared/reference/device-evidence.md §1.4 (DMTF spdm-emu's TDISP device library, libspdm's
 * pci_tdisp.h), written out by hand.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {FIGURES_DIR, figures, tdispTransitions} from '../../scripts/doc-figures.js'
import {traceSteps, TRACE_PARTICIPANTS} from '../../src/cli/trace-svg.js'
import {cli, tempDir} from '../helpers/cli.js'

/** Well-formed enough for any SVG reader: one root, balanced text elements, escaped ampersands. */
function assertSvg(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="[\d.]+" height="[\d.]+"/)
  assert.is(svg.match(/<svg\b/g)?.length, 1)
  assert.is(svg.trimEnd().endsWith('</svg>'), true)
  assert.is(svg.match(/<text\b/g)?.length, svg.match(/<\/text>/g)?.length)
  assert.not.match(svg, /&(?!amp;|lt;|gt;|quot;|apos;)/)
  assert.not.match(svg, /<script|href="http/)
}

test('the TDISP transitions found in the device model are exactly the state diagram\'s', () => {
  const edges = tdispTransitions().map((t) => `${t.from} → ${t.to}: ${t.label.join(' ')}`).sort()
  assert.equal(edges, [
    'CONFIG_LOCKED → CONFIG_LOCKED: GET_DEVICE_INTERFACE_REPORT',
    'CONFIG_LOCKED → CONFIG_UNLOCKED: STOP_INTERFACE',
    'CONFIG_LOCKED → ERROR: host clears Bus Master Enable',
    'CONFIG_LOCKED → RUN: START_INTERFACE (LOCK nonce)',
    'CONFIG_UNLOCKED → CONFIG_LOCKED: LOCK_INTERFACE',
    'ERROR → CONFIG_UNLOCKED: STOP_INTERFACE',
    'RUN → CONFIG_UNLOCKED: STOP_INTERFACE',
    'RUN → ERROR: host clears Bus Master Enable',
    'RUN → RUN: GET_DEVICE_INTERFACE_REPORT',
  ])
})

test('the committed figures in docs/guide are what the code draws now', async () => {
  for (const [name, svg] of Object.entries(await figures())) {
    assertSvg(svg)
    assert.is(readFileSync(join(FIGURES_DIR, name), 'utf8'), svg, `docs/guide/${name} is stale: run node --import tsx scripts/doc-figures.ts`)
  }
  const guide = readFileSync(join(FIGURES_DIR, 'device.md'), 'utf8')
  assert.match(guide, /!\[[^\]]+\]\(tdisp-states\.svg\)/)
  assert.match(readFileSync(join(FIGURES_DIR, 'guest.md'), 'utf8'), /!\[[^\]]+\]\(quote-trace\.svg\)/)
})

test('trace steps: a TDVMCALL goes guest → module → GHCI → VMM and R10 comes back; the quote service reaches the QE', () => {
  assert.equal([...TRACE_PARTICIPANTS], ['guest (TD)', 'TDX module', 'GHCI', 'VMM (host)', 'QGS', 'QE'])
  const vmcall = traceSteps({seq: 1, kind: 'tdvmcall', layer: 'tdvmcall', name: 'GetQuote', status: 0n, status_name: 'TDVMCALL_STATUS_SUCCESS'})
  assert.equal(vmcall.map((s) => `${s.kind} ${s.from} > ${s.to}: ${s.label}`), [
    'call guest (TD) > TDX module: TDG.VP.VMCALL',
    'call TDX module > GHCI: GetQuote',
    'call GHCI > VMM (host): GetQuote',
    'return VMM (host) > guest (TD): R10 = TDVMCALL_STATUS_SUCCESS',
  ])
  const service = traceSteps({seq: 2, kind: 'quote_service', layer: 'host', name: 'QGS → QE quoteTdReport', count: 5250, status: 0n, status_name: 'GET_QUOTE_SUCCESS'})
  assert.equal(service.filter((s) => s.kind !== 'note').map((s) => `${s.from} > ${s.to}`), ['VMM (host) > QGS', 'QGS > QE', 'QE > QGS', 'QGS > VMM (host)'])
  const refused = traceSteps({seq: 3, kind: 'tdcall', layer: 'tdcall', name: 'TDG.MEM.PAGE.ACCEPT', status: 0xc0000b0a00000000n, status_name: 'TDX_PAGE_ALREADY_ACCEPTED'})
  assert.is(refused[1].alarm, true)
})

test('CLI: quote generate --trace-svg FILE draws the request; -o DIR style errors and --provider tsm refuse it', () => {
  const state = tempDir()
  const svgFile = join(state, 'trace.svg')
  const r = cli(['quote', 'generate', '--report-data', '00', '--allocator', 'vmap-mapgpa', '--trace-svg', svgFile, '-o', join(state, 'q.bin'), '--json'], {stateDir: state})
  assert.is(r.code, 0, r.stderr)
  assert.is(JSON.parse(r.stdout).trace_svg, svgFile)
  const svg = readFileSync(svgFile, 'utf8')
  assertSvg(svg)
  for (const label of ['TDCALL TDG.MR.REPORT', 'TDG.VP.VMCALL', 'MapGPA', 'GetQuote', 'quoteTdReport', 'TDCALL TDG.MEM.PAGE.ACCEPT', 'GET_QUOTE_SUCCESS']) assert.ok(svg.includes(`>${label}<`), label)
  const toStdout = cli(['quote', 'generate', '--report-data', '00', '--trace-svg', '-', '-o', join(state, 'q.bin')], {stateDir: state})
  assert.is(toStdout.code, 0, toStdout.stderr)
  assertSvg(toStdout.stdout)
  assert.match(toStdout.stderr, /^quote v5, \d+ bytes via [a-z-]+ \(poll\)/m)
  const dir = cli(['quote', 'generate', '--report-data', '00', '--trace-svg', state], {stateDir: state})
  assert.is(dir.code, 2)
  assert.match(dir.stderr, /^tdxkit: error: cannot write .* \(--trace-svg\): it is a directory/)
  const tsm = cli(['quote', 'generate', '--report-data', '00', '--provider', 'tsm', '--trace-svg', svgFile], {stateDir: state})
  assert.is(tsm.code, 2)
  assert.match(tsm.stderr, /--trace-svg does not apply to --provider tsm/)
})

test.run()
