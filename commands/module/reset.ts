import {TdxCommand} from '../../src/cli/base.js'

export default class ModuleReset extends TdxCommand<typeof ModuleReset> {
  static summary = 'Delete the simulated platform (all state in the state directory).'
  static examples = ['<%= config.bin %> module reset']

  async run() {
    const store = this.store()
    const removed = await store.destroy()
    if (!this.jsonEnabled()) this.log(removed ? `removed simulated platform from ${store.dir}` : `no simulated platform in ${store.dir}`)
    return {removed, state_dir: store.dir}
  }
}
