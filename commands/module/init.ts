import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {InputError} from '../../src/errors.js'
import {initPlatform} from '../../src/app/platform.js'
import {PROFILE_NAMES, type ProfileName} from '../../src/module/platform.js'
import {platformSummary} from '../../src/module/summary.js'
import {parseHex} from '../../src/util/bytes.js'
import {TCB_STATUSES} from '../../src/host/collateral.js'
import {setHostScenario} from '../../src/app/sim-collateral.js'

export default class ModuleInit extends TdxCommand<typeof ModuleInit> {
  static summary = 'Create the simulated TDX platform (module, CPU, TD) in the state directory.'
  static description =
    "Everything is derived from the seed (HKDF): the same --seed gives byte-identical measurements, keys and TDREPORTs on every machine. Without --seed a random one is chosen and recorded. The seed is the platform's only secret and is printed only with --show-seed. Refuses to replace an existing platform unless --force."
  static examples = [
    '<%= config.bin %> module init --seed 7',
    '<%= config.bin %> module init --profile tdx-1.0 --seed demo --force',
    '<%= config.bin %> module init --seed ci --tcb-status OutOfDate --force',
  ]
  static flags = {
    profile: Flags.string({summary: 'Module profile.', options: [...PROFILE_NAMES], default: 'tdx-1.5'}),
    seed: Flags.string({summary: 'Seed for everything deterministic (default: random).'}),
    'show-seed': Flags.boolean({summary: "Print the seed (the platform's only secret) in the summary.", default: false}),
    force: Flags.boolean({summary: 'Replace an existing platform (deletes all of its state).', default: false}),
    'tcb-status': Flags.string({
      summary: "TCB status the simulated collateral gives this platform (default UpToDate).",
      options: [...TCB_STATUSES],
      helpGroup: 'SCENARIO',
    }),
    'revoked-pck': Flags.boolean({summary: "List the platform's PCK certificate in the PCK CRL.", default: false, helpGroup: 'SCENARIO'}),
    'expired-collateral': Flags.boolean({summary: 'Issue collateral whose nextUpdate has already passed.', default: false, helpGroup: 'SCENARIO'}),
    features0: Flags.string({
      summary: 'Override TDX_FEATURES0 (hex), e.g. to simulate a module without NO_RBP_MOD.',
      hidden: true,
    }),
  }

  async run() {
    let features0: bigint | undefined
    if (this.flags.features0 !== undefined) {
      const b = parseHex(this.flags.features0, '--features0')
      if (b.length === 0 || b.length > 8) throw new InputError('BAD_FEATURES0', '--features0: expected 1 to 8 bytes of hex')
      features0 = BigInt('0x' + b.toString('hex'))
    }
    const store = this.store()
    const doc = await initPlatform(store, {
      profile: this.flags.profile as ProfileName,
      seed: this.flags.seed,
      force: this.flags.force,
      features0,
    })
    const scenario = {
      ...(this.flags['tcb-status'] ? {tcb_status: this.flags['tcb-status'] as (typeof TCB_STATUSES)[number]} : {}),
      ...(this.flags['revoked-pck'] ? {pck_revoked: true} : {}),
      ...(this.flags['expired-collateral'] ? {collateral_expired: true} : {}),
    }
    if (Object.keys(scenario).length > 0) await setHostScenario(store, scenario)
    const summary = platformSummary(doc, store.dir, {showSeed: this.flags['show-seed']})
    if (!this.jsonEnabled()) {
      this.log(`created simulated platform in ${store.dir}`)
      this.log(kv(summary.rows))
    }
    return summary.json
  }
}
