/**
 * Files for the use cases and the commands: bounded reading of inputs (a path or '-' for stdin, at
 * most MAX_INPUT_BYTES from any source, so a huge file, a FIFO or /dev/zero is a clear error and
 * never an out-of-memory crash) and the atomic write every output goes through (the state store's:
 * temp file, fsync, rename; src/app is the only importer of src/state).
 */
import {closeSync, openSync, readSync as readSyncFd} from 'node:fs'
import {InputError, TdxkitError} from '../errors.js'
import {decodeBinary} from '../util/bytes.js'

export {writeFileAtomic} from '../state/atomic.js'

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
