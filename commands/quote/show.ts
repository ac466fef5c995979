import {Args} from '@oclif/core'
import {TdxCommand} from '../../src/cli/base.js'
import {bold, dim, table} from '../../src/cli/render.js'
import {describeQuote, parseQuote} from '../../src/abi/quote.js'
import {readBinaryInput} from '../../src/util/bytes.js'

export default class QuoteShow extends TdxCommand<typeof QuoteShow> {
  static summary = 'Decode a DCAP quote (v3 SGX, v4/v5 TDX): every field, named, with its offset.'
  static description = 'FILE is a path or - (stdin); raw, hex and base64 are detected. Nothing is verified (see `quote verify`).'
  static examples = ['<%= config.bin %> quote show quote.bin', '<%= config.bin %> quote show quote.bin --json']
  static args = {
    file: Args.string({description: 'quote file, or - for stdin', required: true}),
  }

  async run() {
    const raw = readBinaryInput(this.args.file, 'quote')
    const q = parseQuote(raw)
    const rows = describeQuote(q)
    if (!this.jsonEnabled()) {
      this.log(bold(`quote v${q.version}, ${q.length} bytes${q.trailing_bytes ? `, ${q.trailing_bytes} trailing bytes ignored` : ''}`))
      const clip = (s: string) => (s.length > 66 ? s.slice(0, 64) + '…' : s)
      this.log(table(['offset', 'size', 'field', 'value'], rows.map((r) => [String(r.offset), String(r.size), r.name, clip(r.value)])))
      if (q.pck_chain_pem) this.log(dim(`PCK chain: ${q.pck_chain_pem.split('-----BEGIN CERTIFICATE-----').length - 1} PEM certificates`))
    }
    return {
      version: q.version,
      size: raw.length,
      length: q.length,
      trailing_bytes: q.trailing_bytes,
      signature_data_len: q.signature_data_len,
      fields: rows.map((r) => ({name: r.name, offset: r.offset, size: r.size, value: r.value})),
      ...(q.pck_chain_pem ? {pck_chain_pem: q.pck_chain_pem.replace(/\0+$/, '')} : {}),
    }
  }
}
