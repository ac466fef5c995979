/**
 * Build step: bundle @oclif/core into one CommonJS file, dist/vendor/oclif-core.cjs, which
 * src/cli/oclif.ts loads in place of the package. @oclif/core is ~150 files across a dozen
 * dependencies; resolving and compiling them one by one was about half of every command's start-up
 * over bare node. One pre-linked file loads in roughly half the time (see README, "Start-up").
 * Development-only paths (TypeScript loaders) stay external: they are only used by bin/dev.js, which
 * runs the sources against the real package.
 */
import {build} from 'esbuild'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createRequire} from 'node:module'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)

await build({
  entryPoints: [require.resolve('@oclif/core')],
  outfile: join(root, 'dist/vendor/oclif-core.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['typescript', 'ts-node', 'tsx', 'tsx/*'],
  logLevel: 'warning',
  legalComments: 'inline',
})
