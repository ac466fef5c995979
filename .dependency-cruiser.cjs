// dependency-cruiser rules: the one-way floors of docs/ARCHITECTURE.md, checked by `npm run lint`.
// Each src folder may import only its own folder and the folders listed for it below (all lower
// floors); the named edges of issue 13 get their own rules so a violation says which one it is.

/** folder (under src/, or commands/) → what it may import besides itself. */
const LOWER_PURE = ['util', 'errors.ts']
const MAY_IMPORT = {
  // the pure floors, bottom up
  'errors.ts': ['util'],
  util: ['errors.ts'],
  abi: [...LOWER_PURE],
  x509: ['abi', ...LOWER_PURE],
  machine: ['abi', ...LOWER_PURE],
  eventlog: ['x509', 'abi', ...LOWER_PURE],
  verify: ['eventlog', 'x509', 'abi', ...LOWER_PURE],
  appraise: ['verify', 'eventlog', 'abi', ...LOWER_PURE],
  spdm: ['x509', 'abi', ...LOWER_PURE],
  // the simulated platform, bottom up
  device: ['spdm', 'appraise', 'verify', 'eventlog', 'machine', 'x509', 'abi', ...LOWER_PURE],
  module: ['device', 'spdm', 'appraise', 'verify', 'eventlog', 'machine', 'x509', 'abi', ...LOWER_PURE],
  host: ['module', 'device', 'spdm', 'appraise', 'verify', 'eventlog', 'machine', 'x509', 'abi', ...LOWER_PURE],
  ghci: ['host', 'module', 'device', 'spdm', 'appraise', 'verify', 'eventlog', 'machine', 'x509', 'abi', ...LOWER_PURE],
  // the guest sees only GHCI: host/ is left out on purpose
  guest: ['ghci', 'module', 'device', 'spdm', 'appraise', 'verify', 'eventlog', 'machine', 'x509', 'abi', ...LOWER_PURE],
  cost: ['guest', 'ghci', 'module', 'device', 'spdm', 'appraise', 'verify', 'eventlog', 'machine', 'x509', 'abi', ...LOWER_PURE],
  // the state store knows no section types
  state: [...LOWER_PURE],
}
const BELOW_APP = Object.keys(MAY_IMPORT)
// use cases (composition roots) and everything that sits on them
MAY_IMPORT.app = [...BELOW_APP]
MAY_IMPORT.testvectors = ['app', ...BELOW_APP.filter((f) => f !== 'state')]
MAY_IMPORT.cli = ['app', ...BELOW_APP.filter((f) => f !== 'state')]
MAY_IMPORT.demo = ['cli', 'app', ...BELOW_APP.filter((f) => f !== 'state')]

const esc = (s) => s.replace(/\./g, '\\.')
/** regex for src/<folder> (a folder or a root file such as errors.ts) */
const srcPath = (f) => (f.endsWith('.ts') ? `^src/${esc(f)}$` : `^src/${f}/`)
const ALL = Object.keys(MAY_IMPORT)
const IO_MODULES = '^(node:)?(fs|fs/promises|net|http|https|http2|tls|dgram|worker_threads|child_process|cluster)$'

/** One rule per folder: every src folder not in its list (and not itself) is off limits. */
const floorRules = ALL.map((folder) => ({
  name: `floor-${folder.replace(/\.ts$/, '')}`,
  comment: `src/${folder} may import only: ${MAY_IMPORT[folder].join(', ') || 'nothing'} (an import pointing up a floor or sideways to another folder)`,
  severity: 'error',
  from: {path: srcPath(folder)},
  to: {path: ALL.filter((f) => f !== folder && !MAY_IMPORT[folder].includes(f)).map(srcPath)},
}))

const edge = (name, from, to, comment) => ({name, comment, severity: 'error', from: {path: srcPath(from)}, to: {path: srcPath(to)}})

module.exports = {
  forbidden: [
    ...floorRules,
    edge('no-guest-to-host', 'guest', 'host', 'the guest sees only GHCI: TDVMCALLs, the shared-buffer status field, interrupts'),
    edge('no-module-to-host', 'module', 'host', 'the TDX module sits below the VMM/QGS/QE'),
    edge('no-verify-to-state', 'verify', 'state', 'verify is pure: quote bytes, collateral, roots and time in, result out'),
    edge('no-verify-to-cli', 'verify', 'cli', 'verify returns data; rendering lives in src/cli'),
    edge('no-verify-to-host', 'verify', 'host', 'verify must not know the simulator'),
    {
      name: 'abi-only-util-errors',
      comment: 'src/abi holds binary layouts only and imports nothing but util/ and errors.ts',
      severity: 'error',
      from: {path: '^src/abi/'},
      to: {pathNot: ['^src/abi/', '^src/util/', '^src/errors\\.ts$'], dependencyTypesNot: ['core']},
    },
    {
      name: 'state-only-from-app',
      comment: 'the state store is opened only by the use cases in src/app (and re-exported by src/index.ts)',
      severity: 'error',
      from: {pathNot: ['^src/app/', '^src/state/', '^src/index\\.ts$', '^test/']},
      to: {path: '^src/state/'},
    },
    {
      name: 'no-io-below-app',
      comment: 'below src/app nothing opens files, sockets, threads or processes (src/state is the one store)',
      severity: 'error',
      from: {path: BELOW_APP.filter((f) => f !== 'state').map(srcPath)},
      to: {dependencyTypes: ['core'], path: IO_MODULES},
    },
    {
      name: 'entry-points-on-top',
      comment: 'commands/ and src/index.ts (the library entry) are the top floor: nothing in src imports them',
      severity: 'error',
      from: {path: '^src/', pathNot: '^src/index\\.ts$'},
      to: {path: ['^commands/', '^src/index\\.ts$']},
    },
    {
      name: 'no-folder-cycle',
      comment: 'an import cycle that leaves its folder: the folders must form one-way floors',
      severity: 'error',
      from: {path: '^src/([^/]+)'},
      to: {circular: true, via: {pathNot: '^src/$1(/|$)'}},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve (a typo, or a file that was moved); the oclif bundle exists only in dist/',
      severity: 'error',
      from: {},
      to: {couldNotResolve: true, pathNot: '/vendor/oclif-core\\.cjs$'},
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    exclude: {path: ['^dist/', '^node_modules/']},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    enhancedResolveOptions: {extensions: ['.ts', '.js', '.mjs', '.json'], exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default']},
    skipAnalysisNotInRules: true,
  },
}
