/**
 * The one bounded file read every input goes through (state.json and its lock, PCCS cache entries,
 * and through src/app/files.ts every flag and argument naming a file): a size limit checked before
 * reading a regular file and again while reading anything else, and an idle limit for pipes and
 * FIFOs, so /dev/zero, an endless or silent FIFO and a 2 GB file are each a one-line InputError,
 * never a hang, an out-of-memory crash or Node's ERR_FS_FILE_TOO_LARGE.
 */
import {closeSync, constants as fsConstants, fstatSync, openSync, readSync} from 'node:fs'
import {InputError} from '../errors.js'

/** Bytes asked of read(2) at a time. */
const READ_CHUNK = 1 << 16
/** How long one wait for a pipe that has no data yet sleeps before trying again. */
const POLL_MS = 5
/** Default idle limit for a pipe or FIFO: no byte for this long is INPUT_TIMEOUT (env TDXKIT_INPUT_IDLE_MS). */
const DEFAULT_INPUT_IDLE_MS = 10_000

interface BoundedReadOptions {
  /** Most bytes accepted; more is INPUT_TOO_LARGE. */
  limit: number
  /** What the file is for, first in every message (e.g. "--root-ca", "policy"). */
  what: string
  /** Idle limit for pipes, FIFOs and devices (default TDXKIT_INPUT_IDLE_MS, else DEFAULT_INPUT_IDLE_MS); 0 waits forever. */
  idleMs?: number
  /** Refuse anything but a regular file (INPUT_NOT_A_FILE): for files tdxkit itself writes (state, cache). */
  regularOnly?: boolean
}

const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

function idleLimit(opts: BoundedReadOptions): number {
  if (opts.idleMs !== undefined) return opts.idleMs
  const env = Number(process.env.TDXKIT_INPUT_IDLE_MS)
  return Number.isFinite(env) && env >= 0 && process.env.TDXKIT_INPUT_IDLE_MS !== '' ? env : DEFAULT_INPUT_IDLE_MS
}

const tooLarge = (what: string, source: string, limit: number, size?: number) =>
  new InputError('INPUT_TOO_LARGE', `${what}: ${source}: larger than ${limit} bytes${size === undefined ? '' : ` (it has ${size})`}`)

/**
 * The bytes of the file at `path`, at most `opts.limit` of them. Opened non-blocking (a FIFO
 * without a writer does not block the open), checked with fstat: a directory is refused, a regular
 * file larger than the limit is refused before one byte is read; anything else (pipe, FIFO, device)
 * is refused with `regularOnly`, else read with the limit and the idle limit. Symbolic links are
 * followed (the target is checked). A failed open is UNREADABLE_INPUT with detail.errno.
 */
export function readFileBounded(path: string, opts: BoundedReadOptions): Buffer {
  let fd: number
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK)
  } catch (error) {
    throw unreadable(opts.what, path, error)
  }
  try {
    const st = fstatSync(fd)
    if (st.isDirectory()) throw new InputError('INPUT_IS_DIRECTORY', `${opts.what}: ${path} is a directory, not a file`)
    if (opts.regularOnly && !st.isFile()) throw new InputError('INPUT_NOT_A_FILE', `${opts.what}: ${path} is not a regular file`)
    if (st.isFile() && st.size > opts.limit) throw tooLarge(opts.what, path, opts.limit, st.size)
    return readFdBounded(fd, {...opts, idleMs: st.isFile() ? 0 : idleLimit(opts)}, path)
  } finally {
    closeSync(fd)
  }
}

/**
 * Read an open descriptor to its end, refusing more than `opts.limit` bytes (INPUT_TOO_LARGE) and,
 * for a non-blocking pipe, more than `opts.idleMs` without a byte (INPUT_TIMEOUT; 0 = no limit).
 */
export function readFdBounded(fd: number, opts: BoundedReadOptions, source: string): Buffer {
  const chunks: Buffer[] = []
  let total = 0
  const chunk = Buffer.alloc(READ_CHUNK)
  const idleMs = opts.idleMs ?? 0
  let idleSince = Date.now()
  for (;;) {
    let n: number
    try {
      n = readSync(fd, chunk, 0, Math.min(READ_CHUNK, opts.limit + 1 - total), null)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EOF') break
      if (code !== 'EAGAIN') throw unreadable(opts.what, source, error)
      if (idleMs > 0 && Date.now() - idleSince > idleMs) {
        throw new InputError('INPUT_TIMEOUT', `${opts.what}: ${source} gave no data for ${idleMs / 1000} s (a pipe or FIFO nobody writes to?)`)
      }
      sleepSync(POLL_MS)
      continue
    }
    if (n === 0) break
    idleSince = Date.now()
    total += n
    if (total > opts.limit) throw tooLarge(opts.what, source, opts.limit)
    chunks.push(Buffer.from(chunk.subarray(0, n)))
  }
  return Buffer.concat(chunks)
}

/** The errno behind an UNREADABLE_INPUT from this module ('ENOENT', …), if any. */
export const errnoOf = (error: unknown): string | undefined => (error as InputError).detail?.errno as string | undefined

/** An open or read failure as one line: "policy: cannot read p.json: no such file (ENOENT)". */
function unreadable(what: string, source: string, error: unknown): InputError {
  if (error instanceof InputError) return error
  const e = error as NodeJS.ErrnoException
  const reason = REASONS[e.code ?? ''] ?? ''
  return new InputError('UNREADABLE_INPUT', `${what}: cannot read ${source}: ${reason ? `${reason} (${e.code})` : (e.code ?? e.message)}`, {
    detail: {errno: e.code},
  })
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ELOOP: 'too many symbolic links',
  ENXIO: 'not a file (a socket?)',
}
