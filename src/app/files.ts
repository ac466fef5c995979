/**
 * Files for the use cases and the commands. Inputs: one bounded, typed reader (a path or '-' for
 * stdin; src/state/read.ts does the bounded read, so /dev/zero, an endless or silent FIFO and a
 * 2 GB file are one-line errors, exit 2) giving raw bytes, binary (raw/hex/base64 auto-detected)
 * or strict UTF-8 text. Outputs: the one output-file writer (a directory or a missing parent is a
 * usage error, parents are never created; the write is atomic) over the state store's atomic write.
 * src/app is the only importer of src/state.
 */
import {statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {InputError, TdxkitError} from '../errors.js'
import {decodeBinary} from '../util/bytes.js'
import {readFdBounded, readFileBounded, readFileInto, type ReadBuffer} from '../state/read.js'
import {writeFileAtomic} from '../state/atomic.js'

export {writeFileAtomic} from '../state/atomic.js'
export {inputIdleMs, openBounded, readChunkBounded, readFileBounded, type ReadBuffer} from '../state/read.js'

/** Max bytes we will read from any single input file or stdin. */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024
/** Max bytes of a certificate, key or trust-anchor file (a PEM bundle of a few chains is far less). */
export const MAX_CERT_FILE_BYTES = 1024 * 1024

/** stdin can be read once: a second read of '-' in the same process returns the same bytes. */
let stdinBytes: Buffer | undefined

/**
 * The bytes of a path or '-' (stdin), as they are, at most `limit` of them (INPUT_TOO_LARGE
 * beyond). A path is read with readFileBounded (a FIFO or pipe that stays silent times out);
 * stdin is the user's own pipeline and is waited for.
 */
export function readRawInput(pathOrDash: string, what = 'input', limit = MAX_INPUT_BYTES): Buffer {
  if (pathOrDash !== '-') return readFileBounded(pathOrDash, {limit, what})
  if (stdinBytes) {
    if (stdinBytes.length > limit) throw new InputError('INPUT_TOO_LARGE', `${what}: stdin: larger than ${limit} bytes`)
    return stdinBytes
  }
  try {
    stdinBytes = readFdBounded(0, {limit, what, idleMs: 0}, 'stdin')
  } catch (error) {
    if (error instanceof TdxkitError) throw error
    throw new InputError('UNREADABLE_INPUT', `${what}: cannot read stdin: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  return stdinBytes
}

/** A binary input (quote, TDREPORT, event log, evidence …): a path or '-'; raw, hex or base64 auto-detected. */
export function readBinaryInput(pathOrDash: string, what = 'input', limit = MAX_INPUT_BYTES): Buffer {
  return decodeBinary(readRawInput(pathOrDash, what, limit))
}

/**
 * readBinaryInput for a batch of files read one after another: each path is read into `buffer`
 * (kept by the caller, one per thread) without an fstat first, with the same refusals and errors;
 * the result is valid until the next read into `buffer`. '-' is stdin as in readBinaryInput.
 */
export function readBinaryInputInto(pathOrDash: string, what: string, buffer: ReadBuffer, limit = MAX_INPUT_BYTES): Buffer {
  if (pathOrDash === '-') return readBinaryInput(pathOrDash, what, limit)
  return decodeBinary(readFileInto(pathOrDash, {limit, what}, buffer))
}

/** Decodes strictly: invalid UTF-8 throws; a leading BOM is dropped (ignoreBOM false). */
const utf8 = new TextDecoder('utf-8', {fatal: true})

/**
 * A text input (policy, collateral bundle, cost profile …): strict UTF-8. A leading UTF-8 BOM (as
 * Windows editors write) is accepted and dropped; invalid UTF-8 is BAD_ENCODING (exit 2), never
 * silently turned into U+FFFD.
 */
export function readTextInput(pathOrDash: string, what = 'input', limit = MAX_INPUT_BYTES): string {
  const bytes = readRawInput(pathOrDash, what, limit)
  try {
    return utf8.decode(bytes)
  } catch {
    const source = pathOrDash === '-' ? 'stdin' : pathOrDash
    throw new InputError('BAD_ENCODING', `${what}: ${source} is not UTF-8 text (invalid byte sequence at offset ${firstInvalidUtf8(bytes)})`)
  }
}

/** Offset of the first byte that does not start (or continue) a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const n = b[i] < 0x80 ? 1 : b[i] >= 0xc2 && b[i] < 0xe0 ? 2 : b[i] >= 0xe0 && b[i] < 0xf0 ? 3 : b[i] >= 0xf0 && b[i] < 0xf5 ? 4 : 0
    if (n === 0 || i + n > b.length) return i
    try {
      utf8.decode(b.subarray(i, i + n))
    } catch {
      return i
    }
    i += n
  }
  return b.length
}

/**
 * Refuse an output path before any work is done: a directory, or a missing or non-directory
 * parent, is UNWRITABLE_OUTPUT (exit 2). Parents are never created. ('-' for stdout is the
 * caller's: src/cli/output.ts.)
 */
export function checkOutputPath(path: string, what = '--output'): void {
  const refuse = (reason: string) => new InputError('UNWRITABLE_OUTPUT', `cannot write ${path} (${what}): ${reason}`)
  if (path === '') throw refuse('empty path')
  const isDir = (p: string): boolean | undefined => {
    try {
      return statSync(p).isDirectory()
    } catch {
      return undefined
    }
  }
  if (isDir(path)) throw refuse('it is a directory; name a file in it')
  const parent = dirname(resolve(path))
  const parentIsDir = isDir(parent)
  if (parentIsDir === undefined) throw refuse(`directory ${parent} does not exist (tdxkit does not create it)`)
  if (!parentIsDir) throw refuse(`${parent} is not a directory`)
}

/**
 * THE write of a command's output file: checked as checkOutputPath, then atomic (temp file in the
 * same directory, fsync, rename: a reader or a crash sees the old file or the new one); any other
 * failure (read-only file system, permissions, full disk) is UNWRITABLE_OUTPUT (exit 2) too.
 */
export function writeOutputFile(path: string, data: string | Uint8Array, what = '--output', mode = 0o644): void {
  checkOutputPath(path, what)
  try {
    writeFileAtomic(path, data, mode)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    throw new InputError('UNWRITABLE_OUTPUT', `cannot write ${path} (${what}): ${e.code ?? e.message}`)
  }
}
