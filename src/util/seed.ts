/**
 * Deterministic derivation from the platform seed: everything the simulator makes (keys, image
 * contents, PKI serials) comes from HKDF-SHA-256(seed, label), so `module init --seed S` is
 * byte-identical across runs and machines while different labels give independent values.
 */
import {hkdfSync} from 'node:crypto'

const SALT = Buffer.from('tdxkit simulated platform v1')

export function deriveBytes(seed: string, label: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(seed, 'utf8'), SALT, Buffer.from(label, 'utf8'), length))
}

/** A P-256 / P-384 private scalar in [1, n-1], derived deterministically (rejection on the rare overflow). */
export function deriveScalar(seed: string, label: string, order: bigint, bytes: number): Buffer {
  for (let i = 0; ; i++) {
    const b = deriveBytes(seed, `${label}#${i}`, bytes)
    const v = BigInt('0x' + b.toString('hex'))
    if (v > 0n && v < order) return b
  }
}
