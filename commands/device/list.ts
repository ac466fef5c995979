import {TdxCommand} from '../../src/cli/base.js'
import {table} from '../../src/cli/render.js'
import {listDevices} from '../../src/app/device.js'

export default class DeviceList extends TdxCommand<typeof DeviceList> {
  static summary = 'List the TDISP devices assigned to the TD and their TDI states (and a CXL device\'s TSP state).'
  static description = 'Needs a tdx-connect platform (tdxkit module init --profile tdx-connect); the default devices (nic0, gpu0) are created on first use.'
  static examples = ['<%= config.bin %> device list', '<%= config.bin %> device list --json']

  async run() {
    const {result, defaults_created, platform_created} = await listDevices(this.store())
    if (platform_created) this.notice(`created a tdx-connect platform in ${this.store().dir}`)
    if (defaults_created) this.notice('created the default devices nic0 and gpu0')
    if (!this.jsonEnabled()) {
      this.log(
        table(
          ['ID', 'BDF', 'MODEL', 'VENDOR:DEVICE', 'FIRMWARE', 'TDI STATE', 'ACCEPTED', 'FAULTS'],
          result.map((d) => [d.id, d.bdf, d.model, `${d.vendor_id.slice(2)}:${d.device_id.slice(2)}`, d.firmware, d.cxl ? `${d.tdi_state} (TSP ${d.cxl.tsp_state})` : d.tdi_state, d.accepted ? 'yes' : 'no', d.faults.join(',') || '-']),
        ),
      )
    }
    return {devices: result}
  }
}
