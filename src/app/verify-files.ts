/**
 * The quote files of `quote verify`: the command line's, then those a list file names
 * (`--files-from FILE`, or `-` for stdin), one path per line, read as the batch consumes them, so
 * that a million quotes need neither a million arguments nor the whole list in memory.
 */
import {closeSync} from 'node:fs'
import {StringDecoder} from 'node:string_decoder'
import {InputError} from '../errors.js'
import {inputIdleMs, openBounded, readChunkBounded} from './files.js'

/** Bytes read from the list at a time. */
const LIST_READ_BYTES = 1 << 16
/** The longest line accepted in a list (a path; PATH_MAX is 4096 on Linux). */
export const MAX_LIST_LINE_BYTES = 1 << 16

/** A list of quote paths being read: its descriptor, its name in messages, its idle limit (0: wait forever). */
interface FileList {
  fd: number
  what: string
  idleMs: number
}

/**
 * The list `--files-from` names, opened now so that an unreadable list fails before any quote is
 * verified. A path is opened by the bounded reader (non-blocking: a FIFO that stays silent times
 * out as any other input does); stdin is the user's own pipeline and is waited for.
 */
export function openFileList(path: string): FileList {
  if (path === '-') return {fd: 0, what: 'stdin', idleMs: 0}
  return {fd: openBounded(path, '--files-from'), what: path, idleMs: inputIdleMs()}
}

/** A list line without its trailing CR (a list written on Windows). */
const withoutCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line)

/**
 * The paths of a list, one per line (a trailing CR is dropped, empty lines are skipped), read from
 * `fd` in 64 KiB pieces between batch chunks. Closes `fd` (unless it is stdin) when done.
 */
export function* listedFiles(fd: number, what: string, idleMs = 0): Generator<string> {
  const buf = Buffer.allocUnsafe(LIST_READ_BYTES)
  // A piece may end inside a UTF-8 sequence: the decoder keeps its first bytes for the next piece.
  const text = new StringDecoder('utf8')
  let rest = ''
  try {
    for (;;) {
      const n = readChunkBounded(fd, buf, 0, '--files-from', what, idleMs)
      if (n === 0) break
      const lines = (rest + text.write(buf.subarray(0, n))).split('\n')
      rest = lines.pop()!
      if (rest.length > MAX_LIST_LINE_BYTES) throw new InputError('BAD_FILE_LIST', `--files-from: ${what}: a line is longer than ${MAX_LIST_LINE_BYTES} bytes`)
      for (const line of lines) {
        const name = withoutCr(line)
        if (name) yield name
      }
    }
    rest += text.end()
    const last = withoutCr(rest)
    if (last) yield last
  } finally {
    if (fd !== 0) closeSync(fd)
  }
}

/** The command line's files, then the list's (if any). */
export function* quoteFileNames(argvFiles: readonly string[], list?: FileList): Generator<string> {
  yield* argvFiles
  if (list) yield* listedFiles(list.fd, list.what, list.idleMs)
}
