/**
 * A configfs-tsm client (`quote generate --provider tsm`): a quote from Linux's
 * /sys/kernel/config/tsm/report on a TDX guest, or from a `tsm mount`. It follows the ABI
 * document (Documentation/ABI/testing/configfs-tsm-report): one report instance per request
 * (mkdir), `provider` checked, `generation` read before the first write and compared after
 * reading outblob (and auxblob, when the provider shows it) against the number of writes made;
 * a mismatch means another writer used the instance and the request is repeated; the instance is
 * removed afterwards. Every read is bounded (TSM_REPORT_OUTBLOB_MAX). The file system is
 * injectable so tests can run the client against the pure report core.
 */
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {open as openFile, mkdir, rmdir, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {REPORT_DATA_SIZE} from '../abi/tdreport.js'
import {InputError, RefusedError} from '../errors.js'
import {CONFIGFS_SIMPLE_ATTR_SIZE, TSM_REPORT_OUTBLOB_MAX, TSM_REPORT_PRIVLEVEL_MAX} from './tsm-report.js'
import {TSM_PROVIDER_TDX} from './tsm-tdx.js'

export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report'
/** Requests repeated after a generation mismatch before giving up. */
export const TSM_RACE_ATTEMPTS = 3
/** Upper bound of the random pause before a repeated request, times the attempt number. */
const RACE_BACKOFF_MS = 5
/** A text attribute (generation, provider, privlevel_floor) is at most one configfs page. */
const TEXT_ATTR_MAX = CONFIGFS_SIMPLE_ATTR_SIZE
/** Read size per call while reading a blob. */
const READ_CHUNK = 64 * 1024

/** The file operations the client needs (async, so it can also talk to a mount in this process). */
export interface TsmFs {
  /** 'dir', 'file', or undefined when absent. */
  kind(path: string): Promise<'dir' | 'file' | undefined>
  mkdir(path: string): Promise<void>
  rmdir(path: string): Promise<void>
  /** Read the whole file; refuse (EFBIG-like) past `max` bytes. */
  read(path: string, max: number): Promise<Buffer>
  /** One open, one write of all of `data`, close. */
  write(path: string, data: Uint8Array): Promise<void>
}

async function boundedRead(path: string, max: number): Promise<Buffer> {
  const fh = await openFile(path, 'r')
  try {
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const buf = Buffer.alloc(Math.min(READ_CHUNK, max + 1 - total))
      const {bytesRead} = await fh.read(buf, 0, buf.length, null)
      if (bytesRead === 0) break
      chunks.push(buf.subarray(0, bytesRead))
      total += bytesRead
      if (total > max) throw Object.assign(new Error(`${path} is larger than ${max} bytes`), {code: 'EFBIG'})
    }
    return Buffer.concat(chunks)
  } finally {
    await fh.close()
  }
}

export const nodeTsmFs: TsmFs = {
  kind: async (p) => {
    try {
      return (await stat(p)).isDirectory() ? 'dir' : 'file'
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  },
  mkdir: (p) => mkdir(p),
  rmdir: (p) => rmdir(p),
  read: boundedRead,
  write: (p, d) => writeFile(p, d),
}

export interface TsmClientOptions {
  /** The report directory (default: TDXKIT_TSM_ROOT, else the kernel's path). */
  root?: string
  fs?: TsmFs
  /** Write this privilege level first (only where the provider shows `privlevel`). */
  privlevel?: number
  /** Requests to try before a generation race is an error (default 3). */
  attempts?: number
}

export interface TsmQuoteResult {
  quote: Buffer
  /** The provider's auxblob, when it shows one. */
  auxblob?: Buffer
  provider: string
  generation: bigint
  attempts: number
  root: string
  privlevel?: number
}

/** configfs-tsm report root: TDXKIT_TSM_ROOT (a tsm mount's DIR/report, tests) or the kernel's path. */
export const tsmRoot = (env: NodeJS.ProcessEnv = process.env): string => env.TDXKIT_TSM_ROOT || TSM_REPORT_ROOT

const errnoOf = (error: unknown): string => (error as NodeJS.ErrnoException)?.code ?? String((error as Error)?.message ?? error)

/** What an errno from the report interface means, in a few words. */
function explain(code: string): string {
  switch (code) {
    case 'ENOTCONN':
      return 'ENOTCONN: the server behind this mount is gone (remove a stale tsm mount with tdxkit tsm unmount)'
    case 'ENXIO':
      return 'ENXIO: no TSM provider is registered'
    case 'EACCES':
    case 'EPERM':
      return `${code}: permission denied (run as root)`
    case 'EINVAL':
      return 'EINVAL: the provider rejected the request'
    case 'EBUSY':
      return 'EBUSY: a previous quote request is still in flight'
    case 'EIO':
      return 'EIO: the quote request failed (GetQuote error)'
    case 'ETIMEDOUT':
      return 'ETIMEDOUT: the quote service did not answer in time'
    default:
      return code
  }
}

/** One quote through configfs-tsm for exactly 64 bytes of REPORTDATA. */
export async function generateQuoteTsm(reportData: Uint8Array, opts: TsmClientOptions = {}): Promise<TsmQuoteResult> {
  if (reportData.length !== REPORT_DATA_SIZE) throw new InputError('BAD_LENGTH', `configfs-tsm inblob must be ${REPORT_DATA_SIZE} bytes for TDX, got ${reportData.length}`)
  const root = opts.root ?? tsmRoot()
  const fs = opts.fs ?? nodeTsmFs
  if ((await kindOrExplain(fs, root)) !== 'dir') {
    throw new InputError('TSM_UNAVAILABLE', `configfs-tsm is not available at ${root} (not a TDX guest, configfs not mounted, or no TSM provider loaded); use --provider sim`)
  }
  const entry = join(root, `tdxkit-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    await fs.mkdir(entry)
  } catch (error) {
    throw new InputError('TSM_UNAVAILABLE', `configfs-tsm: cannot create a report instance under ${root}: ${explain(errnoOf(error))}`)
  }
  try {
    const instance = new TsmInstance(fs, entry)
    const provider = await instance.checkProvider()
    const privlevel = await instance.checkPrivlevel(opts.privlevel, provider)
    const hasAux = (await instance.has('auxblob')) === 'file'
    const r = await requestWithRetry(instance, reportData, privlevel, hasAux, opts.attempts ?? TSM_RACE_ATTEMPTS)
    return {...r, provider, root, ...(privlevel !== undefined ? {privlevel} : {})}
  } finally {
    await fs.rmdir(entry).catch(() => {})
  }
}

async function kindOrExplain(fs: TsmFs, root: string): Promise<'dir' | 'file' | undefined> {
  try {
    return await fs.kind(root)
  } catch (error) {
    throw new InputError('TSM_UNAVAILABLE', `configfs-tsm: cannot use ${root}: ${explain(errnoOf(error))}`)
  }
}

/** The writes, the blobs, and the generation check; repeated while another writer interferes. */
async function requestWithRetry(inst: TsmInstance, reportData: Uint8Array, privlevel: number | undefined, hasAux: boolean, attempts: number) {
  let seen = ''
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const before = await inst.generation()
    let writes = 0
    if (privlevel !== undefined) {
      await inst.write('privlevel', Buffer.from(`${privlevel}\n`))
      writes++
    }
    await inst.write('inblob', reportData)
    writes++
    const quote = await inst.read('outblob', TSM_REPORT_OUTBLOB_MAX)
    const auxblob = hasAux ? await inst.read('auxblob', TSM_REPORT_OUTBLOB_MAX) : undefined
    const after = await inst.generation()
    if (after === before + BigInt(writes)) {
      if (quote.length === 0) throw new RefusedError('TSM_FAILED', 'configfs-tsm: provider returned an empty outblob')
      return {quote, ...(auxblob ? {auxblob} : {}), generation: after, attempts: attempt}
    }
    seen += `${seen ? ', ' : ''}${before}→${after} for ${writes} write${writes > 1 ? 's' : ''}`
    // A random pause, growing with the attempts, so two writers on one instance stop colliding.
    if (attempt < attempts) await new Promise((r) => setTimeout(r, Math.random() * RACE_BACKOFF_MS * attempt))
  }
  throw new RefusedError('TSM_RACE', `configfs-tsm: another writer kept using the report instance (generation ${seen}); gave up after ${attempts} attempts`)
}

/** One report instance directory and its attributes. */
class TsmInstance {
  constructor(
    private readonly fs: TsmFs,
    private readonly dir: string,
  ) {}

  has(attr: string): Promise<'dir' | 'file' | undefined> {
    return this.fs.kind(join(this.dir, attr))
  }

  async read(attr: string, max: number): Promise<Buffer> {
    try {
      return await this.fs.read(join(this.dir, attr), max)
    } catch (error) {
      throw new RefusedError('TSM_FAILED', `configfs-tsm: reading ${attr} failed: ${explain(errnoOf(error))}`)
    }
  }

  async write(attr: string, data: Uint8Array): Promise<void> {
    try {
      await this.fs.write(join(this.dir, attr), data)
    } catch (error) {
      const code = errnoOf(error)
      if (attr === 'privlevel' && code === 'EINVAL') throw new InputError('BAD_PRIVLEVEL', `configfs-tsm refused privlevel ${Buffer.from(data).toString('latin1').trim()} (EINVAL: outside privlevel_floor..${TSM_REPORT_PRIVLEVEL_MAX})`)
      throw new RefusedError('TSM_FAILED', `configfs-tsm: writing ${attr} failed: ${explain(code)}`)
    }
  }

  async generation(): Promise<bigint> {
    const text = (await this.read('generation', TEXT_ATTR_MAX)).toString('latin1').trim()
    if (!/^\d+$/.test(text)) throw new RefusedError('TSM_FAILED', `configfs-tsm: generation is not a number: ${JSON.stringify(text.slice(0, 40))}`)
    return BigInt(text)
  }

  /** `provider` names the outblob format: tdxkit reads TDX quotes (tdx_guest) only. */
  async checkProvider(): Promise<string> {
    const provider = (await this.read('provider', TEXT_ATTR_MAX)).toString('latin1').trim()
    if (provider !== TSM_PROVIDER_TDX) {
      throw new InputError('TSM_PROVIDER', `configfs-tsm provider is ${JSON.stringify(provider)}, not ${TSM_PROVIDER_TDX}: its outblob is not a TDX quote`)
    }
    return provider
  }

  /** A privilege level only where the provider shows privlevel; checked against privlevel_floor. */
  async checkPrivlevel(want: number | undefined, provider: string): Promise<number | undefined> {
    if (want === undefined) return undefined
    if ((await this.has('privlevel')) !== 'file') {
      throw new InputError('BAD_FLAGS', `--privlevel does not apply: provider ${provider} has no privlevel attribute`)
    }
    let floor = 0
    if ((await this.has('privlevel_floor')) === 'file') floor = Number((await this.read('privlevel_floor', TEXT_ATTR_MAX)).toString('latin1').trim())
    if (!Number.isInteger(want) || want < floor || want > TSM_REPORT_PRIVLEVEL_MAX) {
      throw new InputError('BAD_PRIVLEVEL', `--privlevel must be ${floor}..${TSM_REPORT_PRIVLEVEL_MAX} here (privlevel_floor ${floor}), got ${want}`)
    }
    return want
  }
}

/** printf's octal escapes for arbitrary bytes (portable to dash and busybox sh). */
export const printfOctal = (data: Uint8Array): string => [...data].map((b) => '\\' + b.toString(8).padStart(3, '0')).join('')

/**
 * The README's shell recipe as a child process (sh, mkdir, printf, cat, rmdir only): the quote a
 * plain shell script gets from `root` for `reportData`. Asynchronous on purpose: the mount may be
 * served by this very process. Bounded in time and output.
 */
export function shellTsmQuote(root: string, reportData: Uint8Array, timeoutMs = 30_000): Promise<Buffer> {
  const script = `set -e; d="$1/$2"; mkdir "$d"; printf '${printfOctal(reportData)}' > "$d/inblob"; cat "$d/outblob"; rmdir "$d"`
  const child = spawn('sh', ['-c', script, 'sh', root, `sh-${process.pid}-${randomBytes(4).toString('hex')}`], {stdio: ['ignore', 'pipe', 'pipe']})
  return new Promise<Buffer>((resolvePromise, reject) => {
    const out: Buffer[] = []
    let size = 0
    let err = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (d: Buffer) => {
      size += d.length
      if (size <= TSM_REPORT_OUTBLOB_MAX) out.push(d)
      else child.kill('SIGKILL')
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString().slice(0, 1000)))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolvePromise(Buffer.concat(out))
      else reject(new RefusedError('TSM_FAILED', `shell client failed (${signal ?? `exit ${code}`}): ${err.trim().split('\n')[0] ?? ''}`))
    })
  })
}
