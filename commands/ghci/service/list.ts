import {TdxCommand} from '../../../src/cli/base.js'
import {table} from '../../../src/cli/render.js'
import {ghciServiceList} from '../../../src/app/ghci.js'

export default class GhciServiceList extends TdxCommand<typeof GhciServiceList> {
  static summary = 'List the GHCI Service TDVMCALL GUIDs tdxkit knows, with their specifications.'
  static description =
    'Query (GHCI 1.5 §3.14.1) is served; MigTD and vTPM have public GUIDs and specifications but are not served by this simulated host; tdxkit-quote is simulator-only (no public specification: real TDs use GetQuote).'
  static examples = ['<%= config.bin %> ghci service list', '<%= config.bin %> ghci service list --json']

  async run() {
    const services = ghciServiceList()
    if (!this.jsonEnabled()) {
      this.log(table(['name', 'guid', 'served', 'specification'], services.map((s) => [s.name, s.guid, s.served ? 'yes' : 'no', s.spec])))
    }
    return {services}
  }
}
