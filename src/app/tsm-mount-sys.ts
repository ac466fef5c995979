/**
 * The machine side of the configfs-tsm mount: loading the optional FUSE binding lazily (with a
 * one-line error naming what to install), reading /proc/self/mountinfo, and detaching a mount
 * (fusermount -u -z from Debian's `fuse` package, or `umount -l` as root).
 */
import {spawnSync} from 'node:child_process'
import {accessSync, constants as fsConstants, existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {delimiter, join, resolve} from 'node:path'
import {InputError, RefusedError} from '../errors.js'
import {readTextInput} from './files.js'

/** The npm package that binds libfuse 2 (optional dependency, built at install time). */
export const FUSE_PACKAGE = '@cocalc/fuse-native'
/** The Debian packages the binding needs to build (libfuse-dev, pkg-config) and run (libfuse2, fuse). */
export const FUSE_DEBIAN_PACKAGES = ['libfuse2', 'libfuse-dev', 'fuse', 'pkg-config'] as const
/** The `fsname` our mounts carry in /proc/self/mountinfo (how `tsm unmount` recognises them). */
export const TSM_FSNAME = 'tdxkit-tsm'
/** How long an unmount helper may take. */
const UNMOUNT_TIMEOUT_MS = 10_000
/** Largest /proc/self/mountinfo read (thousands of mounts are a few hundred KiB). */
const MAX_MOUNTINFO_BYTES = 16 * 1024 * 1024

/** The parts of the binding's API the adapter uses (its own types are not needed to build). */
export interface FuseStat {
  mode: number
  uid: number
  gid: number
  size: number
  dev: number
  nlink: number
  ino: number
  rdev: number
  blksize: number
  blocks: number
  atime: Date
  mtime: Date
  ctime: Date
}
export type FuseCallback = (code: number, ...values: unknown[]) => void
export type FuseOps = Record<string, (...args: any[]) => void> // eslint-disable-line @typescript-eslint/no-explicit-any
export interface FuseInstance {
  mount(cb: (err: Error | null) => void): void
  unmount(cb: (err: Error | null) => void): void
}
export interface FuseClass {
  new (mnt: string, ops: FuseOps, opts: Record<string, unknown>): FuseInstance
  unmount: (mnt: string, cb: (err: Error | null) => void) => void
  prototype: {_fuseOptions(): string}
}

const loaded = new Map<string, FuseClass>()

const installHint = `install Debian's ${FUSE_DEBIAN_PACKAGES.join(', ')} (apt-get install ${FUSE_DEBIAN_PACKAGES.join(' ')}), then run npm install again`

/** The binding, loaded on first use; InputError FUSE_UNAVAILABLE (exit 2) naming what is missing. */
export function loadFuse(pkg: string = FUSE_PACKAGE): FuseClass {
  const cached = loaded.get(pkg)
  if (cached) return cached
  if (!existsSync('/dev/fuse')) {
    throw new InputError('FUSE_UNAVAILABLE', 'FUSE is not available: there is no /dev/fuse (load the fuse kernel module, or give the container the device)')
  }
  try {
    loaded.set(pkg, createRequire(import.meta.url)(pkg) as FuseClass)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    const first = String(e?.message ?? e).split('\n')[0]
    if (e?.code === 'MODULE_NOT_FOUND' && first.includes(pkg)) {
      throw new InputError('FUSE_UNAVAILABLE', `FUSE is not available: the optional dependency ${pkg} is not installed (its build needs libfuse): ${installHint}`)
    }
    if (/libfuse\.so/.test(first)) throw new InputError('FUSE_UNAVAILABLE', `FUSE is not available: ${first} (apt-get install libfuse2 fuse)`)
    if (/No native build was found/.test(first)) {
      throw new InputError('FUSE_UNAVAILABLE', `FUSE is not available: ${pkg} is installed but was not built: ${installHint}`)
    }
    throw new InputError('FUSE_UNAVAILABLE', `FUSE is not available: cannot load ${pkg}: ${first}`)
  }
  return loaded.get(pkg)!
}

/** Whether a mount could work here, and if not why (for tests, the demo and the bench). */
export function fuseAvailability(): {available: true} | {available: false; reason: string} {
  try {
    loadFuse()
    return {available: true}
  } catch (error) {
    return {available: false, reason: (error as Error).message}
  }
}

// ------------------------------------------------------------------ mountinfo

export interface MountEntry {
  mountpoint: string
  fstype: string
  source: string
}

/** /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescapeMount = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))

/** The mount whose mount point is exactly `dir` (resolved, not followed), if any. */
export function findMount(dir: string, mountinfo?: string): MountEntry | undefined {
  const want = resolve(dir)
  let found: MountEntry | undefined
  const text = mountinfo ?? readTextInput('/proc/self/mountinfo', 'mount table', MAX_MOUNTINFO_BYTES)
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options [optional fields] - fstype source superoptions
    const dash = line.indexOf(' - ')
    if (dash < 0) continue
    const left = line.slice(0, dash).split(' ')
    const right = line.slice(dash + 3).split(' ')
    if (left.length < 5 || right.length < 2) continue
    const mountpoint = unescapeMount(left[4])
    if (mountpoint === want) found = {mountpoint, fstype: right[0], source: unescapeMount(right[1])} // the last one is on top
  }
  return found
}

export const isTsmMount = (m: MountEntry): boolean => m.fstype.startsWith('fuse') && m.source === TSM_FSNAME

// ------------------------------------------------------------------ detach

function onPath(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue
    const p = join(d, name)
    try {
      accessSync(p, fsConstants.X_OK)
      return p
    } catch {}
  }
  return undefined
}

/**
 * Lazily detach the mount at `dir` (no-op when nothing is mounted there): fusermount -u -z, or
 * umount -l as root. Processes still inside see ENOTCONN / ENOENT instead of hanging.
 */
export function detachMount(dir: string): {method: 'fusermount' | 'umount' | 'none'} {
  if (!findMount(dir)) return {method: 'none'}
  const fusermount = onPath('fusermount') ?? onPath('fusermount3')
  let argv: string[]
  if (fusermount) argv = [fusermount, '-u', '-z', resolve(dir)]
  else if (process.getuid?.() === 0) argv = ['umount', '-l', resolve(dir)]
  else throw new RefusedError('UNMOUNT_UNAVAILABLE', `cannot unmount ${dir}: no fusermount (Debian package fuse) and not root for umount -l`)
  const r = spawnSync(argv[0], argv.slice(1), {timeout: UNMOUNT_TIMEOUT_MS, encoding: 'utf8'})
  if (findMount(dir)) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n')[0]
    throw new RefusedError('UNMOUNT_FAILED', `cannot unmount ${dir}: ${argv[0]} failed: ${why}`)
  }
  return {method: fusermount ? 'fusermount' : 'umount'}
}
