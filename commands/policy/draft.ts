import {Args, Flags} from '../../src/cli/oclif.js'
import {draftPolicy} from '../../src/appraise/draft.js'
import {policyToJson} from '../../src/appraise/policy.js'
import {TdxCommand} from '../../src/cli/base.js'
import {readBinaryInput} from '../../src/app/files.js'
import {OutputTarget} from '../../src/cli/output.js'

export default class PolicyDraft extends TdxCommand<typeof PolicyDraft> {
  static summary = 'Write an appraisal policy that pins the measurements of a known-good quote.'
  static description =
    'Pins MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3, XFAM, TD_ATTRIBUTES, MRSEAM, MRSIGNERSEAM and the QE vendor ID exactly, the header QE / PCE SVN and TEE_TCB_SVN (per component) as minimums (go-tdx-guest check parity), and opts in to exactly the attributes the quote has (DEBUG, missing SEPT_VE_DISABLE, PERFMON, a service TD), with a note on stderr for each. REPORTDATA is a per-quote nonce and is not pinned. Use the result with `quote verify --policy`.'
  static examples = ['<%= config.bin %> policy draft quote.bin > policy.json', '<%= config.bin %> policy draft quote.bin -o policy.json']
  static args = {
    file: Args.string({description: 'known-good quote file, or - for stdin', required: true}),
  }
  static flags = {
    output: Flags.string({char: 'o', summary: 'Write the policy to this file (atomically) instead of stdout (- for stdout).'}),
  }

  async run() {
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const {policy, notes} = draftPolicy(readBinaryInput(this.args.file, 'quote'))
    for (const n of notes) this.notice(n)
    const doc = policyToJson(policy, `drafted by tdxkit policy draft from ${this.args.file}`)
    const text = JSON.stringify(doc, null, 2) + '\n'
    if (target.file) {
      target.write(text)
      if (!this.jsonEnabled()) this.notice(`wrote ${target.file}`)
    } else if (!this.jsonEnabled()) this.writeStdout(text)
    return {policy: doc, notes, ...(target.file ? {output: target.file} : {})}
  }
}
