/**
 * The DER codec (src/abi/der.ts) against node-forge's ASN.1 codec, the reader's previous decoder
 * and an independent implementation: on every real certificate and CRL in the vectors and on
 * hundreds of thousands of mutations of them,
 * - decodeDer gives forge's tree (tag class, tag, constructed, value) or fails where forge fails;
 * - decodeCanonicalDer accepts exactly what "forge decodes it and re-encodes it byte for byte"
 *   accepted (the canonical-DER rule the reader had);
 * apart from two forms where forge is wrong and X.509 never goes: high-tag-number identifiers (forge
 * reads a low tag followed by a length) and odd-length BMPStrings (forge reads a byte past the end);
 * plus hand-computed encodings and the OID rule forge used.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import {createRequire} from 'node:module'
import {decodeCanonicalDer, decodeDer, derOid, derOidNode, derTime, DER_TAG, encodeDer, type DerNode} from '../../src/abi/der.js'
import {vectorTest} from '../helpers/vectors.js'
import {realX509} from '../helpers/x509-vectors.js'

interface ForgeAsn1 {
  fromDer(bytes: string, options: {strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean; maxDepth: number}): DerNode
  toDer(node: DerNode): {getBytes(): string}
}
const forge = createRequire(import.meta.url)('node-forge/lib/asn1.js') as ForgeAsn1

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1')
const forgeDecode = (b: Uint8Array): DerNode | undefined => {
  try {
    return forge.fromDer(latin1(b), {strict: true, parseAllBytes: true, decodeBitStrings: false, maxDepth: 32})
  } catch {
    return undefined
  }
}
const forgeCanonical = (b: Uint8Array): boolean => {
  const n = forgeDecode(b)
  return n !== undefined && Buffer.from(forge.toDer(n).getBytes(), 'latin1').equals(Buffer.from(b))
}
const mine = (fn: () => DerNode): DerNode | undefined => {
  try {
    return fn()
  } catch {
    return undefined
  }
}

/** A tree as plain data, for comparison. */
const plain = (n: DerNode): unknown => [n.tagClass, n.type, n.constructed, Array.isArray(n.value) ? n.value.map(plain) : n.value]

/**
 * Whether a tree holds an element where the two differ by design: a high-tag-number identifier
 * (tag 31 in forge's reading, ≥ 31 in ours), or a BMPString (forge reads an odd-length one by
 * taking one byte past its end; ours rejects it).
 */
const differsByDesign = (n: DerNode | undefined): boolean => n !== undefined && (n.type >= DER_TAG.BMP_STRING || (Array.isArray(n.value) && n.value.some(differsByDesign)))

const reals = [...realX509().certs.values(), ...realX509().crls.values()]

vectorTest(test, 'real certificates and CRLs: the same tree as forge, canonical, and their own encoding', () => {
  assert.ok(reals.length >= 10, `only ${reals.length} DER objects found`)
  for (const der of reals) {
    const ref = forgeDecode(der)!
    assert.equal(plain(decodeDer(der, 'x')), plain(ref))
    const strict = decodeCanonicalDer(der, 'x')
    assert.equal(plain(strict), plain(ref))
    assert.ok(encodeDer(strict).equals(der))
  }
})

/** A mutation of a real DER object: a few bytes overwritten, inserted or deleted, or a truncation. */
const mutation = fc.record({
  which: fc.nat(),
  edits: fc.array(fc.record({kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'), at: fc.nat(), byte: fc.integer({min: 0, max: 255})}), {minLength: 1, maxLength: 3}),
})

function mutate(m: {which: number; edits: Array<{kind: string; at: number; byte: number}>}): Buffer {
  let b = Buffer.from(reals[m.which % reals.length])
  for (const e of m.edits) {
    // Mutations in the first 40 bytes hit the headers and lengths, where the decoders differ most.
    const at = e.at % Math.max(1, Math.min(b.length, e.at % 3 === 0 ? b.length : 40))
    if (e.kind === 'set') b[at] = e.byte
    else if (e.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.of(e.byte), b.subarray(at)])
    else if (e.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)])
    else b = b.subarray(0, at)
  }
  return b
}

vectorTest(test, 'mutated certificates and CRLs: decodeDer agrees with forge, decodeCanonicalDer with forge + re-encoding', () => {
  let accepted = 0
  fc.assert(
    fc.property(mutation, (m) => {
      const b = mutate(m)
      const ref = forgeDecode(b)
      const lenient = mine(() => decodeDer(b, 'x'))
      if (differsByDesign(ref) || differsByDesign(lenient)) return
      assert.is(lenient === undefined, ref === undefined, `decodeDer acceptance differs on ${b.toString('hex').slice(0, 80)}…`)
      if (ref && lenient) assert.equal(plain(lenient), plain(ref))
      const strict = mine(() => decodeCanonicalDer(b, 'x'))
      assert.is(strict !== undefined, forgeCanonical(b), `decodeCanonicalDer acceptance differs on ${b.toString('hex').slice(0, 80)}…`)
      if (strict) accepted++
    }),
    {numRuns: 20000, seed: 17},
  )
  assert.ok(accepted > 0, 'no mutation stayed canonical: the acceptance path is untested')
})

test('hand-written BER/DER forms: minimal lengths, indefinite lengths, INTEGER octets, trailing bytes', () => {
  const h = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex')
  const cases: Array<[string, boolean, boolean]> = [
    // bytes, decodeDer accepts, decodeCanonicalDer accepts
    ['30 03 02 01 05', true, true],
    ['30 81 03 02 01 05', true, false], // long form for a short length
    ['30 82 00 03 02 01 05', true, false], // leading zero length octet
    ['30 80 02 01 05 00 00', true, false], // indefinite length
    ['04 80 00 00', false, false], // primitive of indefinite length
    ['02 02 00 05', true, false], // redundant leading 00
    ['02 02 ff 85', true, false], // redundant leading ff
    ['02 02 00 85', true, true], // needed leading 00
    ['30 03 02 01 05 00', false, false], // trailing byte
    ['30 04 02 01 05', false, false], // truncated
    ['1e 03 00 41 00', false, false], // BMPString of odd length
  ]
  for (const [bytes, lenient, strict] of cases) {
    assert.is(mine(() => decodeDer(h(bytes), 'x')) !== undefined, lenient, `decodeDer ${bytes}`)
    assert.is(mine(() => decodeCanonicalDer(h(bytes), 'x')) !== undefined, strict, `decodeCanonicalDer ${bytes}`)
  }
  let deep = h('05 00')
  for (let i = 0; i < 40; i++) deep = Buffer.concat([Buffer.of(0x30, deep.length), deep])
  assert.throws(() => decodeDer(deep, 'x'), /nesting/)
})

test('OIDs: dotted text as forge read it; encoding round-trips (hand-computed)', () => {
  assert.is(encodeDer(derOidNode('1.2.840.10045.4.3.2')).toString('hex'), '06082a8648ce3d040302')
  assert.is(encodeDer(derOidNode('1.2.840.113741.1.13.1')).toString('hex'), '06092a864886f84d010d01')
  for (const oid of ['2.5.29.19', '1.3.6.1.4.1.412.274.6', '1.2.840.113549.1.1.11', '2.16.840.1.101.3.4.2.1']) {
    assert.is(derOid(decodeCanonicalDer(encodeDer(derOidNode(oid)), 'oid'), 'oid'), oid)
  }
})

test('times: RFC 5280 forms only', () => {
  const t = (tag: number, s: string) => decodeCanonicalDer(Buffer.concat([Buffer.of(tag, s.length), Buffer.from(s, 'latin1')]), 'time')
  assert.is(derTime(t(DER_TAG.UTC_TIME, '250719100034Z'), 't'), Date.UTC(2025, 6, 19, 10, 0, 34))
  assert.is(derTime(t(DER_TAG.UTC_TIME, '490101000000Z'), 't'), Date.UTC(2049, 0, 1))
  assert.is(derTime(t(DER_TAG.UTC_TIME, '500101000000Z'), 't'), Date.UTC(1950, 0, 1))
  assert.is(derTime(t(DER_TAG.GENERALIZED_TIME, '20500101000000Z'), 't'), Date.UTC(2050, 0, 1))
  for (const bad of ['2507191000Z', '250719100034', '250719100034+0000', '250230100034Z', '25071910003aZ', '250719240000Z']) {
    assert.throws(() => derTime(t(DER_TAG.UTC_TIME, bad), 't'), /RFC 5280|valid date/, bad)
  }
  assert.throws(() => derTime(t(DER_TAG.GENERALIZED_TIME, '20500101000000.5Z'), 't'), /RFC 5280/)
})

test.run()
