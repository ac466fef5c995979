import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {addDeviceOp} from '../../src/app/device.js'
import {FAULT_DOC, FAULT_NAMES} from '../../src/device/registry.js'
import {MODEL_NAMES} from '../../src/device/models.js'

export default class DeviceAdd extends TdxCommand<typeof DeviceAdd> {
  static summary = 'Attach another simulated TDISP device, optionally with fault knobs.'
  static description = `Fault knobs:\n${FAULT_NAMES.map((f) => `  ${f}: ${FAULT_DOC[f]}`).join('\n')}`
  static examples = ['<%= config.bin %> device add --model nvme', '<%= config.bin %> device add --model gpu --id gpu9 --fault firmware-swapped']
  static flags = {
    model: Flags.string({summary: 'Device model.', options: [...MODEL_NAMES], required: true}),
    id: Flags.string({summary: 'Device id (default: <model><n>).'}),
    bdf: Flags.string({summary: 'PCI address bb:dd.f (default: next free slot on bus 00).'}),
    fault: Flags.string({summary: 'Fault knob (repeatable).', options: [...FAULT_NAMES], multiple: true, multipleNonGreedy: true}),
  }

  async run() {
    const {result, defaults_created, platform_created} = await addDeviceOp(this.store(), {model: this.flags.model, id: this.flags.id, bdf: this.flags.bdf, faults: this.flags.fault})
    if (platform_created) this.notice(`created a tdx-connect platform in ${this.store().dir}`)
    if (defaults_created) this.notice('created the default devices nic0 and gpu0')
    if (!this.jsonEnabled()) {
      this.log(`added ${result.id}`)
      this.log(kv([['bdf', result.bdf], ['model', `${result.model} (${result.product})`], ['firmware', result.firmware], ['faults', result.faults.join(', ') || 'none']]))
    }
    return {device: result}
  }
}
