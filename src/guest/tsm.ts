/**
 * Real hardware: a quote through Linux configfs-tsm (/sys/kernel/config/tsm/report, kernel 6.7+).
 * One report instance per request (mkdir), the generation counter read before writing inblob and
 * checked after reading outblob (a concurrent writer to the same instance would show up as a jump
 * of more than one), instance removed afterwards. The filesystem is injectable so tests can run
 * against a fake configfs.
 */
import {mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {REPORT_DATA_SIZE} from '../abi/tdreport.js'
import {InputError, RefusedError} from '../errors.js'

export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report'
/** Provider name the TDX guest driver registers. */
export const TSM_PROVIDER_TDX = 'tdx_guest'

export interface TsmFs {
  isDir(path: string): boolean
  mkdir(path: string): void
  rmdir(path: string): void
  read(path: string): Buffer
  write(path: string, data: Uint8Array): void
}

export const realTsmFs: TsmFs = {
  isDir: (p) => {
    try {
      return statSync(p).isDirectory()
    } catch {
      return false
    }
  },
  mkdir: (p) => mkdirSync(p),
  rmdir: (p) => rmdirSync(p),
  read: (p) => readFileSync(p),
  write: (p, d) => writeFileSync(p, d),
}

export interface TsmQuoteResult {
  quote: Buffer
  provider: string
  generation: number
  root: string
}

/** configfs-tsm root: TDXKIT_TSM_ROOT (tests, unusual mounts) or the kernel's path. */
export const tsmRoot = (env: NodeJS.ProcessEnv = process.env): string => env.TDXKIT_TSM_ROOT || TSM_REPORT_ROOT

function errno(error: unknown): string {
  return (error as NodeJS.ErrnoException)?.code ?? String((error as Error)?.message ?? error)
}

export function generateQuoteTsm(reportData: Uint8Array, opts: {root?: string; fs?: TsmFs} = {}): TsmQuoteResult {
  if (reportData.length !== REPORT_DATA_SIZE) throw new InputError('BAD_LENGTH', `configfs-tsm inblob must be ${REPORT_DATA_SIZE} bytes for TDX, got ${reportData.length}`)
  const root = opts.root ?? tsmRoot()
  const fs = opts.fs ?? realTsmFs
  if (!fs.isDir(root)) {
    throw new InputError('TSM_UNAVAILABLE', `configfs-tsm is not available at ${root} (not a TDX guest, configfs not mounted, or no TSM provider loaded); use --provider sim`)
  }
  const entry = join(root, `tdxkit-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    fs.mkdir(entry)
  } catch (error) {
    const code = errno(error)
    const why = code === 'ENXIO' ? 'no TSM provider is registered' : code === 'EACCES' || code === 'EPERM' ? 'permission denied (run as root)' : code
    throw new InputError('TSM_UNAVAILABLE', `configfs-tsm: cannot create a report instance under ${root}: ${why}`)
  }
  try {
    const attr = (name: string) => join(entry, name)
    const read = (name: string): Buffer => {
      try {
        return fs.read(attr(name))
      } catch (error) {
        throw new RefusedError('TSM_FAILED', `configfs-tsm: reading ${name} failed: ${errno(error)}`)
      }
    }
    const provider = read('provider').toString('utf8').trim()
    const before = Number.parseInt(read('generation').toString('utf8').trim(), 10)
    try {
      fs.write(attr('inblob'), reportData)
    } catch (error) {
      throw new RefusedError('TSM_FAILED', `configfs-tsm: writing inblob failed: ${errno(error)}`)
    }
    const quote = read('outblob')
    const after = Number.parseInt(read('generation').toString('utf8').trim(), 10)
    if (!Number.isInteger(before) || !Number.isInteger(after) || after !== before + 1) {
      throw new RefusedError('TSM_RACE', `configfs-tsm: generation went from ${before} to ${after} while generating (another writer used the instance); retry`)
    }
    if (quote.length === 0) throw new RefusedError('TSM_FAILED', 'configfs-tsm: provider returned an empty outblob')
    return {quote, provider, generation: after, root}
  } finally {
    try {
      fs.rmdir(entry)
    } catch {}
  }
}
