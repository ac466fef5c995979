import {Args} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {resetDeviceOp} from '../../src/app/device.js'

export default class DeviceReset extends TdxCommand<typeof DeviceReset> {
  static summary = 'Conventional Reset: the device returns to its power-on state (TDI CONFIG_UNLOCKED, CXL TSP CONFIG_UNLOCKED).'
  static description =
    'What the host does to recover a device: every TDI goes back to CONFIG_UNLOCKED and acceptance is dropped; a CXL device also loses its TSP configuration, lock and TE ranges (CXL TSP has no unlock request, only reset clears the lock). Legal in any state.'
  static examples = ['<%= config.bin %> device reset mem0', '<%= config.bin %> device reset nic0 --json']
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}

  async run() {
    const {result} = await resetDeviceOp(this.store(), this.args.device)
    const d = result.device
    if (!this.jsonEnabled()) {
      const tsp = result.from.tsp_state ? `, CXL TSP ${result.from.tsp_state} → ${d.cxl?.tsp_state}` : ''
      this.log(`${d.id}: reset: TDI ${result.from.tdi_state} → ${d.tdi_state}${tsp}${result.from.accepted ? ' (acceptance dropped)' : ''}`)
    }
    return {device: d, from: result.from, tdi_state: d.tdi_state, ...(d.cxl ? {tsp_state: d.cxl.tsp_state} : {})}
  }
}
