/**
 * Tamper sweeps: flip bytes (or bits) of the signed / bound regions of simulated evidence and count
 * the mutants the verifier accepts (must be 0). Shared by the test suite (a bounded sweep) and the
 * long campaign (every byte and every bit).
 */
import {createHash} from 'node:crypto'
import {decodeEvidence, encodeEvidence, type EvidenceBundle} from '../../../src/device/evidence.js'
import {verifyDeviceEvidence} from '../../../src/device/verifier.js'
import {quoteTdReport} from '../../../src/host/qe.js'
import type {CorimDocument} from '../../../src/device/corim.js'
import {TdxkitError} from '../../../src/errors.js'
import type {StateDoc} from '../../../src/state/store.js'
import {FUZZ_AT, FUZZ_NONCE, type Corpora} from './seeds.js'

export interface SweepResult {
  tried: number
  accepted: number
  /** first accepted mutants, for the failure message */
  examples: string[]
}

interface DeviceSweepOptions {
  object: number
  /** region of the object to sweep [start, end) (default: all of it) */
  range?: [number, number]
  mode: 'byte' | 'bit'
  /** sweep every `stride`-th position (1 = all) */
  stride?: number
  /** recompute the TSM digest after the flip (a compromised TSM): then the SPDM crypto must catch it */
  redigest: boolean
  /** reference values for this bundle (default: the nic0 reference) */
  reference?: CorimDocument
}

const clone = (b: EvidenceBundle): EvidenceBundle => decodeEvidence(encodeEvidence(b))

export function deviceTamperSweep(bundleBytes: Buffer, c: Corpora, o: DeviceSweepOptions): SweepResult {
  const base = decodeEvidence(bundleBytes)
  const reference = o.reference ?? c.reference
  const baseline = verifyDeviceEvidence({evidence: base, reference, at: FUZZ_AT, expected_nonce: FUZZ_NONCE})
  if (!baseline.ok) throw new Error(`baseline bundle does not verify: ${baseline.failed_steps.join(', ')}`)
  const obj = base.objects.get(o.object)!
  const [start, end] = o.range ?? [0, obj.length]
  const res: SweepResult = {tried: 0, accepted: 0, examples: []}
  const stride = o.stride ?? 1
  for (let pos = start; pos < end; pos += stride) {
    for (const mask of o.mode === 'byte' ? [0xff] : [1, 2, 4, 8, 16, 32, 64, 128]) {
      const ev = clone(base)
      const m = ev.objects.get(o.object)!
      m[pos] ^= mask
      if (o.redigest) ev.tsm.digests.set(o.object, createHash(ev.tsm.hash_alg).update(m).digest())
      const v = verifyDeviceEvidence({evidence: ev, reference, at: FUZZ_AT, expected_nonce: FUZZ_NONCE})
      res.tried++
      if (v.ok) {
        res.accepted++
        if (res.examples.length < 5) res.examples.push(`object ${o.object} byte ${pos} ^ 0x${mask.toString(16)}`)
      }
    }
  }
  return res
}

/**
 * Flip every byte (or bit) of a simulated TDREPORT: the quoting enclave must refuse it, or, for the
 * 17 reserved bytes between TEE_TCB_INFO and TDINFO (outside the MAC and both hashes on real
 * hardware too), produce exactly the quote of the untouched report ("inert"). A mutant that yields
 * a different quote counts as accepted.
 */
export function tdreportTamperSweep(doc: StateDoc, tdreport: Buffer, mode: 'byte' | 'bit'): SweepResult & {inert: number; codes: Record<string, number>} {
  const baseline = quoteTdReport(doc, tdreport)
  const res = {tried: 0, accepted: 0, inert: 0, examples: [] as string[], codes: {} as Record<string, number>}
  for (let pos = 0; pos < tdreport.length; pos++) {
    for (const mask of mode === 'byte' ? [0xff] : [1, 2, 4, 8, 16, 32, 64, 128]) {
      const t = Buffer.from(tdreport)
      t[pos] ^= mask
      res.tried++
      let quote: Buffer
      try {
        quote = quoteTdReport(doc, t)
      } catch (error) {
        if (!(error instanceof TdxkitError)) throw error
        res.codes[error.code] = (res.codes[error.code] ?? 0) + 1
        continue
      }
      if (quote.equals(baseline)) res.inert++
      else {
        res.accepted++
        if (res.examples.length < 5) res.examples.push(`byte ${pos} ^ 0x${mask.toString(16)}`)
      }
    }
  }
  return res
}
