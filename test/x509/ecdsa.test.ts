/** The one RFC 6979 signer (P-256 / SHA-256, P-384 / SHA-384): byte-identical to @noble/curves, valid under Node crypto, RFC 6979 vectors. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {verify} from 'node:crypto'
import fc from 'fast-check'
import {p256, p384} from '@noble/curves/nist.js'
import {CURVES, ecdsaRawToDer, ecPublicKey, publicPoint, signEcdsa, signP256, type CurveName} from '../../src/x509/ecdsa.js'
import {deriveEcKey} from '../../src/x509/keys.js'

const NOBLE = {'P-256': p256, 'P-384': p384} as const
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

for (const curve of ['P-256', 'P-384'] as const) {
  const noble = NOBLE[curve]
  const size = CURVES[curve].size

  test(`${curve}: same bytes as noble sign (RFC 6979, low-S), raw and DER, for random keys and messages`, () => {
    fc.assert(
      fc.property(fc.uint8Array({minLength: size, maxLength: size}), fc.uint8Array({maxLength: 2000}), (seedBytes, msg) => {
        const d = noble.utils.randomSecretKey(Uint8Array.from([...seedBytes, ...new Uint8Array(size / 2)])) // noble wants size + size/2 seed bytes
        const fast = signEcdsa(curve, msg, d)
        assert.is(hex(fast), hex(noble.sign(msg, d)))
        assert.is(hex(signEcdsa(curve, msg, d, 'der')), hex(noble.sign(msg, d, {format: 'der'})))
        assert.is(hex(publicPoint(curve, d)), hex(noble.getPublicKey(d, false)))
        assert.ok(verify(CURVES[curve].hash, msg, {key: ecPublicKey(curve, publicPoint(curve, d)), dsaEncoding: 'ieee-p1363'}, fast))
      }),
      {numRuns: curve === 'P-256' ? 60 : 30},
    )
  })

  test(`${curve}: group order is noble's`, () => {
    assert.is(CURVES[curve].order, noble.Point.CURVE().n)
  })

  test(`${curve}: rejects out-of-range private keys`, () => {
    assert.throws(() => signEcdsa(curve, Buffer.from('x'), Buffer.alloc(size)))
    assert.throws(() => signEcdsa(curve, Buffer.from('x'), Buffer.alloc(size - 1, 1)))
    assert.throws(() => signEcdsa(curve, Buffer.from('x'), Buffer.alloc(size, 0xff)))
  })
}

/** RFC 6979 Appendix A: key, "sample" signature (r, s). Both published s are in the high half, so low-S gives n − s. */
const RFC6979: Array<{curve: CurveName; section: string; x: string; r: string; s: string}> = [
  {
    curve: 'P-256',
    section: 'A.2.5',
    x: 'c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
    r: 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716',
    s: 'f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8',
  },
  {
    curve: 'P-384',
    section: 'A.2.6',
    x: '6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5',
    r: '94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe46',
    s: '99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8',
  },
]

for (const v of RFC6979) {
  test(`RFC 6979 ${v.section} (${v.curve}, "sample") vector`, () => {
    const size = CURVES[v.curve].size
    const sig = signEcdsa(v.curve, Buffer.from('sample'), Buffer.from(v.x, 'hex'))
    assert.is(hex(sig.subarray(0, size)), v.r)
    assert.is(hex(sig.subarray(size)), (CURVES[v.curve].order - BigInt('0x' + v.s)).toString(16).padStart(2 * size, '0'))
  })
}

test('signP256 is signEcdsa on P-256; DER form of a raw signature matches noble', () => {
  const k = deriveEcKey('ecdsa-test', 'k', 'P-256')
  const sig = signP256(Buffer.from('msg'), k.priv)
  assert.is(hex(sig), hex(signEcdsa('P-256', Buffer.from('msg'), k.priv)))
  assert.is(hex(ecdsaRawToDer(sig)), hex(p256.Signature.fromBytes(sig, 'compact').toBytes('der')))
  // r or s with the top bit set needs a 0x00 pad byte; one with leading zero bytes is shortened
  const edge = Buffer.concat([Buffer.alloc(32, 0xff), Buffer.concat([Buffer.alloc(3), Buffer.alloc(29, 0x11)])])
  assert.is(hex(ecdsaRawToDer(edge)), '3042' + '022100' + 'ff'.repeat(32) + '021d' + '11'.repeat(29))
})

test('deriveEcKey: deterministic per seed and label, public point on the curve', () => {
  const a = deriveEcKey('seed', 'label', 'P-384')
  assert.is(hex(a.priv), hex(deriveEcKey('seed', 'label', 'P-384').priv))
  assert.is.not(hex(a.priv), hex(deriveEcKey('seed', 'label2', 'P-384').priv))
  assert.is(hex(a.pub), hex(p384.getPublicKey(a.priv, false)))
})

test.run()
