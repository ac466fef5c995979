/** The atomic file write (temp file, fsync, rename, directory fsync) the state store and every output file use. The directory must exist: parents are never created here. */
import {closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {dirname, basename, join} from 'node:path'
import {randomBytes} from 'node:crypto'

/**
 * Write a file atomically: temp file in the same directory, fsync, rename over the target, fsync
 * the directory. A reader (or a crash) sees the old content or the new content, never a mix.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  const fd = openSync(tmp, 'wx', mode)
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    fsyncSync(fd)
  } catch (error) {
    closeSync(fd)
    try {
      unlinkSync(tmp)
    } catch {}
    throw error
  }
  closeSync(fd)
  try {
    renameSync(tmp, path)
  } catch (error) {
    try {
      unlinkSync(tmp)
    } catch {}
    throw error
  }
  try {
    const dfd = openSync(dir, 'r')
    try {
      fsyncSync(dfd)
    } finally {
      closeSync(dfd)
    }
  } catch {
    // Directory fsync is best effort (not supported on every file system).
  }
}
