import {TdxCommand} from '../../src/cli/base.js'
import {check, kv, table} from '../../src/cli/render.js'
import {ghciInfo, type GhciInfo as GhciInfoResult} from '../../src/app/ghci.js'

export default class GhciInfo extends TdxCommand<typeof GhciInfo> {
  static summary = 'GetTdVmCallInfo: which GHCI TDVMCALLs the (simulated) host supports.'
  static description =
    'Issues TDG.VP.VMCALL GetTdVmCallInfo leaf 0 (all-zero R11–R14 = base GHCI) and leaf 1 (optional-call bitmap), and lists the sub-functions with their numbers.'
  static examples = ['<%= config.bin %> ghci info', '<%= config.bin %> ghci info --json']

  async run(): Promise<GhciInfoResult> {
    const info = await ghciInfo(this.store(), (m) => this.notice(m))
    if (!this.jsonEnabled()) {
      this.log('GetTdVmCallInfo')
      this.log(kv([
        ['leaf 0', `R10 ${info.leaf0.r10_name}, R11–R14 ${[info.leaf0.r11, info.leaf0.r12, info.leaf0.r13, info.leaf0.r14].join(' ')} → ${info.leaf0.base_ghci ? 'base GHCI supported' : 'not base GHCI'}`],
        ['leaf 1', `R10 ${info.leaf1.r10_name}, R11 ${info.leaf1.r11} → SetupEventNotifyInterrupt ${info.leaf1.setup_event_notify_interrupt ? 'supported' : 'not supported'}`],
        ['shared bit', `${info.shared_bit} (GPAW ${info.gpaw})`],
        ...(info.dma_pool ? ([['dma-pool', `${info.dma_pool.bytes} bytes shared at ${info.dma_pool.shared_gpa} (slots of ${info.dma_pool.slot_bytes})`]] as Array<[string, string]>) : []),
      ]))
      this.log('')
      this.log(table(['R11', 'sub-function', 'host'], info.subfunctions.map((s) => [s.number, s.name, `${check(s.supported)} ${s.supported ? 'handled' : 'SUBFUNC_UNSUPPORTED'}`])))
    }
    return info
  }
}
