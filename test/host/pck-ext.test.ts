/** The SGX PCK extension: byte-exact against a real Intel PCK certificate, round trips, malformed input. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {parseQuote} from '../../src/abi/quote.js'
import {ParseError} from '../../src/errors.js'
import {decodePckExtension, encodePckExtension, pckExtensionOfCertificate, SGX_EXTENSION_OID, type PckExtension} from '../../src/host/pck-ext.js'
import {pemToDers} from '../../src/host/pki.js'
import {readVector, vectorTest} from '../helpers/vectors.js'

vectorTest(test, 'decodes the real PCK leaf of dcapqvl-tdx-v4-uptodate and re-encodes it byte for byte', () => {
  const q = parseQuote(readVector('real', 'dcapqvl-tdx-v4-uptodate', 'quote.bin'))
  const leaf = pemToDers(q.pck_chain_pem!)[0]
  const ext = pckExtensionOfCertificate(leaf)
  // Values read independently with `openssl asn1parse` on the same certificate.
  assert.is(ext.ppid.toString('hex'), '811dca2a26b952e85bb6448b097ba4fd')
  assert.equal(ext.tcb.components, [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0])
  assert.is(ext.tcb.pcesvn, 11)
  assert.is(ext.tcb.cpusvn.toString('hex'), '03030202040100050000000000000000')
  assert.is(ext.pce_id.toString('hex'), '0000')
  assert.is(ext.fmspc.toString('hex'), 'b0c06f000000')
  assert.is(ext.sgx_type, 1)
  assert.is(ext.platform_instance_id?.toString('hex'), '07828474603e7019dc930775ffe8cdd2')
  assert.equal(ext.configuration, {dynamic_platform: true, cached_keys: true, smt_enabled: true})
  // Our encoder reproduces Intel's DER exactly: same structure, same tags, same order.
  const cert = pkijs.Certificate.fromBER(leaf)
  const original = Buffer.from(cert.extensions!.find((e) => e.extnID === SGX_EXTENSION_OID)!.extnValue.valueBlock.valueHexView)
  assert.ok(encodePckExtension(ext).equals(original))
})

const bytes = (n: number) => fc.uint8Array({minLength: n, maxLength: n}).map((b) => Buffer.from(b))
const extArb: fc.Arbitrary<PckExtension> = fc.record({
  ppid: bytes(16),
  tcb: fc.record({components: fc.array(fc.integer({min: 0, max: 255}), {minLength: 16, maxLength: 16}), pcesvn: fc.integer({min: 0, max: 65535}), cpusvn: bytes(16)}),
  pce_id: bytes(2),
  fmspc: bytes(6),
  sgx_type: fc.integer({min: 0, max: 2}),
  platform_instance_id: fc.option(bytes(16), {nil: undefined}),
  configuration: fc.option(fc.record({dynamic_platform: fc.boolean(), cached_keys: fc.boolean(), smt_enabled: fc.boolean()}), {nil: undefined}),
})

test('encode → decode round-trips any extension', () => {
  fc.assert(
    fc.property(extArb, (ext) => {
      const back = decodePckExtension(encodePckExtension(ext))
      const norm = (e: PckExtension) => JSON.parse(JSON.stringify({...e, platform_instance_id: e.platform_instance_id ?? null, configuration: e.configuration ?? null}))
      assert.equal(norm(back), norm(ext))
    }),
    {numRuns: 100},
  )
})

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn()
  } catch (e) {
    assert.instance(e, ParseError)
    assert.is((e as ParseError).code, code)
    return
  }
  assert.unreachable(`expected ParseError ${code}`)
}

test('malformed extensions give a ParseError with a stable code', () => {
  const good = encodePckExtension({
    ppid: Buffer.alloc(16),
    tcb: {components: Array(16).fill(1), pcesvn: 2, cpusvn: Buffer.alloc(16, 1)},
    pce_id: Buffer.alloc(2),
    fmspc: Buffer.alloc(6),
    sgx_type: 0,
  })
  throwsCode(() => decodePckExtension(Buffer.from('not der')), 'PCK_EXTENSION_MALFORMED')
  throwsCode(() => decodePckExtension(good.subarray(0, good.length - 3)), 'PCK_EXTENSION_MALFORMED')
  throwsCode(() => decodePckExtension(Buffer.from('3000', 'hex')), 'PCK_EXTENSION_MALFORMED') // empty: PPID missing
  // A 5-byte FMSPC: rebuild the top-level SEQUENCE with the FMSPC pair replaced.
  const top = asn1js.fromBER(Uint8Array.from(good)).result as asn1js.Sequence
  const pairs = top.valueBlock.value as asn1js.Sequence[]
  const fmspcIdx = pairs.findIndex((p) => (p.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString() === `${SGX_EXTENSION_OID}.4`)
  pairs[fmspcIdx] = new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({value: `${SGX_EXTENSION_OID}.4`}), new asn1js.OctetString({valueHex: new Uint8Array(5)})],
  })
  const short = Buffer.from(new asn1js.Sequence({value: pairs}).toBER())
  throwsCode(() => decodePckExtension(short), 'PCK_EXTENSION_MALFORMED')
  // A certificate without the extension at all.
  throwsCode(() => pckExtensionOfCertificate(Buffer.from('30030201', 'hex')), 'CERTIFICATE_MALFORMED')
})

test.run()
