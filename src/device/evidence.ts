/**
 * The evidence bundle: one CBOR file holding the device's evidence objects in the Linux pci-tsm
 * netlink shape (0 CERT0 = SPDM slot-0 chain, 8 VCA, 9 MEASUREMENTS = GET_MEASUREMENTS ‖
 * MEASUREMENTS, 10 REPORT = DEVICE_INTERFACE_REPORT) plus what the guest read from the TSM over
 * its trusted channel (TDI state, lock/evidence generations, SHA-384 digest per object), the
 * verifier's nonce and the device's PCI identity and BAR sizes (config space).
 *
 *   {"format": "tdxkit-device-evidence", "version": 1, "device": {...}, "pci": {"bars": [...]},
 *    "nonce": bstr32, "objects": {0: bstr, 8: bstr, 9: bstr, 10: bstr},
 *    "tsm": {"hash_alg": "sha384", "tdi_state": u8, "lock_generation": n, "evidence_generation": n,
 *            "digests": {0: bstr48, 8: …, 9: …, 10: …}}}
 */
import {ParseError} from '../errors.js'
import {asBytes, asMap, cbor} from './cbor.js'
import {EVIDENCE_OBJECT_NAMES, EvidenceObject} from './tsm.js'
import {tdiStateName} from '../abi/tdisp.js'
import type {HashName} from '../abi/spdm.js'

const EVIDENCE_FORMAT = 'tdxkit-device-evidence'
const EVIDENCE_VERSION = 1

export interface EvidenceBundle {
  device: {id: string; bdf: string; function_id: number; model: string; vendor_id: number; device_id: number}
  pci: {bars: Array<{index: number; size: bigint}>}
  nonce: Buffer
  objects: Map<number, Buffer>
  tsm: {hash_alg: HashName; tdi_state: number; lock_generation: number; evidence_generation: number; digests: Map<number, Buffer>}
}

export function encodeEvidence(b: EvidenceBundle): Buffer {
  const doc = new Map<string, unknown>([
    ['format', EVIDENCE_FORMAT],
    ['version', EVIDENCE_VERSION],
    ['device', new Map(Object.entries(b.device))],
    ['pci', new Map([['bars', b.pci.bars.map((x) => new Map<string, unknown>([['index', x.index], ['size', x.size]]))]])],
    ['nonce', b.nonce],
    ['objects', new Map([...b.objects.entries()].sort((x, y) => x[0] - y[0]))],
    [
      'tsm',
      new Map<string, unknown>([
        ['hash_alg', b.tsm.hash_alg],
        ['tdi_state', b.tsm.tdi_state],
        ['lock_generation', b.tsm.lock_generation],
        ['evidence_generation', b.tsm.evidence_generation],
        ['digests', new Map([...b.tsm.digests.entries()].sort((x, y) => x[0] - y[0]))],
      ]),
    ],
  ])
  return Buffer.from(cbor.encode(doc))
}

const bad = (what: string): never => {
  throw new ParseError('EVIDENCE_MALFORMED', `evidence bundle: ${what}`)
}

function num(m: Map<unknown, unknown>, k: string, what: string): number {
  const v = m.get(k)
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v)
  return bad(`${what}.${k} is not a non-negative integer`)
}

function str(m: Map<unknown, unknown>, k: string, what: string): string {
  const v = m.get(k)
  return typeof v === 'string' ? v : bad(`${what}.${k} is not a string`)
}

function byteMap(v: unknown, what: string): Map<number, Buffer> {
  const m = asMap(v) ?? bad(`${what} is not a map`)
  const out = new Map<number, Buffer>()
  for (const [k, val] of m) {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > 10) bad(`${what} key ${String(k)} is not an evidence object type 0-10`)
    out.set(k as number, asBytes(val) ?? bad(`${what}[${String(k)}] is not a byte string`))
  }
  return out
}

/** Decode and shape-check an evidence bundle (ParseError, exit 2, when malformed). */
export function decodeEvidence(buf: Uint8Array): EvidenceBundle {
  let v: unknown
  try {
    v = cbor.decode(buf)
  } catch (error) {
    throw new ParseError('EVIDENCE_NOT_CBOR', `evidence bundle is not valid CBOR: ${(error as Error).message}`)
  }
  const m = asMap(v) ?? bad('top level is not a map')
  if (m.get('format') !== EVIDENCE_FORMAT) bad(`format is not "${EVIDENCE_FORMAT}"`)
  if (m.get('version') !== EVIDENCE_VERSION) bad(`unsupported version ${String(m.get('version'))}`)
  const d = asMap(m.get('device')) ?? bad('device is not a map')
  const pci = asMap(m.get('pci')) ?? bad('pci is not a map')
  const bars = pci.get('bars')
  if (!Array.isArray(bars)) bad('pci.bars is not an array')
  const tsm = asMap(m.get('tsm')) ?? bad('tsm is not a map')
  const alg = str(tsm, 'hash_alg', 'tsm')
  if (alg !== 'sha256' && alg !== 'sha384' && alg !== 'sha512') bad(`tsm.hash_alg ${alg} unsupported`)
  const nonce = asBytes(m.get('nonce')) ?? bad('nonce is not a byte string')
  return {
    device: {
      id: str(d, 'id', 'device'),
      bdf: str(d, 'bdf', 'device'),
      function_id: num(d, 'function_id', 'device'),
      model: str(d, 'model', 'device'),
      vendor_id: num(d, 'vendor_id', 'device'),
      device_id: num(d, 'device_id', 'device'),
    },
    pci: {
      bars: (bars as unknown[]).map((b, i) => {
        const bm = asMap(b) ?? bad(`pci.bars[${i}] is not a map`)
        const size = bm.get('size')
        const big = typeof size === 'bigint' ? size : typeof size === 'number' && Number.isInteger(size) && size > 0 ? BigInt(size) : bad(`pci.bars[${i}].size is not an integer`)
        return {index: num(bm, 'index', `pci.bars[${i}]`), size: big}
      }),
    },
    nonce,
    objects: byteMap(m.get('objects'), 'objects'),
    tsm: {
      hash_alg: alg as HashName,
      tdi_state: num(tsm, 'tdi_state', 'tsm'),
      lock_generation: num(tsm, 'lock_generation', 'tsm'),
      evidence_generation: num(tsm, 'evidence_generation', 'tsm'),
      digests: byteMap(tsm.get('digests'), 'tsm.digests'),
    },
  }
}

/** A JSON view of a bundle (hex bytes, named objects) for `--json`. */
export function evidenceJson(b: EvidenceBundle): Record<string, unknown> {
  const named = (m: Map<number, Buffer>) => Object.fromEntries([...m.entries()].map(([k, v]) => [EVIDENCE_OBJECT_NAMES[k] ?? `object_${k}`, v.toString('hex')]))
  return {
    format: EVIDENCE_FORMAT,
    version: EVIDENCE_VERSION,
    device: b.device,
    pci: {bars: b.pci.bars.map((x) => ({index: x.index, size: '0x' + x.size.toString(16)}))},
    nonce: b.nonce.toString('hex'),
    objects: named(b.objects),
    tsm: {
      hash_alg: b.tsm.hash_alg,
      tdi_state: tdiStateName(b.tsm.tdi_state),
      lock_generation: b.tsm.lock_generation,
      evidence_generation: b.tsm.evidence_generation,
      digests: named(b.tsm.digests),
    },
  }
}

export {EvidenceObject}
