/** Shared pieces of the configfs-tsm tests: the report core as a client file system, quote providers, FUSE gating. */
import type {Test} from 'uvu'
import {fuseAvailability} from '../../src/app/tsm-mount-sys.js'
import {splitTsmPath, TsmErrno, type TsmReportTree} from '../../src/app/tsm-report.js'
import type {TsmFs} from '../../src/app/tsm-client.js'
import {getTdReport} from '../../src/guest/tdx-guest.js'
import {quoteTdReport} from '../../src/host/qe.js'
import {createPlatformDoc, Platform} from '../../src/module/platform.js'

/** An errno-carrying error, as node:fs throws them. */
const asFsError = (error: unknown): unknown =>
  error instanceof TsmErrno ? Object.assign(new Error(error.message), {code: error.errno}) : error

/**
 * The client's file operations done on the report core the way the kernel would drive configfs
 * for them: open, write/read, flush (close), release. `prefix` is where the tree is "mounted".
 */
export function treeFs(tree: TsmReportTree, prefix: string, hooks: {afterRead?: (path: string) => Promise<void> | void} = {}): TsmFs {
  const parts = (p: string) => {
    if (!p.startsWith(prefix)) throw Object.assign(new Error(`outside the mount: ${p}`), {code: 'ENOENT'})
    return splitTsmPath(p.slice(prefix.length))
  }
  const wrap = async <T>(fn: () => Promise<T> | T): Promise<T> => {
    try {
      return await fn()
    } catch (error) {
      throw asFsError(error)
    }
  }
  return {
    kind: (p) =>
      wrap(() => {
        try {
          return tree.lookup(parts(p)).type
        } catch (error) {
          if (error instanceof TsmErrno && error.errno === 'ENOENT') return undefined
          throw error
        }
      }),
    mkdir: (p) => wrap(() => tree.mkdir(parts(p))),
    rmdir: (p) => wrap(() => tree.rmdir(parts(p))),
    read: (p, max) =>
      wrap(async () => {
        const fh = tree.open(parts(p), {read: true, write: false})
        try {
          const chunks: Buffer[] = []
          for (let pos = 0; ; ) {
            const b = await tree.read(fh, pos, 4096)
            if (b.length === 0) break
            chunks.push(b)
            pos += b.length
            if (pos > max) throw new TsmErrno('EFBIG', 'too large')
          }
          await hooks.afterRead?.(p)
          return Buffer.concat(chunks)
        } finally {
          await tree.release(fh)
        }
      }),
    write: (p, d) =>
      wrap(async () => {
        const fh = tree.open(parts(p), {read: false, write: true})
        try {
          tree.truncate(parts(p))
          await tree.write(fh, 0, Buffer.from(d))
          await tree.flush(fh)
        } finally {
          await tree.release(fh)
        }
      }),
  }
}

/** A platform and a quote function over it (TDG.MR.REPORT + the QE, no GHCI: fast, real quotes). */
export function platformQuotes(seed = 'tsm-tests'): {platform: Platform; quote: (reportData: Buffer) => Promise<Buffer>} {
  const platform = new Platform(createPlatformDoc({profile: 'tdx-1.5', seed}))
  return {platform, quote: async (reportData) => quoteTdReport(platform.doc, getTdReport(platform, reportData))}
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TestFn = Test<any>

/** Register a test that needs FUSE: runs, skips with the reason, or fails under CI=true. */
export function fuseTest(test: TestFn, name: string, fn: () => void | Promise<void>): void {
  const a = fuseAvailability()
  if (a.available) test(name, fn)
  else if (process.env.CI === 'true' || process.env.CI === '1') {
    test(name, () => {
      throw new Error(`FUSE is required under CI: ${a.reason}`)
    })
  } else {
    console.log(`  skip: ${name} (${a.reason})`)
    test.skip(name, fn)
  }
}
