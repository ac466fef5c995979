/**
 * `tsm mount`: the configfs-tsm report ABI served under a directory with FUSE, backed by the
 * simulated TD in the state directory. The FUSE callbacks only translate: paths to parts, numbers
 * to errnos, and hand every decision to the pure TsmReportTree (tsm-report.ts); reading outblob
 * runs the tdx_guest provider (tsm-tdx.ts) over the quote use case (tsm-backend.ts).
 *
 * Every handler runs on this process's event loop: nothing here may touch the mount with
 * synchronous file calls (the kernel would wait for a reply this loop can never send).
 */
import {createHash} from 'node:crypto'
import {closeSync, constants as fsConstants, mkdirSync, openSync, readdirSync, statSync, writeSync} from 'node:fs'
import {constants as osConstants} from 'node:os'
import {join, resolve} from 'node:path'
import {readNum} from '../abi/layout.js'
import {QUOTE_HEADER} from '../abi/quote.js'
import type {StrategyName} from '../guest/alloc/interface.js'
import type {QgsMode} from '../host/qgs.js'
import {checkOutputPath} from './files.js'
import {InputError} from '../errors.js'
import type {StateStore} from '../state/store.js'
import {tsmBackendPlatform, tsmBackendQuote} from './tsm-backend.js'
import {detachMount, findMount, isTsmMount, loadFuse, TSM_FSNAME, type FuseCallback, type FuseClass, type FuseInstance, type FuseOps, type FuseStat} from './tsm-mount-sys.js'
import {splitTsmPath, TsmErrno, TsmReportTree, type TsmErrnoName} from './tsm-report.js'
import {errnoForQuoteError, tdxGuestProvider} from './tsm-tdx.js'

/** A FUSE request the JavaScript side has not answered by then gets ETIMEDOUT (the driver's GetQuote budget is 30 s). */
export const FUSE_OP_TIMEOUT_MS = 30_000
/** How long mounting may take before we give up. */
const MOUNT_TIMEOUT_MS = 10_000
/** How often the server checks that its mount is still there (someone ran `tsm unmount`). */
const WATCH_INTERVAL_MS = 1_000
/**
 * libfuse 2 options: direct_io (every read reaches the handler, as configfs attributes are not
 * page-cached); names and modes may be cached for a second (they only change through this mount,
 * so the kernel's own mkdir/rmdir keep its cache right), never a missing name; our fsname.
 */
const FUSE_MOUNT_OPTIONS = `-odirect_io,entry_timeout=1,attr_timeout=1,negative_timeout=0,fsname=${TSM_FSNAME},subtype=tsm`

export type TsmAttributeSet = 'tdx' | 'all'

/** One line of the request log (`--json` on stderr, or --log FILE). */
export interface TsmLogRecord {
  time: string
  event: 'quote' | 'quote_failed' | 'internal_error'
  instance?: string
  generation?: string
  report_data?: string
  privlevel?: number
  allocator?: StrategyName
  quote_version?: number
  size?: number
  sha256?: string
  errno?: string
  code?: string
  message?: string
  elapsed_ms?: number
}

export interface ServeTsmOptions {
  dir: string
  store: StateStore
  strategy: StrategyName
  quoteVersion?: 4 | 5
  qgsMode?: QgsMode
  attributes?: TsmAttributeSet
  privlevelFloor?: number
  onLog?: (r: TsmLogRecord) => void
}

export interface TsmServer {
  mountpoint: string
  report_root: string
  provider: string
  attributes: TsmAttributeSet
  profile: string
  platform_created: boolean
  tree: TsmReportTree
  /** Resolves with the reason when the mount went away without close(). */
  lost: Promise<string>
  close(): Promise<void>
}

const now = () => new Date().toISOString()

// ------------------------------------------------------------------ FUSE callbacks

const errnoNumber = (name: TsmErrnoName): number => osConstants.errno[name] ?? osConstants.errno.EIO

function fileStat(node: {type: 'dir' | 'file'; mode: number; entries?: number}, started: Date): FuseStat {
  const dir = node.type === 'dir'
  return {
    mode: (dir ? fsConstants.S_IFDIR : fsConstants.S_IFREG) | node.mode,
    uid: 0,
    gid: 0,
    size: 0, // configfs attributes have no size; direct_io reads them to EOF
    dev: 0,
    nlink: dir ? 2 + (node.entries ?? 0) : 1,
    ino: 0,
    rdev: 0,
    blksize: 4096,
    blocks: 0,
    atime: started,
    mtime: started,
    ctime: started,
  }
}

/**
 * The FUSE operations over a TsmReportTree. Each answer goes through `reply`, which turns a
 * TsmErrno into its negative errno and anything unexpected into EIO (logged), so no request can
 * throw into the binding or go unanswered.
 */
export function fuseOperations(tree: TsmReportTree, onInternal: (op: string, error: unknown) => void): FuseOps {
  const started = new Date()
  const fail = (op: string, error: unknown): number => {
    if (error instanceof TsmErrno) return -errnoNumber(error.errno)
    onInternal(op, error)
    return -errnoNumber('EIO')
  }
  /** Run fn; pass its value to cb (or the errno of what it threw). */
  const reply = (op: string, cb: FuseCallback, fn: () => unknown, toArgs: (v: any) => unknown[] = () => [0]) => {
    Promise.resolve()
      .then(fn)
      .then(
        (v) => (cb as (...a: unknown[]) => void)(...toArgs(v)),
        (error) => cb(fail(op, error)),
      )
  }
  const parts = splitTsmPath
  return {
    getattr: (p: string, cb: FuseCallback) => reply('getattr', cb, () => fileStat(tree.lookup(parts(p)), started), (st) => [0, st]),
    fgetattr: (p: string, _fd: number, cb: FuseCallback) => reply('fgetattr', cb, () => fileStat(tree.lookup(parts(p)), started), (st) => [0, st]),
    readdir: (p: string, cb: FuseCallback) => reply('readdir', cb, () => ['.', '..', ...tree.list(parts(p))], (names) => [0, names]),
    mkdir: (p: string, _mode: number, cb: FuseCallback) => reply('mkdir', cb, () => tree.mkdir(parts(p))),
    rmdir: (p: string, cb: FuseCallback) => reply('rmdir', cb, () => tree.rmdir(parts(p))),
    create: (p: string, _mode: number, cb: FuseCallback) => reply('create', cb, () => tree.create(parts(p))),
    mknod: (p: string, _mode: number, _dev: number, cb: FuseCallback) => reply('mknod', cb, () => tree.refuseNewName(parts(p), 'mknod')),
    symlink: (_target: string, p: string, cb: FuseCallback) => reply('symlink', cb, () => tree.refuseNewName(parts(p), 'symlink')),
    link: (_from: string, p: string, cb: FuseCallback) => reply('link', cb, () => tree.refuseNewName(parts(p), 'link')),
    unlink: (p: string, cb: FuseCallback) => reply('unlink', cb, () => tree.refuseExisting(parts(p), 'unlink')),
    rename: (p: string, _to: string, cb: FuseCallback) => reply('rename', cb, () => tree.refuseExisting(parts(p), 'rename')),
    truncate: (p: string, _size: number, cb: FuseCallback) => reply('truncate', cb, () => tree.truncate(parts(p))),
    ftruncate: (p: string, _fd: number, _size: number, cb: FuseCallback) => reply('ftruncate', cb, () => tree.truncate(parts(p))),
    // configfs_setattr accepts mode, owner and time changes; nothing here depends on them.
    chmod: (p: string, _mode: number, cb: FuseCallback) => reply('chmod', cb, () => void tree.lookup(parts(p))),
    chown: (p: string, _u: number, _g: number, cb: FuseCallback) => reply('chown', cb, () => void tree.lookup(parts(p))),
    utimens: (p: string, _a: Date, _m: Date, cb: FuseCallback) => reply('utimens', cb, () => void tree.lookup(parts(p))),
    open: (p: string, flags: number, cb: FuseCallback) =>
      reply('open', cb, () => tree.open(parts(p), openAccess(flags)), (fh) => [0, fh]),
    read: (_p: string, fh: number, buf: Buffer, len: number, pos: number, cb: FuseCallback) =>
      reply('read', cb, () => tree.read(fh, pos, len), (data: Buffer) => [data.copy(buf, 0, 0, Math.min(len, data.length))]),
    write: (_p: string, fh: number, buf: Buffer, len: number, pos: number, cb: FuseCallback) =>
      reply('write', cb, () => tree.write(fh, pos, Buffer.from(buf.subarray(0, len))), (n: number) => [n]),
    flush: (_p: string, fh: number, cb: FuseCallback) => reply('flush', cb, () => tree.flush(fh)),
    release: (_p: string, fh: number, cb: FuseCallback) => reply('release', cb, () => tree.release(fh)),
  }
}

/** <fcntl.h> O_ACCMODE: the access-mode bits of open(2) flags (Node does not export it). */
const O_ACCMODE = 3

/** Read and/or write access asked by the open flags. */
function openAccess(flags: number): {read: boolean; write: boolean} {
  const mode = flags & O_ACCMODE
  return {read: mode === fsConstants.O_RDONLY || mode === fsConstants.O_RDWR, write: mode === fsConstants.O_WRONLY || mode === fsConstants.O_RDWR}
}

// ------------------------------------------------------------------ mounting

/** Refuse a mount point that is in use, not a directory, or not empty; create it when missing. */
function prepareMountpoint(dir: string): void {
  const m = findMount(dir)
  if (m) {
    const stale = m.source === TSM_FSNAME ? ` (a tdxkit configfs-tsm mount; if its server is gone run 'tdxkit tsm unmount ${dir}')` : ''
    throw new InputError('MOUNTPOINT_BUSY', `${dir} is already a mount point (${m.fstype})${stale}`)
  }
  let isDir: boolean
  try {
    isDir = statSync(dir).isDirectory()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError('MOUNTPOINT_UNUSABLE', `cannot use ${dir}: ${(error as NodeJS.ErrnoException).code}`)
    mkdirSync(dir, {recursive: true, mode: 0o755})
    isDir = true
  }
  if (!isDir) throw new InputError('MOUNTPOINT_UNUSABLE', `${dir} is not a directory`)
  if (readdirSync(dir).length > 0) throw new InputError('MOUNTPOINT_NOT_EMPTY', `${dir} is not empty (mount on an empty directory)`)
}

/** The binding with our mount options and our unmount (fusermount, or umount -l as root). */
function fuseSubclass(Fuse: FuseClass): FuseClass {
  // The binding's close() calls the static Fuse.unmount, which runs `fusermount -uz` only.
  Fuse.unmount = (mnt, cb) => {
    try {
      detachMount(mnt)
      cb(null)
    } catch (error) {
      cb(error as Error)
    }
  }
  return class TsmFuse extends Fuse {
    _fuseOptions(): string {
      return FUSE_MOUNT_OPTIONS
    }
  }
}

function mountFuse(Fuse: FuseClass, dir: string, ops: FuseOps): Promise<FuseInstance> {
  const Sub = fuseSubclass(Fuse)
  const fuse = new Sub(dir, ops, {timeout: FUSE_OP_TIMEOUT_MS})
  return new Promise<FuseInstance>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new InputError('MOUNT_FAILED', `mounting ${dir} did not complete within ${MOUNT_TIMEOUT_MS / 1000} s`)), MOUNT_TIMEOUT_MS)
    fuse.mount((err) => {
      clearTimeout(timer)
      if (err) reject(new InputError('MOUNT_FAILED', `cannot mount FUSE at ${dir}: ${err.message}${process.getuid?.() === 0 ? '' : ' (mounting needs root, or fusermount from Debian package fuse)'}`))
      else resolvePromise(fuse)
    })
  })
}

/** The quote log record of one provider request. */
function quoteRecord(r: {desc: {instance: string; generation: bigint; inblob: Buffer; privlevel: number}; quote?: Buffer; error?: unknown; errno?: string}, started: number, extra: Partial<TsmLogRecord>): TsmLogRecord {
  const head = {time: now(), event: r.quote ? ('quote' as const) : ('quote_failed' as const)}
  const base = {...head, instance: r.desc.instance, generation: r.desc.generation.toString(), report_data: r.desc.inblob.toString('hex'), privlevel: r.desc.privlevel, ...extra}
  const elapsed_ms = Math.round((performance.now() - started) * 100) / 100
  if (r.quote) return {...base, size: r.quote.length, sha256: createHash('sha256').update(r.quote).digest('hex'), elapsed_ms}
  const e = r.error as {code?: string; message?: string}
  return {...base, errno: r.errno, ...(e?.code ? {code: e.code} : {}), message: String(e?.message ?? r.error), elapsed_ms}
}

/** Mount and serve until close() (or until the mount disappears). */
export async function serveTsm(opts: ServeTsmOptions): Promise<TsmServer> {
  const Fuse = loadFuse()
  const dir = resolve(opts.dir)
  prepareMountpoint(dir)
  const platform = await tsmBackendPlatform(opts.store)
  const log = opts.onLog ?? (() => {})
  const attributes = opts.attributes ?? 'tdx'
  let started = 0
  const tdx = tdxGuestProvider(
    async (reportData) => {
      const r = await tsmBackendQuote(opts.store, reportData, {strategy: opts.strategy, quoteVersion: opts.quoteVersion, qgsMode: opts.qgsMode})
      return r.quote
    },
    {
      allAttributes: attributes === 'all',
      privlevelFloor: opts.privlevelFloor,
      onRequest: (r) => log(quoteRecord(r, started, {allocator: opts.strategy, ...(r.quote ? {quote_version: readNum(QUOTE_HEADER, r.quote, 'version')} : {})})),
    },
  )
  const provider = {...tdx, reportNew: (desc: Parameters<typeof tdx.reportNew>[0]) => ((started = performance.now()), tdx.reportNew(desc))}
  const tree = new TsmReportTree(provider)
  const ops = fuseOperations(tree, (op, error) => log({time: now(), event: 'internal_error', code: op, errno: errnoForQuoteError(error), message: String((error as Error)?.message ?? error)}))
  const fuse = await mountFuse(Fuse, dir, ops)
  return serverHandle(fuse, dir, tree, {provider: provider.name, attributes, profile: platform.doc.module.profile, platform_created: platform.created})
}

function serverHandle(fuse: FuseInstance, dir: string, tree: TsmReportTree, info: Pick<TsmServer, 'provider' | 'attributes' | 'profile' | 'platform_created'>): TsmServer {
  let closing: Promise<void> | undefined
  let onLost!: (why: string) => void
  const lost = new Promise<string>((r) => (onLost = r))
  const watch = setInterval(() => {
    if (!closing && !findMount(dir)) {
      clearInterval(watch)
      onLost(`${dir} was unmounted from outside`)
    }
  }, WATCH_INTERVAL_MS)
  watch.unref()
  const close = (): Promise<void> => {
    clearInterval(watch)
    closing ??= new Promise<void>((res, rej) => fuse.unmount((err) => (err ? rej(err) : res())))
    return closing
  }
  return {mountpoint: dir, report_root: join(dir, 'report'), tree, lost, close, ...info}
}


/** Append-only JSON-lines log file (opened once, created 0644). */
export function openTsmLog(path: string): {write(r: TsmLogRecord): void; close(): void} {
  checkOutputPath(path, '--log')
  let fd: number
  try {
    fd = openSync(path, 'a', 0o644)
  } catch (error) {
    throw new InputError('LOG_UNWRITABLE', `cannot open log file ${path}: ${(error as NodeJS.ErrnoException).code}`)
  }
  return {
    write: (r) => void writeSync(fd, JSON.stringify(r) + '\n'),
    close: () => closeSync(fd),
  }
}

/** `tsm unmount`: detach a tdxkit configfs-tsm mount; refuse any other kind of mount. */
export function unmountTsm(dir: string): {mountpoint: string; unmounted: boolean; method?: string} {
  const mountpoint = resolve(dir)
  const m = findMount(mountpoint)
  if (!m) return {mountpoint, unmounted: false}
  if (!isTsmMount(m)) throw new InputError('NOT_TSM_MOUNT', `${mountpoint} is a ${m.fstype} mount of ${m.source}, not a tdxkit configfs-tsm mount; refusing to unmount it`)
  const {method} = detachMount(mountpoint)
  return {mountpoint, unmounted: true, method}
}
