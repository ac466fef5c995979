/**
 * `quote generate --trace-svg FILE`: the operation trace of one quote request as a sequence
 * diagram, guest → TDX module → GHCI → VMM → QGS → QE and back. A TDCALL is a call to the module
 * and its status back; a TDVMCALL goes through the module (TDG.VP.VMCALL) and the GHCI dispatcher
 * to the VMM, and R10 comes back; a SEAMCALL the host makes (TDH.*) is VMM → module; the quote
 * service is VMM → QGS → QE and the quote back; the event-notify interrupt is VMM → guest; guest
 * work (allocation, conversion, copies, polls) and other host work are notes on their lifeline.
 */
import type {TraceEvent} from '../machine/trace.js'
import {sequenceDiagramSvg, type SequenceStep} from './diagram-svg.js'

export const TRACE_PARTICIPANTS = ['guest (TD)', 'TDX module', 'GHCI', 'VMM (host)', 'QGS', 'QE'] as const
const [GUEST, MODULE, GHCI, VMM, QGS, QE] = TRACE_PARTICIPANTS

/** The note text of an event: its name with its page/byte count and detail. */
function noteOf(e: TraceEvent): string {
  const parts = [e.name]
  if (e.count !== undefined) parts.push(`n=${e.count}`)
  if (e.exits !== undefined) parts.push(`forced exits ${e.exits}`)
  if (e.detail) parts.push(`(${e.detail})`)
  return parts.join(' ')
}

/** The diagram steps of one trace event. */
export function traceSteps(e: TraceEvent): SequenceStep[] {
  const alarm = e.kind === 'failure' || e.kind === 'pool_exhausted' || e.kind === 'leak'
  switch (e.kind) {
    case 'tdcall':
      return [
        {kind: 'call', from: GUEST, to: MODULE, label: `TDCALL ${e.name}`},
        {kind: 'return', from: MODULE, to: GUEST, label: e.status_name ?? 'done', alarm: e.status !== undefined && e.status !== 0n},
      ]
    case 'tdvmcall':
      return [
        {kind: 'call', from: GUEST, to: MODULE, label: 'TDG.VP.VMCALL'},
        {kind: 'call', from: MODULE, to: GHCI, label: e.name},
        {kind: 'call', from: GHCI, to: VMM, label: e.name},
        {kind: 'return', from: VMM, to: GUEST, label: `R10 = ${e.status_name ?? '?'}`, alarm: e.status !== undefined && e.status !== 0n},
      ]
    case 'quote_service':
      return [
        {kind: 'call', from: VMM, to: QGS, label: 'TDREPORT from the shared buffer'},
        {kind: 'call', from: QGS, to: QE, label: 'quoteTdReport'},
        {kind: 'return', from: QE, to: QGS, label: e.count !== undefined ? `quote, ${e.count} bytes` : 'quote'},
        {kind: 'return', from: QGS, to: VMM, label: e.status_name ?? 'status', alarm: e.status !== undefined && e.status !== 0n},
        {kind: 'note', from: VMM, label: 'quote + status word into the shared buffer'},
      ]
    case 'notify_irq':
      return [{kind: 'return', from: VMM, to: GUEST, label: e.name}]
    default:
      if (e.layer === 'host' && e.name.includes('TDH.')) return [{kind: 'call', from: VMM, to: MODULE, label: `SEAMCALL ${noteOf(e)}`, alarm}]
      return [{kind: 'note', from: e.layer === 'host' ? VMM : GUEST, label: noteOf(e), alarm}]
  }
}

/** The whole trace as one SVG sequence diagram. */
export function traceSequenceSvg(events: readonly TraceEvent[], title: string): string {
  return sequenceDiagramSvg({title, participants: TRACE_PARTICIPANTS, steps: events.flatMap(traceSteps)})
}
