import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {encodeBinary, type BinaryFormat} from '../../src/util/bytes.js'
import {humanLines, OutputTarget} from '../../src/cli/output.js'
import {exportReference} from '../../src/app/device.js'

export default class DeviceReference extends TdxCommand<typeof DeviceReference> {
  static summary = "Export the device's golden reference values as a CoRIM (CBOR), optionally COSE_Sign1-signed."
  static description = 'One reference triple (a measurement per SPDM index, from the vendor golden firmware) and an identity triple pinning the vendor root certificate.'
  static examples = ['<%= config.bin %> device reference nic0 -o ref.cbor', '<%= config.bin %> device reference nic0 --sign --signer-key-out signer.jwk -o ref.cbor']
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}
  static flags = {
    output: Flags.string({char: 'o', summary: 'Write the CoRIM to this file (- for stdout, raw).'}),
    format: Flags.string({summary: 'Encoding when writing to stdout.', options: ['bin', 'hex', 'base64'], default: 'hex'}),
    sign: Flags.boolean({summary: "Sign with the vendor's (simulated) reference-value key (COSE_Sign1, ES384).", default: false}),
    'signer-key-out': Flags.string({summary: 'Write the signer public key (JWK) here.', dependsOn: ['sign']}),
  }

  async run() {
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const keyOut = OutputTarget.of(this.flags['signer-key-out'], '--signer-key-out', {json: this.jsonEnabled(), stdoutTakenBy: target.file ? undefined : 'the CoRIM'})
    const {result} = await exportReference(this.store(), this.args.device, {sign: this.flags.sign})
    target.write(result.bytes)
    keyOut.write(JSON.stringify(result.signer_jwk, null, 2) + '\n')
    const doc = result.document
    const summary = {
      kind: doc.kind,
      id: doc.id,
      profile: doc.profile,
      signed: doc.kind === 'signed-corim',
      measurements: doc.comids.flatMap((c) => c.reference.flatMap((t) => t.measurements.map((m) => ({index: m.index, digests: m.digests.map((d) => ({alg: d.alg, value: d.value.toString('hex')})), svn: m.svn, raw: m.raw?.toString('hex')})))),
      anchors: doc.comids.flatMap((c) => c.identity.flatMap((i) => i.anchors.map((a) => a.source))),
      bytes: result.bytes.length,
      ...(target.file ? {output: target.file} : {}),
      ...(result.signer_jwk ? {signer_jwk: result.signer_jwk} : {}),
    }
    if (!this.jsonEnabled()) {
      if (target.given) {
        const say = humanLines(target, keyOut)
        say(`wrote ${result.bytes.length}-byte ${doc.kind} ${doc.id} to ${target.name}`)
        say(kv(summary.measurements.map((m) => [`index ${m.index}`, m.digests.length ? `${m.digests[0].alg} ${m.digests[0].value.slice(0, 32)}…` : m.svn ? `svn ≥ ${m.svn.value}` : `raw ${m.raw?.slice(0, 32)}…`])))
      } else this.writeStdout(encodeBinary(result.bytes, this.flags.format as BinaryFormat))
    }
    return summary
  }
}
