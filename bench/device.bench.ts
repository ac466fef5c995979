/**
 * Device evidence, in process (no CLI start-up): generation throughput (SPDM VCA + chunked
 * GET_CERTIFICATE + signed GET_MEASUREMENTS with RFC 6979 P-384, report, TSM digests), and
 * verification of the encoded bundle (decode + every verifier step) against its floors, measured
 * in the same run with rounds interleaved (issue 17: ≤ 1.5× the floor):
 * - cold (X.509 and chain memos cleared, a device seen for the first time): the 4 ECDSA P-384
 *   verifications (root self-signature, intermediate, leaf, the measurement signature), 3 fresh
 *   SPKI key imports (each key imported and then used for the signatures it checks) and the
 *   hashes a verdict needs (4 TSM digests, RootHash, 3 certificate SHA-256 fingerprints, the
 *   L1/L2 transcript digest), over messages of the real sizes, with node:crypto alone;
 * - warm (a device whose chain this process has verified): 1 P-384 verification with a known key,
 *   the 4 TSM digests and the transcript digest.
 * Targets use the best round (the least disturbed), the notes the median.
 */
import {createHash, createPublicKey, generateKeyPairSync, hash, sign, verify as cryptoVerify} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import {DeviceRuntime} from '../src/device/device.js'
import {addDevice, type DevicesSection} from '../src/device/registry.js'
import {tsmCollect, tsmLock} from '../src/device/tsm.js'
import {encodeEvidence, decodeEvidence, type EvidenceBundle} from '../src/device/evidence.js'
import {goldenReference} from '../src/device/reference.js'
import {decodeCorim} from '../src/device/corim.js'
import {modelSpec} from '../src/device/models.js'
import {verifyDeviceEvidence} from '../src/device/verifier.js'
import {CONNECT_METADATA} from '../src/module/profiles.js'
import {parseCertChain} from '../src/device/chain.js'
import {measurementSigningMessage} from '../src/device/transcript.js'
import {EvidenceObject} from '../src/device/tsm.js'
import {SPDM_VERSION_12, SpdmBaseAsym, asymSignatureSize} from '../src/abi/spdm.js'
import {parseCert} from '../src/x509/cert.js'
import {clearX509Memo} from '../src/x509/memo.js'
import {OPEN_PROFILE} from '../src/x509/profile.js'
import type {BenchResult} from './index.js'
import {interleaved, target} from './lib.js'

/** The tdx-connect profile's TSM limits (what the app layer takes from sysinfo). */
const LIMITS = {spdm_max_dev_info_pages: CONNECT_METADATA.spdm_max_dev_info_pages}

const SEED = 'tdxkit-bench'

function rate(fn: () => void, minMs = 1500): {perSec: number; n: number} {
  fn() // warm-up (key derivation, chain build, JIT)
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < minMs) {
    fn()
    n++
  }
  return {perSec: (n * 1000) / (performance.now() - t0), n}
}

/** Rounds of the interleaved comparisons. */
const ROUNDS = 9

/** What a verification of `bundle` signs and hashes, as sizes and objects (read once, outside the timing). */
function verificationPlan(bundle: EvidenceBundle) {
  const objects = [EvidenceObject.CERT0, EvidenceObject.VCA, EvidenceObject.MEASUREMENTS, EvidenceObject.REPORT].map((k) => bundle.objects.get(k)!)
  const chain = parseCertChain(bundle.objects.get(EvidenceObject.CERT0)!, 'sha384')
  const [root, inter, leaf] = chain.certs.map((d) => parseCert(d, OPEN_PROFILE))
  const vca = bundle.objects.get(EvidenceObject.VCA)!
  const l1l2 = Buffer.alloc(vca.length + bundle.objects.get(EvidenceObject.MEASUREMENTS)!.length - asymSignatureSize(SpdmBaseAsym.ECDSA_P384)!, 0x5a)
  return {objects, certs: chain.certs, rootHash: chain.has_header, tbs: [root.tbs.length, inter.tbs.length, leaf.tbs.length], l1l2, message: measurementSigningMessage(SPDM_VERSION_12, 'sha384', l1l2)}
}

/**
 * The floors: cold (per key in import order root, intermediate, leaf: import its SPKI fresh, check
 * its signatures) and warm (the measurement signature with a known key), each with its hashes.
 */
function floors(plan: ReturnType<typeof verificationPlan>): {cold: () => void; warm: () => void} {
  const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-384'})
  const spki = publicKey.export({type: 'spki', format: 'der'})
  const signed = (n: number) => {
    const data = Buffer.alloc(n, 0xa5)
    return {data, sig: sign('sha384', data, privateKey)}
  }
  const [rootTbs, interTbs, leafTbs] = plan.tbs.map(signed)
  const meas = {data: plan.message, sig: sign('sha384', plan.message, {key: privateKey, dsaEncoding: 'ieee-p1363'})}
  const check = (ok: boolean) => {
    if (!ok) throw new Error('device floor: signature')
  }
  const tsmAndTranscript = () => {
    for (const o of plan.objects) hash('sha384', o, 'buffer')
    createHash('sha384').update(plan.l1l2).digest()
  }
  const measurement = (key: typeof publicKey) => check(cryptoVerify('sha384', meas.data, {key, dsaEncoding: 'ieee-p1363'}, meas.sig))
  return {
    cold: () => {
      tsmAndTranscript()
      if (plan.rootHash) hash('sha384', plan.certs[0], 'buffer')
      for (const c of plan.certs) hash('sha256', c, 'hex')
      const rootKey = createPublicKey({key: spki, format: 'der', type: 'spki'})
      check(cryptoVerify('sha384', rootTbs.data, rootKey, rootTbs.sig))
      check(cryptoVerify('sha384', interTbs.data, rootKey, interTbs.sig))
      check(cryptoVerify('sha384', leafTbs.data, createPublicKey({key: spki, format: 'der', type: 'spki'}), leafTbs.sig))
      measurement(createPublicKey({key: spki, format: 'der', type: 'spki'}))
    },
    warm: () => {
      tsmAndTranscript()
      measurement(publicKey)
    },
  }
}

export default async function (): Promise<BenchResult[]> {
  const section: DevicesSection = {version: 1, devices: []}
  const rec = addDevice(section, SEED, {model: 'nic'})
  const dev = new DeviceRuntime(SEED, rec)
  tsmLock(dev, LIMITS)
  const nonce = Buffer.alloc(32, 7)
  const toBundle = (): EvidenceBundle => {
    const c = tsmCollect(dev, nonce, LIMITS)
    return {
      device: {id: rec.id, bdf: rec.bdf, function_id: rec.function_id, model: rec.model, vendor_id: 0, device_id: 0},
      pci: {bars: rec.bars.map((b) => ({index: b.index, size: BigInt(b.size)}))},
      nonce,
      objects: new Map(Object.entries(c.objects).map(([k, v]) => [Number(k), v])),
      tsm: {hash_alg: 'sha384', tdi_state: c.tdi_state, lock_generation: c.lock_generation, evidence_generation: c.evidence_generation, digests: new Map(Object.entries(c.digests).map(([k, v]) => [Number(k), v]))},
    }
  }
  const gen = rate(() => {
    encodeEvidence(toBundle())
  })
  const spec = modelSpec('nic')!
  const bundle = toBundle()
  bundle.device.vendor_id = spec.vendor_id
  bundle.device.device_id = spec.device_id
  const bytes = encodeEvidence(bundle)
  const ref = decodeCorim(goldenReference(SEED, spec))
  const at = new Date()
  const check = (ok: boolean) => {
    if (!ok) throw new Error('device bench: verification failed')
  }
  const warm = () => check(verifyDeviceEvidence({evidence: decodeEvidence(bytes), reference: ref, at, expected_nonce: nonce}).ok)
  const cold = () => {
    clearX509Memo()
    warm()
  }
  const floor = floors(verificationPlan(bundle))
  const coldFloor = floor.cold
  const warmFloor = floor.warm
  interleaved(2, {cold: 10, coldFloor: 10, warm: 50, warmFloor: 50}, {cold, coldFloor, warm, warmFloor}) // JIT warm-up
  const c = interleaved(ROUNDS, {cold: 15, coldFloor: 15}, {cold, coldFloor})
  const w = interleaved(ROUNDS, {warm: 60, warmFloor: 60}, {warm, warmFloor})
  const ms = (x: number) => Math.round(x * 1000) / 1000
  return [
    {name: 'device evidence generation', value: Math.round(gen.perSec * 10) / 10, unit: 'bundles/s', note: `SPDM 1.2, ECDSA P-384 RFC 6979, ${bytes.length}-byte bundle, ${gen.n} runs`},
    {name: 'device verify: cold floor (4 P-384 verifies, 3 fresh SPKI key imports, 9 hashes; node:crypto)', value: ms(c.coldFloor.best), unit: 'ms', note: `median ${c.coldFloor.median.toFixed(3)} ms`},
    {
      name: 'device verify: tdxkit cold (decode + 9 steps, X.509 and chain memos cleared)',
      value: ms(c.cold.best),
      unit: 'ms',
      target: target(c.cold.best, {name: 'cold floor', value: c.coldFloor.best}, '≤', 1.5),
      note: `median ${c.cold.median.toFixed(3)} ms, median ratio ${(c.cold.median / c.coldFloor.median).toFixed(2)}×; 3-cert P-384 chain`,
    },
    {name: 'device verify: warm floor (1 P-384 verify with a known key, 5 hashes; node:crypto)', value: ms(w.warmFloor.best), unit: 'ms', note: `median ${w.warmFloor.median.toFixed(3)} ms`},
    {
      name: 'device verify: tdxkit warm (decode + 9 steps, device chain seen before)',
      value: ms(w.warm.best),
      unit: 'ms',
      target: target(w.warm.best, {name: 'warm floor', value: w.warmFloor.best}, '≤', 1.5),
      note: `median ${w.warm.median.toFixed(3)} ms, median ratio ${(w.warm.median / w.warmFloor.median).toFixed(2)}×; ${Math.round(1000 / w.warm.best)} verdicts/s`,
    },
  ]
}
