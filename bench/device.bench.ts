/**
 * Device evidence throughput, in process (no CLI start-up): evidence generation (SPDM VCA +
 * chunked GET_CERTIFICATE + signed GET_MEASUREMENTS with RFC 6979 P-384, report, TSM digests)
 * and verification (every verifier step, certificate chain included).
 */
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

export default async function () {
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
  let ok = true
  const ver = rate(() => {
    ok = verifyDeviceEvidence({evidence: decodeEvidence(bytes), reference: ref, at, expected_nonce: nonce}).ok && ok
  })
  if (!ok) throw new Error('device bench: verification failed')
  return [
    {name: 'device evidence generation', value: Math.round(gen.perSec * 10) / 10, unit: 'bundles/s', note: `SPDM 1.2, ECDSA P-384 RFC 6979, ${bytes.length}-byte bundle, ${gen.n} runs`},
    {name: 'device evidence verification', value: Math.round(ver.perSec * 10) / 10, unit: 'verdicts/s', note: `9 steps incl. 3-cert P-384 chain, ${ver.n} runs`},
  ]
}
