import {Flags} from '../../src/cli/oclif.js'
import {createHash} from 'node:crypto'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {InputError} from '../../src/errors.js'
import {extendRtmrEvent} from '../../src/app/rtmr.js'
import {MEASUREMENT_SIZE} from '../../src/abi/tdreport.js'
import {parseHex} from '../../src/util/bytes.js'
import {readRawInput} from '../../src/app/files.js'

export default class RtmrExtend extends TdxCommand<typeof RtmrExtend> {
  static summary = 'TDG.MR.RTMR.EXTEND: RTMR[i] = SHA-384(RTMR[i] ‖ digest), and record the event.'
  static description =
    'Give the 48-byte digest directly (--digest) or let tdxkit hash a file (--data; the digest is SHA-384 of its raw bytes and the event keeps the data). The index goes to the module as is: an index outside 0..3 is refused by the module (TDX_OPERAND_INVALID, operand RDX; exit 7). Concurrent invocations are serialized by the state lock and lose no update.'
  static examples = [
    '<%= config.bin %> rtmr extend --index 2 --data app.conf --description "app config"',
    '<%= config.bin %> rtmr extend --index 3 --digest $(sha384sum kernel.img | cut -c1-96)',
  ]
  static flags = {
    index: Flags.integer({summary: 'RTMR index (0..3).', required: true}),
    digest: Flags.string({summary: '48-byte digest as hex.', exactlyOne: ['digest', 'data']}),
    data: Flags.string({summary: 'File (or - for stdin) whose SHA-384 is extended; kept in the event.', exactlyOne: ['digest', 'data']}),
    description: Flags.string({summary: 'Event description kept in the event record.'}),
    'event-type': Flags.integer({summary: 'TCG event type kept in the event record.', min: 0}),
  }

  async run() {
    let digest: Buffer
    let data: Buffer | undefined
    if (this.flags.digest !== undefined) {
      digest = parseHex(this.flags.digest, '--digest', MEASUREMENT_SIZE)
    } else {
      data = readRaw(this.flags.data!)
      digest = createHash('sha384').update(data).digest()
    }
    const index = this.flags.index
    const {rec, rtmr} = await extendRtmrEvent(this.store(), (m) => this.notice(m), index, digest, {data, description: this.flags.description, event_type: this.flags['event-type']})
    if (!this.jsonEnabled()) {
      this.log(kv([
        [`rtmr${index}`, rtmr],
        ['extended with', rec.digest],
        ['event seq', String(rec.seq)],
      ], 0))
    }
    return {index, digest: rec.digest, rtmr, seq: rec.seq, ...(data ? {data_bytes: data.length} : {})}
  }
}

/** --data bytes as they are (bounded: a huge file or /dev/zero is INPUT_TOO_LARGE, not a memory blow-up). */
const readRaw = (path: string): Buffer => readRawInput(path, '--data')
