import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {parseHex} from '../../src/util/bytes.js'
import {OutputTarget} from '../../src/cli/output.js'
import {InputError} from '../../src/errors.js'
import {FUNCTION_ID_SEGMENT_VALID, functionIdFromBdf, parseBdf} from '../../src/abi/tdisp.js'
import {attestDevice} from '../../src/app/spdm-device.js'
import {evidenceNonce} from '../../src/device/service.js'
import {evidenceJson} from '../../src/device/evidence.js'
import {DEFAULT_CLIENT_TIMEOUT_MS} from '../../src/app/spdm-client.js'

const FUNCTION_ID_MAX = FUNCTION_ID_SEGMENT_VALID * 2 - 1

export default class DeviceAttest extends TdxCommand<typeof DeviceAttest> {
  static summary = 'Attest a device over SPDM (tdxkit as requester/TSM) and write an evidence bundle for `device verify`.'
  static description =
    'Connects with the spdm-emu socket protocol (PCI_DOE) to any SPDM responder — tdxkit device serve, or libspdm spdm_responder_emu — runs DOE discovery, the VCA, GET_DIGESTS/GET_CERTIFICATE, CHALLENGE, a signed GET_MEASUREMENTS with the verifier nonce, a KEY_EXCHANGE/FINISH session with HEARTBEAT and KEY_UPDATE, and, when the device speaks TDISP, LOCK_INTERFACE → GET_DEVICE_INTERFACE_REPORT → START_INTERFACE inside the session. Every signature is checked against the transcript on the way; the chain is checked against a trust anchor by `device verify`. Exit 3 when a signature or MAC does not verify, 7 when the peer refuses, times out or closes.'
  static examples = [
    '<%= config.bin %> device attest --connect 127.0.0.1:2323 -o dev.evidence',
    '<%= config.bin %> device attest --connect 127.0.0.1:2323 --function-id 0xbeef --tdisp lock --bar 0:0x200000 -o dev.evidence --json',
  ]
  static flags = {
    connect: Flags.string({summary: 'HOST:PORT of the responder.', required: true}),
    output: Flags.string({char: 'o', summary: 'Write the CBOR evidence bundle here (- for stdout).', required: true}),
    nonce: Flags.string({summary: 'Verifier nonce for GET_MEASUREMENTS (32 bytes hex; default random).'}),
    'function-id': Flags.string({summary: 'TDISP INTERFACE_ID.FUNCTION_ID to lock (hex, or a PCI address bb:dd.f).', default: '0xbeef'}),
    tdisp: Flags.string({summary: 'How far to drive TDISP when the device supports it.', options: ['none', 'lock', 'start'], default: 'start'}),
    stop: Flags.boolean({summary: 'STOP_INTERFACE at the end (back to CONFIG_UNLOCKED).', default: false}),
    bar: Flags.string({summary: 'BAR of the device as INDEX:SIZE (repeatable), for the interface-report check.', multiple: true, multipleNonGreedy: true}),
    id: Flags.string({summary: 'Device name recorded in the bundle.', default: 'remote'}),
    timeout: Flags.integer({summary: 'Seconds to wait for each answer.', default: DEFAULT_CLIENT_TIMEOUT_MS / 1000, min: 1, max: 600}),
    end: Flags.string({summary: 'Socket command that ends the connection (SHUTDOWN stops an emulator).', options: ['shutdown', 'continue'], default: 'shutdown'}),
  }

  private functionId(text: string): number {
    const bdf = parseBdf(text)
    if (bdf) return functionIdFromBdf(bdf.bus, bdf.dev, bdf.fn)
    const v = /^(0x)?[0-9a-fA-F]{1,8}$/.test(text) ? parseInt(text.replace(/^0x/, ''), 16) : NaN
    if (!(v >= 0 && v <= FUNCTION_ID_MAX)) throw new InputError('USAGE', `--function-id: '${text}' is not a FUNCTION_ID (hex) or a PCI address`)
    return v
  }

  private bars(list: string[] | undefined): Array<{index: number; size: bigint}> {
    return (list ?? []).map((b) => {
      const m = /^([0-5]):((?:0x)?[0-9a-fA-F]+)$/.exec(b)
      const size = m ? BigInt(m[2].startsWith('0x') ? m[2] : `0x${m[2]}`) : 0n
      if (!m || size <= 0n) throw new InputError('USAGE', `--bar: '${b}' is not INDEX:SIZE (index 0-5, size hex)`)
      return {index: Number(m[1]), size}
    })
  }

  async run() {
    const target = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
    const nonce = evidenceNonce(this.flags.nonce === undefined ? undefined : parseHex(this.flags.nonce, '--nonce', 32))
    const {outcome, bytes} = await attestDevice({
      connect: this.flags.connect,
      nonce,
      function_id: this.functionId(this.flags['function-id']),
      tdisp: this.flags.tdisp as 'none' | 'lock' | 'start',
      stop: this.flags.stop,
      bars: this.bars(this.flags.bar),
      id: this.flags.id,
      timeout_ms: this.flags.timeout * 1000,
      end: this.flags.end as 'shutdown' | 'continue',
    })
    target.write(bytes)
    if (!this.jsonEnabled()) {
      for (const s of outcome.steps) target.say(`✓ ${s}`)
      target.say(kv([
        ['evidence', `${target.name} (${bytes.length} bytes)`],
        ['spdm', outcome.spdm_version],
        ['tdisp', outcome.tdisp.supported ? outcome.tdisp.states.join(' → ') : `not spoken${outcome.tdisp.error ? ` (${outcome.tdisp.error})` : ''}`],
      ]))
    }
    return {output: this.flags.output, bytes: bytes.length, spdm_version: outcome.spdm_version, session: outcome.session, tdisp: outcome.tdisp, steps: outcome.steps, evidence: evidenceJson(outcome.bundle)}
  }
}
