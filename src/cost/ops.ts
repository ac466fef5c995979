/**
 * Operation counts: what an allocator (and the GetQuote path around it) actually did, summed from
 * the guest's operation trace, and the pricing that turns them into modelled time with a profile.
 *
 * The pricing is the reference's §3.2–3.3 cost functions applied per recorded operation, so a
 * vmap + MapGPA request of P pages at V vCPUs prices to
 *   alloc = t_alloc + t_vmap + P·t_cfl + t_call + t_user·trips + P·(t_kick(V) + 3·t_seam + d_demote)
 *   free  = t_call + t_user·trips + P·t_seam + P·t_acc + t_vmap + φ·t_kick(V)
 * and forced exits of other vCPUs = (kicks + sync shootdowns + φ·lazy purges)·(V − 1).
 * A SWIOTLB streaming request prices to 2·t_slot (search + release) + scanned·t_slot_scan +
 * bounced/1 KiB · t_bounce_kib; its boot-time conversion is priced once, like a pool's init.
 */
import type {ResolvedCosts} from './profiles.js'

export const OP_KEYS = [
  'tdcalls',
  'other_tdcalls',
  'tdvmcalls',
  'accept_calls',
  'report_calls',
  'mapgpa_calls',
  'mapgpa_retries',
  'userspace_trips',
  'getquote_calls',
  'pages_to_shared',
  'pages_to_private',
  'pages_accepted',
  'sept_removals',
  'sept_adds',
  'vcpu_kicks',
  'tlb_flushes',
  'lazy_purges',
  'page_allocs',
  'vmaps',
  'vunmaps',
  'cache_flush_pages',
  'dm_splits_1g',
  'dm_splits_2m',
  'slot_ops',
  'slot_searches',
  'slots_scanned',
  'bounce_bytes',
  'bytes_copied',
  'polls',
  'notifies',
] as const
export type OpKey = (typeof OP_KEYS)[number]

/** Counters, all non-negative integers. */
export type OpCounts = Record<OpKey, number>

export const OP_DOCS: Record<OpKey, string> = {
  tdcalls: 'TDCALLs into the TDX module (all leaves, TDG.VP.VMCALL included)',
  other_tdcalls: 'TDCALLs other than TDG.VP.VMCALL, accepts and TDREPORTs (priced t_tdcall)',
  tdvmcalls: 'TDVMCALLs to the host (all leaves, incl. retried MapGPA)',
  accept_calls: 'TDG.MEM.PAGE.ACCEPT calls',
  report_calls: 'TDG.MR.REPORT calls',
  mapgpa_calls: 'MapGPA TDVMCALLs (each retry is another call)',
  mapgpa_retries: 'MapGPA calls answered TDVMCALL_RETRY (partial progress)',
  userspace_trips: 'TDVMCALL round trips through the userspace VMM (≤ 2 MiB per MapGPA trip, GetQuote)',
  getquote_calls: 'GetQuote TDVMCALLs',
  pages_to_shared: '4 KiB pages converted private → shared',
  pages_to_private: '4 KiB pages converted shared → private',
  pages_accepted: '4 KiB pages accepted (TDG.MEM.PAGE.ACCEPT, host AUG)',
  sept_removals: 'S-EPT private entries removed by the host (BLOCK/TRACK/REMOVE)',
  sept_adds: 'S-EPT private entries added by the host (AUG)',
  vcpu_kicks: 'host "kick every vCPU out of the TD" events',
  tlb_flushes: 'synchronous guest TLB shootdowns (IPI to every other vCPU)',
  lazy_purges: 'lazy vmap purges (a shootdown with probability φ)',
  page_allocs: 'contiguous page allocations',
  vmaps: 'vmap of a buffer with decrypted protection',
  vunmaps: 'vunmap of a buffer',
  cache_flush_pages: '4 KiB pages flushed from the cache before conversion',
  dm_splits_1g: 'direct-map 1 GiB mappings split into 2 MiB',
  dm_splits_2m: 'direct-map 2 MiB mappings split into 4 KiB',
  slot_ops: 'pool slot takes and returns (pre-shared pool), SWIOTLB slot releases',
  slot_searches: 'SWIOTLB slot searches (swiotlb_find_slots, under an area lock)',
  slots_scanned: 'SWIOTLB slot positions examined by those searches',
  bounce_bytes: 'bytes bounced between a private buffer and SWIOTLB slots (swiotlb_bounce)',
  bytes_copied: 'bytes copied into / out of the shared buffer',
  polls: 'guest status checks of the shared buffer while waiting',
  notifies: 'completion notify interrupts',
}

export function zeroOps(): OpCounts {
  const o = {} as OpCounts
  for (const k of OP_KEYS) o[k] = 0
  return o
}

/** acc += add (in place); returns acc. */
export function addOps(acc: OpCounts, add: Readonly<OpCounts>, times = 1): OpCounts {
  for (const k of OP_KEYS) acc[k] += add[k] * times
  return acc
}

export function sumOps(...list: Readonly<OpCounts>[]): OpCounts {
  const o = zeroOps()
  for (const x of list) addOps(o, x)
  return o
}

export function opsEqual(a: Readonly<OpCounts>, b: Readonly<OpCounts>): boolean {
  for (const k of OP_KEYS) if (a[k] !== b[k]) return false
  return true
}

/** Counts divided by n (per-request figures). */
export function scaleOps(a: Readonly<OpCounts>, f: number): Record<OpKey, number> {
  const o = {} as Record<OpKey, number>
  for (const k of OP_KEYS) o[k] = a[k] * f
  return o
}

/** A compact, stable key of the non-zero counters (for trace memoisation and test messages). */
export function opsSignature(a: Readonly<OpCounts>): string {
  let s = ''
  for (const k of OP_KEYS) if (a[k] !== 0) s += `${k}=${a[k]};`
  return s
}

/** Modelled guest-visible time (µs) of a set of operations. Host service time T_q is not in here. */
export function priceOps(o: Readonly<OpCounts>, c: Readonly<ResolvedCosts>): number {
  // `tdcalls` is the reported total; TDVMCALLs, accepts and TDREPORTs have their own costs.
  return (
    o.other_tdcalls * c.t_tdcall +
    o.report_calls * c.t_report +
    o.pages_accepted * c.t_acc +
    o.tdvmcalls * c.t_call +
    o.userspace_trips * c.t_user +
    o.sept_removals * (3 * c.t_seam + c.d_demote) +
    o.pages_to_private * c.t_seam +
    o.vcpu_kicks * c.t_kick +
    o.tlb_flushes * c.t_kick +
    o.lazy_purges * c.phi * c.t_kick +
    o.page_allocs * c.t_alloc +
    (o.vmaps + o.vunmaps) * c.t_vmap +
    o.cache_flush_pages * c.t_cfl +
    (o.dm_splits_1g + o.dm_splits_2m) * c.t_split +
    (o.slot_ops + o.slot_searches) * c.t_slot +
    o.slots_scanned * c.t_slot_scan +
    (o.bytes_copied / 1024) * c.t_copy_kib +
    (o.bounce_bytes / 1024) * c.t_bounce_kib +
    o.notifies * c.t_notify
  )
}

/** Exits forced on the TD's other vCPUs by these operations (reference §3.3). */
export function forcedExits(o: Readonly<OpCounts>, c: Readonly<ResolvedCosts>, vcpus: number): number {
  return (o.vcpu_kicks + o.tlb_flushes + c.phi * o.lazy_purges) * Math.max(0, vcpus - 1)
}

/** TLB shootdowns actually run (synchronous ones plus the φ share of lazy purges). */
export function effectiveTlbFlushes(o: Readonly<OpCounts>, c: Readonly<ResolvedCosts>): number {
  return o.tlb_flushes + c.phi * o.lazy_purges
}

/** S-EPT transitions on the host (removals + additions). */
export function septChanges(o: Readonly<OpCounts>): number {
  return o.sept_removals + o.sept_adds
}
