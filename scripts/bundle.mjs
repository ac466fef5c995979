/**
 * Build step: pre-linked bundles, each loading as one file instead of a module graph (Node 20 spends
 * about a millisecond per ESM module on resolution and loading, before any code runs):
 * - dist/vendor/oclif-core.cjs: @oclif/core (~150 files across a dozen dependencies), which
 *   src/cli/oclif.ts loads in place of the package, with V8's code cache for it in
 *   oclif-core.cache. Development-only paths (TypeScript loaders) stay external: they are only
 *   used by bin/dev.js, which runs the sources against the package.
 * - dist/commands/**: every command compiled by tsc is replaced by a bundle of itself and the src/
 *   modules it imports (packages stay external), so a command loads as one module instead of
 *   30-80, plus a CommonJS twin with V8's code cache under dist/cli-cjs/ (see below); and the
 *   batch verification worker dist/src/app/verify-worker.js is replaced by a bundle of itself (a
 *   worker is ready to verify sooner).
 * - dist/verify.js and dist/appraise.js: the library's relying-party entries (`tdxkit/verify`,
 *   `tdxkit/appraise` in package.json "exports"; the root entry's `verify` and `appraise` areas
 *   load the same files). dist/src/errors.js stays a separate module that every entry shares, so a
 *   TdxkitError is one class whichever entry threw it.
 * See README, "Start-up" and "Use as a library".
 */
import {build} from 'esbuild'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import Module, {createRequire} from 'node:module'
import {Script} from 'node:vm'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const dist = join(root, 'dist')

/** Whitespace and syntax minified (identifiers kept: stack traces and class names stay readable): less to read and parse at start-up. */
const minify = {minifyWhitespace: true, minifySyntax: true}

/**
 * Packages @oclif/core requires at load time but uses only off the path of a command run (command
 * discovery without a manifest, plugin patterns, help templates and layout, spinners, error
 * pretty-printing). In the bundle each is a stand-in that loads the package on first use.
 */
const LAZY_IN_OCLIF = ['tinyglobby', 'minimatch', 'ejs', 'cli-spinners', 'wrap-ansi', 'indent-string', 'clean-stack', 'string-width', 'widest-line']
const oclifDir = dirname(require.resolve('@oclif/core/package.json'))
const lazyPackages = {
  name: 'lazy-packages',
  setup(b) {
    b.onResolve({filter: new RegExp(`^(${LAZY_IN_OCLIF.join('|')})$`)}, (args) =>
      args.importer.startsWith(oclifDir) ? {path: args.path, namespace: 'lazy', pluginData: {resolveDir: args.resolveDir}} : undefined,
    )
    b.onLoad({filter: /.*/, namespace: 'lazy'}, (args) => {
      const real = createRequire(join(args.pluginData.resolveDir, 'x.js')).resolve(args.path)
      // What the package says of itself before it is loaded: TypeScript's __importDefault asks.
      const esModule = JSON.stringify(createRequire(real)(real).__esModule ?? false)
      return {
        resolveDir: args.pluginData.resolveDir,
        loader: 'js',
        contents: `let real
const load = () => (real ??= require(${JSON.stringify(real)}))
module.exports = new Proxy(function () {}, {
  get: (_t, p) => (p === '__esModule' ? ${esModule} : load()[p]),
  has: (_t, p) => p in load(),
  apply: (_t, self, args) => Reflect.apply(load(), self, args),
  construct: (_t, args) => Reflect.construct(load(), args),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_t, p) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), p)
    return d && {...d, configurable: true}
  },
})
`,
      }
    })
  },
}

const oclifBundle = join(dist, 'vendor/oclif-core.cjs')
await build({
  entryPoints: [require.resolve('@oclif/core')],
  outfile: oclifBundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['typescript', 'ts-node', 'tsx', 'tsx/*'],
  plugins: [lazyPackages],
  ...minify,
  logLevel: 'warning',
  legalComments: 'inline',
})
// vm.Script, which compiles the bundle with its code cache (src/cli/oclif.ts), cannot run import()
// without an experimental flag. The bundle's import() calls left after bundling are oclif's
// loading of command modules by file URL (and of configuration files): each becomes a call to the
// import() that src/cli/oclif.ts provides (an ES module's own).
const IMPORT_HOOK = '__tdxkitDynamicImport'
const bundled = readFileSync(oclifBundle, 'utf8')
const hooked = bundled.replaceAll('await import(', `await ${IMPORT_HOOK}(`)
if (hooked === bundled || /[^\w$.]import\(\s*[^"'`\s)]/.test(hooked)) throw new Error('oclif bundle: the dynamic import() calls are not the ones src/cli/oclif.ts provides for')
writeFileSync(oclifBundle, hooked)
// The cache is made after loading this package's configuration and parsing a command line with the
// bundle, so that the functions every start-up runs are compiled in it too (V8 compiles lazily:
// caching only what loading the module compiles left a first Config.load 10× its second).
await writeCodeCache(oclifBundle, join(dist, 'vendor/oclif-core.cache'), async (oclif) => {
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const config = await oclif.Config.load({root, pjson: {...pjson, oclif: {...pjson.oclif, plugins: []}}})
  config.findCommand('quote:verify')
  await oclif.Parser.parse(['a', '--f', 'x', '--b'], {flags: {f: oclif.Flags.string(), b: oclif.Flags.boolean(), j: oclif.Flags.integer()}, args: {a: oclif.Args.string()}, strict: false})
})

/**
 * V8's code cache for a CommonJS file (src/cli/oclif.ts loads the file with it), made after
 * evaluating the module once here (and running `exercise` on its exports), so that the functions
 * that run then are compiled in it.
 */
async function writeCodeCache(file, cacheFile, exercise = async () => {}) {
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), {filename: file})
  const mod = {exports: {}}
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file))
  await exercise(mod.exports)
  writeFileSync(cacheFile, script.createCachedData())
}

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
const commandBuild = {bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', ...minify, logLevel: 'warning'}
await build({
  ...commandBuild,
  entryPoints: commandFiles.map((f) => ({in: f, out: relative(commands, f).replace(/\.js$/, '')})),
  outdir: commands,
  allowOverwrite: true,
})
// CommonJS twins of the command bundles, each with V8's code cache, under dist/cli-cjs/commands/
// (outside dist/commands, where oclif would take them for commands): src/cli/oclif.ts loads a
// command from its twin when oclif imports it, since Node 20 keeps no code cache for ES modules
// and compiling a command's ES module was ~10 % of `quote verify`'s start-up. import.meta.url
// becomes the twin's own file URL (the worker and the oclif bundle are found from the package root).
const twins = join(dist, 'cli-cjs', 'commands')
await build({
  ...commandBuild,
  format: 'cjs',
  entryPoints: commandFiles.map((f) => ({in: f, out: relative(commands, f).replace(/\.js$/, '')})),
  outdir: twins,
  outExtension: {'.js': '.cjs'},
  define: {'import.meta.url': '__tdxkit_import_meta_url', 'import.meta.resolve': '__tdxkit_import_meta_resolve'},
  banner: {js: "var __tdxkit_import_meta_url = require('node:url').pathToFileURL(__filename).href, __tdxkit_import_meta_resolve = undefined;"},
  logLevel: 'error',
})
/**
 * Command lines run once here, output discarded, before their command's code cache is written, so
 * that the code a typical run executes is compiled in the cache too (the repository's own
 * simulated vectors, when the checkout has them: a line naming a missing vector is skipped; a
 * temporary state directory).
 */
const EXERCISE = {
  'quote/verify': ['testvectors/tdx-1.0/quote-v4-dma-pool.bin', '--root-ca', 'testvectors/tdx-1.0/sim-root-ca.der', '--collateral', 'testvectors/tdx-1.0/collateral.json', '--at', '2025-01-01T00:00:00Z'],
  'report/index': ['--report-data', '00'],
}
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const oclifConfig = await createRequire(oclifBundle)(oclifBundle).Config.load({root, pjson: {...pjson, oclif: {...pjson.oclif, plugins: []}}})
for (const f of commandFiles) {
  const id = relative(commands, f).replace(/\.js$/, '')
  const twin = join(twins, `${id}.cjs`)
  const args = EXERCISE[id]?.map((a) => (a.startsWith('testvectors/') ? join(root, a) : a))
  const exercise = args && EXERCISE[id].every((a) => !a.startsWith('testvectors/') || existsSync(join(root, a))) ? args : undefined
  await writeCodeCache(twin, twin.replace(/\.cjs$/, '.cache'), exercise ? (mod) => quietly(() => mod.default.run(exercise, oclifConfig)) : undefined)
}

/** Run `fn` with stdout and stderr discarded, in a fresh state directory, leaving the exit code as it was. */
async function quietly(fn) {
  const {stdout, stderr} = process
  const writes = [stdout.write, stderr.write]
  const state = mkdtempSync(join(tmpdir(), 'tdxkit-build-'))
  const saved = {dir: process.env.TDXKIT_STATE_DIR, exitCode: process.exitCode}
  process.env.TDXKIT_STATE_DIR = state
  stdout.write = stderr.write = () => true
  try {
    await fn()
  } finally {
    ;[stdout.write, stderr.write] = writes
    if (saved.dir === undefined) delete process.env.TDXKIT_STATE_DIR
    else process.env.TDXKIT_STATE_DIR = saved.dir
    process.exitCode = saved.exitCode
    rmSync(state, {recursive: true, force: true})
  }
}

// The batch verification worker, bundled in place (src/app/verify-batch.ts starts it from there).
const worker = join(dist, 'src/app/verify-worker.js')
await build({...commandBuild, entryPoints: [worker], outfile: worker, allowOverwrite: true})
