import {Args} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {bold, check, dim, table} from '../../src/cli/render.js'
import {parseTdReport, tdReportFields} from '../../src/abi/tdreport.js'
import {checkTdReportMac} from '../../src/app/report.js'
import {readBinaryInput} from '../../src/app/files.js'

export default class ReportShow extends TdxCommand<typeof ReportShow> {
  static summary = 'Decode a TDREPORT: every field, named, with its offset; check its hash relations.'
  static description =
    'FILE is a path or - (stdin); raw, hex and base64 are detected. The TEE_TCB_INFO and TDINFO hashes are recomputed; the MAC is checked when the state directory holds a platform (only the platform that made the report can check it).'
  static examples = ['<%= config.bin %> report show td.report', '<%= config.bin %> report | <%= config.bin %> report show - --json']
  static args = {
    file: Args.string({description: 'TDREPORT file, or - for stdin', required: true}),
  }

  async run() {
    const buf = readBinaryInput(this.args.file, 'TDREPORT')
    const r = parseTdReport(buf)
    const fields = tdReportFields(r.raw)
    const store = this.store()
    const mac = checkTdReportMac(store, r.raw)
    if (!this.jsonEnabled()) {
      this.log(table(['offset', 'size', 'field', 'value'], fields.map((f) => [String(f.offset), String(f.size), `${f.section}.${f.name}`, f.hex === '' ? '' : f.hex])))
      this.log('')
      this.log(bold('checks'))
      this.log(`  ${check(r.hashes.tee_tcb_info_hash_ok)} TEE_TCB_INFO_HASH = SHA-384(bytes 256..494)`)
      this.log(`  ${check(r.hashes.tee_info_hash_ok)} TEE_INFO_HASH = SHA-384(TDINFO, bytes 512..1023)`)
      if (mac === null) this.log(`  ${dim('–')} MAC not checked (no platform in ${store.dir})`)
      else this.log(`  ${check(mac)} MAC ${mac ? 'verifies' : 'does not verify'} under the platform in ${store.dir}`)
    }
    return {
      size: r.raw.length,
      report_type: r.report_type,
      report_subtype: r.report_subtype,
      report_version: r.report_version,
      fields: fields.map((f) => ({section: f.section, name: f.name, offset: f.offset, size: f.size, value: f.hex})),
      checks: {...r.hashes, mac_ok: mac},
    }
  }
}
