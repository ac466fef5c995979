import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {bold, check, dim, kv, red, yellow} from '../../src/cli/render.js'
import {ExitCode} from '../../src/errors.js'
import {compareToRtmrs, replayRtmrs} from '../../src/eventlog/index.js'
import {loadEventLog} from '../../src/app/eventlog-input.js'
import {quoteRtmrs} from '../../src/eventlog/quote-rtmrs.js'
import {readBinaryInput} from '../../src/app/files.js'

export default class EventlogReplay extends TdxCommand<typeof EventlogReplay> {
  static summary = 'Recompute RTMR0-3 from a CCEL / TCG2 event log; optionally check them against a quote.'
  static description =
    'Each extended event does RTMR[i] = SHA-384(RTMR[i] || digest), from 48 zero bytes (what TDG.MR.RTMR.EXTEND does). ' +
    'With --quote, the replayed values are compared with the quote body\'s RTMRs (the quote\'s signature is NOT verified here; use ' +
    '`quote verify --eventlog`) and the first event where log and quote diverge is named; a mismatch exits 3. RTMR3 is often ' +
    'extended at runtime outside the CCEL: --allow-rtmr3-runtime reports an RTMR3 mismatch without failing.'
  static examples = [
    '<%= config.bin %> <%= command.id %> /sys/firmware/acpi/tables/data/CCEL',
    '<%= config.bin %> <%= command.id %> ccel.bin --quote quote.bin --allow-rtmr3-runtime',
    '<%= config.bin %> eventlog export -o ccel.bin && <%= config.bin %> <%= command.id %> ccel.bin --json',
  ]
  static args = {
    file: Args.string({description: 'Event log file, or - for stdin', required: true}),
  }
  static flags = {
    table: Flags.string({summary: 'ACPI CCEL table file (bounds the log area to its LAML)'}),
    quote: Flags.string({summary: 'Compare with the RTMRs in this quote (v4/v5; raw, hex or base64)'}),
    'allow-rtmr3-runtime': Flags.boolean({summary: 'With --quote: an RTMR3 mismatch (runtime extends not in the log) does not fail', default: false}),
  }

  async run() {
    const {log} = loadEventLog(this.args.file, this.flags.table)
    const rtmrs = replayRtmrs(log)
    const perRtmr = [0, 1, 2, 3].map((i) => log.events.filter((e) => e.extended && e.rtmr_index === i).length)
    const base = {
      file: this.args.file,
      rtmrs: rtmrs.map((r) => r.toString('hex')),
      event_count: log.events.length,
      extended_events: perRtmr,
    }
    const comparison = this.flags.quote
      ? compareToRtmrs(log, quoteRtmrs(readBinaryInput(this.flags.quote, 'quote')), {allowRtmr3Runtime: this.flags['allow-rtmr3-runtime']})
      : undefined
    const result = comparison ? {...base, quote: this.flags.quote, comparison} : base
    if (comparison && !comparison.ok) process.exitCode = ExitCode.AUTHENTICITY
    if (this.jsonEnabled()) return result

    if (!comparison) {
      this.log(kv(rtmrs.map((r, i) => [`RTMR${i}`, r.toString('hex')]), 0))
      this.log(dim(`${log.events.length} events; extended into RTMR0-3: ${perRtmr.join(' / ')}`))
      return result
    }
    for (const r of comparison.rtmrs) {
      const mark = r.status === 'runtime' ? yellow('~') : check(r.match)
      this.log(`${mark} ${bold(`RTMR${r.index}`)}  ${r.replayed}${r.match ? '' : `\n          quote: ${r.expected}`}${r.status === 'runtime' ? dim('  (runtime extends allowed)') : ''}`)
    }
    this.log(dim(`${log.events.length} events; extended into RTMR0-3: ${perRtmr.join(' / ')}`))
    const d = comparison.first_divergence
    if (d) this.log(red(`first divergence: ${d.event_index === null ? `RTMR${d.rtmr_index}` : `event #${d.event_index}`} (${d.reason}): ${d.message}`))
    else this.log(`${check(true)} event log matches the quote's RTMRs${comparison.rtmrs.some((r) => r.status === 'runtime') ? ' (RTMR0-2; RTMR3 has runtime extends)' : ''}`)
    return result
  }
}
