import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {platformStatus} from '../../src/app/platform.js'
import {platformSummary} from '../../src/module/summary.js'

export default class ModuleStatus extends TdxCommand<typeof ModuleStatus> {
  static summary = 'Show the simulated platform: profile, module version, features, measurements (the seed with --show-seed).'
  static description =
    'Exits 0 with "exists": false when the state directory holds no platform yet. The seed is shown only with --show-seed: every simulated key derives from it, so it is the platform\'s only secret.'
  static examples = ['<%= config.bin %> module status', '<%= config.bin %> module status --json', '<%= config.bin %> module status --show-seed']
  static flags = {
    'show-seed': Flags.boolean({summary: "Also print the platform seed (its only secret: every simulated key derives from it).", default: false}),
  }

  async run() {
    const status = platformStatus(this.store())
    if (!status.exists) {
      if (!this.jsonEnabled()) this.log(`no simulated platform in ${status.state_dir} (run 'tdxkit module init')`)
      return {exists: false, state_dir: status.state_dir}
    }
    const summary = platformSummary(status.doc, status.state_dir, {showSeed: this.flags['show-seed']})
    if (!this.jsonEnabled()) {
      this.log(`simulated platform in ${status.state_dir}`)
      this.log(kv([...summary.rows, ['state sections', status.sections.join(', ')]]))
    }
    return {exists: true, ...summary.json, sections: status.sections}
  }
}
