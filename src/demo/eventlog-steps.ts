/**
 * Demo steps for event logs: the simulator's RTMR extends written as a CCEL-format log, replayed,
 * and compared with the RTMRs the module holds (what `rtmr show` prints); then one tampered digest
 * located by event index.
 */
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {TCG_PCR_EVENT2_HEADER, TPMT_HA_HEADER} from '../abi/tcg.js'
import {extendRtmr} from '../guest/tdx-guest.js'
import {ensurePlatform, withPlatform} from '../app/platform.js'
import type {PlatformDoc} from '../module/platform.js'
import {writeOutputFile} from '../app/files.js'
import {compareToRtmrs, eventsToCcelLog, parseEventLog, replayRtmrs} from '../eventlog/index.js'
import type {DemoStep} from './index.js'

/** Bag key under which the log's path is handed to later steps (e.g. `quote verify --eventlog`). */
export const EVENTLOG_PATH_KEY = 'eventlog_path'

/** Boot-like measurements the demo makes when the platform has no extends yet. */
const DEMO_MEASUREMENTS: Array<{rtmr: number; text: string}> = [
  {rtmr: 1, text: 'vmlinuz-6.8.0-tdx (simulated kernel image)'},
  {rtmr: 2, text: 'console=hvc0 root=/dev/vda1 ro'},
  {rtmr: 3, text: 'app: tdxkit-demo container sha256:5e1f'},
]

const rtmrsOf = (doc: PlatformDoc): Buffer[] => doc.td.rtmr.map((h) => Buffer.from(h, 'hex'))
const short = (b: Buffer | string) => (typeof b === 'string' ? b : b.toString('hex')).slice(0, 16) + '…'

export const EVENTLOG_STEPS: DemoStep[] = [
  {
    id: 'eventlog-write',
    title: "Write the simulator's RTMR extends as a CCEL event log",
    async run(ctx) {
      const {result: doc} = await withPlatform(ctx.store, (p) => {
        if (p.doc.events.length === 0) {
          for (const m of DEMO_MEASUREMENTS) {
            const data = Buffer.from(m.text)
            extendRtmr(p, m.rtmr, createHash('sha384').update(data).digest(), {data, description: m.text})
          }
        }
        return p.doc
      })
      const log = eventsToCcelLog(doc.events)
      const path = join(ctx.workDir, 'ccel.bin')
      writeOutputFile(path, log)
      ctx.bag.set(EVENTLOG_PATH_KEY, path)
      return {
        lines: [`${doc.events.length} extend(s) → ${log.length}-byte TCG2 crypto-agile log (SHA-384 bank) at ${path}`, `tdxkit eventlog show ${path}`],
        data: {path, events: doc.events.length, bytes: log.length},
      }
    },
  },
  {
    id: 'eventlog-replay',
    title: 'Replay the log and compare with the RTMRs the module holds (rtmr show)',
    async run(ctx) {
      const {doc} = await ensurePlatform(ctx.store)
      const log = parseEventLog(eventsToCcelLog(doc.events))
      const replayed = replayRtmrs(log)
      const cmp = compareToRtmrs(log, rtmrsOf(doc))
      if (!cmp.ok) throw new Error(`replay of the simulator's own log does not match its RTMRs: ${cmp.first_divergence?.message}`)
      return {
        lines: replayed.map((r, i) => `RTMR${i}  ${short(r)}  = rtmr show ✔`),
        data: {rtmrs: replayed.map((r) => r.toString('hex')), ok: cmp.ok},
      }
    },
  },
  {
    id: 'eventlog-tamper',
    title: 'Tamper with one logged digest: the comparison names the event',
    async run(ctx) {
      const {doc} = await ensurePlatform(ctx.store)
      const bytes = eventsToCcelLog(doc.events)
      const log = parseEventLog(bytes)
      const target = [...log.events].reverse().find((e) => e.extended)
      if (!target) return {lines: ['no extended events to tamper with'], data: {skipped: true}}
      const tampered = Buffer.from(bytes)
      tampered[target.offset + TCG_PCR_EVENT2_HEADER.size + TPMT_HA_HEADER.size] ^= 0x01
      const cmp = compareToRtmrs(parseEventLog(tampered), rtmrsOf(doc))
      const d = cmp.first_divergence
      return {
        lines: [
          `flipped one bit of event #${target.index}'s digest (RTMR${target.rtmr_index})`,
          `RTMRs: ${cmp.rtmrs.map((r) => `RTMR${r.index} ${r.match ? 'match' : 'MISMATCH'}`).join(', ')}`,
          d ? `first divergence: ${d.event_index === null ? 'unlocatable' : `event #${d.event_index}`} (${d.reason})` : 'no divergence found (unexpected)',
        ],
        data: {tampered_event: target.index, ok: cmp.ok, first_divergence: d ?? null},
      }
    },
  },
]
