/**
 * Demo step for the configfs-tsm mount: serve the kernel's report interface from the simulated TD
 * with FUSE, let a plain shell script (mkdir, printf, cat, rmdir) get a quote from it, check that
 * the quote verifies and carries the script's REPORTDATA, unmount. Where FUSE is unavailable the
 * step says why and skips.
 */
import {mkdtempSync, rmdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseQuote} from '../abi/quote.js'
import {shellTsmQuote} from '../app/tsm-client.js'
import {serveTsm} from '../app/tsm-mount.js'
import {fuseAvailability} from '../app/tsm-mount-sys.js'
import {TdxkitError} from '../errors.js'
import {loadSimCollateral} from '../app/sim-collateral.js'
import {writeOutputFile} from '../app/files.js'
import {fingerprintOf} from '../verify/roots.js'
import {QuoteVerifier, defaultOptions} from '../verify/verifier.js'
import type {DemoStep} from './index.js'
import {DEFAULT_STRATEGY} from '../guest/quote.js'

const NONCE = Buffer.from('tdxkit demo: an unmodified shell client'.padEnd(64, '.'))

export const TSM_STEPS: DemoStep[] = [
  {
    id: 'tsm-mount',
    title: 'configfs-tsm mount: a shell script gets a quote the way it would on a TDX guest',
    async run(ctx) {
      const fuse = fuseAvailability()
      if (!fuse.available) return {lines: [`skipped: ${fuse.reason}`], data: {skipped: true, reason: fuse.reason}}
      const dir = mkdtempSync(join(tmpdir(), 'tdxkit-demo-tsm-'))
      const server = await serveTsm({dir, store: ctx.store, strategy: DEFAULT_STRATEGY})
      let quote: Buffer
      try {
        quote = await shellTsmQuote(server.report_root, NONCE)
      } finally {
        await server.close()
        rmdirSync(dir)
      }
      const q = parseQuote(quote)
      const bound = q.td!.report_data.equals(NONCE)
      const sim = await loadSimCollateral(ctx.store)
      const v = new QuoteVerifier({...defaultOptions(Math.floor(Date.now() / 1000)), trustedRoots: [fingerprintOf(sim.root_ca_der)], collateral: sim.collateral}).verify(quote)
      if (!bound || !v.ok) throw new TdxkitError('DEMO_TSM', `the quote from the mount ${bound ? `did not verify: ${v.error?.message}` : 'does not carry the REPORTDATA'}`)
      const file = join(ctx.workDir, 'tsm-quote.bin')
      writeOutputFile(file, quote)
      return {
        lines: [
          `mounted ${server.report_root} (provider ${server.provider}: ${server.tree.visibleAttributes().join(', ')})`,
          `sh: mkdir report/NAME; printf <64 bytes> > inblob; cat outblob; rmdir report/NAME`,
          `quote v${q.version}, ${quote.length} bytes, REPORTDATA = the script's nonce, verifies: ${v.status}; saved to ${file}`,
          'unmounted',
        ],
        data: {skipped: false, provider: server.provider, quote_bytes: quote.length, quote_version: q.version, status: v.status, quote_file: file},
      }
    },
  },
]
