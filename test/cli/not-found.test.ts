/**
 * An unknown command: "did you mean" for a typo (own command_not_found hook, src/cli/not-found.ts),
 * one line on stderr and exit 2; under --json the documented {"error": {...}} object, exit 2 (was
 * oclif's plain-text " ›   Error: command quote:verfy not found" even under --json). The hook is
 * loaded only when a command is not found: a normal command never imports it.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {closestCommand, editDistance, exactPrefixCommand} from '../../src/cli/not-found.js'
import {BIN, cli, tempDir} from '../helpers/cli.js'
import {REPO_ROOT} from '../helpers/vectors.js'

const IDS = ['quote:verify', 'quote:show', 'quote:generate', 'report', 'report:show', 'device:list', 'device:lock', 'module:init', 'help']

test('editDistance: insert, delete, substitute and a swap of neighbours each cost 1', () => {
  assert.is(editDistance('verfy', 'verify'), 1)
  assert.is(editDistance('reprot', 'report'), 1)
  assert.is(editDistance('lsit', 'list'), 1)
  assert.is(editDistance('abc', 'xyz'), 3)
  assert.is(editDistance('', 'abc'), 3)
})

test('closestCommand: typos of one or two words find their command; unrelated words find none', () => {
  assert.equal(closestCommand(['quote', 'verfy', 'q.bin'], IDS), {command: 'quote verify', typed: 'quote verfy'})
  assert.equal(closestCommand(['quot', 'verify'], IDS), {command: 'quote verify', typed: 'quot verify'})
  assert.equal(closestCommand(['devcie', 'lsit'], IDS), {command: 'device list', typed: 'devcie lsit'})
  assert.equal(closestCommand(['reprot'], IDS), {command: 'report', typed: 'reprot'})
  assert.is(closestCommand(['quote', 'frob'], IDS), undefined)
  assert.is(closestCommand(['frobnicate'], IDS), undefined)
})

test('CLI: tdxkit quote verfy → one line "did you mean \'quote verify\'?", exit 2', () => {
  const r = cli(['quote', 'verfy', 'quote.bin', '--root-ca', 'sim'], {stateDir: tempDir()})
  assert.is(r.code, 2)
  assert.is(r.stdout, '')
  assert.is(r.stderr, "tdxkit: error: 'quote verfy' is not a tdxkit command; did you mean 'quote verify'? (see 'tdxkit help quote')\n")
})

test('CLI: --json → {"error": {code UNKNOWN_COMMAND, message, exit_code 2, did_you_mean}} on stdout, exit 2', () => {
  const r = cli(['quote', 'verfy', '--json'], {stateDir: tempDir()})
  assert.is(r.code, 2)
  assert.equal(JSON.parse(r.stdout), {
    error: {
      code: 'UNKNOWN_COMMAND',
      message: "'quote verfy' is not a tdxkit command; did you mean 'quote verify'? (see 'tdxkit help quote')",
      exit_code: 2,
      did_you_mean: 'quote verify',
    },
  })
  const none = cli(['frobnicate', '--json'], {stateDir: tempDir()})
  assert.is(none.code, 2)
  assert.equal(JSON.parse(none.stdout).error, {code: 'UNKNOWN_COMMAND', message: "'frobnicate' is not a tdxkit command (see 'tdxkit help' for the list)", exit_code: 2})
})

test('exactPrefixCommand: a whole command followed by more words, the longest command first', () => {
  assert.equal(exactPrefixCommand(['device', 'lock', 'nic0'], IDS), {command: 'device lock', args: ['nic0']})
  assert.equal(exactPrefixCommand(['report', 'show', 'x', 'y'], IDS), {command: 'report show', args: ['x', 'y']})
  assert.equal(exactPrefixCommand(['report', 'shwo'], IDS), {command: 'report', args: ['shwo']})
  assert.is(exactPrefixCommand(['device', 'lock'], IDS), undefined)
  assert.is(exactPrefixCommand(['devcie', 'lock', 'x'], IDS), undefined)
})

test('CLI: an argument to a command that takes none → "unexpected argument", exit 2 (USAGE under --json)', () => {
  const r = cli(['device', 'attest', 'nic0'], {stateDir: tempDir()})
  assert.is(r.code, 2)
  assert.is(r.stdout, '')
  assert.is(r.stderr, "tdxkit: error: unexpected argument 'nic0' for 'device attest' (it takes no arguments; see 'tdxkit device attest --help')\n")
  const j = cli(['device', 'attest', 'nic0', 'extra', '--json'], {stateDir: tempDir()})
  assert.is(j.code, 2)
  assert.equal(JSON.parse(j.stdout), {
    error: {code: 'USAGE', message: "unexpected arguments 'nic0', 'extra' for 'device attest' (it takes no arguments; see 'tdxkit device attest --help')", exit_code: 2},
  })
  // A typo of a longer command is still a typo: 'report' exists, but 'report shwo' means 'report show'.
  const typo = cli(['report', 'shwo'], {stateDir: tempDir()})
  assert.is(typo.code, 2)
  assert.is(typo.stderr, "tdxkit: error: 'report shwo' is not a tdxkit command; did you mean 'report show'? (see 'tdxkit help report')\n")
})

test('the hook is imported for an unknown command only (no start-up cost for the others)', () => {
  const trace = (args: string[]) => {
    const file = join(tempDir(), 'imports.txt')
    const r = spawnSync(process.execPath, ['--import', join(REPO_ROOT, 'test/helpers/trace-imports.mjs'), BIN, ...args], {
      env: {...process.env, TRACE_IMPORTS_FILE: file, TDXKIT_STATE_DIR: tempDir()},
      encoding: 'utf8',
    })
    return {imports: readFileSync(file, 'utf8'), stdout: r.stdout, code: r.status}
  }
  assert.match(trace(['quote', 'verfy']).imports, /\/cli\/not-found\.js\n/)
  const normal = trace(['rtmr', 'show'])
  // The built CLI runs a command from its CommonJS twin (dist/cli-cjs, compiled with its code
  // cache), which no ES module hook sees; oclif's import() of a hook goes through the ES module
  // src/cli/oclif.js provides it from, so that module in the trace shows the trace is live.
  assert.match(normal.imports, /\/src\/cli\/oclif\.js\n/, 'the trace is live')
  assert.is(normal.code, 0)
  assert.match(normal.stdout, /^rtmr0 /m, 'the command ran')
  assert.not.match(normal.imports, /not-found/)
})

test.run()
