import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {readBinaryInput} from '../../src/app/files.js'
import {InputError} from '../../src/errors.js'
import {acceptDevice} from '../../src/app/device.js'
import {DeviceVerificationError} from '../../src/device/service.js'
import {loadAnchors, loadPolicy, loadReference, parseDeviceAt} from '../../src/app/device-inputs.js'
import {verdictLines} from '../../src/cli/device-render.js'

export default class DeviceAccept extends TdxCommand<typeof DeviceAccept> {
  static summary = 'Verify the device and, only if verification passes, START_INTERFACE: CONFIG_LOCKED → RUN.'
  static description =
    "Without --evidence, fresh evidence is collected now with a random nonce and checked against the device's golden reference values. Evidence is bound to the live TSM digests. Exit 7 when TDISP refuses (not CONFIG_LOCKED), 3/6 when verification fails; the device then stays where it was."
  static examples = ['<%= config.bin %> device accept nic0', '<%= config.bin %> device accept nic0 --evidence nic0.evidence --reference ref.cbor']
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}
  static flags = {
    evidence: Flags.string({summary: 'Evidence bundle to use (must be the latest collection).', dependsOn: ['reference']}),
    reference: Flags.string({summary: 'CoRIM reference values (default: the golden values of the device model).'}),
    'reference-key': Flags.string({summary: 'Public key (JWK/PEM/DER) that signed the CoRIM.', dependsOn: ['reference']}),
    'trust-anchor': Flags.string({summary: 'Pinned root certificate(s), PEM or DER.', multiple: true, multipleNonGreedy: true}),
    policy: Flags.string({summary: 'Policy JSON.'}),
    at: Flags.string({summary: 'Time for validity checks (ISO 8601, default now).'}),
  }

  async run() {
    const at = parseDeviceAt(this.flags.at)
    if (this.flags['reference-key'] && !this.flags.reference) throw new InputError('USAGE', '--reference-key needs --reference')
    const opts = {
      evidence: this.flags.evidence ? readBinaryInput(this.flags.evidence, 'evidence') : undefined,
      reference_doc: this.flags.reference ? loadReference(this.flags.reference, this.flags['reference-key'], at) : undefined,
      anchors: loadAnchors(this.flags['trust-anchor']),
      policy: loadPolicy(this.flags.policy),
      at,
    }
    const {result} = await acceptDevice(this.store(), this.args.device, opts).catch((error: unknown) => {
      if (error instanceof DeviceVerificationError && !this.jsonEnabled()) for (const l of verdictLines(error.verdict)) this.log(l)
      throw error
    })
    if (!this.jsonEnabled()) {
      for (const l of verdictLines(result.verdict)) this.log(l)
      this.log(`${result.device.id}: CONFIG_LOCKED → ${result.tdi_state} (accepted)`)
    }
    return {device: result.device, tdi_state: result.tdi_state, accepted: true, verdict: result.verdict}
  }
}
