import {closeSync, openSync, readSync as readSyncFd} from 'node:fs'
import {InputError, TdxkitError} from '../errors.js'

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

/** Max bytes we will read from any single input file or stdin. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024

/**
 * Read a binary input: a path or '-' for stdin; auto-detects raw/hex/base64. At most
 * MAX_INPUT_BYTES are read from any source (see readRawInput).
 */
export function readBinaryInput(pathOrDash: string, what = 'input'): Buffer {
  return decodeBinary(readRawInput(pathOrDash, what))
}

/** stdin can be read once: a second read of '-' in the same process returns the same bytes. */
let stdinBytes: Buffer | undefined

/**
 * The bytes of a path or '-' (stdin), as they are. Reads at most MAX_INPUT_BYTES from any source
 * (a huge file, a FIFO or /dev/zero included), so memory stays bounded: more is INPUT_TOO_LARGE.
 */
export function readRawInput(pathOrDash: string, what = 'input'): Buffer {
  const source = pathOrDash === '-' ? 'stdin' : pathOrDash
  if (pathOrDash === '-' && stdinBytes) return stdinBytes
  let fd: number | undefined
  try {
    fd = pathOrDash === '-' ? 0 : openSync(pathOrDash, 'r')
    const bytes = readFdSync(fd, MAX_INPUT_BYTES, `${what}: ${source}`)
    if (pathOrDash === '-') stdinBytes = bytes
    return bytes
  } catch (error) {
    if (error instanceof TdxkitError) throw error
    const e = error as NodeJS.ErrnoException
    throw new InputError('UNREADABLE_INPUT', `${what}: cannot read ${source}: ${e.code ?? e.message}`)
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd)
  }
}

export function readStdinSync(limit = MAX_INPUT_BYTES): Buffer {
  return readFdSync(0, limit, 'stdin')
}

/** Read a file descriptor to its end, refusing more than `limit` bytes (InputError INPUT_TOO_LARGE). */
function readFdSync(fd: number, limit: number, what: string): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  const chunk = Buffer.alloc(1 << 16)
  for (;;) {
    let n: number
    try {
      n = readSyncFd(fd, chunk)
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      if (e.code === 'EAGAIN') continue
      if (e.code === 'EOF') break
      throw error
    }
    if (n === 0) break
    total += n
    if (total > limit) throw new InputError('INPUT_TOO_LARGE', `${what}: larger than ${limit} bytes`)
    chunks.push(Buffer.from(chunk.subarray(0, n)))
  }
  return Buffer.concat(chunks)
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
