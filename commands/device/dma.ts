import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {InputError} from '../../src/errors.js'
import {parseHex} from '../../src/util/bytes.js'
import {DMA_MAX_BYTES, deviceDma} from '../../src/app/device-dma.js'

/** A GPA as 0x-hex or decimal. */
function parseGpa(text: string): bigint {
  const t = text.trim()
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(t)) throw new InputError('BAD_GPA', `--gpa '${text}' is not a number (0x-hex or decimal)`)
  return BigInt(t)
}

export default class DeviceDma extends TdxCommand<typeof DeviceDma> {
  static summary = "Let a device DMA into (or out of) the TD's memory through the TDX Connect IOMMU: T=0 reaches shared memory only, T=1 needs lock → verify → accept."
  static description =
    "A device sends TEE-TLPs (T=1) only while its TDI is RUN and the TD accepted it ('device accept'); then it may reach private and shared memory. Otherwise its traffic is T=0 and the IOMMU blocks it from private memory (TDX Connect TEE-IO Device Guide, Table A-8): exit 7, the TD's page unchanged. --shared (or a GPA with the shared bit set) targets a buffer the TD converted to shared, which every device may reach."
  static examples = [
    '<%= config.bin %> device dma nic0 --gpa 0x10000000 --bytes 64',
    '<%= config.bin %> device dma nic0 --gpa 0x10000000 --bytes 4096 --shared',
    '<%= config.bin %> device dma nic0 --gpa 0x10000000 --bytes 64 --read --json',
  ]
  static args = {device: Args.string({description: 'Device id or PCI address.', required: true})}
  static flags = {
    gpa: Flags.string({summary: 'DMA address: a guest-physical address (0x-hex or decimal); the shared bit selects the shared alias.', required: true}),
    bytes: Flags.integer({summary: `Bytes to move (1-${DMA_MAX_BYTES}).`, default: 64, min: 1, max: DMA_MAX_BYTES}),
    write: Flags.boolean({summary: 'Device writes into TD memory (the default).', exclusive: ['read']}),
    read: Flags.boolean({summary: 'Device reads TD memory.', exclusive: ['write']}),
    shared: Flags.boolean({summary: 'The buffer is shared memory (the TD converts it and gives the device its shared-alias address).', default: false}),
    data: Flags.string({summary: 'Bytes the device writes, hex (repeated to --bytes).', exclusive: ['read']}),
  }

  async run() {
    const direction = this.flags.read ? 'read' : 'write'
    const data = this.flags.data === undefined ? undefined : parseHex(this.flags.data, '--data')
    const {result: r} = await deviceDma(this.store(), {device: this.args.device, gpa: parseGpa(this.flags.gpa), bytes: this.flags.bytes, direction, shared: this.flags.shared, data})
    if (!this.jsonEnabled()) {
      this.log(`${r.device.id}: DMA ${r.direction} of ${r.bytes} bytes at ${r.alias} GPA ${r.gpa}: allowed (${r.tlp}; ${r.why})`)
      this.log(
        kv([
          ['pages', String(r.pages)],
          [r.direction === 'write' ? 'TD reads back' : 'device got', `${r.preview}${r.bytes > r.preview.length / 2 ? '…' : ''} (${r.verified ? 'matches' : 'MISMATCH'})`],
        ]),
      )
    }
    return {...r, allowed: true}
  }
}
