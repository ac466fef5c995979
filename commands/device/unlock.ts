import {Args} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {unlockDevice} from '../../src/app/device.js'

export default class DeviceUnlock extends TdxCommand<typeof DeviceUnlock> {
  static summary = 'STOP_INTERFACE_REQUEST: return a TDI to CONFIG_UNLOCKED (revokes acceptance).'
  static description = 'Legal from CONFIG_LOCKED, RUN and ERROR; exit 7 when the TDI is already unlocked.'
  static examples = ['<%= config.bin %> device unlock nic0']
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}

  async run() {
    const {result} = await unlockDevice(this.store(), this.args.device)
    if (!this.jsonEnabled()) this.log(`${result.device.id}: ${result.from} → CONFIG_UNLOCKED`)
    return {device: result.device, from: result.from, tdi_state: result.device.tdi_state}
  }
}
