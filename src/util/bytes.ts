/** Bytes and text: hex parsing (fixed or padded sizes), raw / hex / base64 detection and encoding. Pure. */
import {InputError} from '../errors.js'

/** Parse a hex string (optional 0x prefix, whitespace ignored). Throws InputError on odd/invalid hex. */
export function parseHex(text: string, what = 'hex value', expectedLen?: number): Buffer {
  let s = text.trim().replace(/\s+/g, '')
  if (s.startsWith('0x') || s.startsWith('0X')) s = s.slice(2)
  if (s.length % 2 !== 0) throw new InputError('ODD_HEX', `${what}: odd number of hex digits (${s.length})`)
  if (!/^[0-9a-fA-F]*$/.test(s)) throw new InputError('BAD_HEX', `${what}: not a hex string`)
  const b = Buffer.from(s, 'hex')
  if (expectedLen !== undefined && b.length !== expectedLen) {
    throw new InputError('BAD_LENGTH', `${what}: expected ${expectedLen} bytes (${expectedLen * 2} hex digits), got ${b.length}`)
  }
  return b
}

/** Left-aligned, zero-padded fixed-size buffer from hex of at most `size` bytes (REPORTDATA style). */
export function parseHexPadded(text: string, size: number, what: string): Buffer {
  const b = parseHex(text, what)
  if (b.length > size) throw new InputError('BAD_LENGTH', `${what}: at most ${size} bytes (${size * 2} hex digits), got ${b.length}`)
  const out = Buffer.alloc(size)
  b.copy(out)
  return out
}

const HEX_RE = /^(0x)?[0-9a-fA-F\s]+$/
const B64_RE = /^[A-Za-z0-9+/=_\-\s]+$/

/**
 * Auto-detect raw / hex / base64 content. Text that is entirely hex digits decodes as hex; text that
 * is entirely base64 decodes as base64; anything else is taken as raw bytes.
 */
export function decodeBinary(buf: Buffer): Buffer {
  if (buf.length === 0) return buf
  // Only consider text decodings when the input is printable ASCII.
  for (const c of buf) {
    if (c > 0x7e || (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09)) return buf
  }
  const text = buf.toString('latin1').trim()
  if (HEX_RE.test(text)) {
    const compact = text.replace(/^0x/, '').replace(/\s+/g, '')
    if (compact.length % 2 === 0) return Buffer.from(compact, 'hex')
  }
  if (B64_RE.test(text)) {
    const compact = text.replace(/\s+/g, '')
    const dec = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (dec.length > 0) return dec
  }
  return buf
}

export type BinaryFormat = 'bin' | 'hex' | 'base64'

export function encodeBinary(buf: Uint8Array, format: BinaryFormat): Buffer | string {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (format === 'hex') return b.toString('hex') + '\n'
  if (format === 'base64') return b.toString('base64') + '\n'
  return b
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
export const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0)
