/**
 * `npm run fuzz` without the real test vectors: it says so (2 simulated seed quotes instead of the
 * real ones) and, under CI=true, fails before any campaign runs (it used to go on silently, exit 0).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {REPO_ROOT, VECTORS_DIR, vectorsPresent} from '../helpers/vectors.js'
// @ts-expect-error: a plain .mjs script without type declarations
import {vectorsDir, vectorsNotice} from '../../scripts/fuzz-vectors.mjs'

const MISSING = '/nonexistent/tdxkit-vectors'

test('vectorsNotice: missing vectors → a message naming the directory and the reduced seeds; a failure only under CI', () => {
  const local = vectorsNotice({TDXKIT_VECTORS: MISSING})
  assert.ok(local)
  assert.is(local.fail, false)
  assert.match(local.message, /real test vectors not found at \/nonexistent\/tdxkit-vectors: the verifier campaign seeds from the 2 simulated quotes/)
  assert.match(local.message, /set TDXKIT_VECTORS/)
  for (const CI of ['true', '1']) assert.is(vectorsNotice({TDXKIT_VECTORS: MISSING, CI}).fail, true)
})

test('vectorsNotice resolves the directory as the tests do (test/helpers/vectors.ts)', () => {
  assert.is(vectorsDir({...process.env}), VECTORS_DIR)
  if (vectorsPresent()) assert.is(vectorsNotice({...process.env, CI: 'true'}), undefined)
})

test('npm run fuzz under CI=true without the vectors: exit 1 with the message, no campaign run', () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/fuzz.mjs'), '--runs', '1'], {env: {...process.env, TDXKIT_VECTORS: MISSING, CI: 'true'}, cwd: REPO_ROOT})
  assert.is(r.status, 1)
  assert.match(r.stderr.toString(), /^fuzz: real test vectors not found at .*; required under CI\n$/)
  assert.is(r.stdout.toString(), '')
})

test.run()
