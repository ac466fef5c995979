/**
 * Tamper sweeps over simulated artefacts (the quote-verifier sweeps are the verifier's own):
 * - device evidence: every byte of the VCA and every 3rd of GET_MEASUREMENTS ‖ MEASUREMENTS
 *   flipped with the TSM digests recomputed (a compromised TSM, so the SPDM signature itself must
 *   catch it), every bit of the signed GET_MEASUREMENTS request (nonce), a stride through the
 *   certificate chain, and the interface report with the honest TSM digests;
 * - the simulated TDREPORT: every byte and every bit flipped must make the quoting enclave refuse,
 *   except the 17 reserved bytes outside the MAC and hashes, which must not change the quote.
 * Prints mutants tried / accepted (accepted must be 0). The full every-byte / every-bit sweep of
 * every object runs in the long campaign: `npm run fuzz -- --tamper`.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {corpora} from '../helpers/fuzz/seeds.js'
import {deviceTamperSweep, tdreportTamperSweep, type SweepResult} from '../helpers/fuzz/tamper.js'
import {EvidenceObject} from '../../src/device/tsm.js'
import {SPDM_GET_MEASUREMENTS} from '../../src/abi/spdm.js'
import {TDREPORT} from '../../src/abi/tdreport.js'

const c = await corpora()
const bundle = c.evidence[0]
let tried = 0
let accepted = 0
const report = (name: string, r: SweepResult) => {
  tried += r.tried
  accepted += r.accepted
  console.log(`  tamper ${name}: mutants tried ${r.tried}, accepted ${r.accepted}`)
  assert.ok(r.tried > 0)
  assert.is(r.accepted, 0, r.examples.join('; '))
}

test('device evidence: every byte of the VCA, TSM re-digested → measurement signature fails', () => {
  report('VCA (every byte, compromised TSM)', deviceTamperSweep(bundle, c, {object: EvidenceObject.VCA, mode: 'byte', redigest: true}))
})

test('device evidence: every 3rd byte of GET_MEASUREMENTS ‖ MEASUREMENTS, TSM re-digested', () => {
  report('MEASUREMENTS (every 3rd byte, compromised TSM)', deviceTamperSweep(bundle, c, {object: EvidenceObject.MEASUREMENTS, mode: 'byte', stride: 3, redigest: true}))
})

test('device evidence: every bit of the signed GET_MEASUREMENTS request (nonce, slot, attributes)', () => {
  report('GET_MEASUREMENTS (every bit, compromised TSM)', deviceTamperSweep(bundle, c, {object: EvidenceObject.MEASUREMENTS, range: [0, SPDM_GET_MEASUREMENTS.size], mode: 'bit', redigest: true}))
})

test('device evidence: certificate chain (every 32nd byte, TSM re-digested) and interface report (honest TSM)', () => {
  report('CERT0 (stride 32, compromised TSM)', deviceTamperSweep(bundle, c, {object: EvidenceObject.CERT0, mode: 'byte', stride: 32, redigest: true}))
  report('REPORT (every 3rd byte, honest TSM)', deviceTamperSweep(bundle, c, {object: EvidenceObject.REPORT, mode: 'byte', stride: 3, redigest: false}))
})

test('simulated TDREPORT: every byte and every bit flipped → the quoting enclave refuses (reserved bytes: same quote)', () => {
  const tdreport = c.tdreport[c.tdreport.length - 1]
  const bytes = tdreportTamperSweep(c.platformDoc, tdreport, 'byte')
  const bits = tdreportTamperSweep(c.platformDoc, tdreport, 'bit')
  console.log(`  TDREPORT refusals (bits): ${JSON.stringify(bits.codes)}; inert (reserved bytes ${TDREPORT.fields.reserved.offset}..${TDREPORT.fields.reserved.offset + TDREPORT.fields.reserved.size - 1}): ${bytes.inert} bytes, ${bits.inert} bits`)
  report('TDREPORT (every byte)', bytes)
  report('TDREPORT (every bit)', bits)
  assert.is(bytes.tried, 1024)
  assert.is(bits.tried, 8192)
  // Only the 17 reserved bytes (not covered by the MAC or either hash, as on hardware) are inert.
  assert.is(bytes.inert, TDREPORT.fields.reserved.size)
  assert.is(bits.inert, TDREPORT.fields.reserved.size * 8)
  assert.equal(Object.keys(bits.codes).sort(), ['NOT_TDREPORT', 'TDREPORT_HASH_MISMATCH', 'TDREPORT_MAC_INVALID'])
})

test('tamper totals', () => {
  console.log(`  tamper: mutants tried ${tried}, accepted ${accepted}`)
  assert.is(accepted, 0)
})

test.run()
