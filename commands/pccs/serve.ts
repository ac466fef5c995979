import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {dim} from '../../src/cli/render.js'
import {loadCollateralFile} from '../../src/app/collateral-file.js'
import {PCCS_KEEP_ALIVE_MS, PCCS_MAX_CONNECTIONS, PCCS_REQUEST_TIMEOUT_MS, startPccsServer} from '../../src/app/pccs-server.js'
import {loadSimCollateral} from '../../src/app/sim-collateral.js'

export default class PccsServe extends TdxCommand<typeof PccsServe> {
  static summary = "Serve a collateral bundle on Intel's PCS v4 paths (the simulated platform's by default)."
  static description = `Paths: /sgx/certification/v4/pckcrl?ca=platform|processor (hex text of the DER CRL as a PCCS answers; &encoding=der raw DER, &encoding=pem PEM as Intel PCS), /sgx/certification/v4/rootcacrl (hex text, PCCS form), /IntelSGXRootCA.der and /sgx/certification/v4/crl?uri=... (raw DER), /{sgx,tdx}/certification/v4/tcb?fmspc=HEX, /{sgx,tdx}/certification/v4/qe/identity. Works with tdxkit's --pccs-url, @phala/dcap-qvl's getCollateral and Intel's QPL. --collateral takes a bundle file or a directory of raw PCS responses (what \`collateral fetch --dir\` writes). Listens on 127.0.0.1 unless --host says otherwise; malformed requests get 400; at most --max-connections at once (a newcomer displaces the oldest idle or stalled connection), and a request (or an idle connection) that takes longer than --request-timeout is dropped. Runs until interrupted (Ctrl-C); with --json it prints {"url": ...} once listening.`
  static examples = ['<%= config.bin %> pccs serve --port 8081', '<%= config.bin %> pccs serve --collateral collateral.json --port 0']
  static flags = {
    port: Flags.integer({char: 'p', summary: 'TCP port (0 = any free port).', default: 8081, min: 0, max: 65535}),
    host: Flags.string({summary: 'Address to listen on.', default: '127.0.0.1'}),
    collateral: Flags.string({summary: 'Collateral bundle or directory of raw PCS responses to serve (default: the simulated platform).'}),
    'max-connections': Flags.integer({summary: 'Open connections at once; one more closes the oldest idle or stalled one.', default: PCCS_MAX_CONNECTIONS, min: 1, max: 65536}),
    'request-timeout': Flags.integer({summary: 'ms a request (or a silent connection) may take before it is dropped.', default: PCCS_REQUEST_TIMEOUT_MS, min: 100, max: 600_000}),
    'keep-alive-timeout': Flags.integer({summary: 'ms an idle keep-alive connection is kept.', default: PCCS_KEEP_ALIVE_MS, min: 100, max: 600_000}),
  }

  async run() {
    let collateral
    let fmspc: string | undefined
    if (this.flags.collateral) collateral = loadCollateralFile(this.flags.collateral)
    else {
      const sim = await loadSimCollateral(this.store())
      if (sim.platform_created) this.notice('created the default simulated platform')
      collateral = sim.collateral
      fmspc = sim.fmspc
    }
    const server = await startPccsServer({
      collateral,
      ...(fmspc ? {fmspc} : {}),
      host: this.flags.host,
      port: this.flags.port,
      maxConnections: this.flags['max-connections'],
      requestTimeoutMs: this.flags['request-timeout'],
      keepAliveTimeoutMs: this.flags['keep-alive-timeout'],
      onRequest: (r) => {
        if (!this.jsonEnabled()) this.log(dim(`${r.status} ${r.method} ${r.path}`))
      },
    })
    if (this.jsonEnabled()) this.writeStdout(JSON.stringify({url: server.url}) + '\n')
    else this.log(`serving collateral on ${server.url} (Ctrl-C to stop)`)
    await new Promise<void>((resolve) => {
      const stop = () => resolve()
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
    await server.close()
  }
}
