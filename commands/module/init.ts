import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {InputError} from '../../src/errors.js'
import {initPlatformWithTd, type TdRequest} from '../../src/app/platform.js'
import {PROFILE_NAMES, type ProfileName} from '../../src/module/platform.js'
import {platformSummary} from '../../src/module/summary.js'
import {parseAttributes, parseCpuidEntry, parseXfam, tdParamsJson} from '../../src/module/td-create.js'
import {parseSize} from '../../src/cost/units.js'
import {parseHex} from '../../src/util/bytes.js'
import {TCB_STATUSES} from '../../src/host/collateral.js'
import {setHostScenario} from '../../src/app/sim-collateral.js'

const positiveInt = (text: string, flag: string): number => {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 0xffffffff) throw new InputError('BAD_TD_CONFIG', `${flag} must be a positive 32-bit integer, got '${text}'`)
  return Number(text)
}

export default class ModuleInit extends TdxCommand<typeof ModuleInit> {
  static summary = 'Create the simulated TDX platform (module, CPU, TD) in the state directory.'
  static description = `Everything is derived from the seed (HKDF): the same --seed gives byte-identical measurements, keys and TDREPORTs on every machine. Without --seed a random one is chosen and recorded. The seed is the platform's only secret and is printed only with --show-seed. Refuses to replace an existing platform unless --force.

The TD is created the way KVM creates one (KVM_TDX_INIT_VM, TDH.MNG.INIT): the module's sysinfo is read once and the requested configuration — vCPUs, attributes, XFAM, CPUID entries, memory — is checked against it alone. What the module does not support is refused with KVM's errno and the module's status (exit 7), e.g. --vcpus above MAX_VCPUS_PER_TD → TDX_OPERAND_INVALID (operand MAX_VCPUS) 0xC000010000000044; nothing is written then.`
  static examples = [
    '<%= config.bin %> module init --seed 7',
    '<%= config.bin %> module init --profile tdx-1.0 --seed demo --force',
    '<%= config.bin %> module init --seed ci --tcb-status OutOfDate --force',
    '<%= config.bin %> module init --seed big --vcpus 64 --memory 16GiB --force',
    '<%= config.bin %> module init --seed x --vcpus 600 --force   # over MAX_VCPUS_PER_TD: exit 7',
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
    vcpus: Flags.string({summary: 'vCPUs of the TD (default 2).', helpGroup: 'TD'}),
    'max-vcpus': Flags.string({summary: "TD_PARAMS.max_vcpus (default: --vcpus); checked against the module's MAX_VCPUS_PER_TD.", helpGroup: 'TD'}),
    attributes: Flags.string({summary: 'TD attributes: 0x… or names (SEPT_VE_DISABLE|DEBUG|…; default SEPT_VE_DISABLE).', helpGroup: 'TD'}),
    xfam: Flags.string({summary: 'XFAM as 0x… (default 0x618e7).', helpGroup: 'TD'}),
    memory: Flags.string({summary: 'TD memory, e.g. 2GiB (default).', helpGroup: 'TD'}),
    cpuid: Flags.string({summary: 'A CPUID entry the VMM configures: LEAF[.SUBLEAF]=EAX:EBX:ECX:EDX (repeatable).', multiple: true, multipleNonGreedy: true, helpGroup: 'TD'}),
    features0: Flags.string({
      summary: 'Override TDX_FEATURES0 (hex), e.g. to simulate a module without NO_RBP_MOD.',
      hidden: true,
    }),
  }

  private tdRequest(): TdRequest {
    const f = this.flags
    return {
      ...(f.vcpus !== undefined ? {vcpus: positiveInt(f.vcpus, '--vcpus')} : {}),
      ...(f['max-vcpus'] !== undefined ? {max_vcpus: positiveInt(f['max-vcpus'], '--max-vcpus')} : {}),
      ...(f.attributes !== undefined ? {attributes: parseAttributes(f.attributes)} : {}),
      ...(f.xfam !== undefined ? {xfam: parseXfam(f.xfam)} : {}),
      ...(f.memory !== undefined ? {memory_bytes: parseSize(f.memory, '--memory')} : {}),
      ...(f.cpuid !== undefined ? {cpuid: f.cpuid.map(parseCpuidEntry)} : {}),
    }
  }

  async run() {
    let features0: bigint | undefined
    if (this.flags.features0 !== undefined) {
      const b = parseHex(this.flags.features0, '--features0')
      if (b.length === 0 || b.length > 8) throw new InputError('BAD_FEATURES0', '--features0: expected 1 to 8 bytes of hex')
      features0 = BigInt('0x' + b.toString('hex'))
    }
    const store = this.store()
    const {doc, td} = await initPlatformWithTd(store, {
      profile: this.flags.profile as ProfileName,
      seed: this.flags.seed,
      force: this.flags.force,
      features0,
      td: this.tdRequest(),
    })
    const scenario = {
      ...(this.flags['tcb-status'] ? {tcb_status: this.flags['tcb-status'] as (typeof TCB_STATUSES)[number]} : {}),
      ...(this.flags['revoked-pck'] ? {pck_revoked: true} : {}),
      ...(this.flags['expired-collateral'] ? {collateral_expired: true} : {}),
    }
    if (Object.keys(scenario).length > 0) await setHostScenario(store, scenario)
    const summary = platformSummary(doc, store.dir, {showSeed: this.flags['show-seed']})
    if (td.module_refused) this.notice(`the host kernel would refuse this module (${td.module_refused}); the TD configuration was not checked`)
    if (td.kernel_refuses) this.notice(td.kernel_refuses)
    if (!this.jsonEnabled()) {
      this.log(`created simulated platform in ${store.dir}`)
      const p = td.params
      this.log(kv([
        ...summary.rows,
        ...(p
          ? ([
              ['td created', `${doc.td.num_vcpus} vCPUs (max ${p.max_vcpus}), ${doc.td.memory_bytes} bytes, ${p.control_pages.total} control pages; checked against sysinfo (${td.sysinfo_seamcalls} SEAMCALLs to read it, none to create the TD)`],
            ] as Array<[string, string]>)
          : []),
      ]))
    }
    return {...summary.json, td_create: {...(td.params ? {params: tdParamsJson(td.params)} : {}), sysinfo_seamcalls: td.sysinfo_seamcalls, ...(td.module_refused ? {module_refused: td.module_refused} : {}), ...(td.kernel_refuses ? {kernel_refuses: td.kernel_refuses} : {})}}
  }
}
