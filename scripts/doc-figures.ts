// The guides' figures, generated from the code so they cannot drift (test/cli/diagrams.test.ts
// checks the committed files): `node --import tsx scripts/doc-figures.ts` rewrites
//   docs/guide/tdisp-states.svg  the TDISP TDI state machine, found by driving the device model
//   docs/guide/quote-trace.svg   one `quote generate --trace-svg` (vmap-mapgpa, poll, seed 'docs')
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {TDISP_GET_REPORT, TDISP_LOCK_REQUEST, TDISP_NONCE_MSG, TDI_STATE_NAMES, TdispRequest, TdispResponse, tdispHeader, type TdiStateName} from '../src/abi/tdisp.js'
import {initPlatform, openStore} from '../src/app/platform.js'
import {generateQuote} from '../src/app/quote.js'
import {stateDiagramSvg, type DiagramTransition} from '../src/cli/diagram-svg.js'
import {traceSequenceSvg} from '../src/cli/trace-svg.js'
import {DeviceRuntime} from '../src/device/device.js'
import {addDevice} from '../src/device/registry.js'

export const FIGURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'guide')

/** A stimulus of the TDI state machine: a TDISP request from the TSM, or the host clearing BME. */
interface Stimulus {
  /** Label lines. */
  label: string[]
  apply(d: DeviceRuntime): boolean
}

const request = (type: number, size?: number, fill?: (req: Buffer, d: DeviceRuntime) => void): ((d: DeviceRuntime) => boolean) => (d) => {
  const req = tdispHeader(type, d.rec.function_id, size)
  fill?.(req, d)
  return d.tdisp(req)[1] !== TdispResponse.TDISP_ERROR
}

const STIMULI: Stimulus[] = [
  {label: ['LOCK_INTERFACE'], apply: request(TdispRequest.LOCK_INTERFACE_REQUEST, TDISP_LOCK_REQUEST.size)},
  {
    label: ['START_INTERFACE', '(LOCK nonce)'],
    apply: request(TdispRequest.START_INTERFACE_REQUEST, TDISP_NONCE_MSG.size, (req, d) => {
      if (d.rec.tdi.start_nonce) Buffer.from(d.rec.tdi.start_nonce, 'hex').copy(req, TDISP_NONCE_MSG.fields.start_interface_nonce.offset)
    }),
  },
  {label: ['STOP_INTERFACE'], apply: request(TdispRequest.STOP_INTERFACE_REQUEST)},
  {
    label: ['GET_DEVICE_INTERFACE_REPORT'],
    apply: request(TdispRequest.GET_DEVICE_INTERFACE_REPORT, TDISP_GET_REPORT.size, (req) => req.writeUInt16LE(64, TDISP_GET_REPORT.fields.length.offset)),
  },
  {
    label: ['host clears', 'Bus Master Enable'],
    apply: (d) => {
      d.hostClearBme()
      return true
    },
  },
]

/** A fresh device driven into `state` by the same stimuli (UNLOCKED is where a device starts). */
function deviceIn(state: TdiStateName): DeviceRuntime {
  const d = new DeviceRuntime('docs', addDevice({version: 1, devices: []}, 'docs', {model: 'nic', bdf: '3a:00.0'}))
  const path: Record<TdiStateName, number[]> = {CONFIG_UNLOCKED: [], CONFIG_LOCKED: [0], RUN: [0, 1], ERROR: [0, 4]}
  for (const i of path[state]) STIMULI[i].apply(d)
  if (d.rec.tdi.state !== state) throw new Error(`could not drive the device model into ${state}`)
  return d
}

/**
 * Every (state, stimulus) the device model accepts and where it leads; a stimulus that changes
 * nothing is left out, but for GET_DEVICE_INTERFACE_REPORT (drawn inside the state's box).
 */
export function tdispTransitions(): DiagramTransition[] {
  const edges = new Map<string, DiagramTransition>()
  for (const from of TDI_STATE_NAMES) {
    for (const s of STIMULI) {
      const d = deviceIn(from)
      if (!s.apply(d)) continue
      const to = d.rec.tdi.state
      if (to === from && !s.label[0].startsWith('GET_')) continue
      const key = `${from}>${to}`
      const e = edges.get(key) ?? {from, to, label: []}
      e.label.push(...s.label)
      edges.set(key, e)
    }
  }
  return [...edges.values()]
}

export function tdispStateSvg(): string {
  // RUN → CONFIG_UNLOCKED arcs over CONFIG_LOCKED.
  const transitions = tdispTransitions().map((t) => (t.from === 'RUN' && t.to === 'CONFIG_UNLOCKED' ? {...t, bend: -230} : t))
  return stateDiagramSvg({
    title: 'TDISP TDI states (the device model, src/device/device.ts)',
    width: 980,
    height: 470,
    states: [
      {id: 'CONFIG_UNLOCKED', x: 140, y: 210, initial: true},
      {id: 'CONFIG_LOCKED', x: 490, y: 210},
      {id: 'RUN', x: 840, y: 210},
      {id: 'ERROR', x: 490, y: 380, alarm: true},
    ],
    transitions,
    caption: [
      'Edges: every request the model accepts in that state (found by driving it); any other request is',
      'TDISP_ERROR INVALID_INTERFACE_STATE. GET_DEVICE_INTERFACE_STATE answers in every state.',
    ],
  })
}

/** One simulated quote request (seed 'docs', vmap-mapgpa, poll) as `quote generate --trace-svg` draws it. */
export async function quoteTraceSvg(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-figures-'))
  try {
    const store = openStore(dir)
    await initPlatform(store, {seed: 'docs'})
    const r = await generateQuote(store, {input: {reportData: Buffer.alloc(64)}, strategy: 'vmap-mapgpa', completion: 'poll'})
    return traceSequenceSvg(r.events, `quote generate: ${r.strategy} (${r.completion}), quote v${r.quote_version}`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export async function figures(): Promise<Record<string, string>> {
  return {'tdisp-states.svg': tdispStateSvg(), 'quote-trace.svg': await quoteTraceSvg()}
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [name, svg] of Object.entries(await figures())) {
    writeFileSync(join(FIGURES_DIR, name), svg)
    console.log(`docs/guide/${name} (${svg.length} bytes)`)
  }
}
