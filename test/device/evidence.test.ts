/** The simulated device end to end at library level: lock → evidence → verify → accept, fault knobs, tamper tests. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {X509Certificate, createHash, verify as nodeVerify} from 'node:crypto'
import {StateStore} from '../../src/state/store.js'
import {initPlatform} from '../../src/app/platform.js'
import {tempDir} from '../helpers/cli.js'
import {acceptDevice, addDeviceOp, collectEvidence, exportReference, listDevices, lockDevice, unlockDevice} from '../../src/app/device.js'
import {DeviceVerificationError} from '../../src/device/service.js'
import {decodeCorim} from '../../src/device/corim.js'
import {decodeEvidence, encodeEvidence, type EvidenceBundle} from '../../src/device/evidence.js'
import {verifyDeviceEvidence, splitMeasurementsObject} from '../../src/device/verifier.js'
import {parseCertChain} from '../../src/device/chain.js'
import {RefusedError, TdxkitError} from '../../src/errors.js'
import {EvidenceObject} from '../../src/device/tsm.js'

const SEED = 'device-test-seed'
const store = new StateStore(tempDir('tdxkit-dev-'))
await initPlatform(store, {profile: 'tdx-connect', seed: SEED})
await listDevices(store)
await lockDevice(store, 'nic0')
const nonce = Buffer.alloc(32, 0x5a)
const good = (await collectEvidence(store, 'nic0', nonce)).result
const refBytes = (await exportReference(store, 'nic0')).result.bytes
const ref = decodeCorim(refBytes)
const AT = new Date('2026-09-01T00:00:00Z')
const verify = (ev: EvidenceBundle, extra: Partial<Parameters<typeof verifyDeviceEvidence>[0]> = {}) => verifyDeviceEvidence({evidence: ev, reference: ref, at: AT, ...extra})
const clone = (ev: EvidenceBundle): EvidenceBundle => decodeEvidence(encodeEvidence(ev))
const sha384 = (b: Buffer) => createHash('sha384').update(b).digest()

test('a healthy device verifies, every step passes, bundle round-trips through CBOR', () => {
  const v = verify(good.bundle, {expected_nonce: nonce})
  assert.ok(v.ok, JSON.stringify(v.steps.filter((s) => s.status !== 'pass')))
  assert.equal(v.steps.map((s) => s.id), ['tsm_binding', 'tdi_state', 'freshness', 'cert_chain', 'negotiated', 'measurement_signature', 'reference_values', 'measurements', 'interface_report'])
  assert.is(v.exit_code, 0)
  assert.is(v.measurements?.length, 7)
  assert.ok(encodeEvidence(decodeEvidence(good.bytes)).equals(good.bytes))
})

test('independent check of the SPDM 1.2 measurement signature (prefix ‖ SHA-384(VCA ‖ GET ‖ MEASUREMENTS))', () => {
  const objs = good.bundle.objects
  const {request, response} = splitMeasurementsObject(objs.get(EvidenceObject.MEASUREMENTS)!)
  assert.is(request!.subarray(4, 36).toString('hex'), nonce.toString('hex'))
  const unsigned = response.subarray(0, response.length - 96)
  const sig = response.subarray(response.length - 96)
  const ctx = 'responder-measurements signing'
  const prefix = Buffer.concat([Buffer.from('dmtf-spdm-v1.2.*'.repeat(4)), Buffer.alloc(36 - ctx.length), Buffer.from(ctx)])
  assert.is(prefix.length, 100)
  const msg = Buffer.concat([prefix, sha384(Buffer.concat([objs.get(EvidenceObject.VCA)!, request!, unsigned]))])
  const leaf = new X509Certificate(parseCertChain(objs.get(EvidenceObject.CERT0)!).certs[2])
  assert.ok(nodeVerify('sha384', msg, {key: leaf.publicKey, dsaEncoding: 'ieee-p1363'}, sig))
  assert.is(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1')
  assert.ok(leaf.subjectAltName?.includes('othername'))
})

test('TSM digests are SHA-384 of each object', () => {
  for (const [k, v] of good.bundle.objects) assert.ok(good.bundle.tsm.digests.get(k)!.equals(sha384(v)), `object ${k}`)
})

test('freshness: a verifier expecting another nonce rejects (exit 3)', () => {
  const v = verify(good.bundle, {expected_nonce: Buffer.alloc(32, 1)})
  assert.equal(v.failed_steps, ['freshness'])
  assert.is(v.exit_code, 3)
})

const positions = (len: number, n: number) => Array.from({length: n}, (_, i) => Math.floor((i * (len - 1)) / (n - 1)))

for (const [k, name] of [[EvidenceObject.CERT0, 'certificate chain'], [EvidenceObject.MEASUREMENTS, 'signed measurement response'], [EvidenceObject.REPORT, 'interface report'], [EvidenceObject.VCA, 'VCA']] as const) {
  test(`tamper: a flipped byte anywhere in the ${name} fails verification`, () => {
    const obj = good.bundle.objects.get(k)!
    for (const pos of positions(obj.length, 32)) {
      const ev = clone(good.bundle)
      ev.objects.get(k)![pos] ^= 0x01
      const v = verify(ev)
      assert.not.ok(v.ok, `flip at ${pos}`)
      assert.ok(v.failed_steps.includes('tsm_binding'), `binding at ${pos}`)
    }
  })
}

test('tamper with a re-digested (compromised) TSM: chain and signature checks still catch signed bytes', () => {
  for (const k of [EvidenceObject.CERT0, EvidenceObject.MEASUREMENTS]) {
    const obj = good.bundle.objects.get(k)!
    // measurements: skip the 37-byte request's nonce (freshness would catch it too), flip the signed response
    for (const pos of positions(obj.length, 24)) {
      const ev = clone(good.bundle)
      ev.objects.get(k)![pos] ^= 0x01
      ev.tsm.digests.set(k, sha384(ev.objects.get(k)!))
      const v = verify(ev)
      assert.not.ok(v.ok, `object ${k} flip at ${pos}`)
      assert.not.ok(v.failed_steps.includes('tsm_binding'))
      assert.ok(v.failed_steps.some((s) => ['cert_chain', 'measurement_signature', 'freshness', 'negotiated'].includes(s)), `object ${k} at ${pos}: ${v.failed_steps}`)
    }
  }
})

test('reference values: signed CoRIM verifies with the signer key; tampered signature is an authenticity failure', async () => {
  const {result} = await exportReference(store, 'nic0', {sign: true})
  const {createPublicKey} = await import('node:crypto')
  const key = createPublicKey({key: result.signer_jwk as import('node:crypto').JsonWebKey, format: 'jwk'})
  const signed = decodeCorim(result.bytes, {key, at: AT})
  assert.is(signed.signature?.status, 'valid')
  assert.is(signed.signature?.alg_name, 'ES384')
  assert.ok(verify(good.bundle, {reference: signed}).ok)
  const t = Buffer.from(result.bytes)
  t[t.length - 1] ^= 1
  const v = verify(good.bundle, {reference: decodeCorim(t, {key, at: AT})})
  assert.equal(v.failed_steps, ['reference_values'])
  assert.is(v.exit_code, 3)
  // policy can demand a signature
  assert.equal(verify(good.bundle, {policy: {require_signed_reference: true}}).failed_steps, ['reference_values'])
})

const FAULTS: Array<[string, string, number]> = [
  ['firmware-swapped', 'measurements', 6],
  ['bme-cleared', 'tdi_state', 6],
  ['stale-nonce', 'freshness', 3],
  ['wrong-cert', 'cert_chain', 3],
  ['mmio-outside-bar', 'interface_report', 6],
]
for (const [fault, step, exit] of FAULTS) {
  test(`fault ${fault}: fails exactly ${step} (exit ${exit}); accept refused and the device stays put`, async () => {
    const d = (await addDeviceOp(store, {model: 'nvme', faults: [fault]})).result
    const lock = (await lockDevice(store, d.id)).result
    const ev = (await collectEvidence(store, d.id, nonce)).result
    const r = decodeCorim((await exportReference(store, d.id)).result.bytes)
    const v = verifyDeviceEvidence({evidence: ev.bundle, reference: r, at: AT, expected_nonce: nonce})
    assert.equal(v.failed_steps, [step])
    assert.is(v.exit_code, exit)
    const before = lock.state
    try {
      await acceptDevice(store, d.id)
      assert.unreachable('accept should fail')
    } catch (error) {
      assert.instance(error, TdxkitError)
      assert.is((error as TdxkitError).exit, fault === 'bme-cleared' ? 7 : exit)
    }
    const after = (await listDevices(store)).result.find((x) => x.id === d.id)!
    assert.is(after.tdi_state, before)
    assert.is(after.accepted, false)
  })
}

test('TDISP transitions: double lock and unlock-when-unlocked refused (7); accept from UNLOCKED refused; full cycle', async () => {
  try {
    await lockDevice(store, 'nic0')
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RefusedError)
    assert.is((error as RefusedError).code, 'TDISP_INVALID_INTERFACE_STATE')
  }
  try {
    await acceptDevice(store, 'gpu0')
    assert.unreachable()
  } catch (error) {
    assert.is((error as TdxkitError).exit, 7)
  }
  try {
    await unlockDevice(store, 'gpu0')
    assert.unreachable()
  } catch (error) {
    assert.is((error as RefusedError).code, 'TDISP_INVALID_INTERFACE_STATE')
  }
  // evidence bundle from an older collection no longer binds to the live TSM: accept refuses (3)
  await collectEvidence(store, 'nic0')
  try {
    await acceptDevice(store, 'nic0', {evidence: good.bytes, reference: refBytes})
    assert.unreachable()
  } catch (error) {
    assert.instance(error, DeviceVerificationError)
    assert.is((error as DeviceVerificationError).verdict.failed_steps[0], 'tsm_binding')
  }
  const fresh = (await collectEvidence(store, 'nic0')).result
  const acc = (await acceptDevice(store, 'nic0', {evidence: fresh.bytes, reference: refBytes})).result
  assert.is(acc.tdi_state, 'RUN')
  assert.is(acc.device.accepted, true)
  const un = (await unlockDevice(store, 'nic0')).result
  assert.is(un.from, 'RUN')
  assert.is(un.device.accepted, false)
  // a re-lock draws a new generation; the old evidence is stale
  const relock = (await lockDevice(store, 'nic0')).result
  assert.is(relock.lock_generation, 2)
})

test('deterministic from the seed: same reference CoRIM and certificate chain in a second state directory', async () => {
  const other = new StateStore(tempDir('tdxkit-dev2-'))
  await initPlatform(other, {profile: 'tdx-connect', seed: SEED})
  assert.ok((await exportReference(other, 'nic0')).result.bytes.equals(refBytes))
  await lockDevice(other, 'nic0')
  const ev = (await collectEvidence(other, 'nic0', nonce)).result
  assert.ok(ev.bundle.objects.get(EvidenceObject.CERT0)!.equals(good.bundle.objects.get(EvidenceObject.CERT0)!))
  assert.ok(ev.bundle.objects.get(EvidenceObject.MEASUREMENTS)!.equals(good.bundle.objects.get(EvidenceObject.MEASUREMENTS)!))
})

test('non-TDISP profile: device commands refused with exit 7', async () => {
  const s = new StateStore(tempDir('tdxkit-dev3-'))
  await initPlatform(s, {profile: 'tdx-1.5', seed: 'x'})
  try {
    await listDevices(s)
    assert.unreachable()
  } catch (error) {
    assert.is((error as TdxkitError).code, 'TDISP_UNSUPPORTED')
    assert.is((error as TdxkitError).exit, 7)
  }
})

test.run()
