import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {bold, dim, kv, table, red} from '../../src/cli/render.js'
import {ccMrName} from '../../src/abi/ccel.js'
import {ccelTableToJson, eventLogToJson, sha384Of} from '../../src/eventlog/index.js'
import {loadEventLog} from '../../src/app/eventlog-input.js'

const SHORT_DIGEST = 16
const SHORT_DATA = 72

export default class EventlogShow extends TdxCommand<typeof EventlogShow> {
  static summary = 'Decode a CCEL / TCG2 crypto-agile event log: every event with its type, register, digest and data.'
  static description =
    'F is the log area (e.g. /sys/firmware/acpi/tables/data/CCEL) or "-" for stdin; raw, hex or base64. With --table, the ACPI CCEL table ' +
    '(/sys/firmware/acpi/tables/CCEL) is decoded too and bounds the log area to its LAML. Register names follow the TDX CC MR index: ' +
    '0 = MRTD, 1..4 = RTMR0..3. The data column flags events whose data does not hash to their digest where the TCG spec says it must.'
  static examples = [
    '<%= config.bin %> <%= command.id %> /sys/firmware/acpi/tables/data/CCEL --table /sys/firmware/acpi/tables/CCEL',
    '<%= config.bin %> <%= command.id %> ccel.bin --rtmr 2 --full',
    '<%= config.bin %> <%= command.id %> ccel.bin --json',
  ]
  static args = {
    file: Args.string({description: 'Event log file, or - for stdin', required: true}),
  }
  static flags = {
    table: Flags.string({summary: 'ACPI CCEL table file (decoded, and bounds the log area)'}),
    rtmr: Flags.integer({summary: 'Only events extended into this RTMR (0-3)', min: 0, max: 3}),
    full: Flags.boolean({summary: 'Print full digests and decoded data instead of shortened ones', default: false}),
  }

  async run() {
    const {log, table: ccel} = loadEventLog(this.args.file, this.flags.table)
    const selected = this.flags.rtmr === undefined ? log.events : log.events.filter((e) => e.extended && e.rtmr_index === this.flags.rtmr)
    const json = eventLogToJson({...log, events: selected})
    const result = {file: this.args.file, ...(ccel ? {table: ccelTableToJson(ccel)} : {}), ...json, event_count: log.events.length, shown: selected.length}
    if (this.jsonEnabled()) return result

    const full = this.flags.full
    const cut = (s: string, n: number) => (full || s.length <= n ? s : s.slice(0, n - 1) + '…')
    if (ccel) {
      this.log(bold('CCEL table'))
      this.log(
        kv([
          ['cc type', `${ccel.cc_type} (${ccel.cc_type_name}), subtype ${ccel.cc_subtype}`],
          ['oem', `${ccel.oem_id} / ${ccel.oem_table_id} rev ${ccel.oem_revision}`],
          ['log area', `${ccel.laml} bytes at 0x${ccel.lasa.toString(16)}`],
        ]),
      )
    }
    const algs = log.spec_id.algorithms.map((a) => `${a.alg} (${a.digest_size})`).join(', ')
    this.log(bold('Event log'))
    this.log(
      kv([
        ['format', `TCG2 crypto-agile, spec ${log.spec_id.spec_version} errata ${log.spec_id.spec_errata}, uintn ${log.spec_id.uintn_size * 4} bytes`],
        ['algorithms', algs],
        ['events', `${log.events.length} (${log.events.filter((e) => e.extended).length} extended into RTMRs), ${log.length} bytes + ${log.trailing_bytes} padding`],
        ...(log.spec_id.vendor_info.length ? [['vendor info', JSON.stringify(log.spec_id.vendor_info.toString('latin1'))] as [string, string]] : []),
      ]),
    )
    if (log.trailing_nonpadding) this.log(red('  warning: bytes after the last record are not padding (not parsed)'))
    this.log('')
    const rows = selected.map((e) => {
      const d = sha384Of(e) ?? e.digests[0]?.digest
      const digest = e.index === 0 ? dim('(spec id)') : d ? cut(d.toString('hex'), full ? Infinity : SHORT_DIGEST) : ''
      const data = (e.data_check === 'mismatch' ? red('✘ data≠digest ') : '') + cut((e.decoded?.summary ?? '').replace(/\s+/g, ' '), SHORT_DATA)
      return [String(e.index), e.type_name, e.extended ? ccMrName(e.mr_index) : dim(ccMrName(e.mr_index)), digest, data]
    })
    this.log(table(['#', 'type', 'register', 'sha384', 'data'], rows))
    return result
  }
}
