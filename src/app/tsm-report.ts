/**
 * The configfs-tsm report ABI as a pure state machine (no FUSE, no file system): the tree
 * `report/NAME/ATTR`, per-instance generations, configfs's open/read/write/release rules for text
 * and binary attributes, and every errno decision. The FUSE adapter (tsm-mount.ts) only translates
 * paths and numbers; unit tests drive this module directly.
 *
 * Sources (kernel, read for this module):
 * - K-DOC  Documentation/ABI/testing/configfs-tsm-report (v6.7: inblob, outblob, auxblob, provider,
 *          generation, privlevel, privlevel_floor; v6.10: manifestblob, service_provider,
 *          service_guid, service_manifest_version).
 * - K-RPT  drivers/virt/coco/guest/report.c (v7.0; drivers/virt/coco/tsm.c before the v6.15 move).
 * - K-CFS  fs/configfs/file.c and dir.c (v7.0): how text and binary attributes are opened, filled,
 *          stored; namei/VFS errnos (create → EACCES, mknod/link/rename/unlink → EPERM).
 * - K-INC  include/linux/tsm.h: TSM_REPORT_INBLOB_MAX 64, TSM_REPORT_OUTBLOB_MAX SZ_32K,
 *          TSM_REPORT_PRIVLEVEL_MAX 3.
 */

/** Errno names the ABI uses; the adapter maps them to numbers. */
export type TsmErrnoName =
  | 'EPERM' | 'ENOENT' | 'EINTR' | 'EIO' | 'ENXIO' | 'EBADF' | 'ENOMEM' | 'EACCES' | 'EBUSY' | 'EEXIST'
  | 'ENOTDIR' | 'EISDIR' | 'EINVAL' | 'ENFILE' | 'ETXTBSY' | 'EFBIG' | 'ERANGE' | 'ETIMEDOUT' | 'ENOTEMPTY'

/** A refused operation, carrying the errno the kernel returns for it. */
export class TsmErrno extends Error {
  constructor(
    readonly errno: TsmErrnoName,
    readonly why: string,
  ) {
    super(`${errno}: ${why}`)
    this.name = 'TsmErrno'
  }
}

const refuse = (errno: TsmErrnoName, why: string): never => {
  throw new TsmErrno(errno, why)
}

// ------------------------------------------------------------------ limits and attribute table

/** K-INC TSM_REPORT_INBLOB_MAX: configfs refuses a longer inblob write with EFBIG (K-CFS). */
export const TSM_REPORT_INBLOB_MAX = 64
/** K-INC TSM_REPORT_OUTBLOB_MAX (SZ_32K) for outblob, auxblob and manifestblob. */
export const TSM_REPORT_OUTBLOB_MAX = 32 * 1024
/** K-INC TSM_REPORT_PRIVLEVEL_MAX. */
export const TSM_REPORT_PRIVLEVEL_MAX = 3
/** K-CFS SIMPLE_ATTR_SIZE: a text attribute write stores at most SIMPLE_ATTR_SIZE - 1 bytes. */
export const CONFIGFS_SIMPLE_ATTR_SIZE = 4096
/** `unsigned long` generations wrap at 2^64 on x86-64 (K-RPT write_generation / read_generation). */
const GENERATION_MODULUS = 1n << 64n

export const TSM_ATTRIBUTES = [
  'inblob',
  'outblob',
  'auxblob',
  'manifestblob',
  'generation',
  'provider',
  'privlevel',
  'privlevel_floor',
  'service_provider',
  'service_guid',
  'service_manifest_version',
] as const
export type TsmAttribute = (typeof TSM_ATTRIBUTES)[number]

interface AttributeSpec {
  /** configfs binary attribute (whole-buffer semantics) or text attribute (show/store). */
  binary: boolean
  /** File mode bits: CONFIGFS_ATTR_RO / BIN_ATTR_RO = 0444, *_WO = 0200. */
  mode: 0o444 | 0o200
  /** Kernel version that added it (K-DOC). */
  since: 'v6.7' | 'v6.10'
}

export const TSM_ATTRIBUTE_SPECS: Readonly<Record<TsmAttribute, AttributeSpec>> = {
  inblob: {binary: true, mode: 0o200, since: 'v6.7'},
  outblob: {binary: true, mode: 0o444, since: 'v6.7'},
  auxblob: {binary: true, mode: 0o444, since: 'v6.7'},
  manifestblob: {binary: true, mode: 0o444, since: 'v6.10'},
  generation: {binary: false, mode: 0o444, since: 'v6.7'},
  provider: {binary: false, mode: 0o444, since: 'v6.7'},
  privlevel: {binary: false, mode: 0o200, since: 'v6.7'},
  privlevel_floor: {binary: false, mode: 0o444, since: 'v6.7'},
  service_provider: {binary: false, mode: 0o200, since: 'v6.10'},
  service_guid: {binary: false, mode: 0o200, since: 'v6.10'},
  service_manifest_version: {binary: false, mode: 0o200, since: 'v6.10'},
}

const isAttribute = (name: string): name is TsmAttribute => (TSM_ATTRIBUTES as readonly string[]).includes(name)

// ------------------------------------------------------------------ provider interface

/** What a report generation gets: struct tsm_report_desc (K-INC). */
export interface TsmReportDesc {
  instance: string
  /** write_generation the report is made for. */
  generation: bigint
  inblob: Buffer
  privlevel: number
  serviceProvider?: string
  /** 16 bytes, all zero = guid_null. */
  serviceGuid: Buffer
  serviceManifestVersion: number
}

export interface TsmReportBlobs {
  outblob: Buffer
  auxblob?: Buffer
  manifestblob?: Buffer
}

/** struct tsm_report_ops: the registered provider. */
export interface TsmProvider {
  name: string
  privlevelFloor: number
  /** report_attr_visible / report_bin_attr_visible; every attribute when absent (K-RPT). */
  visible?(attr: TsmAttribute): boolean
  /** report_new: throws TsmErrno for what the provider refuses. */
  reportNew(desc: TsmReportDesc): Promise<TsmReportBlobs>
}

// ------------------------------------------------------------------ small helpers

/** The kernel's rwsem around every store and report generation, as an async mutex. */
class AsyncMutex {
  private tail: Promise<void> = Promise.resolve()
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const prev = this.tail
    let release!: () => void
    this.tail = new Promise<void>((r) => (release = r))
    await prev
    try {
      return await fn()
    } finally {
      release()
    }
  }
}

/** A configfs text buffer as the store sees it: a C string (stops at the first NUL). */
const cString = (data: Buffer): string => {
  const nul = data.indexOf(0)
  return (nul < 0 ? data : data.subarray(0, nul)).toString('latin1')
}

/**
 * lib/kstrtox.c kstrtouint(s, 0): optional '+', radix from the prefix (0x + hex digit → 16,
 * leading 0 → 8, else 10), digits, one optional trailing newline, nothing else. EINVAL for
 * anything else, ERANGE above UINT_MAX.
 */
export function kstrtouint(text: string): number {
  let s = text.startsWith('+') ? text.slice(1) : text
  let radix = 10
  if (s[0] === '0') radix = (s[1] === 'x' || s[1] === 'X') && /^[0-9a-fA-F]$/.test(s[2] ?? '') ? 16 : 8
  if (radix === 16) s = s.slice(2)
  const digits = /^[0-9a-fA-F]*/.exec(s)![0]
  let n = 0n
  let used = 0
  for (const c of digits) {
    const d = Number.parseInt(c, 16)
    if (d >= radix) break
    n = n * BigInt(radix) + BigInt(d)
    used++
    if (n > 0xffffffffn) refuse('ERANGE', `${text.trim()} does not fit an unsigned int`)
  }
  if (used === 0) refuse('EINVAL', `not an unsigned integer: ${JSON.stringify(text)}`)
  let rest = s.slice(used)
  if (rest.startsWith('\n')) rest = rest.slice(1)
  if (rest.length > 0) refuse('EINVAL', `not an unsigned integer: ${JSON.stringify(text)}`)
  return Number(n)
}

/** lib/uuid.c guid_parse: 36 characters xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (more are ignored). */
export function guidParse(text: string): Buffer {
  const s = text.slice(0, 36)
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)) refuse('EINVAL', 'service_guid is not a GUID')
  // guid_t byte order: the first three groups little-endian (guid_index in lib/uuid.c).
  const h = s.replace(/-/g, '')
  const be = Buffer.from(h, 'hex')
  return Buffer.concat([Buffer.from(be.subarray(0, 4)).reverse(), Buffer.from(be.subarray(4, 6)).reverse(), Buffer.from(be.subarray(6, 8)).reverse(), be.subarray(8)])
}

// ------------------------------------------------------------------ instances

interface ReportInstance {
  name: string
  writeGeneration: bigint
  readGeneration: bigint
  inblob: Buffer
  privlevel: number
  serviceProvider?: string
  serviceGuid: Buffer
  serviceManifestVersion: number
  blobs?: TsmReportBlobs
  /** rmdir'ed while files were open (configfs frag_dead): further access is ENOENT. */
  dead: boolean
}

/** One open file (struct configfs_buffer, K-CFS). */
interface OpenFile {
  instance: ReportInstance
  attr: TsmAttribute
  /** Text attribute: show() output, filled at the first read. */
  page?: Buffer
  /** Binary attribute: the read snapshot or the write accumulator. */
  bin: Buffer
  readInProgress: boolean
  writeInProgress: boolean
  /** A binary write already handed to the attribute (see flush()). */
  applied: boolean
}

export type TsmNode = {type: 'dir'; mode: number; entries: number} | {type: 'file'; mode: number}

export interface TsmReportTreeOptions {
  /** Instances allowed at once (mkdir past it: ENOMEM, as a failed allocation would). Default 1024. */
  maxInstances?: number
  /** Open files allowed at once (open past it: ENFILE). Default 4096. */
  maxOpenFiles?: number
  /** Test seam: generations a new instance starts with (the kernel starts both at 0). */
  initialGenerations?: {write: bigint; read: bigint}
}

/** Directory mode of configfs groups and items (S_IRWXU | S_IRUGO | S_IXUGO). */
const DIR_MODE = 0o755
const REPORT_GROUP = 'report'

/**
 * configfs `tsm/` with its default group `report/` (K-RPT tsm_report_init). Paths are split into
 * parts relative to the mount: [] is `tsm/`, ['report'], ['report', NAME], ['report', NAME, ATTR].
 */
export class TsmReportTree {
  readonly provider: TsmProvider | undefined
  private readonly instances = new Map<string, ReportInstance>()
  private readonly files = new Map<number, OpenFile>()
  private nextHandle = 1
  private readonly rwsem = new AsyncMutex()
  private readonly maxInstances: number
  private readonly maxOpenFiles: number

  constructor(
    provider: TsmProvider | undefined,
    private readonly opts: TsmReportTreeOptions = {},
  ) {
    this.provider = provider
    this.maxInstances = opts.maxInstances ?? 1024
    this.maxOpenFiles = opts.maxOpenFiles ?? 4096
  }

  get instanceCount(): number {
    return this.instances.size
  }

  get openFileCount(): number {
    return this.files.size
  }

  /** Attributes an instance shows: K-RPT tsm_report_is_visible / tsm_report_is_bin_visible. */
  visibleAttributes(): TsmAttribute[] {
    const p = this.provider
    if (!p) return []
    return TSM_ATTRIBUTES.filter((a) => (p.visible ? p.visible(a) : true))
  }

  // ---------------------------------------------------------------- namespace

  /** getattr: what is at this path, or ENOENT. */
  lookup(parts: readonly string[]): TsmNode {
    if (parts.length === 0) return {type: 'dir', mode: DIR_MODE, entries: 1}
    if (parts[0] !== REPORT_GROUP) return refuse('ENOENT', `no ${parts[0]} in tsm/`)
    if (parts.length === 1) return {type: 'dir', mode: DIR_MODE, entries: this.instances.size}
    const inst = this.instances.get(parts[1]) ?? refuse('ENOENT', `no report instance ${parts[1]}`)
    if (parts.length === 2) return {type: 'dir', mode: DIR_MODE, entries: 0}
    const attr = this.visibleAttribute(inst, parts[2])
    if (parts.length > 3) return refuse('ENOTDIR', `${parts[2]} is not a directory`)
    return {type: 'file', mode: TSM_ATTRIBUTE_SPECS[attr].mode}
  }

  /** readdir. */
  list(parts: readonly string[]): string[] {
    const node = this.lookup(parts)
    if (node.type !== 'dir') return refuse('ENOTDIR', `${parts.join('/')} is not a directory`)
    if (parts.length === 0) return [REPORT_GROUP]
    if (parts.length === 1) return [...this.instances.keys()]
    return this.visibleAttributes()
  }

  /**
   * mkdir: K-RPT tsm_report_make_item (ENXIO without a provider) inside `report/` only; configfs
   * mkdir anywhere else is EPERM (K-CFS configfs_mkdir: not a group, or a group with no make_item).
   */
  mkdir(parts: readonly string[]): void {
    if (parts.length === 0) return refuse('EEXIST', 'the mount root exists')
    this.parentDir(parts)
    if (this.exists(parts)) return refuse('EEXIST', `${parts.join('/')} exists`)
    if (parts.length === 1) return refuse('EPERM', 'tsm/ has no make_group (only report/ takes new items)')
    if (parts.length > 2) return refuse('EPERM', 'a report instance is an item, not a group')
    return this.makeItem(parts[1])
  }

  private makeItem(name: string): void {
    if (this.instances.has(name)) return refuse('EEXIST', `report instance ${name} exists`)
    if (!this.provider) return refuse('ENXIO', 'no TSM provider is registered')
    if (this.instances.size >= this.maxInstances) return refuse('ENOMEM', `more than ${this.maxInstances} report instances`)
    const g = this.opts.initialGenerations ?? {write: 0n, read: 0n}
    this.instances.set(name, {
      name,
      writeGeneration: g.write,
      readGeneration: g.read,
      inblob: Buffer.alloc(0),
      privlevel: 0,
      serviceGuid: Buffer.alloc(16),
      serviceManifestVersion: 0,
      dead: false,
    })
  }

  /**
   * rmdir: an instance goes (files still open on it see ENOENT, configfs frag_dead); the default
   * group `report/` is EPERM (K-CFS CONFIGFS_USET_DEFAULT); an attribute is ENOTDIR (VFS).
   */
  rmdir(parts: readonly string[]): void {
    const node = this.lookup(parts)
    if (node.type !== 'dir') return refuse('ENOTDIR', `${parts[parts.length - 1]} is not a directory`)
    if (parts.length < 2) return refuse(parts.length === 0 ? 'EBUSY' : 'EPERM', 'default groups cannot be removed')
    const inst = this.instances.get(parts[1])!
    inst.dead = true
    this.instances.delete(parts[1])
  }

  /** open(O_CREAT) of a new name: configfs directories have no ->create (VFS: EACCES). */
  create(parts: readonly string[]): never {
    this.parentDir(parts)
    if (this.exists(parts)) return refuse('EEXIST', `${parts.join('/')} exists`)
    return refuse('EACCES', 'configfs does not create files')
  }

  /** mknod, symlink, link to a new name: no such inode operations in configfs (VFS: EPERM). */
  refuseNewName(parts: readonly string[], op: string): never {
    this.parentDir(parts)
    if (this.exists(parts)) return refuse('EEXIST', `${parts.join('/')} exists`)
    return refuse('EPERM', `configfs does not ${op}`)
  }

  /** unlink and rename of an existing name: configfs_unlink refuses non-links, no ->rename (EPERM). */
  refuseExisting(parts: readonly string[], op: string): never {
    const node = this.lookup(parts)
    if (op === 'unlink' && node.type === 'dir') return refuse('EISDIR', 'is a directory')
    return refuse('EPERM', `configfs does not ${op}`)
  }

  private parentDir(parts: readonly string[]): void {
    const parent = this.lookup(parts.slice(0, -1))
    if (parent.type !== 'dir') refuse('ENOTDIR', `${parts.slice(0, -1).join('/')} is not a directory`)
  }

  private exists(parts: readonly string[]): boolean {
    try {
      this.lookup(parts)
      return true
    } catch (error) {
      if (error instanceof TsmErrno && error.errno === 'ENOENT') return false
      throw error
    }
  }

  private visibleAttribute(inst: ReportInstance, name: string): TsmAttribute {
    if (!isAttribute(name) || !this.visibleAttributes().includes(name)) return refuse('ENOENT', `no attribute ${name} in ${inst.name}`)
    return name
  }

  // ---------------------------------------------------------------- open files

  /**
   * open: K-CFS __configfs_open_file. Writing needs a write mode bit and a store/write method,
   * reading a read bit and a show/read method; otherwise EACCES (root included: the check is on
   * the attribute, not on the caller).
   */
  open(parts: readonly string[], access: {read: boolean; write: boolean}): number {
    const node = this.lookup(parts)
    if (node.type === 'dir') return refuse('EISDIR', 'is a directory')
    const inst = this.instances.get(parts[1])!
    const attr = parts[2] as TsmAttribute
    const spec = TSM_ATTRIBUTE_SPECS[attr]
    if (access.write && spec.mode !== 0o200) refuse('EACCES', `${attr} is read-only`)
    if (access.read && spec.mode !== 0o444) refuse('EACCES', `${attr} is write-only`)
    if (this.files.size >= this.maxOpenFiles) refuse('ENFILE', `more than ${this.maxOpenFiles} open files`)
    const fh = this.allocHandle()
    this.files.set(fh, {instance: inst, attr, bin: Buffer.alloc(0), readInProgress: false, writeInProgress: false, applied: false})
    return fh
  }

  private allocHandle(): number {
    while (this.files.has(this.nextHandle) || this.nextHandle === 0) this.nextHandle = (this.nextHandle + 1) >>> 0
    const fh = this.nextHandle
    this.nextHandle = (this.nextHandle + 1) >>> 0
    return fh
  }

  private file(fh: number): OpenFile {
    return this.files.get(fh) ?? refuse('EBADF', `no open file ${fh}`)
  }

  /** read at `pos`: K-CFS configfs_read_iter (text) / configfs_bin_read_iter (binary). */
  async read(fh: number, pos: number, length: number): Promise<Buffer> {
    const f = this.file(fh)
    const data = TSM_ATTRIBUTE_SPECS[f.attr].binary ? await this.readBinary(f) : await this.readText(f)
    if (pos >= data.length) return Buffer.alloc(0)
    return data.subarray(pos, Math.min(data.length, pos + length))
  }

  /** write at `pos`: K-CFS configfs_write_iter (store per call) / configfs_bin_write_iter (accumulate). */
  async write(fh: number, pos: number, data: Buffer): Promise<number> {
    const f = this.file(fh)
    if (TSM_ATTRIBUTE_SPECS[f.attr].binary) return this.writeBinary(f, pos, data)
    if (data.length === 0) return 0
    // fill_write_buffer copies at most SIMPLE_ATTR_SIZE - 1 bytes; the store sees exactly those.
    const page = data.subarray(0, CONFIGFS_SIMPLE_ATTR_SIZE - 1)
    if (f.instance.dead) refuse('ENOENT', `report instance ${f.instance.name} was removed`)
    await this.store(f.instance, f.attr, page)
    return page.length
  }

  /**
   * The binary write reaches the attribute when the file is released (K-CFS
   * configfs_release_bin_file, its result ignored). FUSE sends RELEASE after close() has returned,
   * so a `printf … > inblob; cat outblob` client would race it: the adapter calls flush() (sent
   * before close() returns) and the pending buffer is applied there. Writes after a flush (a dup'd
   * descriptor closed early, then more writes) are applied again at the next flush or release.
   */
  async flush(fh: number): Promise<void> {
    const f = this.files.get(fh)
    if (!f || !f.writeInProgress || f.applied) return
    f.applied = true
    if (f.instance.dead) return
    await this.rwsem.run(() => {
      // tsm_report_inblob_write: an EBUSY from the generation guard is dropped, as at release.
      if (this.tryAdvanceWriteGeneration(f.instance)) f.instance.inblob = Buffer.from(f.bin)
    })
  }

  async release(fh: number): Promise<void> {
    await this.flush(fh)
    this.files.delete(fh)
  }

  /** truncate / O_TRUNC: configfs_setattr accepts a size change and ignores it. */
  truncate(parts: readonly string[]): void {
    const node = this.lookup(parts)
    if (node.type === 'dir') refuse('EISDIR', 'is a directory')
  }

  // ---------------------------------------------------------------- attribute semantics

  private async readText(f: OpenFile): Promise<Buffer> {
    if (!f.page) {
      if (f.instance.dead) refuse('ENOENT', `report instance ${f.instance.name} was removed`)
      f.page = Buffer.from(this.show(f.instance, f.attr), 'latin1')
    }
    return f.page
  }

  /** The _show methods of K-RPT. */
  private show(inst: ReportInstance, attr: TsmAttribute): string {
    const p = this.provider
    switch (attr) {
      case 'generation':
        return `${inst.writeGeneration}\n`
      case 'provider':
        return p ? `${p.name}\n` : refuse('ENXIO', 'no TSM provider is registered')
      case 'privlevel_floor':
        return p ? `${p.privlevelFloor}\n` : refuse('ENXIO', 'no TSM provider is registered')
      default:
        return refuse('EACCES', `${attr} cannot be read`)
    }
  }

  /** The _store methods of K-RPT (text attributes); each takes the rwsem for writing. */
  private async store(inst: ReportInstance, attr: TsmAttribute, page: Buffer): Promise<void> {
    const text = cString(page)
    switch (attr) {
      case 'privlevel': {
        const val = kstrtouint(text)
        return this.rwsem.run(() => {
          if (!this.provider) refuse('ENXIO', 'no TSM provider is registered')
          if (this.provider!.privlevelFloor > val || val > TSM_REPORT_PRIVLEVEL_MAX) {
            refuse('EINVAL', `privlevel ${val} is outside ${this.provider!.privlevelFloor}..${TSM_REPORT_PRIVLEVEL_MAX}`)
          }
          this.advanceOrBusy(inst)
          inst.privlevel = val
        })
      }
      case 'service_provider':
        return this.rwsem.run(() => {
          this.advanceOrBusy(inst)
          inst.serviceProvider = text.endsWith('\n') ? text.slice(0, -1) : text
        })
      case 'service_guid':
        return this.rwsem.run(() => {
          // K-RPT advances the generation before parsing: a malformed GUID still counts as a write.
          this.advanceOrBusy(inst)
          inst.serviceGuid = Buffer.alloc(16)
          inst.serviceGuid = guidParse(text)
        })
      case 'service_manifest_version': {
        const val = kstrtouint(text)
        return this.rwsem.run(() => {
          this.advanceOrBusy(inst)
          inst.serviceManifestVersion = val
        })
      }
      default:
        return refuse('EACCES', `${attr} cannot be written`)
    }
  }

  /**
   * K-RPT try_advance_write_generation: refuse (EBUSY) once 2^64 - 1 writes have happened without
   * a read, else bump. Returns false instead of throwing for the callers that ignore it.
   */
  private tryAdvanceWriteGeneration(inst: ReportInstance): boolean {
    if (inst.writeGeneration === (inst.readGeneration - 1n + GENERATION_MODULUS) % GENERATION_MODULUS) return false
    inst.writeGeneration = (inst.writeGeneration + 1n) % GENERATION_MODULUS
    return true
  }

  private advanceOrBusy(inst: ReportInstance): void {
    if (!this.tryAdvanceWriteGeneration(inst)) refuse('EBUSY', 'generation would wrap onto the last read: read outblob first')
  }

  /** K-CFS configfs_bin_write_iter. */
  private writeBinary(f: OpenFile, pos: number, data: Buffer): number {
    if (f.readInProgress) refuse('ETXTBSY', 'this file is being read: configfs does not switch read/write modes')
    // write_in_progress is set before the size check: a refused (EFBIG) write still makes the
    // release hand an empty buffer to the attribute.
    f.writeInProgress = true
    f.applied = false
    const end = pos + data.length
    if (end > f.bin.length) {
      if (end > TSM_REPORT_INBLOB_MAX) refuse('EFBIG', `inblob holds at most ${TSM_REPORT_INBLOB_MAX} bytes`)
      f.bin = Buffer.concat([f.bin, Buffer.alloc(end - f.bin.length)])
    }
    data.copy(f.bin, pos)
    return data.length
  }

  /**
   * K-CFS configfs_bin_read_iter: the first read asks the attribute for the whole blob and keeps
   * it for this open file; later reads (any offset) come from that snapshot.
   */
  private async readBinary(f: OpenFile): Promise<Buffer> {
    if (f.writeInProgress) refuse('ETXTBSY', 'this file is being written: configfs does not switch read/write modes')
    f.readInProgress = true
    if (f.page) return f.page
    if (f.instance.dead) refuse('ENOENT', `report instance ${f.instance.name} was removed`)
    const blob = await this.reportRead(f.instance, f.attr)
    if (blob.length === 0) return blob // length 0: EOF, and the next read asks again (needs_read_fill stays set)
    if (blob.length > TSM_REPORT_OUTBLOB_MAX) refuse('EFBIG', `the provider's ${f.attr} (${blob.length} bytes) exceeds ${TSM_REPORT_OUTBLOB_MAX}`)
    f.page = blob
    return blob
  }

  /**
   * K-RPT tsm_report_read: the cached report when it matches the current write generation, else
   * (under the rwsem) free the blobs, call report_new and mark it read.
   */
  private async reportRead(inst: ReportInstance, attr: TsmAttribute): Promise<Buffer> {
    if (inst.inblob.length === 0) refuse('EINVAL', 'inblob has not been written')
    if (inst.blobs && inst.readGeneration === inst.writeGeneration) return select(inst.blobs, attr)
    return this.rwsem.run(async () => {
      const p = this.provider ?? refuse('ENXIO', 'no TSM provider is registered')
      if (inst.inblob.length === 0) refuse('EINVAL', 'inblob has not been written')
      // Did another reader generate this report while we waited?
      if (inst.blobs && inst.readGeneration === inst.writeGeneration) return select(inst.blobs, attr)
      inst.blobs = undefined
      inst.blobs = await p.reportNew({
        instance: inst.name,
        generation: inst.writeGeneration,
        inblob: Buffer.from(inst.inblob),
        privlevel: inst.privlevel,
        serviceProvider: inst.serviceProvider,
        serviceGuid: Buffer.from(inst.serviceGuid),
        serviceManifestVersion: inst.serviceManifestVersion,
      })
      inst.readGeneration = inst.writeGeneration
      return select(inst.blobs, attr)
    })
  }
}

function select(blobs: TsmReportBlobs, attr: TsmAttribute): Buffer {
  if (attr === 'outblob') return blobs.outblob
  if (attr === 'auxblob') return blobs.auxblob ?? Buffer.alloc(0)
  return blobs.manifestblob ?? Buffer.alloc(0)
}

/** Split a mount-relative path ('/report/x/inblob') into its parts. */
export function splitTsmPath(path: string): string[] {
  return path.split('/').filter((p) => p.length > 0)
}
