import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {OutputTarget} from '../../src/cli/output.js'
import {bold, kv} from '../../src/cli/render.js'
import {describeRootCa, loadHostState, rootCaDer} from '../../src/app/sim-collateral.js'

export default class CollateralRoot extends TdxCommand<typeof CollateralRoot> {
  static summary = "Export the simulated platform's root CA certificate (the trust anchor for its quotes)."
  static description =
    'The self-signed "tdxkit SIMULATED SGX Root CA" that issues the PCK Platform CA, the TCB signing certificate and both CRLs. ' +
    'Give it to a verifier as the trusted root (e.g. `quote verify --root-ca FILE`, or dcap-qvl\'s QuoteVerifier.newWithRootCa) — ' +
    'quotes from this simulator never verify against the Intel SGX Root CA. Without -o the certificate goes to stdout.'
  static examples = [
    '<%= config.bin %> <%= command.id %> -o sim-root.pem',
    '<%= config.bin %> <%= command.id %> --format der -o sim-root.der',
    '<%= config.bin %> <%= command.id %> | openssl x509 -noout -subject -fingerprint -sha256',
  ]
  static flags = {
    output: Flags.string({char: 'o', summary: 'Write the certificate to this file (atomically) instead of stdout (- for stdout).'}),
    format: Flags.string({summary: 'Certificate encoding.', options: ['pem', 'der'], default: 'pem'}),
  }

  async run() {
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const store = this.store()
    const {host, platform_created} = await loadHostState(store)
    if (platform_created) this.notice(`created a default simulated platform in ${store.dir}`)
    const der = rootCaDer(host)
    const format = this.flags.format as 'pem' | 'der'
    const data = format === 'der' ? der : host.certs.root_ca
    const out = target.file
    target.write(data)
    const info = describeRootCa(der)
    const result = {...(out ? {output: out} : {}), format, ...info, pem: host.certs.root_ca}
    if (this.jsonEnabled()) return result
    if (!target.given) {
      this.writeStdout(data)
      return result
    }
    target.say(`${bold('wrote')} ${target.name} (${format.toUpperCase()}, SIMULATED root CA)`)
    target.say(
      kv([
        ['subject', info.subject],
        ['sha256', info.sha256],
        ['valid', `${info.not_before} .. ${info.not_after}`],
      ]),
    )
    return result
  }
}
