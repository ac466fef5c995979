/**
 * The committed testvectors/ are reproducible from their seed (byte-identical regeneration), and
 * what they contain is accepted by an independent verifier (@phala/dcap-qvl) with the committed
 * simulated root, rejected with Intel's root, and agrees with tdxkit's own verifier.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {generateVectors} from '../../src/testvectors/generate.js'
import {verifyQuote} from '../../src/verify/verifier.js'
import {parseQuote} from '../../src/abi/quote.js'
import {parseTdReport} from '../../src/abi/tdreport.js'
import {REPO_ROOT} from '../helpers/vectors.js'
import {qvl, VERIFY_AT} from '../helpers/host-fixtures.js'

const DIR = join(REPO_ROOT, 'testvectors')
const manifest = JSON.parse(readFileSync(join(DIR, 'MANIFEST.json'), 'utf8')) as {
  seed: string
  files: Array<{name: string; bytes: number; sha256: string}>
}
const read = (name: string) => readFileSync(join(DIR, name))

test('committed files match their manifest', () => {
  assert.ok(manifest.files.length >= 18)
  for (const f of manifest.files) assert.is(createHash('sha256').update(read(f.name)).digest('hex'), f.sha256, f.name)
})

test('regenerating from the seed gives byte-identical files', async () => {
  const files = await generateVectors(manifest.seed)
  assert.equal(
    files.map((f) => f.name),
    manifest.files.map((f) => f.name),
  )
  for (const f of files) assert.ok(f.bytes.equals(read(f.name)), `${f.name} differs from the committed vector`)
})

test('every generated quote: dcap-qvl says UpToDate with the simulated root, Intel root rejects; tdxkit agrees', () => {
  for (const platform of ['tdx-1.0', 'tdx-connect']) {
    const collateral = JSON.parse(read(`${platform}/collateral.json`).toString())
    const root = read(`${platform}/sim-root-ca.der`)
    const rootSha = createHash('sha256').update(root).digest('hex')
    const tdreport = parseTdReport(read(`${platform}/tdreport.bin`))
    for (const f of manifest.files.filter((x) => x.name.startsWith(`${platform}/quote-`))) {
      const quote = read(f.name)
      const r = qvl.QuoteVerifier.newWithRootCa(root).verify(quote, collateral, VERIFY_AT)
      assert.is(r.status, 'UpToDate', f.name)
      assert.throws(() => qvl.QuoteVerifier.newProd().verify(quote, collateral, VERIFY_AT))
      const ours = verifyQuote(quote, {now: VERIFY_AT, trustedRoots: [rootSha], collateral})
      assert.is(ours.ok, true, `${f.name}: ${JSON.stringify(ours.error ?? '')}`)
      assert.is(ours.status, 'UpToDate')
      // The quote carries the TD's measurements from the same platform's TDREPORT (same MRTD, RTMRs).
      const td = parseQuote(quote).td!
      assert.ok(td.mrtd.equals(tdreport.td_info.mrtd), f.name)
      assert.ok(td.rtmr2.equals(tdreport.td_info.rtmr[2]), f.name)
      assert.ok(td.rtmr3.equals(tdreport.td_info.rtmr[3]), f.name)
    }
  }
})

test.run()
