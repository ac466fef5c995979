import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {dim} from '../../src/cli/render.js'
import {exportEventLog} from '../../src/app/eventlog.js'
import {encodeBinary} from '../../src/util/bytes.js'
import {writeFileAtomic} from '../../src/app/files.js'

export default class EventlogExport extends TdxCommand<typeof EventlogExport> {
  static summary = "Write the simulated platform's RTMR extends as a CCEL-format (TCG2 crypto-agile) event log."
  static description =
    'Every `rtmr extend` (and every extend the simulator does itself) is recorded in the state; this writes them as the ' +
    'log a TD would expose in its ACPI CCEL area, so `eventlog replay` over it equals `rtmr show`.'
  static examples = ['<%= config.bin %> <%= command.id %> -o ccel.bin', '<%= config.bin %> <%= command.id %> -o ccel.bin && <%= config.bin %> eventlog replay ccel.bin']
  static flags = {
    output: Flags.string({char: 'o', summary: 'Write the log to this file (default: stdout)'}),
    format: Flags.option({options: ['bin', 'hex', 'base64'] as const, default: 'bin', summary: 'Output encoding'})(),
  }

  async run() {
    const {events: count, log} = await exportEventLog(this.store(), (m) => this.notice(m))
    const out = encodeBinary(log, this.flags.format)
    if (this.flags.output) writeFileAtomic(this.flags.output, out)
    else if (!this.jsonEnabled()) this.writeStdout(out)
    const result = {events: count, bytes: log.length, ...(this.flags.output ? {output: this.flags.output} : {}), ...(this.jsonEnabled() ? {log_base64: log.toString('base64')} : {})}
    if (this.flags.output && !this.jsonEnabled()) this.log(dim(`wrote ${log.length} bytes (${count} extends) to ${this.flags.output}`))
    return result
  }
}
