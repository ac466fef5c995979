/**
 * Tampering at known offsets (go-tdx-guest's negative cases), each rejected with the right kind of
 * error. The exhaustive sweeps — every byte of every real quote with collateral and of simulated
 * v4/v5 quotes, every bit of a signed region — are in tamper-real-*.test.ts and tamper-sim.test.ts beside this file.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readVector, vectorTest} from '../helpers/vectors.js'
import {QuoteVerifier} from '../../src/verify/verifier.js'

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
