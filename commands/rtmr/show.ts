import {TdxCommand} from '../../src/cli/base.js'
import {bold, kv, table} from '../../src/cli/render.js'
import {readRtmrs} from '../../src/app/rtmr.js'

export default class RtmrShow extends TdxCommand<typeof RtmrShow> {
  static summary = 'Show RTMR0-3 and the recorded extend events.'
  static examples = ['<%= config.bin %> rtmr show', '<%= config.bin %> rtmr show --json']

  async run() {
    const {rtmr, events} = await readRtmrs(this.store(), (m) => this.notice(m))
    if (!this.jsonEnabled()) {
      this.log(kv(rtmr.map((r, i): [string, string] => [`rtmr${i}`, r]), 0))
      this.log('')
      if (events.length === 0) this.log('no events recorded')
      else {
        this.log(bold(`${events.length} event${events.length === 1 ? '' : 's'}`))
        this.log(table(['seq', 'rtmr', 'digest', 'data', 'description'], events.map((e) => [
          String(e.seq),
          String(e.rtmr_index),
          e.digest.slice(0, 24) + '…',
          e.data === undefined ? '' : `${e.data.length / 2} B`,
          e.description ?? '',
        ])))
      }
    }
    return {rtmr, events}
  }
}
