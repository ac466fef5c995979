/**
 * The state directory: one JSON document (`state.json`) holding the simulated platform, written
 * atomically under an exclusive lock file (`state.lock`).
 *
 * - Lock: created with O_EXCL and holding {pid, hostname, acquired_at, nonce}. A waiter polls until
 *   the lock is free or `lockTimeoutMs` passes. A lock whose owner process is dead (same host) is
 *   stale: it is broken safely under a short-lived "breaker" lock that re-checks the lock's nonce,
 *   so two recovering processes can never both break it. A lock held by a live process for longer
 *   than the timeout gives a clear StateError naming the owner and the file.
 * - Write: temp file + fsync + rename (+ directory fsync), see writeFileAtomic.
 * - Schema: `schema_version`; a newer version than this build knows is refused with a clear error.
 */
import {closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, unlinkSync, writeSync} from 'node:fs'
import {hostname, homedir} from 'node:os'
import {join, resolve} from 'node:path'
import {randomBytes} from 'node:crypto'
import {StateError} from '../errors.js'
import {writeFileAtomic} from './atomic.js'
import {errnoOf, readFileBounded} from './read.js'
import {STATE_SCHEMA_VERSION, type StateDoc} from '../util/state-doc.js'

export {STATE_SCHEMA_VERSION, type StateDoc} from '../util/state-doc.js'
export const STATE_FILE = 'state.json'
export const LOCK_FILE = 'state.lock'
const BREAKER_FILE = 'state.lock.break'
const BREAKER_STALE_MS = 5000
/** Largest state.json read (a platform with many devices and a long event history is a few MiB). */
export const MAX_STATE_BYTES = 256 * 1024 * 1024
/** Largest lock file read (it holds one small JSON object). */
const MAX_LOCK_BYTES = 4096

export interface StoreOptions {
  /** How long to wait for a lock held by a live process (default 15 s, env TDXKIT_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number
}

/** --state-dir flag, else TDXKIT_STATE_DIR, else $XDG_STATE_HOME/tdxkit, else ~/.local/state/tdxkit. */
export function resolveStateDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag)
  if (env.TDXKIT_STATE_DIR) return resolve(env.TDXKIT_STATE_DIR)
  const base = env.XDG_STATE_HOME ? resolve(env.XDG_STATE_HOME) : join(homedir(), '.local', 'state')
  return join(base, 'tdxkit')
}

interface LockInfo {
  pid: number
  hostname: string
  acquired_at: string
  nonce: string
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export class StateStore {
  readonly dir: string
  readonly file: string
  readonly lockFile: string
  private readonly lockTimeoutMs: number
  private heldNonce: string | undefined

  constructor(dir: string, opts: StoreOptions = {}) {
    this.dir = resolve(dir)
    this.file = join(this.dir, STATE_FILE)
    this.lockFile = join(this.dir, LOCK_FILE)
    const envTimeout = Number(process.env.TDXKIT_LOCK_TIMEOUT_MS)
    this.lockTimeoutMs = opts.lockTimeoutMs ?? (Number.isFinite(envTimeout) && envTimeout > 0 ? envTimeout : 15_000)
  }

  exists(): boolean {
    return existsSync(this.file)
  }

  /**
   * Read and validate the document; undefined when there is no state yet. No lock needed (writes
   * are atomic). The read is bounded (MAX_STATE_BYTES; anything but a regular file, e.g. a symlink
   * to /dev/zero or a FIFO, is refused), so a broken state directory never hangs a command.
   */
  load(): StateDoc | undefined {
    let text: string
    try {
      text = readFileBounded(this.file, {limit: MAX_STATE_BYTES, what: 'state file', regularOnly: true}).toString('utf8')
    } catch (error) {
      const errno = errnoOf(error)
      if (errno === 'ENOENT') return undefined
      if (errno === 'ENOTDIR') throw new StateError('STATE_UNREADABLE', `state directory ${this.dir} is not a directory`)
      throw new StateError('STATE_UNREADABLE', `${(error as Error).message}; remove it or run 'tdxkit module reset'`)
    }
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch {
      throw new StateError(
        'STATE_CORRUPT',
        `state file ${this.file} is corrupt (not valid JSON); run 'tdxkit module reset' or 'tdxkit module init --force'`,
      )
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || typeof (doc as StateDoc).schema_version !== 'number') {
      throw new StateError(
        'STATE_CORRUPT',
        `state file ${this.file} is corrupt (no schema_version); run 'tdxkit module reset' or 'tdxkit module init --force'`,
      )
    }
    const v = (doc as StateDoc).schema_version
    if (v > STATE_SCHEMA_VERSION) {
      throw new StateError(
        'STATE_TOO_NEW',
        `state file ${this.file} has schema version ${v}, newer than this tdxkit understands (${STATE_SCHEMA_VERSION}); upgrade tdxkit or use another --state-dir`,
      )
    }
    if (v < 1 || !Number.isInteger(v)) {
      throw new StateError('STATE_CORRUPT', `state file ${this.file} has an invalid schema version ${v}; run 'tdxkit module reset'`)
    }
    return doc as StateDoc
  }

  /** Persist a document atomically. Must be called with the lock held. */
  save(doc: StateDoc): void {
    if (!this.heldNonce) throw new StateError('STATE_NOT_LOCKED', 'internal: state saved without holding the lock')
    writeFileAtomic(this.file, JSON.stringify(doc, null, 1) + '\n')
    this.removeStaleTemps()
  }

  /**
   * Temp files of state.json left by a writer killed mid-write. Only the lock holder writes
   * state.json, so with the lock held every such file is an orphan.
   */
  private removeStaleTemps(): void {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch {
      return
    }
    for (const n of names) {
      if (!n.startsWith(`.${STATE_FILE}.tmp-`)) continue
      try {
        unlinkSync(join(this.dir, n))
      } catch {}
    }
  }

  /** Delete the whole state directory's tdxkit files (under the lock). */
  async destroy(): Promise<boolean> {
    if (!existsSync(this.dir)) return false
    return this.withLock(() => {
      const had = existsSync(this.file)
      rmSync(this.file, {force: true})
      for (const extra of ['ccel.bin', 'collateral-cache']) rmSync(join(this.dir, extra), {force: true, recursive: true})
      return had
    })
  }

  /** Run fn while holding the exclusive state lock. */
  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await fn()
    } finally {
      this.release()
    }
  }

  /** Load (or start from `init` when absent), let fn mutate the document, save it; all under the lock. */
  async mutate<T>(fn: (doc: StateDoc) => T | Promise<T>, init?: () => StateDoc): Promise<T> {
    return this.withLock(async () => {
      let doc = this.load()
      if (!doc) {
        if (!init) throw new StateError('NO_STATE', `no simulated platform in ${this.dir}; run 'tdxkit module init'`)
        doc = init()
      }
      const result = await fn(doc)
      this.save(doc)
      return result
    })
  }

  private async acquire(): Promise<void> {
    try {
      mkdirSync(this.dir, {recursive: true, mode: 0o700})
    } catch (error) {
      throw new StateError('STATE_UNREADABLE', `cannot create state directory ${this.dir}: ${(error as NodeJS.ErrnoException).code}`)
    }
    const nonce = randomBytes(8).toString('hex')
    const info: LockInfo = {pid: process.pid, hostname: hostname(), acquired_at: new Date().toISOString(), nonce}
    const deadline = Date.now() + this.lockTimeoutMs
    let delay = 2
    for (;;) {
      if (this.tryCreate(this.lockFile, JSON.stringify(info))) {
        this.heldNonce = nonce
        return
      }
      const owner = this.readLock(this.lockFile)
      if (owner === 'missing') continue
      if (owner === 'unreadable' || (owner.hostname === hostname() && !pidAlive(owner.pid))) {
        this.breakStale(owner === 'unreadable' ? undefined : owner.nonce)
        continue
      }
      if (Date.now() >= deadline) {
        throw new StateError(
          'STATE_LOCKED',
          `state ${this.dir} is locked by pid ${owner.pid} on ${owner.hostname} since ${owner.acquired_at}; if that process is gone, remove ${this.lockFile}`,
        )
      }
      await sleep(delay + Math.random() * delay)
      delay = Math.min(delay * 2, 50)
    }
  }

  private release(): void {
    const nonce = this.heldNonce
    this.heldNonce = undefined
    if (!nonce) return
    const owner = this.readLock(this.lockFile)
    if (typeof owner === 'object' && owner.nonce === nonce) {
      try {
        unlinkSync(this.lockFile)
      } catch {}
    }
  }

  private tryCreate(path: string, content: string): boolean {
    let fd: number
    try {
      fd = openSync(path, 'wx', 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw new StateError('STATE_UNREADABLE', `cannot create lock ${path}: ${(error as NodeJS.ErrnoException).code}`)
    }
    try {
      writeSync(fd, content)
    } finally {
      closeSync(fd)
    }
    return true
  }

  private readLock(path: string): LockInfo | 'missing' | 'unreadable' {
    let text: string
    try {
      text = readFileBounded(path, {limit: MAX_LOCK_BYTES, what: 'state lock', regularOnly: true}).toString('utf8')
    } catch (error) {
      return errnoOf(error) === 'ENOENT' ? 'missing' : 'unreadable'
    }
    try {
      const v = JSON.parse(text) as LockInfo
      if (typeof v.pid === 'number' && typeof v.nonce === 'string') return v
    } catch {}
    // A lock file being written right now can be empty for an instant: only call it unreadable
    // once it has stayed that way for a while.
    try {
      if (Date.now() - statSync(path).mtimeMs < 1000) return 'missing'
    } catch {
      return 'missing'
    }
    return 'unreadable'
  }

  /** Break a stale lock, but only if it is still the same stale lock (checked under a breaker lock). */
  private breakStale(staleNonce: string | undefined): void {
    const breaker = join(this.dir, BREAKER_FILE)
    if (!this.tryCreate(breaker, String(process.pid))) {
      try {
        if (Date.now() - statSync(breaker).mtimeMs > BREAKER_STALE_MS) unlinkSync(breaker)
      } catch {}
      return
    }
    try {
      const now = this.readLock(this.lockFile)
      const same = now === 'unreadable' ? staleNonce === undefined : typeof now === 'object' && now.nonce === staleNonce
      if (same) unlinkSync(this.lockFile)
    } catch {
    } finally {
      try {
        unlinkSync(breaker)
      } catch {}
    }
  }
}
