/**
 * Fast deterministic ECDSA-P256-SHA256 for the quoting hot path.
 *
 * The PKI and collateral are signed once per platform with @noble/curves (RFC 6979, src/host/pki.ts).
 * A quote needs one signature each time, and noble's pure-JS scalar multiplication costs ~1–3 ms;
 * here the nonce is the same RFC 6979 §3.2 HMAC-DRBG value (computed with Node's HMAC), k·G comes
 * from Node's native EC code (ECDH key derivation computes exactly k·G), and only the final modular
 * arithmetic runs in BigInt. Output is low-S normalised like noble's default, so the signature is
 * byte-identical to `p256.sign(msg, d)` — test/host/ecdsa.test.ts checks that against noble.
 */
import {createECDH, createHash, createHmac} from 'node:crypto'

/** P-256 group order n. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
const HALF_N = N >> 1n
const SIZE = 32

const toInt = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).toString('hex'))
const toBytes = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(SIZE * 2, '0'), 'hex')
const mod = (a: bigint): bigint => {
  const r = a % N
  return r < 0n ? r + N : r
}

/** Modular inverse mod n (extended Euclid; n is prime and 0 < a < n). */
function invert(a: bigint): bigint {
  let [r0, r1] = [N, mod(a)]
  let [t0, t1] = [0n, 1n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[t0, t1] = [t1, t0 - q * t1]
  }
  return mod(t0)
}

const hmac = (key: Buffer, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac('sha256', key)
  for (const p of parts) h.update(p)
  return h.digest()
}

/** RFC 6979 §3.2 nonce candidates for private key d and message hash h1 (qlen = hlen = 256). */
function* rfc6979Nonces(d: Buffer, h1: Buffer): Generator<bigint> {
  const x = d
  const h = toBytes(mod(toInt(h1)))
  let v: Buffer = Buffer.alloc(SIZE, 0x01)
  let k: Buffer = Buffer.alloc(SIZE, 0x00)
  k = hmac(k, v, Uint8Array.of(0x00), x, h)
  v = hmac(k, v)
  k = hmac(k, v, Uint8Array.of(0x01), x, h)
  v = hmac(k, v)
  for (;;) {
    v = hmac(k, v)
    const candidate = toInt(v)
    if (candidate >= 1n && candidate < N) yield candidate
    k = hmac(k, v, Uint8Array.of(0x00))
    v = hmac(k, v)
  }
}

/** ECDSA-P256-SHA256 over `msg` with a 32-byte private key; raw r ‖ s (64 bytes), RFC 6979 nonce, low S. */
export function signP256Fast(msg: Uint8Array, priv: Uint8Array): Buffer {
  const d = Buffer.from(priv)
  const dInt = toInt(d)
  if (d.length !== SIZE || dInt <= 0n || dInt >= N) throw new Error('P-256 private key must be 32 bytes in [1, n-1]')
  const h1 = createHash('sha256').update(msg).digest()
  const z = toInt(h1)
  const ecdh = createECDH('prime256v1')
  for (const k of rfc6979Nonces(d, h1)) {
    ecdh.setPrivateKey(toBytes(k))
    const r = mod(toInt(ecdh.getPublicKey().subarray(1, 1 + SIZE)))
    if (r === 0n) continue
    let s = mod(invert(k) * (z + r * dInt))
    if (s === 0n) continue
    if (s > HALF_N) s = N - s
    return Buffer.concat([toBytes(r), toBytes(s)])
  }
  throw new Error('unreachable')
}
