/**
 * The SGX PCK extension (src/abi/pck-extension.ts): decoding real Intel PCK certificates, byte-exact
 * re-encoding of them, encode/decode round trips checked against asn1js as an independent decoder,
 * and malformed input → PckExtensionError.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {parseQuote} from '../../src/abi/quote.js'
import {decodeDer, derBooleanNode, derOctetsNode, derOid, derOidNode, derSequenceNode, derSmallIntNode, DER_TAG, encodeDer, type DerNode} from '../../src/abi/der.js'
import {
  CONFIGURATION_FLAG_OID,
  encodePckExtension,
  OID_SGX_EXTENSION,
  parsePckExtension,
  PckExtensionError,
  SGX_EXT,
  sgxExtensionOf,
  type PckExtension,
} from '../../src/abi/pck-extension.js'
import {pemToDers} from '../../src/x509/pem.js'
import {readVector, vectorTest} from '../helpers/vectors.js'

/** The raw SGX extension value of a quote's PCK leaf, extracted with pkijs (not our X.509 code). */
function realExtension(dir: string): {raw: Buffer; issuerCn: string} {
  const q = parseQuote(readVector('real', dir, 'quote.bin'))
  const [leaf, issuer] = pemToDers(q.pck_chain_pem!).map((d) => pkijs.Certificate.fromBER(d))
  const ext = leaf.extensions!.find((e) => e.extnID === OID_SGX_EXTENSION)!
  const cn = issuer.subject.typesAndValues.find((t) => t.type === '2.5.4.3')!.value.valueBlock.value as string
  return {raw: Buffer.from(ext.extnValue.valueBlock.valueHexView), issuerCn: cn}
}

vectorTest(test, 'decodes the real PCK leaf of dcapqvl-tdx-v4-uptodate (values read with openssl asn1parse)', () => {
  const ext = parsePckExtension(realExtension('dcapqvl-tdx-v4-uptodate').raw)
  assert.is(ext.ppid.toString('hex'), '811dca2a26b952e85bb6448b097ba4fd')
  assert.equal(ext.tcb_components, [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0])
  assert.is(ext.pcesvn, 11)
  assert.is(ext.cpusvn.toString('hex'), '03030202040100050000000000000000')
  assert.is(ext.pceid.toString('hex'), '0000')
  assert.is(ext.fmspc.toString('hex'), 'b0c06f000000')
  assert.is(ext.sgx_type, 1)
  assert.is(ext.platform_instance_id?.toString('hex'), '07828474603e7019dc930775ffe8cdd2')
  assert.equal(ext.configuration, {dynamic_platform: true, cached_keys: true, smt_enabled: true})
})

// Platform-CA certificates (with PlatformInstanceID and Configuration, cachedKeys true and false)
// and a Processor-CA one (neither).
const REAL = ['dcapqvl-tdx-v4-uptodate', 'dcapqvl-tdx-v5-tcb-unmatched', 'gotdx-tdx-v4-spr', 'trustee-tdx-v4-tdx03-outofdate', 'dcapqvl-sgx-v3-config-swhardening']

vectorTest(test, 'real PCK extensions: fields match expected.json and re-encode byte for byte', () => {
  const seen = {processor: 0, cachedKeysOff: 0}
  for (const dir of REAL) {
    const exp = JSON.parse(readVector('real', dir, 'expected.json').toString('utf8')).quote
    const {raw, issuerCn} = realExtension(dir)
    const ext = parsePckExtension(raw)
    assert.is(ext.fmspc.toString('hex'), exp.fmspc, dir)
    assert.is(ext.pceid.toString('hex'), exp.pce_id, dir)
    assert.is(ext.pcesvn, exp.pck_pcesvn, dir)
    assert.is(ext.cpusvn.toString('hex'), exp.pck_cpusvn, dir)
    assert.is(issuerCn, exp.pck_issuer_cn, dir)
    // Only Platform-CA PCKs carry the platform fields.
    const platform = issuerCn.includes('Platform CA')
    assert.is(ext.platform_instance_id !== undefined, platform, dir)
    assert.is(ext.configuration !== undefined, platform, dir)
    if (!platform) seen.processor++
    if (ext.configuration?.cached_keys === false) seen.cachedKeysOff++
    assert.ok(encodePckExtension(ext).equals(raw), `${dir}: encode(decode(x)) is x`)
  }
  assert.ok(seen.processor > 0 && seen.cachedKeysOff > 0, 'the sample covers a Processor-CA PCK and a false flag')
})

test('DER builders: minimal INTEGER / ENUMERATED / BOOLEAN / OID encodings (hand-computed)', () => {
  const hex = (n: DerNode) => encodeDer(n).toString('hex')
  assert.is(hex(derSmallIntNode(0)), '020100')
  assert.is(hex(derSmallIntNode(127)), '02017f')
  assert.is(hex(derSmallIntNode(128)), '02020080')
  assert.is(hex(derSmallIntNode(256)), '02020100')
  assert.is(hex(derSmallIntNode(65535)), '020300ffff')
  assert.is(hex(derSmallIntNode(2, DER_TAG.ENUMERATED)), '0a0102')
  assert.is(hex(derBooleanNode(true)), '0101ff')
  assert.is(hex(derBooleanNode(false)), '010100')
  // 1.2.840.113741.1.13.1: 2a 8648 86f84d 01 0d 01
  assert.is(hex(derOidNode(OID_SGX_EXTENSION)), '06092a864886f84d010d01')
  assert.is(hex(derSequenceNode([derOctetsNode(Buffer.from([1, 2]))])), '300404020102')
  assert.throws(() => derSmallIntNode(-1), RangeError)
  assert.throws(() => derSmallIntNode(1.5), RangeError)
})

const bytes = (n: number) => fc.uint8Array({minLength: n, maxLength: n}).map((b) => Buffer.from(b))
const flag = fc.option(fc.boolean(), {nil: undefined})
const extArb: fc.Arbitrary<PckExtension> = fc.record({
  ppid: bytes(16),
  tcb_components: fc.array(fc.integer({min: 0, max: 255}), {minLength: 16, maxLength: 16}),
  pcesvn: fc.integer({min: 0, max: 65535}),
  cpusvn: bytes(16),
  pceid: bytes(2),
  fmspc: bytes(6),
  sgx_type: fc.integer({min: 0, max: 2}),
  platform_instance_id: fc.option(bytes(16), {nil: undefined}),
  configuration: fc.option(fc.record({dynamic_platform: flag, cached_keys: flag, smt_enabled: flag}), {nil: undefined}),
})
/** Drop undefined members so absent and undefined compare equal. */
const norm = (e: PckExtension) => JSON.parse(JSON.stringify(e))

/** Read a SEQUENCE OF {OID, value} with asn1js. */
function asnPairs(node: asn1js.AsnType): Map<string, asn1js.AsnType> {
  assert.instance(node, asn1js.Sequence)
  return new Map(
    (node as asn1js.Sequence).valueBlock.value.map((p) => {
      const [oid, value] = (p as asn1js.Sequence).valueBlock.value
      return [(oid as asn1js.ObjectIdentifier).valueBlock.toString(), value]
    }),
  )
}

test('encode → decode round-trips any extension; asn1js reads the same values from the DER', () => {
  fc.assert(
    fc.property(extArb, (ext) => {
      const der = encodePckExtension(ext)
      assert.equal(norm(parsePckExtension(der)), norm(ext))
      // Independent decoder: tags, order and values as Intel's structure has them.
      const parsed = asn1js.fromBER(Uint8Array.from(der))
      assert.is(parsed.offset, der.length)
      const top = asnPairs(parsed.result)
      assert.equal([...top.keys()].slice(0, 5), [SGX_EXT.PPID, SGX_EXT.TCB, SGX_EXT.PCEID, SGX_EXT.FMSPC, SGX_EXT.SGX_TYPE])
      assert.is(Buffer.from((top.get(SGX_EXT.FMSPC) as asn1js.OctetString).valueBlock.valueHexView).toString('hex'), ext.fmspc.toString('hex'))
      const sgxType = top.get(SGX_EXT.SGX_TYPE)
      assert.instance(sgxType, asn1js.Enumerated)
      assert.is((sgxType as asn1js.Enumerated).valueBlock.valueDec, ext.sgx_type)
      const tcb = asnPairs(top.get(SGX_EXT.TCB)!)
      assert.is(tcb.size, 18)
      const components = [...Array(16).keys()].map((i) => (tcb.get(`${SGX_EXT.TCB}.${i + 1}`) as asn1js.Integer).valueBlock.valueDec)
      assert.equal(components, ext.tcb_components)
      assert.is((tcb.get(SGX_EXT.PCESVN) as asn1js.Integer).valueBlock.valueDec, ext.pcesvn)
      assert.is(top.has(SGX_EXT.PLATFORM_INSTANCE_ID), ext.platform_instance_id !== undefined)
      const conf = top.get(SGX_EXT.CONFIGURATION)
      assert.is(conf !== undefined, ext.configuration !== undefined)
      if (conf) {
        const flags = asnPairs(conf)
        for (const [name, oid] of Object.entries(CONFIGURATION_FLAG_OID)) {
          const want = ext.configuration![name as keyof typeof CONFIGURATION_FLAG_OID]
          assert.is((flags.get(oid) as asn1js.Boolean | undefined)?.valueBlock.value, want, name)
        }
      }
    }),
    {numRuns: 150},
  )
})

// ---------------------------------------------------------------- malformed input

const base: PckExtension = {
  ppid: Buffer.alloc(16, 0x11),
  tcb_components: Array(16).fill(1),
  pcesvn: 2,
  cpusvn: Buffer.alloc(16, 1),
  pceid: Buffer.alloc(2),
  fmspc: Buffer.alloc(6, 0x22),
  sgx_type: 0,
}

const pair = (oid: string, value: DerNode) => derSequenceNode([derOidNode(oid), value])
/** The DER of `base` with top-level entry `oid` replaced by `value` (or removed), `extra` entries appended. */
function variant(oid: string, value: DerNode | null, extra: DerNode[] = []): Buffer {
  const items = (decodeDer(encodePckExtension(base), 'base').value as DerNode[]).flatMap((item) => {
    if (derOid((item.value as DerNode[])[0], 'entry') !== oid) return [item]
    return value ? [pair(oid, value)] : []
  })
  return encodeDer(derSequenceNode([...items, ...extra]))
}

function rejects(der: Uint8Array, why: RegExp | string): void {
  try {
    parsePckExtension(der)
  } catch (e) {
    assert.instance(e, PckExtensionError)
    assert.is((e as PckExtensionError).code, 'PCK_EXTENSION_MALFORMED')
    assert.is((e as PckExtensionError).exit, 2)
    if (typeof why === 'string') assert.ok((e as Error).message.includes(why), `${(e as Error).message} mentions ${why}`)
    else assert.match((e as Error).message, why)
    return
  }
  assert.unreachable(`expected PckExtensionError (${why})`)
}

test('variant() rebuilds the base extension exactly when nothing is replaced', () => {
  assert.ok(variant('none', null).equals(encodePckExtension(base)))
})

test('malformed extensions give PckExtensionError (PCK_EXTENSION_MALFORMED, exit 2)', () => {
  const good = encodePckExtension(base)
  rejects(Buffer.from('not der'), 'not a single DER element')
  rejects(good.subarray(0, good.length - 3), 'not a single DER element')
  rejects(Buffer.from('3000', 'hex'), 'TCB')
  rejects(Buffer.from('0400', 'hex'), 'expected a SEQUENCE')
  rejects(variant(SGX_EXT.PPID, null), 'PPID')
  rejects(variant(SGX_EXT.FMSPC, derOctetsNode(Buffer.alloc(5))), 'FMSPC: 5 bytes, expected 6')
  rejects(variant(SGX_EXT.PCEID, derSmallIntNode(0)), 'PCE-ID')
  rejects(variant(SGX_EXT.SGX_TYPE, derSmallIntNode(1)), 'SGX type: expected ENUMERATED')
  rejects(variant('none', null, [pair(SGX_EXT.FMSPC, derOctetsNode(Buffer.alloc(6)))]), 'appears more than once')
  // TCB: a component above 255, a missing PCESVN.
  const tcb = (components: number[], withPcesvn: boolean) =>
    derSequenceNode([
      ...components.map((c, i) => pair(`${SGX_EXT.TCB}.${i + 1}`, derSmallIntNode(c))),
      ...(withPcesvn ? [pair(SGX_EXT.PCESVN, derSmallIntNode(2))] : []),
      pair(SGX_EXT.CPUSVN, derOctetsNode(Buffer.alloc(16))),
    ])
  assert.ok(variant(SGX_EXT.TCB, tcb(Array(16).fill(1), true)).length > 0)
  rejects(variant(SGX_EXT.TCB, tcb([...Array(15).fill(1), 256], true)), 'TCB component 16: 256 is above 255')
  rejects(variant(SGX_EXT.TCB, tcb(Array(16).fill(1), false)), 'PCESVN')
  rejects(variant(SGX_EXT.TCB, tcb(Array(15).fill(1), true)), 'TCB component 16')
  // Configuration: a flag that is not a DER BOOLEAN (0x01 is BER "true", not DER).
  const badFlag: DerNode = {...derBooleanNode(true), value: '\x01'}
  rejects(variant('none', null, [pair(SGX_EXT.CONFIGURATION, derSequenceNode([pair(CONFIGURATION_FLAG_OID.cached_keys, badFlag)]))]), 'not a DER BOOLEAN')
  // The fuzz regression: a UniversalString of odd length.
  rejects(new Uint8Array([0x30, 0x04, 0x1c, 0x02, 0x41, 0x41]), /SGX extension/)
  assert.throws(() => sgxExtensionOf([{oid: '2.5.29.19', value: new Uint8Array()}]), (e: unknown) => e instanceof PckExtensionError)
})

test('unknown entries and configuration flags are skipped, known ones still read', () => {
  const der = variant('none', null, [
    pair(`${OID_SGX_EXTENSION}.99`, derOctetsNode(Buffer.from('future'))),
    pair(SGX_EXT.CONFIGURATION, derSequenceNode([pair(CONFIGURATION_FLAG_OID.smt_enabled, derBooleanNode(false)), pair(`${SGX_EXT.CONFIGURATION}.9`, derBooleanNode(true))])),
  ])
  const ext = parsePckExtension(der)
  assert.equal(ext.configuration, {smt_enabled: false})
  assert.is(ext.fmspc.toString('hex'), '222222222222')
})

test('the encoder refuses values the structure cannot hold', () => {
  const bad: Array<[Partial<PckExtension>, string]> = [
    [{ppid: Buffer.alloc(15)}, 'PPID'],
    [{cpusvn: Buffer.alloc(17)}, 'CPUSVN'],
    [{pceid: Buffer.alloc(3)}, 'PCE-ID'],
    [{fmspc: Buffer.alloc(5)}, 'FMSPC'],
    [{platform_instance_id: Buffer.alloc(8)}, 'platform instance ID'],
    [{tcb_components: Array(15).fill(0)}, 'TCB'],
    [{tcb_components: [...Array(15).fill(0), 256]}, 'TCB component 16'],
    [{pcesvn: 65536}, 'PCESVN'],
    [{pcesvn: -1}, 'PCESVN'],
    [{sgx_type: 0.5}, 'SGX type'],
  ]
  for (const [patch, what] of bad) {
    assert.throws(
      () => encodePckExtension({...base, ...patch}),
      (e: unknown) => e instanceof PckExtensionError && e.message.startsWith(`cannot encode ${what}`),
      what,
    )
  }
})

test.run()
