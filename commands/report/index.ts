import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {makeTdReport} from '../../src/app/report.js'
import {REPORT_DATA_SIZE} from '../../src/abi/tdreport.js'
import {reportDataFlags, reportDataFromFlags} from '../../src/cli/report-data.js'
import {encodeBinary, type BinaryFormat} from '../../src/util/bytes.js'
import {OutputTarget} from '../../src/cli/output.js'

export default class Report extends TdxCommand<typeof Report> {
  static summary = 'TDG.MR.REPORT: produce the 1024-byte TDREPORT for up to 64 bytes of report data.'
  static description =
    'Report data is at most 64 bytes, zero-padded on the right (default: 64 zero bytes): hex (--report-data), the raw bytes of a file (--report-data-file), base64 (--report-data-base64), or 64 fresh random bytes (--nonce, printed on stderr). Without -o the report goes to stdout (hex unless --format says otherwise); with -o the file is written atomically (raw unless --format says otherwise).'
  static examples = [
    '<%= config.bin %> report --report-data 00112233 -o td.report',
    '<%= config.bin %> report --report-data $(sha512sum nonce.bin | cut -c1-128) --format base64',
    '<%= config.bin %> report --report-data-file nonce.bin -o td.report',
    '<%= config.bin %> report --nonce -o td.report --json',
  ]
  static flags = {
    ...reportDataFlags(),
    output: Flags.string({char: 'o', summary: 'Write the TDREPORT to this file (- for stdout).'}),
    format: Flags.string({summary: 'Output encoding (default: bin for -o, hex for stdout).', options: ['bin', 'hex', 'base64']}),
  }

  async run() {
    const choice = reportDataFromFlags(this.flags)
    const reportData = choice?.bytes ?? Buffer.alloc(REPORT_DATA_SIZE)
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const {profile, report} = await makeTdReport(this.store(), (m) => this.notice(m), reportData)
    if (choice?.nonce && !this.jsonEnabled()) this.notice(`nonce ${choice.nonce.toString('hex')}`)
    const out = target.file
    const format = (this.flags.format ?? (target.given ? 'bin' : 'hex')) as BinaryFormat
    if (target.given) {
      target.write(encodeBinary(report, format))
      if (!this.jsonEnabled()) this.notice(`wrote ${report.length}-byte TDREPORT to ${target.name} (${format})`)
    } else if (!this.jsonEnabled()) {
      this.writeStdout(encodeBinary(report, format))
    }
    return {
      profile,
      report_data: reportData.toString('hex'),
      ...(choice?.nonce ? {nonce: choice.nonce.toString('hex')} : {}),
      size: report.length,
      ...(out ? {output: out, format} : {}),
      tdreport: report.toString('hex'),
    }
  }
}
