import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {dim} from '../../src/cli/render.js'
import {MAX_CERT_FILE_BYTES, readRawInput} from '../../src/app/files.js'
import {InputError} from '../../src/errors.js'
import {DEFAULT_HEARTBEAT_PERIOD, identityFromFiles, serveDevice} from '../../src/app/spdm-device.js'
import {DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS} from '../../src/app/spdm-server.js'
import {EMU_PORT_DEFAULT} from '../../src/abi/doe.js'

export default class DeviceServe extends TdxCommand<typeof DeviceServe> {
  static summary = 'Make a simulated device answer SPDM 1.2/1.3, TDISP and IDE_KM (a CXL device also CXL IDE_KM and TSP) on the wire (spdm-emu socket protocol, PCI_DOE).'
  static description = `Speaks the socket protocol of DMTF's spdm-emu, so libspdm's spdm_requester_emu --trans PCI_DOE and the DMTF SPDM Responder Validator can attest the device; tdxkit device attest --connect works too. Inside a secure session, VENDOR_DEFINED messages drive the device's own TDISP state machine (written back to the state directory on every transition) and its IDE_KM port; a cxl-mem device also answers CXL IDE_KM and CXL TSP (vendor 0x1E98), its TSP state persisted the same way. --identity/--identity-key replace the device's certificate chain and key (e.g. libspdm's sample ecp384/bundle_responder.certchain.der and ecp384/end_responder.key). Runs until interrupted; with --once it stops after the first connection that ends with SHUTDOWN. With --json it prints one JSON object per line: {"event":"listening",...} then one per SPDM/TDISP event.`
  static examples = [
    '<%= config.bin %> device serve nic0 --port 2323',
    '<%= config.bin %> device serve nic0 --port 0 --json --once',
    '<%= config.bin %> device serve nic0 --identity ecp384/bundle_responder.certchain.der --identity-key ecp384/end_responder.key',
  ]
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}
  static flags = {
    port: Flags.integer({char: 'p', summary: 'TCP port (0 = any free port).', default: EMU_PORT_DEFAULT, min: 0, max: 65535}),
    host: Flags.string({summary: 'Address to listen on.', default: '127.0.0.1'}),
    trans: Flags.string({summary: 'Transport binding inside the socket frames.', options: ['PCI_DOE'], default: 'PCI_DOE'}),
    identity: Flags.string({summary: 'Certificate chain to present (DER concatenation or PEM, root first).', dependsOn: ['identity-key']}),
    'identity-key': Flags.string({summary: "Private key (PEM/DER, EC) of the chain's leaf.", dependsOn: ['identity']}),
    once: Flags.boolean({summary: 'Stop after the first connection that ends with SHUTDOWN.', default: false}),
    'max-connections': Flags.integer({summary: 'Simultaneous connections served; more are refused.', default: DEFAULT_MAX_CONNECTIONS, min: 1, max: 1024}),
    heartbeat: Flags.integer({summary: 'Heartbeat period announced in KEY_EXCHANGE_RSP, seconds (0 = none); a session silent for twice as long is ended.', default: DEFAULT_HEARTBEAT_PERIOD, min: 0, max: 255}),
    'idle-timeout': Flags.integer({summary: 'Seconds a connection may stay silent before it is closed.', default: DEFAULT_IDLE_TIMEOUT_MS / 1000, min: 1, max: 3600}),
  }

  async run() {
    if (this.flags.trans !== 'PCI_DOE') throw new InputError('USAGE', '--trans: only PCI_DOE is supported')
    const identity = this.flags.identity
      ? identityFromFiles(readRawInput(this.flags.identity, '--identity', MAX_CERT_FILE_BYTES), readRawInput(this.flags['identity-key']!, '--identity-key', MAX_CERT_FILE_BYTES), `--identity ${this.flags.identity}`)
      : undefined
    const json = this.jsonEnabled()
    const line = (o: Record<string, unknown>) => this.writeStdout(JSON.stringify(o) + '\n')
    const {server, device} = await serveDevice(this.store(), {
      device: this.args.device,
      host: this.flags.host,
      port: this.flags.port,
      identity,
      once: this.flags.once,
      max_connections: this.flags['max-connections'],
      idle_timeout_ms: this.flags['idle-timeout'] * 1000,
      heartbeat_period: this.flags.heartbeat,
      on_event: (e) => (json ? line({event: e.kind, detail: e.detail, ...e.data}) : this.log(e.kind === 'tdisp' ? `TDISP ${e.detail}` : e.kind === 'tsp' ? `CXL TSP ${e.detail}` : dim(`${e.kind} ${e.detail}`))),
    })
    if (json) line({event: 'listening', host: server.host, port: server.port, transport: 'PCI_DOE', device: device.id, bdf: device.bdf, tdi_state: device.tdi_state, identity: identity ? 'files' : 'device'})
    else this.log(`serving ${device.id} (${device.bdf}, TDI ${device.tdi_state}) on ${server.host}:${server.port}, PCI_DOE${identity ? ', identity from files' : ''} (Ctrl-C to stop)`)
    const stop = () => void server.close()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    await server.done
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}
