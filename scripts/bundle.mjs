/**
 * Build step: pre-linked bundles, each loading as one file instead of a module graph (Node 20 spends
 * about a millisecond per ESM module on resolution and loading, before any code runs):
 * - dist/vendor/oclif-core.cjs: @oclif/core (~150 files across a dozen dependencies), which
 *   src/cli/oclif.ts loads in place of the package. Development-only paths (TypeScript loaders)
 *   stay external: they are only used by bin/dev.js, which runs the sources against the package.
 * - dist/commands/**: every command compiled by tsc is replaced by a bundle of itself and the src/
 *   modules it imports (packages stay external), so a command loads as one module instead of
 *   30-80; and the batch verification worker dist/src/app/verify-worker.js is replaced by a bundle
 *   of itself (a worker is ready to verify sooner).
 * - dist/verify.js and dist/appraise.js: the library's relying-party entries (`tdxkit/verify`,
 *   `tdxkit/appraise` in package.json "exports"; the root entry's `verify` and `appraise` areas
 *   load the same files). dist/src/errors.js stays a separate module that every entry shares, so a
 *   TdxkitError is one class whichever entry threw it.
 * See README, "Start-up" and "Use as a library".
 */
import {build} from 'esbuild'
import {readdirSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createRequire} from 'node:module'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const dist = join(root, 'dist')

await build({
  entryPoints: [require.resolve('@oclif/core')],
  outfile: join(dist, 'vendor/oclif-core.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['typescript', 'ts-node', 'tsx', 'tsx/*'],
  logLevel: 'warning',
  legalComments: 'inline',
})

/** The compiled module every library entry shares instead of bundling its own copy. */
const SHARED = [join(dist, 'src/errors.js')]
const shareErrors = {
  name: 'shared-modules',
  setup(b) {
    b.onResolve({filter: /^\./}, (args) => {
      const abs = resolve(args.resolveDir, args.path)
      return SHARED.includes(abs) ? {path: './' + abs.slice(dist.length + 1), external: true} : undefined
    })
  },
}

for (const entry of ['verify', 'appraise']) {
  await build({
    entryPoints: [join(dist, `src/${entry}/index.js`)],
    outfile: join(dist, `${entry}.js`),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [shareErrors],
    logLevel: 'warning',
  })
}

/** Every .js file under `dir`. */
const jsFiles = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? jsFiles(join(dir, f)) : f.endsWith('.js') ? [join(dir, f)] : []))

const commands = join(dist, 'commands')
const commandFiles = jsFiles(commands)
const commandBuild = {bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning'}
await build({
  ...commandBuild,
  entryPoints: commandFiles.map((f) => ({in: f, out: relative(commands, f).replace(/\.js$/, '')})),
  outdir: commands,
  allowOverwrite: true,
})
// The batch verification worker, bundled in place (src/app/verify-batch.ts starts it from there).
const worker = join(dist, 'src/app/verify-worker.js')
await build({...commandBuild, entryPoints: [worker], outfile: worker, allowOverwrite: true})
