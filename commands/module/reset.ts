import {resetPlatform} from '../../src/app/platform.js'
import {TdxCommand} from '../../src/cli/base.js'

export default class ModuleReset extends TdxCommand<typeof ModuleReset> {
  static summary = 'Delete the simulated platform (all state in the state directory).'
  static examples = ['<%= config.bin %> module reset']

  async run() {
    const r = await resetPlatform(this.store())
    if (!this.jsonEnabled()) this.log(r.removed ? `removed simulated platform from ${r.state_dir}` : `no simulated platform in ${r.state_dir}`)
    return r
  }
}
