/**
 * The one place the CLI takes oclif from. The build bundles @oclif/core into
 * dist/vendor/oclif-core.cjs (scripts/bundle.mjs), which loads in about half the time of the
 * package's ~150 separate files, and stores V8's code cache for it beside it (oclif-core.cache):
 * compiling and first running the bundle were ~40 % of `tdxkit --help`'s time over bare node. From
 * the TypeScript sources (bin/dev.js, tests) the package itself is used. bin/run.js and every
 * command import oclif from here (the commands are bundled too, each with its own copy of this
 * module, at different depths under dist/, so the bundle is found from the package root), and the
 * bundle is loaded once per process through the CommonJS cache: one process never mixes two copies.
 */
import Module, {createRequire} from 'node:module'
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Script} from 'node:vm'
import type * as Oclif from '@oclif/core'

const require = createRequire(import.meta.url)
const fromSources = import.meta.url.endsWith('.ts')

/**
 * A CommonJS file compiled with V8's code cache when one is present (a cache V8 rejects, e.g. made
 * by another Node version, only costs the compile it would have saved), registered in
 * require.cache as require() would register it. vm.Script cannot run import(): the build turns the
 * oclif bundle's import() calls (oclif loading command modules by file URL) into calls to
 * globalThis.__tdxkitDynamicImport (importHook).
 */
function requireWithCodeCache(file: string, cacheFile: string): unknown {
  const hit = require.cache[file]
  if (hit) return hit.exports
  const source = readFileSync(file, 'utf8')
  let cachedData: Buffer | undefined
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    // no cache: compiled from source
  }
  const script = new Script(Module.wrap(source), {filename: file, cachedData})
  const mod = new Module(file)
  mod.filename = file
  require.cache[file] = mod
  try {
    ;(script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file))
  } catch (e) {
    delete require.cache[file]
    throw e
  }
  mod.loaded = true
  return mod.exports
}

/**
 * oclif's import() of a module by file URL: a command under dist/commands is taken from its
 * CommonJS twin under dist/cli-cjs/commands (same bundle, compiled with its code cache; see
 * scripts/bundle.mjs); anything else (plugins, a command without a twin) is imported.
 */
function importHook(dist: string): (specifier: string) => Promise<unknown> {
  const commands = join(dist, 'commands') + sep
  return async (specifier) => {
    const file = specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier
    if (file.startsWith(commands) && file.endsWith('.js')) {
      const twin = join(dist, 'cli-cjs', 'commands', file.slice(commands.length, -'.js'.length))
      if (existsSync(`${twin}.cjs`)) return requireWithCodeCache(`${twin}.cjs`, `${twin}.cache`)
    }
    return import(specifier)
  }
}

function load(): typeof Oclif {
  if (fromSources) return require('@oclif/core') as typeof Oclif
  const dist = join(dirname(require.resolve('tdxkit/package.json')), 'dist')
  ;(globalThis as {__tdxkitDynamicImport?: (specifier: string) => Promise<unknown>}).__tdxkitDynamicImport ??= importHook(dist)
  const vendor = join(dist, 'vendor')
  try {
    return requireWithCodeCache(join(vendor, 'oclif-core.cjs'), join(vendor, 'oclif-core.cache')) as typeof Oclif
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    return require('@oclif/core') as typeof Oclif
  }
}

export const {Args, Command, Flags, execute} = load()
export type {Interfaces} from '@oclif/core'
