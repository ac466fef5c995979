import {Args} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {bold, dim, table} from '../../src/cli/render.js'
import {describeQuote, parseQuote} from '../../src/abi/quote.js'
import {readBinaryInput} from '../../src/app/files.js'
import {describePckChain} from '../../src/verify/pck-info.js'
import {pckChainText} from '../../src/cli/verify-render.js'

export default class QuoteShow extends TdxCommand<typeof QuoteShow> {
  static summary = 'Decode a DCAP quote (v3 SGX, v4/v5 TDX): every field, named, with its offset.'
  static description = 'FILE is a path or - (stdin); raw, hex and base64 are detected. The PCK chain is decoded too: each certificate, the PCK CA type, and the leaf\'s SGX extension (FMSPC, PCE-ID, TCB components, PCESVN, CPUSVN). Nothing is verified (see `quote verify`).'
  static examples = ['<%= config.bin %> quote show quote.bin', '<%= config.bin %> quote show quote.bin --json']
  static args = {
    file: Args.string({description: 'quote file, or - for stdin', required: true}),
  }

  async run() {
    const raw = readBinaryInput(this.args.file, 'quote')
    const q = parseQuote(raw)
    const rows = describeQuote(q)
    const pck = q.pck_chain_pem ? describePckChain(q.pck_chain_pem) : undefined
    if (!this.jsonEnabled()) {
      this.log(bold(`quote v${q.version}, ${q.length} bytes${q.trailing_bytes ? `, ${q.trailing_bytes} trailing bytes ignored` : ''}`))
      const clip = (s: string) => (s.length > 66 ? s.slice(0, 64) + '…' : s)
      this.log(table(['offset', 'size', 'field', 'value'], rows.map((r) => [String(r.offset), String(r.size), r.name, clip(r.value)])))
      if (pck) this.log(pckChainText(pck))
    }
    return {
      version: q.version,
      size: raw.length,
      length: q.length,
      trailing_bytes: q.trailing_bytes,
      signature_data_len: q.signature_data_len,
      fields: rows.map((r) => ({name: r.name, offset: r.offset, size: r.size, value: r.value})),
      ...(q.pck_chain_pem ? {pck_chain_pem: q.pck_chain_pem.replace(/\0+$/, '')} : {}),
      ...(pck ? {pck_chain: pck} : {}),
    }
  }
}
