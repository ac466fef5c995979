/**
 * Tampering: flipping any single byte of a real quote's header, body, signatures, QE report, auth
 * data or PCK chain makes verification fail — never a crash, never a pass. Bytes after the declared
 * signature data are ignored by design (and are checked to be).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readVector, vectorTest} from '../helpers/vectors.js'
import {QuoteVerifier} from '../../src/verify/verifier.js'
import {parseQuote} from '../../src/abi/quote.js'
import type {QuoteCollateralV3} from '../../src/abi/collateral.js'

const CASES = [
  {dir: 'dcapqvl-tdx-v4-uptodate', at: 1752919234, pemStride: 7},
  {dir: 'gotdx-tdx-v5', at: 1772549365, pemStride: 31},
  {dir: 'dcapqvl-sgx-v3-config-swhardening', at: 1752919277, pemStride: 31},
]

for (const c of CASES) {
  vectorTest(test, `${c.dir}: every single-byte flip is rejected (PCK chain every ${c.pemStride} byte(s))`, () => {
    const quote = readVector('real', c.dir, 'quote.bin')
    const collateral = JSON.parse(readVector('real', c.dir, 'collateral.json').toString('utf8')) as QuoteCollateralV3
    const v = new QuoteVerifier({now: c.at, collateral})
    assert.ok(v.verify(quote).ok, 'the untouched quote verifies')
    const q = parseQuote(quote)
    const pem = q.spans.pck_cert_data
    let tried = 0
    for (let off = 0; off < q.length; off++) {
      const inPem = off >= pem.offset && off < pem.offset + pem.size
      if (inPem && (off - pem.offset) % c.pemStride !== 0) continue
      for (const x of inPem ? [0x01] : off < q.spans.body.offset ? [0x01, 0x80] : [0x01]) {
        const t = Buffer.from(quote)
        t[off] ^= x
        const r = v.verify(t)
        tried++
        if (r.ok) assert.unreachable(`flip 0x${x.toString(16)} at offset ${off} (0x${off.toString(16)}) still verifies`)
        assert.ok(r.exit_code >= 2 && r.exit_code <= 5, `exit ${r.exit_code} at ${off}`)
      }
    }
    assert.ok(tried > 900)
    // Bytes after the signature data are not part of the quote.
    if (q.trailing_bytes > 0) {
      const t = Buffer.from(quote)
      t[q.length] ^= 0xff
      assert.ok(v.verify(t).ok, 'trailing padding is ignored')
    }
  })
}

vectorTest(test, 'go-tdx-guest negative offsets on the SPR quote are each rejected with the right kind of error', () => {
  const quote = readVector('real', 'gotdx-tdx-v4-spr', 'quote.bin')
  const v = new QuoteVerifier({now: 1688173200})
  assert.ok(v.verify(quote).ok)
  const cases: Array<[number, number, string]> = [
    [0x00, 0x03, 'TEE_TYPE_MISMATCH'],
    [0x278, 0x10, 'CERT_DATA_SIZE'],
    [0x1e, 0x32, 'QUOTE_SIGNATURE_INVALID'],
    [0x3c, 0x32, 'QUOTE_SIGNATURE_INVALID'],
    [0xb77, 0x32, 'PCK_CHAIN'],
    [0xf5f, 0x32, 'PCK_CHAIN'],
    [0x1329, 0x32, 'PCK_CHAIN'],
    [0x1343, 0x32, 'PCK_CHAIN'],
  ]
  for (const [off, byte, code] of cases) {
    const t = Buffer.from(quote)
    t[off] = byte
    const r = v.verify(t)
    assert.not.ok(r.ok, `offset 0x${off.toString(16)}`)
    assert.ok(r.error!.code.startsWith(code), `offset 0x${off.toString(16)}: ${r.error!.code} (${r.error!.message})`)
  }
})

test.run()
