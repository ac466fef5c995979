import {Args} from '../../../src/cli/oclif.js'
import {TdxCommand} from '../../../src/cli/base.js'
import {kv} from '../../../src/cli/render.js'
import {ghciServiceQuery} from '../../../src/app/ghci.js'

export default class GhciServiceQuery extends TdxCommand<typeof GhciServiceQuery> {
  static summary = 'Ask the host, through the GHCI Query service, whether it serves a Service TDVMCALL GUID.'
  static description = `Runs the GHCI 1.5 §3.14.1 Query service end to end from the TD: command and response buffers made shared (vmap + MapGPA), TDG.VP.VMCALL Service (R11 0x10005) with the Query GUID fb6fc5e1-3378-4acb-8964-fa5ee43b9c8a, then the response status and the "supported" byte. SERVICE is a GUID or a known name (see 'ghci service list'): query, migtd, vtpm, vtpm-td, tdxkit-quote (simulator-only).`
  static examples = ['<%= config.bin %> ghci service query vtpm', '<%= config.bin %> ghci service query fb6fc5e1-3378-4acb-8964-fa5ee43b9c8a --json']
  static args = {
    service: Args.string({description: 'Service GUID or name.', required: true}),
  }

  async run() {
    const r = await ghciServiceQuery(this.store(), (m) => this.notice(m), this.args.service)
    if (!this.jsonEnabled()) {
      this.log(kv([
        ['service', `${r.service}${r.simulator_only ? ' (simulator-only)' : ''}`],
        ['guid', r.guid],
        ['specification', r.spec ?? 'unknown to tdxkit'],
        ['Query status', `${r.status} ${r.status_name}`],
        ['served by this host', r.supported ? 'yes' : 'no'],
      ]))
    }
    return r
  }
}
