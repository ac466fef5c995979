/**
 * Cost profiles: every primitive cost the allocator comparison prices an operation trace with,
 * each carrying its source and how much to trust it. Figures come from the project's reference
 * notes (shared/reference/cost-model.md, §1 table rows and §3.1 defaults); a figure nobody has
 * measured stays tagged `estimated` and is shown as such in every output.
 *
 * Kinds follow the reference's legend:
 *   measured  – measured on real TDX hardware by the cited source (M)
 *   derived   – arithmetic on a measured figure (D)
 *   local     – measured by the reference's authors on a non-TDX VM, CPU-bound costs only (L)
 *   estimated – engineering judgement, a default knob only (E)
 *   fact      – a property of code or spec, no timing (F)
 */

export type CostKind = 'measured' | 'derived' | 'local' | 'estimated' | 'fact'
export const COST_KINDS: readonly CostKind[] = ['measured', 'derived', 'local', 'estimated', 'fact']
export type Confidence = 'high' | 'medium' | 'low'
export const CONFIDENCES: readonly Confidence[] = ['high', 'medium', 'low']

/** Scalar primitives (all durations in µs). */
export const SCALAR_KEYS = [
  't_tdcall',
  't_report',
  't_call',
  't_user',
  't_seam',
  't_acc',
  't_cfl',
  't_vmap',
  't_alloc',
  't_split',
  'd_demote',
  't_copy_kib',
  't_slot',
  't_slot_scan',
  't_bounce_kib',
  't_notify',
  't_quote',
  'poll_interval',
  'phi',
  'qgs_workers',
] as const
export type ScalarKey = (typeof SCALAR_KEYS)[number]
/** Primitives that depend on the TD's vCPU count (a curve of points, interpolated). */
export const CURVE_KEYS = ['t_kick'] as const
export type CurveKey = (typeof CURVE_KEYS)[number]
export type PrimitiveKey = ScalarKey | CurveKey

export type PrimitiveUnit = 'us' | 'ratio' | 'count'

/** What each primitive means (for help text, JSON and the README). */
export const PRIMITIVE_DOCS: Record<PrimitiveKey, {unit: PrimitiveUnit; doc: string}> = {
  t_tdcall: {unit: 'us', doc: 'TDCALL round trip for a leaf served by the TDX module alone'},
  t_report: {unit: 'us', doc: 'TDG.MR.REPORT (TDREPORT generation)'},
  t_call: {unit: 'us', doc: 'TDVMCALL handled inside KVM (exit + entry)'},
  t_user: {unit: 'us', doc: 'extra per TDVMCALL trip forwarded to the userspace VMM (MapGPA chunk, GetQuote)'},
  t_seam: {unit: 'us', doc: 'one host SEAMCALL (BLOCK / TRACK / REMOVE / WBINVD / AUG)'},
  t_acc: {unit: 'us', doc: 'accept one 4 KiB page incl. the EPT-violation exit and TDH.MEM.PAGE.AUG'},
  t_cfl: {unit: 'us', doc: 'guest cache flush of one 4 KiB page before private→shared'},
  t_vmap: {unit: 'us', doc: 'vmap or vunmap of the buffer'},
  t_alloc: {unit: 'us', doc: 'physically contiguous page allocation (unbounded under compaction)'},
  t_split: {unit: 'us', doc: 'guest direct-map split (allocate a page-table page, rewrite 512 entries)'},
  d_demote: {unit: 'us', doc: 'S-EPT 2M→4K demote per converted page (upstream KVM maps private memory 4K-only)'},
  t_copy_kib: {unit: 'us', doc: 'memcpy of 1 KiB (bounce / buffer copies)'},
  t_slot: {unit: 'us', doc: 'take or return one pre-shared pool slot; one SWIOTLB slot search or release (area lock + bookkeeping)'},
  t_slot_scan: {unit: 'us', doc: 'one SWIOTLB slot position examined by the next-fit search (a load and a compare)'},
  t_bounce_kib: {unit: 'us', doc: 'SWIOTLB bounce copy of 1 KiB (memcpy into / out of pool slots, usually cache-cold)'},
  t_notify: {unit: 'us', doc: 'delivery of the GetQuote completion notify interrupt'},
  t_quote: {unit: 'us', doc: 'host quote service time T_q (QGS + quoting enclave) per quote'},
  poll_interval: {unit: 'us', doc: 'guest poll interval Δ when completion is polled'},
  phi: {unit: 'ratio', doc: 'share of vmap frees whose lazy purge runs a TLB shootdown synchronously (φ)'},
  qgs_workers: {unit: 'count', doc: 'quotes the host service works on in parallel'},
  t_kick: {unit: 'us', doc: 'force every vCPU of the TD out and wait for the acks (TD exit round trip), by vCPU count'},
}

export interface Provenance {
  kind: CostKind
  confidence: Confidence
  source: string
  /** Plausible range from the source, when it gives one. */
  range?: [number, number]
}

export interface ScalarPrimitive extends Provenance {
  value: number
}

export interface CurvePoint extends Provenance {
  vcpus: number
  value: number
}

export interface CostProfile {
  name: string
  title: string
  description: string
  /** Where the profile came from: 'builtin', a file path. */
  origin: string
  scalars: Record<ScalarKey, ScalarPrimitive>
  curves: Record<CurveKey, CurvePoint[]>
}

// ---- sources (short citations, the reference's rows) ------------------------------------------
const SRC = {
  row1: 'cost-model §1 row 1: no public number (TUM-DSE/CVM_eval vmexit harness exists)',
  row2: 'cost-model §1 row 2: Dstack-TEE/dstack "TDX guest scaling knobs", PR #1219 (Granite Rapids, Linux 7.0 KVM)',
  row3: 'cost-model §1 row 3 / §3.1 t_call: bounded by row 2, no direct public number',
  row4: 'cost-model §1 row 4 / §3.1 t_user: mechanism arch/x86/kvm/vmx/tdx.c, no number',
  row5: 'cost-model §1 row 5: LKML Jun Miao / Kirill Shutemov 2024-01-09 (Sapphire Rapids, 8 GiB in 15.2–15.5 s)',
  row6: 'cost-model §1 row 6: Dstack-TEE/dstack PR #1220 (Granite Rapids, 8 µs uncontended)',
  row10: 'cost-model §1 row 10: TDH.MEM.PAGE.DEMOTE unused upstream (private memory 4K-only)',
  row11: 'cost-model §1 row 11 / §3.1 t_seam: SEAMCALL cost not published',
  row13: 'cost-model §1 row 13 / §3.1 t_cfl: 64 cache-line flushes per 4 KiB',
  alloc: 'cost-model §3.1 t_vmap / t_alloc: engineering estimate',
  split: 'cost-model §3.1 t_split: engineering estimate (2–5 µs)',
  row19: 'cost-model §1 row 19: Buffer.copy of 8 KiB ≈ 0.3 µs cache-hot (2-vCPU AMD EPYC VM, not TDX)',
  slot: 'cost-model §3.4 B1_request t_slot: engineering estimate (0.2–1 µs) for a SWIOTLB slot search under the area spinlock',
  scan: 'estimate: one io_tlb_slot.list load + compare per slot examined (kernel/dma/swiotlb.c v6.6 swiotlb_area_find_slots); no measurement',
  bounce: 'cost-model §1 row 19: 8 KiB ≈ 4 µs streaming from cold memory (≈ 0.3 µs cache-hot), 2-vCPU AMD EPYC VM, not TDX; cold chosen: next-fit walks the whole pool, so slots are rarely cache-hot',
  notify: 'estimate: one interrupt injection ≈ one TD exit round trip (row 2, uncontended)',
  tq_gnr: 'cost-model §5: LKML Jun Miao 2026-02-11, GetQuote host service ≈ 4 ms (Granite Rapids, DCAP 1.22 QGS)',
  tq_gcp: 'cost-model §5: flashbots/attested-tls-benchmarks, configfs-tsm quote on GCP 39.1 ms mean',
  poll: 'cost-model §3.1 Δ: 5 ms as proposed for mainline in 2026 (mainline today: 1 s; downstream 10 ms)',
  phi: 'cost-model §3.3 φ: worked numbers use φ = 1 (every free purges synchronously)',
  qgs: 'cost-model §3.8 / §5: GCP throughput flat at ≈ 25.5 quotes/s from 1 to 128 callers (host serialises)',
  report: 'cost-model §5: no public TDG.MR.REPORT measurement; default 5–50 µs',
} as const

const s = (value: number, kind: CostKind, confidence: Confidence, source: string, range?: [number, number]): ScalarPrimitive => ({
  value,
  kind,
  confidence,
  source,
  ...(range ? {range} : {}),
})

/** The reference's §3.1 defaults; platform profiles override what their platform has numbers for. */
function referenceScalars(): Record<ScalarKey, ScalarPrimitive> {
  return {
    t_tdcall: s(2, 'estimated', 'low', SRC.row1, [1, 3]),
    t_report: s(20, 'estimated', 'low', SRC.report, [5, 50]),
    t_call: s(5, 'estimated', 'low', SRC.row3, [3, 10]),
    t_user: s(10, 'estimated', 'low', SRC.row4, [5, 20]),
    t_seam: s(2, 'estimated', 'low', SRC.row11),
    t_acc: s(7.5, 'derived', 'medium', SRC.row5, [7, 14]),
    t_cfl: s(0.3, 'estimated', 'low', SRC.row13, [0.1, 0.5]),
    t_vmap: s(2, 'estimated', 'low', SRC.alloc),
    t_alloc: s(1, 'estimated', 'low', SRC.alloc),
    t_split: s(3.5, 'estimated', 'low', SRC.split, [2, 5]),
    d_demote: s(0, 'fact', 'high', SRC.row10),
    t_copy_kib: s(1024 / 25e3, 'local', 'medium', SRC.row19, [1024 / 25e3, 1024 / 2e3]),
    t_slot: s(0.5, 'estimated', 'low', SRC.slot, [0.2, 1]),
    t_slot_scan: s(0.002, 'estimated', 'low', SRC.scan, [0.001, 0.01]),
    t_bounce_kib: s(4 / 8, 'local', 'medium', SRC.bounce, [0.3 / 8, 4 / 8]),
    t_notify: s(5, 'estimated', 'low', SRC.notify),
    t_quote: s(4000, 'measured', 'high', SRC.tq_gnr),
    poll_interval: s(5000, 'fact', 'high', SRC.poll, [1000, 1_000_000]),
    phi: s(1, 'estimated', 'medium', SRC.phi, [0, 1]),
    qgs_workers: s(1, 'measured', 'medium', SRC.qgs),
  }
}

/** t_kick(V) on Granite Rapids: measured at 32 and 248 vCPUs, estimated for small TDs. */
function gnrKick(): CurvePoint[] {
  return [
    {vcpus: 8, value: 5, kind: 'estimated', confidence: 'low', source: 'cost-model §3.1 t_kick: 5 µs for V ≤ 8 (estimate)'},
    {vcpus: 32, value: 9, kind: 'measured', confidence: 'medium', source: SRC.row2 + ' — ≈ 9 µs at 32 vCPUs'},
    {vcpus: 248, value: 170, kind: 'measured', confidence: 'medium', source: SRC.row2 + ' — ≈ 170 µs at 248 vCPUs (loaded)'},
  ]
}

function granite(): CostProfile {
  const scalars = referenceScalars()
  // The reference's default (7.5 µs) sits between Sapphire Rapids' 7.2–8.0 µs and Granite Rapids'
  // 8 µs uncontended accept fault; a contended fault (153 µs at 248 idle vCPUs) is a --cost override.
  scalars.t_acc = s(7.5, 'derived', 'medium', `${SRC.row5}; ${SRC.row6}`, [7, 14])
  return {
    name: 'granite-rapids',
    title: 'Intel Granite Rapids, upstream TDX KVM, bare-metal QGS (DCAP 1.22)',
    description: 'The reference defaults: t_kick measured at 32 / 248 vCPUs, T_q = 4 ms, Δ = 5 ms polling.',
    origin: 'builtin',
    scalars,
    curves: {t_kick: gnrKick()},
  }
}

function sapphire(): CostProfile {
  const scalars = referenceScalars()
  scalars.t_acc = s(7.5, 'derived', 'medium', SRC.row5, [7.2, 8])
  scalars.t_quote = s(4000, 'estimated', 'low', 'assumed equal to Granite Rapids (' + SRC.tq_gnr + ')')
  return {
    name: 'sapphire-rapids',
    title: 'Intel Sapphire Rapids (4th Gen Xeon), upstream TDX KVM',
    description: 'Accept cost measured on Sapphire Rapids; no public TD-exit scaling data, so t_kick is estimated from the Granite Rapids shape.',
    origin: 'builtin',
    scalars,
    curves: {
      t_kick: gnrKick().map((p) => ({
        ...p,
        kind: 'estimated' as const,
        confidence: 'low' as const,
        source: `no Sapphire Rapids measurement; assumed like Granite Rapids (${p.value} µs at ${p.vcpus} vCPUs)`,
      })),
    },
  }
}

function gcp(): CostProfile {
  const scalars = referenceScalars()
  scalars.t_quote = s(39_000, 'measured', 'high', SRC.tq_gcp, [38_900, 40_700])
  scalars.qgs_workers = s(1, 'measured', 'high', SRC.qgs)
  return {
    name: 'gcp',
    title: 'Google Cloud TDX VM (configfs-tsm quotes)',
    description: 'Cloud preset: T_q = 39 ms, host serialises quote generation; guest-side primitives as the reference defaults.',
    origin: 'builtin',
    scalars,
    curves: {
      t_kick: gnrKick().map((p) => ({
        ...p,
        kind: 'estimated' as const,
        confidence: 'low' as const,
        source: `no GCP measurement; assumed like Granite Rapids (${p.value} µs at ${p.vcpus} vCPUs)`,
      })),
    },
  }
}

const BUILTINS: Record<string, () => CostProfile> = {
  'granite-rapids': granite,
  'sapphire-rapids': sapphire,
  gcp,
}
/** Short aliases accepted by --profile. */
const ALIASES: Record<string, string> = {gnr: 'granite-rapids', spr: 'sapphire-rapids', default: 'granite-rapids'}

export const DEFAULT_PROFILE = 'granite-rapids'

export function builtinProfileNames(): string[] {
  return Object.keys(BUILTINS)
}

/** A fresh copy of a builtin profile, or undefined. */
export function builtinProfile(name: string): CostProfile | undefined {
  const key = ALIASES[name] ?? name
  return BUILTINS[key]?.()
}

/** Provenance of t_kick at V: the point's own when V is a measured point, else the weakest of its neighbours. */
export function curveAt(points: readonly CurvePoint[], v: number): {value: number} & Provenance {
  if (points.length === 0) throw new Error('empty curve')
  const pts = [...points].sort((a, b) => a.vcpus - b.vcpus)
  const exact = pts.find((p) => p.vcpus === v)
  if (exact) return {...exact}
  if (pts.length === 1 || v <= pts[0].vcpus) {
    const p = pts[0]
    return {value: p.value, kind: p.kind === 'measured' ? 'derived' : p.kind, confidence: p.confidence, source: `${p.source}; used for V ≤ ${p.vcpus}`}
  }
  let i = pts.findIndex((p) => p.vcpus > v)
  if (i === -1) i = pts.length - 1 // extrapolate with the last segment
  const a = pts[i - 1]
  const b = pts[i]
  const value = Math.max(0, a.value + ((b.value - a.value) * (v - a.vcpus)) / (b.vcpus - a.vcpus))
  const weak = [a, b].some((p) => p.kind === 'estimated') ? 'estimated' : 'derived'
  const conf: Confidence = a.confidence === 'low' || b.confidence === 'low' ? 'low' : 'medium'
  const how = v > b.vcpus ? 'extrapolated' : 'interpolated'
  return {value, kind: weak, confidence: conf, source: `${how} linearly between ${a.vcpus} vCPUs (${a.value} µs) and ${b.vcpus} vCPUs (${b.value} µs)`}
}

/** Every primitive resolved to a number for one TD size: what the pricing inner loop uses. */
export type ResolvedCosts = Record<PrimitiveKey, number>

export function resolveCosts(p: CostProfile, vcpus: number): ResolvedCosts {
  const out = {} as ResolvedCosts
  for (const k of SCALAR_KEYS) out[k] = p.scalars[k].value
  for (const k of CURVE_KEYS) out[k] = curveAt(p.curves[k], vcpus).value
  return out
}

/** One row per primitive (for --json and the profile listing): value at V, unit, kind, source. */
export function describeProfile(p: CostProfile, vcpus: number): Array<{key: PrimitiveKey; value: number; unit: PrimitiveUnit; kind: CostKind; confidence: Confidence; source: string; doc: string; range?: [number, number]}> {
  const rows = []
  for (const k of SCALAR_KEYS) {
    const prim = p.scalars[k]
    rows.push({key: k, value: prim.value, unit: PRIMITIVE_DOCS[k].unit, kind: prim.kind, confidence: prim.confidence, source: prim.source, doc: PRIMITIVE_DOCS[k].doc, ...(prim.range ? {range: prim.range} : {})})
  }
  for (const k of CURVE_KEYS) {
    const at = curveAt(p.curves[k], vcpus)
    rows.push({key: k, value: at.value, unit: PRIMITIVE_DOCS[k].unit, kind: at.kind, confidence: at.confidence, source: at.source, doc: `${PRIMITIVE_DOCS[k].doc} (at ${vcpus} vCPUs)`})
  }
  return rows
}
