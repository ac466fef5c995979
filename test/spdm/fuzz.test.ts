/** A short deterministic run of the SPDM responder fuzz target (the long campaign: npm run fuzz). */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {fuzzEngine} from './lib/fuzz.js'

test('3000 malformed frames and message sequences: every one answered, no crash, no stall; a good requester completes after', async () => {
  const st = await fuzzEngine(3000, 0x5bd1e995)
  assert.equal(st.findings, [])
  assert.is(st.crashes, 0)
  assert.is(st.hangs, 0)
  assert.is(st.inputs, 3000)
  assert.ok(st.errors_answered > 1000, `${st.errors_answered} SPDM ERROR answers`)
  assert.ok(st.final_flow_ok)
})

test.run()
