// knip (npm run deadcode): what nothing imports. The entries are everything that is reached from
// outside: the package's library entries (package.json "exports" → src/index.ts, src/verify/index.ts,
// src/appraise/index.ts, and every area module src/index.ts loads lazily with require()), the oclif
// commands and hook, the batch worker, tests, benches, scripts and bin/.
import {readFileSync} from 'node:fs'

const areaModules = [...readFileSync(new URL('./src/index.ts', import.meta.url), 'utf8').matchAll(/require\('\.\/([^']+)\.js'\)/g)].map(
  ([, path]) => `src/${path}.ts`,
)

export default {
  entry: [
    'src/index.ts',
    'src/verify/index.ts',
    'src/appraise/index.ts',
    ...areaModules,
    'commands/**/*.ts',
    'src/cli/not-found.ts',
    'src/app/verify-worker.ts',
    'bin/*.js',
    'scripts/*.{mjs,ts}',
    'bench/**/*.{ts,mjs,cjs}',
    'test/**/*.test.ts',
    'test/**/*.mjs',
    'test/**/fixtures/*.ts',
  ],
  project: ['src/**/*.ts', 'commands/**/*.ts', 'test/**/*.{ts,mjs}', 'bench/**/*.{ts,mjs,cjs}', 'scripts/**/*.{ts,mjs}', 'bin/*.js'],
  // ts-node: oclif's dev mode (bin/dev.js); node-forge: loaded with createRequire by the DER codec's test
  ignoreDependencies: ['ts-node', 'node-forge'],
}
