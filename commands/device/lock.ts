import {Args} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv, yellow} from '../../src/cli/render.js'
import {lockDevice} from '../../src/app/device.js'

export default class DeviceLock extends TdxCommand<typeof DeviceLock> {
  static summary = 'LOCK_INTERFACE_REQUEST: move a TDI from CONFIG_UNLOCKED to CONFIG_LOCKED.'
  static description =
    "The TSM (TDX module) first connects over SPDM (certificate chain and signed measurements, which must fit the module's device-info buffer: sysinfo connect.spdm_max_dev_info_pages pages), then locks the interface, keeps the START nonce, fetches and digests the interface report. Exit 7 when TDISP refuses (e.g. already locked), when the module lacks TDX Connect, or when the device info does not fit."
  static examples = ['<%= config.bin %> device lock nic0']
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}

  async run() {
    const {result} = await lockDevice(this.store(), this.args.device)
    if (!this.jsonEnabled()) {
      this.log(`${result.device.id}: CONFIG_UNLOCKED → CONFIG_LOCKED (lock generation ${result.lock_generation})`)
      if (result.bme_cleared) this.log(yellow(`host cleared Bus Master Enable after lock → TDI is now ${result.state}`))
      this.log(kv([
        ['tdi state', result.state],
        ['report sha384', result.report_digest],
        ['device info', `${result.dev_info_bytes} of ${result.dev_info_max_bytes} bytes the module holds`],
      ]))
    }
    return {
      device: result.device,
      tdi_state: result.state,
      lock_generation: result.lock_generation,
      report_digest: result.report_digest,
      bme_cleared: result.bme_cleared,
      dev_info_bytes: result.dev_info_bytes,
      dev_info_max_bytes: result.dev_info_max_bytes,
    }
  }
}
