import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {encodeBinary, parseHex, type BinaryFormat} from '../../src/util/bytes.js'
import {OutputTarget} from '../../src/cli/output.js'
import {collectEvidence} from '../../src/app/device.js'
import {evidenceJson} from '../../src/device/evidence.js'

export default class DeviceEvidence extends TdxCommand<typeof DeviceEvidence> {
  static summary = 'Collect device evidence (certificates, VCA, signed measurements, interface report) into one CBOR bundle.'
  static description = 'Evidence exists only while the TDI is locked. The verifier nonce defaults to 32 fresh random bytes.'
  static examples = ['<%= config.bin %> device evidence nic0 -o nic0.evidence', '<%= config.bin %> device evidence nic0 --nonce $(openssl rand -hex 32) -o ev.cbor', '<%= config.bin %> device evidence nic0 --json']
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}
  static flags = {
    nonce: Flags.string({summary: 'Verifier nonce for GET_MEASUREMENTS (32 bytes hex).'}),
    output: Flags.string({char: 'o', summary: 'Write the CBOR bundle to this file (- for stdout, raw).'}),
    format: Flags.string({summary: 'Encoding when writing to stdout.', options: ['bin', 'hex', 'base64'], default: 'hex'}),
  }

  async run() {
    const nonce = this.flags.nonce === undefined ? undefined : parseHex(this.flags.nonce, '--nonce', 32)
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const {result} = await collectEvidence(this.store(), this.args.device, nonce)
    const json = evidenceJson(result.bundle)
    target.write(result.bytes)
    if (!this.jsonEnabled()) {
      if (target.given) {
        target.say(`wrote ${result.bytes.length} bytes of evidence to ${target.name}`)
        const objs = json.objects as Record<string, string>
        target.say(kv([
          ['device', `${result.bundle.device.id} (${result.bundle.device.bdf})`],
          ['nonce', result.bundle.nonce.toString('hex')],
          ['objects', Object.entries(objs).map(([k, v]) => `${k} ${v.length / 2} B`).join(', ')],
          ['tsm', `${(json.tsm as {tdi_state: string}).tdi_state}, lock generation ${result.bundle.tsm.lock_generation}, evidence generation ${result.bundle.tsm.evidence_generation}`],
        ]))
      } else {
        this.writeStdout(encodeBinary(result.bytes, this.flags.format as BinaryFormat))
      }
    }
    return {...json, ...(target.file ? {output: target.file, bytes: result.bytes.length} : {})}
  }
}
