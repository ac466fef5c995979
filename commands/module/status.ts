import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {assertPlatformDoc} from '../../src/module/doc.js'
import {platformSummary} from '../../src/module/summary.js'

export default class ModuleStatus extends TdxCommand<typeof ModuleStatus> {
  static summary = 'Show the simulated platform: profile, seed, module version, features, measurements.'
  static description = 'Exits 0 with "exists": false when the state directory holds no platform yet.'
  static examples = ['<%= config.bin %> module status', '<%= config.bin %> module status --json']

  async run() {
    const store = this.store()
    const doc = store.load()
    if (!doc || doc.module === undefined) {
      if (!this.jsonEnabled()) this.log(`no simulated platform in ${store.dir} (run 'tdxkit module init')`)
      return {exists: false, state_dir: store.dir}
    }
    assertPlatformDoc(doc, store.file)
    const summary = platformSummary(doc, store.dir)
    const sections = Object.keys(doc).filter((k) => k !== 'schema_version')
    if (!this.jsonEnabled()) {
      this.log(`simulated platform in ${store.dir}`)
      this.log(kv([...summary.rows, ['state sections', sections.join(', ')]]))
    }
    return {exists: true, ...summary.json, sections}
  }
}
