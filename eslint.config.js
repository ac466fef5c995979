// ESLint flat config: typescript-eslint's recommended rules over src, commands, test, bench and scripts.
// Import direction (the floors of docs/ARCHITECTURE.md) is checked by dependency-cruiser (.dependency-cruiser.cjs).
// Not type-aware on purpose: the type-checked presets took ~5x as long on this tree (tsc already checks types).
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/** src folders (and root files) below the use-case layer src/app; src/state is the one store and may use the clock for lock ages. */
const BELOW_APP = ['errors.ts', 'util', 'abi', 'x509', 'machine', 'eventlog', 'verify', 'appraise', 'spdm', 'device', 'module', 'host', 'ghci', 'guest', 'cost']

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'scratch/**', 'bench/results/**', '.tdxkit/**', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {ecmaVersion: 2023, sourceType: 'module', globals: globals.node},
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      // `_name` marks a parameter or binding kept on purpose (interface shape, destructuring rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true},
      ],
      // `catch {}` is how best-effort cleanup (unlink a temp file, drop a stale lock) says "ignore".
      'no-empty': ['error', {allowEmptyCatch: true}],
    },
  },
  {
    // Below src/app time is an argument: nothing reads the wall clock to decide (docs/ARCHITECTURE.md).
    files: BELOW_APP.map((f) => (f.endsWith('.ts') ? `src/${f}` : `src/${f}/**`)),
    rules: {
      'no-restricted-properties': [
        'error',
        ...[['Date', 'now'], ['performance', 'now'], ['process', 'hrtime'], ['process', 'uptime']].map(([object, property]) => ({
          object,
          property,
          message: 'below src/app the time is an argument, not read from the clock',
        })),
      ],
      'no-restricted-syntax': [
        'error',
        {selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'below src/app the time is an argument, not read from the clock'},
        {selector: "CallExpression[callee.name='Date']", message: 'below src/app the time is an argument, not read from the clock'},
      ],
    },
  },
  {
    // Small functions named after their steps: a longer one needs a reason (an eslint-disable with it).
    files: ['src/**/*.ts', 'commands/**/*.ts'],
    rules: {'max-lines-per-function': ['error', {max: 80, skipBlankLines: true, skipComments: true, IIFEs: true}]},
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {sourceType: 'commonjs'},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    // Tests and benches read untyped JSON documents and break types on purpose to prove validation.
    files: ['test/**', 'bench/**'],
    rules: {'@typescript-eslint/no-explicit-any': 'off'},
  },
)
