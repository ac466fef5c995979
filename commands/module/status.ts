import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {platformStatus} from '../../src/app/platform.js'
import {platformSummary} from '../../src/module/summary.js'

export default class ModuleStatus extends TdxCommand<typeof ModuleStatus> {
  static summary = 'Show the simulated platform: profile, seed, module version, features, measurements.'
  static description = 'Exits 0 with "exists": false when the state directory holds no platform yet.'
  static examples = ['<%= config.bin %> module status', '<%= config.bin %> module status --json']

  async run() {
    const status = platformStatus(this.store())
    if (!status.exists) {
      if (!this.jsonEnabled()) this.log(`no simulated platform in ${status.state_dir} (run 'tdxkit module init')`)
      return {exists: false, state_dir: status.state_dir}
    }
    const summary = platformSummary(status.doc, status.state_dir)
    if (!this.jsonEnabled()) {
      this.log(`simulated platform in ${status.state_dir}`)
      this.log(kv([...summary.rows, ['state sections', status.sections.join(', ')]]))
    }
    return {exists: true, ...summary.json, sections: status.sections}
  }
}
