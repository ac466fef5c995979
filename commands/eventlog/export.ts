import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {dim} from '../../src/cli/render.js'
import {exportEventLog} from '../../src/app/eventlog.js'
import {encodeBinary} from '../../src/util/bytes.js'
import {OutputTarget} from '../../src/cli/output.js'

export default class EventlogExport extends TdxCommand<typeof EventlogExport> {
  static summary = "Write the simulated platform's RTMR extends as a CCEL-format (TCG2 crypto-agile) event log."
  static description =
    'Every `rtmr extend` (and every extend the simulator does itself) is recorded in the state; this writes them as the ' +
    'log a TD would expose in its ACPI CCEL area, so `eventlog replay` over it equals `rtmr show`.'
  static examples = ['<%= config.bin %> <%= command.id %> -o ccel.bin', '<%= config.bin %> <%= command.id %> -o ccel.bin && <%= config.bin %> eventlog replay ccel.bin']
  static flags = {
    output: Flags.string({char: 'o', summary: 'Write the log to this file (default, or -: stdout)'}),
    format: Flags.option({options: ['bin', 'hex', 'base64'] as const, default: 'bin', summary: 'Output encoding'})(),
  }

  async run() {
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const {events: count, log} = await exportEventLog(this.store(), (m) => this.notice(m))
    const out = encodeBinary(log, this.flags.format)
    if (target.given) target.write(out)
    else if (!this.jsonEnabled()) this.writeStdout(out)
    const result = {events: count, bytes: log.length, ...(target.file ? {output: target.file} : {}), ...(this.jsonEnabled() ? {log_base64: log.toString('base64')} : {})}
    if (target.given && !this.jsonEnabled()) target.say(dim(`wrote ${log.length} bytes (${count} extends) to ${target.name}`))
    return result
  }
}
