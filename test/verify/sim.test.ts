/** Simulated quotes: verify with the simulated root (`--root-ca sim` semantics), never with Intel's. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {StateStore} from '../../src/state/store.js'
import {loadSimCollateral} from '../../src/app/sim-collateral.js'
import {QuoteVerifier} from '../../src/verify/verifier.js'
import {fingerprintOf} from '../../src/verify/roots.js'
import {VERIFY_STEPS} from '../../src/demo/verify-steps.js'

test('a simulated quote verifies with the simulated root and fails with the Intel root; demo step agrees', async () => {
  const stateDir = tempDir()
  const file = join(tempDir(), 'q.bin')
  const gen = await cliAsync(['quote', 'generate', '--report-data', '00ff', '-o', file], {stateDir})
  assert.is(gen.code, 0, gen.stderr)
  const quote = readFileSync(file)
  const store = new StateStore(stateDir)
  const sim = await loadSimCollateral(store)
  const now = Math.floor(Date.now() / 1000)
  const ok = new QuoteVerifier({now, trustedRoots: [fingerprintOf(sim.root_ca_der)], collateral: sim.collateral}).verify(quote)
  assert.ok(ok.ok, ok.error?.message)
  assert.is(ok.status, 'UpToDate')
  assert.ok(ok.steps.every((s) => s.result === 'pass'))
  const intel = new QuoteVerifier({now, collateral: sim.collateral}).verify(quote)
  assert.is(intel.error?.code, 'PCK_CHAIN_UNTRUSTED_ROOT')
  assert.is(intel.exit_code, 3)
  const demo = await VERIFY_STEPS[0].run({store, workDir: tempDir(), bag: new Map([['quote', quote]])})
  assert.is(demo.data?.status, 'UpToDate')
  assert.is(demo.data?.intel_root_rejected, true)
  const cli = await cliAsync(['quote', 'verify', file, '--root-ca', 'sim', '--json'], {stateDir})
  assert.is(cli.code, 0, cli.stdout)
  assert.is(JSON.parse(cli.stdout).status, 'UpToDate')
})

test.run()
