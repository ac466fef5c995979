/** The fast RFC 6979 signer used for quotes: byte-identical to @noble/curves, valid under Node crypto. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createPublicKey, verify} from 'node:crypto'
import fc from 'fast-check'
import {p256} from '@noble/curves/nist.js'
import {signP256Fast} from '../../src/host/ecdsa.js'

const jwkOf = (pub: Uint8Array) =>
  createPublicKey({key: {kty: 'EC', crv: 'P-256', x: Buffer.from(pub.subarray(1, 33)).toString('base64url'), y: Buffer.from(pub.subarray(33)).toString('base64url')}, format: 'jwk'})

test('same bytes as noble p256.sign (RFC 6979, low-S) for random keys and messages', () => {
  fc.assert(
    fc.property(fc.uint8Array({minLength: 32, maxLength: 32}), fc.uint8Array({maxLength: 2000}), (seedBytes, msg) => {
      const d = p256.utils.randomSecretKey(seedBytes.length === 32 ? Uint8Array.from([...seedBytes, ...new Uint8Array(16)]) : undefined)
      const fast = signP256Fast(msg, d)
      assert.is(fast.toString('hex'), Buffer.from(p256.sign(msg, d)).toString('hex'))
      assert.ok(verify('sha256', msg, {key: jwkOf(p256.getPublicKey(d, false)), dsaEncoding: 'ieee-p1363'}, fast))
    }),
    {numRuns: 60},
  )
})

test('RFC 6979 A.2.5 (P-256, SHA-256, "sample") vector', () => {
  // Key, message, r and s from RFC 6979 Appendix A.2.5. The published s is in the high half of the
  // group order, so the low-S signature carries n − s.
  const d = Buffer.from('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721', 'hex')
  const sig = signP256Fast(Buffer.from('sample'), d)
  assert.is(sig.subarray(0, 32).toString('hex'), 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716')
  const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
  const s = 0xf7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8n
  assert.is(sig.subarray(32).toString('hex'), (n - s).toString(16).padStart(64, '0'))
})

test('rejects out-of-range private keys', () => {
  assert.throws(() => signP256Fast(Buffer.from('x'), Buffer.alloc(32)))
  assert.throws(() => signP256Fast(Buffer.from('x'), Buffer.alloc(31, 1)))
})

test.run()
