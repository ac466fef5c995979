import {Flags} from '../src/cli/oclif.js'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {TdxCommand} from '../src/cli/base.js'
import {bold, green} from '../src/cli/render.js'
import {runDemo, type DemoOutcome} from '../src/demo/index.js'
import {DEMO_STEPS} from '../src/demo/steps.js'
import {openStore} from '../src/app/platform.js'

export default class Demo extends TdxCommand<typeof Demo> {
  static summary = 'Walk the whole attestation story end to end on a fresh simulated platform.'
  static description =
    'Uses a fresh temporary state directory unless --state-dir (or TDXKIT_STATE_DIR) is given, so your own platform is left untouched.'
  static examples = ['<%= config.bin %> demo', '<%= config.bin %> demo --json']
  static flags = {
    'keep-going': Flags.boolean({summary: 'Continue after a failing step.', default: false}),
  }

  async run(): Promise<DemoOutcome> {
    const dir = this.flags['state-dir'] ?? mkdtempSync(join(tmpdir(), 'tdxkit-demo-'))
    const workDir = mkdtempSync(join(tmpdir(), 'tdxkit-demo-files-'))
    const store = openStore(dir)
    const outcome = await runDemo(DEMO_STEPS, {store, workDir, bag: new Map()}, (s) => {
      if (this.jsonEnabled()) return
      this.log(`\n${bold(green('▶'))} ${bold(s.title)}`)
      for (const l of s.lines) this.log(`  ${l}`)
    })
    if (!this.jsonEnabled()) this.log(`\n${green('✔')} demo finished: ${outcome.steps.length} steps; state in ${dir}, files in ${workDir}`)
    return outcome
  }
}
