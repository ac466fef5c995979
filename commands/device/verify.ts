import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {parseHex} from '../../src/util/bytes.js'
import {readBinaryInput} from '../../src/app/files.js'
import {decodeEvidence} from '../../src/device/evidence.js'
import {loadAnchors, loadPolicy, loadReference, parseDeviceAt} from '../../src/app/device-inputs.js'
import {verdictLines} from '../../src/cli/device-render.js'
import {verifyDeviceEvidence} from '../../src/device/verifier.js'
import {DeviceVerificationError} from '../../src/device/service.js'

export default class DeviceVerify extends TdxCommand<typeof DeviceVerify> {
  static summary = 'Verify a device evidence bundle against CoRIM reference values (pure: no platform needed).'
  static description =
    'Steps: TSM digest binding, TDI state, nonce freshness, certificate chain to a pinned anchor, negotiated SPDM parameters, measurement signature, reference values, measurements, interface report. Exit 3 on an authenticity failure, 6 on a policy violation.'
  static examples = [
    '<%= config.bin %> device verify nic0.evidence --reference ref.cbor',
    '<%= config.bin %> device verify ev.cbor --reference ref.cbor --trust-anchor vendor-root.pem --policy policy.json --json',
  ]
  static args = {evidence: Args.string({description: 'Evidence bundle (path or - for stdin; raw/hex/base64).', required: true})}
  static flags = {
    reference: Flags.string({summary: 'CoRIM / signed CoRIM / CoMID with reference values.', required: true}),
    'reference-key': Flags.string({summary: 'Public key (JWK/PEM/DER) that signed the CoRIM.'}),
    'trust-anchor': Flags.string({summary: 'Pinned root certificate(s), PEM or DER (default: the CoRIM identity triples).', multiple: true, multipleNonGreedy: true}),
    policy: Flags.string({summary: 'Policy JSON (see docs).'}),
    nonce: Flags.string({summary: 'The nonce you asked for (default: the one recorded in the bundle).'}),
    at: Flags.string({summary: 'Time for certificate / signer validity (ISO 8601, default now).'}),
  }

  async run() {
    const at = parseDeviceAt(this.flags.at)
    // Flag values first (cheap, and their errors are the user's first mistake), then the inputs.
    const anchors = loadAnchors(this.flags['trust-anchor'])
    const evidence = decodeEvidence(readBinaryInput(this.args.evidence, 'evidence'))
    const reference = loadReference(this.flags.reference, this.flags['reference-key'], at)
    const verdict = verifyDeviceEvidence({
      evidence,
      reference,
      anchors,
      policy: loadPolicy(this.flags.policy),
      at,
      expected_nonce: this.flags.nonce === undefined ? undefined : parseHex(this.flags.nonce, '--nonce', 32),
    })
    if (!this.jsonEnabled()) for (const l of verdictLines(verdict)) this.log(l)
    if (!verdict.ok) throw new DeviceVerificationError(verdict)
    return verdict
  }
}
