import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {dim} from '../../src/cli/render.js'
import {loadCollateralFile} from '../../src/app/collateral-file.js'
import {startPccsServer} from '../../src/app/pccs-server.js'
import {loadSimCollateral} from '../../src/app/sim-collateral.js'

export default class PccsServe extends TdxCommand<typeof PccsServe> {
  static summary = "Serve a collateral bundle on Intel's PCS v4 paths (the simulated platform's by default)."
  static description = `Paths: /sgx/certification/v4/pckcrl?ca=platform|processor, /sgx/certification/v4/rootcacrl, /{sgx,tdx}/certification/v4/tcb?fmspc=HEX, /{sgx,tdx}/certification/v4/qe/identity. Listens on 127.0.0.1 unless --host says otherwise; malformed requests get 400. Runs until interrupted (Ctrl-C); with --json it prints {"url": ...} once listening.`
  static examples = ['<%= config.bin %> pccs serve --port 8081', '<%= config.bin %> pccs serve --collateral collateral.json --port 0']
  static flags = {
    port: Flags.integer({char: 'p', summary: 'TCP port (0 = any free port).', default: 8081, min: 0, max: 65535}),
    host: Flags.string({summary: 'Address to listen on.', default: '127.0.0.1'}),
    collateral: Flags.string({summary: 'Collateral bundle to serve (default: the simulated platform).'}),
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
