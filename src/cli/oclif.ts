/**
 * The one place the CLI takes oclif from. The build bundles @oclif/core into
 * dist/vendor/oclif-core.cjs (scripts/bundle.mjs), which loads in about half the time of the
 * package's ~150 separate files; from the TypeScript sources (bin/dev.js, tests) the package itself
 * is used. bin/run.js and every command import oclif from here (the commands are bundled too, each
 * with its own copy of this module, at different depths under dist/, so the bundle is found from
 * the package root), and require() loads the bundle once per process: one process never mixes two
 * copies.
 */
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type * as Oclif from '@oclif/core'

const require = createRequire(import.meta.url)
const fromSources = import.meta.url.endsWith('.ts')

function load(): typeof Oclif {
  if (fromSources) return require('@oclif/core') as typeof Oclif
  try {
    return require(join(dirname(require.resolve('tdxkit/package.json')), 'dist', 'vendor', 'oclif-core.cjs')) as typeof Oclif
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e
    return require('@oclif/core') as typeof Oclif
  }
}

export const {Args, Command, Flags, execute} = load()
export type {Interfaces} from '@oclif/core'
