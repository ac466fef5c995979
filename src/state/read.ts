/**
 * The one bounded file read every input goes through (state.json and its lock, PCCS cache entries,
 * and through src/app/files.ts every flag and argument naming a file): a size limit checked before
 * reading a regular file and again while reading anything else, and an idle limit for pipes and
 * FIFOs, so /dev/zero, an endless or silent FIFO and a 2 GB file are each a one-line InputError,
 * never a hang, an out-of-memory crash or Node's ERR_FS_FILE_TOO_LARGE.
 */
import {closeSync, constants as fsConstants, fstatSync, openSync, readSync} from 'node:fs'
import {InputError} from '../errors.js'

/** The first read buffer's size (most inputs fit: a quote is 5-8 KB); a larger input doubles it. */
const FIRST_BUFFER_BYTES = 1 << 16
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

/** The idle limit of a read of a pipe or FIFO: `opts.idleMs`, else TDXKIT_INPUT_IDLE_MS, else DEFAULT_INPUT_IDLE_MS. */
export function inputIdleMs(opts: {idleMs?: number} = {}): number {
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
  const fd = openBounded(path, opts.what)
  try {
    const st = fstatSync(fd)
    if (st.isDirectory()) throw isDirectory(opts.what, path)
    if (opts.regularOnly && !st.isFile()) throw new InputError('INPUT_NOT_A_FILE', `${opts.what}: ${path} is not a regular file`)
    if (st.isFile() && st.size > opts.limit) throw tooLarge(opts.what, path, opts.limit, st.size)
    // A regular file's buffer fits it and the read that finds its end.
    const into: ReadBuffer = st.isFile() ? {bytes: Buffer.allocUnsafe(st.size + 1)} : {}
    return readToEnd(fd, opts, path, into, st.isFile() ? 0 : inputIdleMs(opts))
  } finally {
    closeSync(fd)
  }
}

/** A read buffer kept from one read to the next (a batch reads thousands of small files): grown as needed. */
export interface ReadBuffer {
  bytes?: Buffer
}

/**
 * readFileBounded for many small files in a row: the same refusals and errors (a directory, the
 * limit, a silent pipe's idle limit), but no fstat before reading (one system call less per file)
 * and the bytes read into `into`, so they are valid only until the next read into it. A file that
 * outgrows the first buffer is checked with fstat then, so a huge regular file is still refused
 * from its size. Not for `regularOnly` reads.
 */
export function readFileInto(path: string, opts: BoundedReadOptions, into: ReadBuffer): Buffer {
  const fd = openBounded(path, opts.what)
  try {
    const sizeCheck = () => {
      const st = fstatSync(fd)
      if (st.isFile() && st.size > opts.limit) throw tooLarge(opts.what, path, opts.limit, st.size)
    }
    return readToEnd(fd, opts, path, into, inputIdleMs(opts), sizeCheck)
  } finally {
    closeSync(fd)
  }
}

/**
 * Read an open descriptor to its end, refusing more than `opts.limit` bytes (INPUT_TOO_LARGE) and,
 * for a non-blocking pipe, more than `opts.idleMs` without a byte (INPUT_TIMEOUT; 0 = no limit).
 */
export function readFdBounded(fd: number, opts: BoundedReadOptions, source: string): Buffer {
  return readToEnd(fd, opts, source, {}, opts.idleMs ?? 0)
}

/**
 * Open `path` for a bounded read: non-blocking, so a FIFO without a writer does not block the open
 * (read it with readChunkBounded). A failed open is UNREADABLE_INPUT with detail.errno.
 */
export function openBounded(path: string, what: string): number {
  try {
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK)
  } catch (error) {
    throw unreadable(what, path, error)
  }
}

/**
 * One read(2) into `buf` from `offset` to its end: the bytes read, 0 at the end. A non-blocking
 * pipe with no data yet is polled until it has some, or for at most `idleMs` (0: forever) before
 * INPUT_TIMEOUT; a directory is INPUT_IS_DIRECTORY; any other failure UNREADABLE_INPUT.
 */
export function readChunkBounded(fd: number, buf: Buffer, offset: number, what: string, source: string, idleMs: number): number {
  let idleSince: number | undefined
  for (;;) {
    try {
      return readSync(fd, buf, offset, buf.length - offset, null)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EOF') return 0
      if (code === 'EISDIR') throw isDirectory(what, source)
      if (code !== 'EAGAIN') throw unreadable(what, source, error)
      idleSince ??= Date.now()
      if (idleMs > 0 && Date.now() - idleSince > idleMs) {
        throw new InputError('INPUT_TIMEOUT', `${what}: ${source} gave no data for ${idleMs / 1000} s (a pipe or FIFO nobody writes to?)`)
      }
      sleepSync(POLL_MS)
    }
  }
}

/**
 * The read loop of every whole-file bounded read: into `into`'s buffer (FIRST_BUFFER_BYTES at first,
 * doubled when full, never past limit + 1 bytes), each piece by readChunkBounded with `idleMs`.
 * `beforeGrowing` runs once, the first time the buffer is full.
 */
function readToEnd(fd: number, opts: BoundedReadOptions, source: string, into: ReadBuffer, idleMs: number, beforeGrowing?: () => void): Buffer {
  let buf = (into.bytes ??= Buffer.allocUnsafe(Math.min(FIRST_BUFFER_BYTES, opts.limit + 1)))
  let total = 0
  let grown = false
  for (;;) {
    if (total === buf.length) {
      if (!grown) beforeGrowing?.()
      grown = true
      buf = into.bytes = Buffer.concat([buf, Buffer.allocUnsafe(Math.max(1, Math.min(buf.length, opts.limit + 1 - total)))])
    }
    const n = readChunkBounded(fd, buf, total, opts.what, source, idleMs)
    if (n === 0) break
    total += n
    if (total > opts.limit) throw tooLarge(opts.what, source, opts.limit)
  }
  return buf.subarray(0, total)
}

const isDirectory = (what: string, path: string) => new InputError('INPUT_IS_DIRECTORY', `${what}: ${path} is a directory, not a file`)

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
