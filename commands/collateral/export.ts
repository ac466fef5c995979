import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {OutputTarget} from '../../src/cli/output.js'
import {bold, kv, yellow} from '../../src/cli/render.js'
import {collateralSummary, loadHostState} from '../../src/app/sim-collateral.js'

export default class CollateralExport extends TdxCommand<typeof CollateralExport> {
  static summary = "Export the simulated platform's collateral as QuoteCollateralV3 JSON."
  static description =
    'The bundle a verifier needs offline, in the shape of dcap-qvl\'s QuoteCollateralV3 (the collateral.json of the real test vectors): ' +
    'TCB info (id TDX, v3) and QE identity (TD_QE, v2) as the exact signed JSON text with their signatures, the TCB signing chain, the ' +
    'PCK CRL and Root CA CRL (hex DER) and the PCK CRL issuer chain. Everything is signed by the SIMULATED root: verify with ' +
    '`quote verify --root-ca sim` (or the file from `collateral root`). Without -o the JSON goes to stdout.'
  static examples = [
    '<%= config.bin %> <%= command.id %> -o collateral.json',
    '<%= config.bin %> <%= command.id %> | jq -r .tcb_info | jq .tcbLevels',
    '<%= config.bin %> <%= command.id %> -o collateral.json --json',
  ]
  static flags = {
    output: Flags.string({char: 'o', summary: 'Write the collateral JSON to this file (atomically) instead of stdout (- for stdout).'}),
  }

  async run() {
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const store = this.store()
    const {host, platform_created} = await loadHostState(store)
    if (platform_created) this.notice(`created a default simulated platform in ${store.dir}`)
    const out = target.file
    target.write(JSON.stringify(host.collateral, null, 2) + '\n')
    const summary = collateralSummary(host)
    const result = {...(out ? {output: out} : {}), ...summary, collateral: host.collateral}
    if (this.jsonEnabled()) return result
    if (!target.given) {
      this.writeStdout(JSON.stringify(host.collateral, null, 2) + '\n')
      return result
    }
    const s = summary.scenario
    const unhappy = [s.tcb_status !== 'UpToDate' ? `TCB ${s.tcb_status}` : '', s.pck_revoked ? 'PCK revoked' : '', s.collateral_expired ? 'collateral expired' : '']
      .filter(Boolean)
      .join(', ')
    target.say(`${bold('wrote')} ${target.name} (QuoteCollateralV3, SIMULATED)`)
    target.say(
      kv([
        ['fmspc', summary.fmspc],
        ['pce id', summary.pce_id],
        ['tcb status', summary.tcb_status + ' (platform level)'],
        ['valid', `${summary.issue_date} .. ${summary.next_update}`],
        ['tcb levels', String(summary.tcb_levels)],
        ['root ca sha256', summary.root_ca_sha256],
        ...(unhappy ? [['scenario', yellow(unhappy)] as [string, string]] : []),
      ]),
    )
    return result
  }
}
