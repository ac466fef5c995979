/**
 * The one place the CLI takes oclif from. The build bundles @oclif/core into
 * dist/vendor/oclif-core.cjs (scripts/bundle.mjs), which loads in about half the time of the
 * package's ~150 separate files; from the TypeScript sources (bin/dev.js, tests) there is no bundle
 * and the package itself is used. Every command and bin/run.js import oclif from here, so one
 * process never mixes the two copies.
 */
import {createRequire} from 'node:module'
import type * as Oclif from '@oclif/core'

const require = createRequire(import.meta.url)

function load(): typeof Oclif {
  try {
    // dist/src/cli/oclif.js → dist/vendor/oclif-core.cjs
    return require('../../vendor/oclif-core.cjs') as typeof Oclif
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e
    return require('@oclif/core') as typeof Oclif
  }
}

export const {Args, Command, Flags, execute} = load()
export type {Interfaces} from '@oclif/core'
