import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {OutputTarget} from '../../src/cli/output.js'
import {bold, dim, kv} from '../../src/cli/render.js'
import {fetchCollateral} from '../../src/app/collateral-fetch.js'
import {writeCollateralDir} from '../../src/app/collateral-file.js'
import {fetchFlags} from '../../src/cli/fetch-flags.js'

export default class CollateralFetch extends TdxCommand<typeof CollateralFetch> {
  static summary = 'Fetch a platform\'s collateral from a PCS v4 / PCCS service once, to verify offline later.'
  static description =
    'The platform (TEE, FMSPC, PCK CA type) comes from the QUOTE\'s PCK certificate, or from --fmspc (with --ca, --tee). ' +
    'The four responses (TCB info, QE identity, PCK CRL, Root CA CRL) and their issuer chains are fetched fresh (no cache), ' +
    'checked to parse, and written as a QuoteCollateralV3 bundle (-o) and/or as a directory of raw PCS responses (--dir); ' +
    'both are accepted by `quote verify --collateral` and `pccs serve --collateral`. Nothing is verified here: verification ' +
    'pins a root and a time. Exit codes: 0 fetched, 2 bad input, 4 the service answered with something unusable (404, bad body), ' +
    '8 the service could not be reached (network error, timeout, HTTP 5xx after --retries).'
  static examples = [
    '<%= config.bin %> <%= command.id %> quote.bin --pccs-url https://api.trustedservices.intel.com -o bundle.json',
    '<%= config.bin %> <%= command.id %> --fmspc b0c06f000000 --pccs-url http://127.0.0.1:8081 --dir pcs/',
    '<%= config.bin %> quote verify quote.bin --collateral bundle.json',
  ]
  static args = {
    quote: Args.string({description: 'quote file (raw, hex or base64), or - for stdin', required: false}),
  }
  static flags = {
    'pccs-url': Flags.string({summary: 'PCS v4 / PCCS base URL.', required: true}),
    fmspc: Flags.string({summary: 'Fetch for this FMSPC (12 hex digits) instead of a quote\'s platform.'}),
    ca: Flags.string({summary: 'With --fmspc: PCK CA type.', options: ['platform', 'processor'], default: 'platform'}),
    tee: Flags.string({summary: 'With --fmspc: TEE.', options: ['tdx', 'sgx'], default: 'tdx'}),
    output: Flags.string({char: 'o', summary: 'Write the QuoteCollateralV3 bundle here (- for stdout; default stdout unless --dir).'}),
    dir: Flags.string({summary: 'Also write the raw PCS responses into this directory (created if missing; its parent must exist).'}),
    ...fetchFlags,
  }

  async run() {
    const {flags, args} = this
    const json = this.jsonEnabled()
    const target = OutputTarget.of(flags.output ?? (flags.dir || json ? undefined : '-'), '--output', {json})
    const got = await fetchCollateral({
      pccsUrl: flags['pccs-url'],
      ...(args.quote !== undefined ? {quote: args.quote} : {}),
      ...(flags.fmspc !== undefined ? {fmspc: flags.fmspc, ca: flags.ca as 'platform' | 'processor', tee: flags.tee as 'tdx' | 'sgx'} : {}),
      timeoutMs: flags.timeout,
      retries: flags.retries,
    })
    const written = flags.dir ? writeCollateralDir(flags.dir, got.collateral, got) : []
    target.write(JSON.stringify(got.collateral, null, 2) + '\n')
    const result = {
      tee: got.tee,
      fmspc: got.fmspc,
      ca: got.ca,
      ...(target.file ? {output: target.file} : {}),
      ...(flags.dir ? {dir: flags.dir, files: written} : {}),
      sources: got.sources.map((s) => s.url),
      validity: got.validity,
      ...(target.given ? {} : {collateral: got.collateral}),
    }
    if (json) return result
    const say = (l: string) => target.say(l)
    say(`${bold('fetched')} ${got.tee.toUpperCase()} collateral for FMSPC ${got.fmspc}, ca=${got.ca}${target.file ? ` → ${target.file}` : ''}${flags.dir ? ` → ${flags.dir}/ (${written.length} files)` : ''}`)
    say(kv(got.validity.map((v) => [v.item, `${v.from} .. ${v.until ?? 'open'}`] as [string, string])))
    say(dim('verify offline with: quote verify QUOTE --collateral ' + (target.file ?? flags.dir ?? 'FILE')))
    return result
  }
}
