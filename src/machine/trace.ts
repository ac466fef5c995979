/**
 * The operation trace: one record of everything the guest, the TDX module boundary and the host do
 * while shared buffers are allocated, used and freed. `quote generate --trace` prints it; the
 * allocator comparison (issue 6) drives the same allocators and turns the same events into modelled
 * time, so every cost primitive of shared/reference/cost-model.md §3 has its own event kind.
 *
 * Events carry a `count` (pages, bytes, forced exits ...) so a 2-page conversion is one event, and
 * counters are kept even when events are not retained (`record: false`) so a million modelled
 * requests stay cheap. Listeners see every event as it happens.
 */

export type TraceLayer = 'guest' | 'tdcall' | 'tdvmcall' | 'host'

export type OpKind =
  /** A TDCALL issued by the guest (other than TDG.VP.VMCALL): leaf name, status. */
  | 'tdcall'
  /** TDG.VP.VMCALL: sub-function name, R10 status. */
  | 'tdvmcall'
  /** Guest page allocator: `count` contiguous 4 KiB pages allocated / freed. */
  | 'page_alloc'
  | 'page_free'
  /** vmap / vunmap of `count` pages (vmalloc area; direct map untouched). */
  | 'vmap'
  | 'vunmap'
  /** Cache lines of `count` pages written back before private→shared. */
  | 'cache_flush'
  /** Guest TLB shootdown (IPIs to every vCPU; `count` = pages, 0 = full flush). */
  | 'tlb_flush'
  /** Lazy vmap purge after vunmap (a shootdown the kernel may batch). */
  | 'lazy_purge'
  /** Kernel direct map: one large mapping split (`level` '1G' → 512×2M, '2M' → 512×4K). */
  | 'dm_split'
  /** Kernel direct map: protection of `count` pages changed (set_memory_{de,en}crypted). */
  | 'dm_prot'
  /** Host: one KVM_HC_MAP_GPA_RANGE userspace round trip (≤ 2 MiB). */
  | 'mapgpa_chunk'
  /** Guest: MapGPA answered RETRY; `detail` says whether progress was made. */
  | 'mapgpa_retry'
  /** Host: private S-EPT leaf removed (BLOCK, TRACK, REMOVE, WBINVD) for `count` pages. */
  | 'sept_remove'
  /** Host: shared EPT entries zapped for `count` pages (shared→private, cheap). */
  | 'sept_zap_shared'
  /** Host: TDH.MEM.PAGE.AUG on the EPT violation raised by an accept, `count` pages. */
  | 'sept_aug'
  /** Host: every other vCPU kicked out of the TD, `count` times; `exits` = forced exits in all. */
  | 'vcpu_kick'
  /** Guest: `count` pages accepted (TDG.MEM.PAGE.ACCEPT succeeded). */
  | 'accept'
  /** Bytes copied into or out of a shared buffer (`count` bytes). */
  | 'copy'
  /** Pre-shared pool slot taken / returned; SWIOTLB slots released (swiotlb_release_slots). */
  | 'slot_alloc'
  | 'slot_free'
  /** SWIOTLB slot search (swiotlb_area_find_slots): `count` slots examined under the area lock. */
  | 'slot_search'
  /** SWIOTLB bounce copy (swiotlb_bounce): `count` bytes between the original buffer and its slots. */
  | 'bounce'
  /** DMA API: a streaming mapping made / torn down (dma_map_single / dma_unmap_single). */
  | 'dma_map'
  | 'dma_unmap'
  /** A driver lock taken / released (e.g. tdx-guest's quote_lock). */
  | 'lock'
  /** A driver / device registration step (platform device for the DMA API, misc device, …). */
  | 'device'
  /** Shared-buffer lifetime: `count` bytes became shared / private (memory held shared). */
  | 'shared_delta'
  /** Guest slept one poll interval and read the status word. */
  | 'poll'
  /** Guest waited for and took the event-notify interrupt. */
  | 'notify_irq'
  /** Host QGS/QE produced (or refused) a quote. */
  | 'quote_service'
  /** One quote request started / finished (for per-request accounting). */
  | 'request_begin'
  | 'request_end'
  /** A pool had no free slot (pre-shared pool, SWIOTLB "swiotlb buffer is full", busy quote buffer). */
  | 'pool_exhausted'
  /** Pages deliberately leaked after a failed conversion. */
  | 'leak'
  /** A failure (error code in `detail`). */
  | 'failure'
  | 'note'

export interface TraceEvent {
  seq: number
  kind: OpKind
  layer: TraceLayer
  /** TDCALL leaf / TDVMCALL sub-function / operation name. */
  name: string
  count?: number
  level?: '1G' | '2M' | '4K'
  /** vcpu_kick: exits forced on other vCPUs (count × (vCPUs − 1)). */
  exits?: number
  status?: bigint
  status_name?: string
  gpa?: bigint
  detail?: string
  /** When the operation happens in the TD's life: at boot (e.g. the SWIOTLB conversion) or driver init. */
  phase?: 'boot' | 'init'
}

export interface TraceCounters {
  tdcalls: number
  tdvmcalls: number
  mapgpa_calls: number
  mapgpa_retries: number
  mapgpa_chunks: number
  /** TDVMCALLs that went through the userspace VMM: MapGPA chunks (≤ 2 MiB each) and GetQuote. */
  userspace_trips: number
  getquote_calls: number
  report_calls: number
  pages_to_shared: number
  pages_to_private: number
  pages_accepted: number
  accept_calls: number
  sept_removals: number
  sept_zaps: number
  sept_adds: number
  sept_changes: number
  vcpu_kicks: number
  forced_exits: number
  /** Synchronous guest TLB shootdowns. */
  tlb_flushes: number
  /** Lazy vmap purges (vunmap): a shootdown that may be batched. */
  lazy_purges: number
  cache_flush_pages: number
  dm_splits_1g: number
  dm_splits_2m: number
  dm_prot_pages: number
  vmaps: number
  vunmaps: number
  page_allocs: number
  page_frees: number
  bytes_copied: number
  slot_allocs: number
  slot_frees: number
  /** slot_allocs + slot_frees. */
  slot_ops: number
  /** SWIOTLB slot searches, and the slots they examined. */
  slot_searches: number
  slots_scanned: number
  /** SWIOTLB bounce copies (bytes). */
  bounce_bytes: number
  dma_maps: number
  dma_unmaps: number
  polls: number
  notifies: number
  quotes_generated: number
  quote_failures: number
  requests: number
  pool_exhaustions: number
  pages_leaked: number
  failures: number
  shared_bytes_now: number
  shared_bytes_peak: number
}

export const emptyCounters = (): TraceCounters => ({
  tdcalls: 0,
  tdvmcalls: 0,
  mapgpa_calls: 0,
  mapgpa_retries: 0,
  mapgpa_chunks: 0,
  userspace_trips: 0,
  getquote_calls: 0,
  report_calls: 0,
  pages_to_shared: 0,
  pages_to_private: 0,
  pages_accepted: 0,
  accept_calls: 0,
  sept_removals: 0,
  sept_zaps: 0,
  sept_adds: 0,
  sept_changes: 0,
  vcpu_kicks: 0,
  forced_exits: 0,
  tlb_flushes: 0,
  lazy_purges: 0,
  cache_flush_pages: 0,
  dm_splits_1g: 0,
  dm_splits_2m: 0,
  dm_prot_pages: 0,
  vmaps: 0,
  vunmaps: 0,
  page_allocs: 0,
  page_frees: 0,
  bytes_copied: 0,
  slot_allocs: 0,
  slot_frees: 0,
  slot_ops: 0,
  slot_searches: 0,
  slots_scanned: 0,
  bounce_bytes: 0,
  dma_maps: 0,
  dma_unmaps: 0,
  polls: 0,
  notifies: 0,
  quotes_generated: 0,
  quote_failures: 0,
  requests: 0,
  pool_exhaustions: 0,
  pages_leaked: 0,
  failures: 0,
  shared_bytes_now: 0,
  shared_bytes_peak: 0,
})

export type TraceInput = Omit<TraceEvent, 'seq'>
export type TraceListener = (e: TraceEvent) => void

export interface OpTraceOptions {
  /** Keep the events (default true). Counters are always kept. */
  record?: boolean
  /** At most this many events are retained (default 100 000); counting continues. */
  maxEvents?: number
}

export class OpTrace {
  readonly counters: TraceCounters = emptyCounters()
  readonly events: TraceEvent[] = []
  private seq = 0
  private readonly record: boolean
  private readonly maxEvents: number
  private readonly listeners: TraceListener[] = []
  /** Events dropped because maxEvents was reached. */
  dropped = 0

  constructor(opts: OpTraceOptions = {}) {
    this.record = opts.record ?? true
    this.maxEvents = opts.maxEvents ?? 100_000
  }

  subscribe(fn: TraceListener): () => void {
    this.listeners.push(fn)
    return () => {
      const i = this.listeners.indexOf(fn)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  /** Stamped on every event added while set (see `during`). */
  private phase?: TraceEvent['phase']

  /** Run `fn` with every event it causes (guest, module and host alike) stamped with `phase`. */
  during<T>(phase: NonNullable<TraceEvent['phase']>, fn: () => T): T {
    const outer = this.phase
    this.phase = phase
    try {
      return fn()
    } finally {
      this.phase = outer
    }
  }

  add(input: TraceInput): TraceEvent {
    const e: TraceEvent = {seq: ++this.seq, ...input}
    if (this.phase && e.phase === undefined) e.phase = this.phase
    count(this.counters, e)
    if (this.record) {
      if (this.events.length < this.maxEvents) this.events.push(e)
      else this.dropped++
    }
    for (const l of this.listeners) l(e)
    return e
  }

  /** A copy of the counters now (diff two snapshots for one request's share). */
  snapshot(): TraceCounters {
    return {...this.counters}
  }
}

/** b − a for every counter (shared_bytes_* keep b's values). */
export function diffCounters(a: TraceCounters, b: TraceCounters): TraceCounters {
  const out = emptyCounters()
  for (const k of Object.keys(out) as Array<keyof TraceCounters>) out[k] = b[k] - a[k]
  out.shared_bytes_now = b.shared_bytes_now
  out.shared_bytes_peak = b.shared_bytes_peak
  return out
}

/**
 * Fold one event into the counters. One flat case per event kind (long, but each case is two or
 * three lines): it runs for every event of a modelled run, so it stays a single switch.
 */
function count(c: TraceCounters, e: TraceEvent): void {
  const n = e.count ?? 1
  switch (e.kind) {
    case 'tdcall':
      c.tdcalls++
      if (e.name === 'TDG.MEM.PAGE.ACCEPT') c.accept_calls++
      if (e.name === 'TDG.MR.REPORT') c.report_calls++
      break
    case 'tdvmcall':
      c.tdvmcalls++
      c.tdcalls++ // every TDVMCALL is a TDCALL (leaf 0)
      if (e.name === 'MapGPA') c.mapgpa_calls++
      if (e.name === 'GetQuote') {
        c.getquote_calls++
        c.userspace_trips++
      }
      break
    case 'mapgpa_retry':
      c.mapgpa_retries++
      break
    case 'mapgpa_chunk':
      c.mapgpa_chunks++
      c.userspace_trips++
      break
    case 'page_alloc':
      c.page_allocs++
      break
    case 'page_free':
      c.page_frees++
      break
    case 'vmap':
      c.vmaps++
      break
    case 'vunmap':
      c.vunmaps++
      break
    case 'cache_flush':
      c.cache_flush_pages += n
      break
    case 'tlb_flush':
      c.tlb_flushes++
      break
    case 'lazy_purge':
      c.lazy_purges++
      break
    case 'dm_split':
      if (e.level === '1G') c.dm_splits_1g += n
      else c.dm_splits_2m += n
      break
    case 'dm_prot':
      c.dm_prot_pages += n
      break
    case 'sept_remove':
      c.sept_removals += n
      c.sept_changes += n
      c.pages_to_shared += n
      break
    case 'sept_zap_shared':
      c.sept_zaps += n
      c.pages_to_private += n
      break
    case 'sept_aug':
      c.sept_adds += n
      c.sept_changes += n
      break
    case 'vcpu_kick':
      c.vcpu_kicks += n
      c.forced_exits += e.exits ?? 0
      break
    case 'accept':
      c.pages_accepted += n
      break
    case 'copy':
      c.bytes_copied += n
      break
    case 'slot_alloc':
      c.slot_allocs++
      c.slot_ops++
      break
    case 'slot_free':
      c.slot_frees++
      c.slot_ops++
      break
    case 'slot_search':
      c.slot_searches++
      c.slots_scanned += n
      break
    case 'bounce':
      c.bounce_bytes += n
      break
    case 'dma_map':
      c.dma_maps++
      break
    case 'dma_unmap':
      c.dma_unmaps++
      break
    case 'shared_delta': {
      // count carries a signed byte delta
      c.shared_bytes_now += e.count ?? 0
      if (c.shared_bytes_now > c.shared_bytes_peak) c.shared_bytes_peak = c.shared_bytes_now
      break
    }
    case 'poll':
      c.polls++
      break
    case 'notify_irq':
      c.notifies++
      break
    case 'quote_service':
      if (e.status === undefined || e.status === 0n) c.quotes_generated++
      else c.quote_failures++
      break
    case 'request_begin':
      c.requests++
      break
    case 'pool_exhausted':
      c.pool_exhaustions++
      break
    case 'leak':
      c.pages_leaked += n
      break
    case 'failure':
      c.failures++
      break
    default:
      break
  }
}

/** One human line per event (what `quote generate --trace` prints). */
export function formatEvent(e: TraceEvent): string {
  const parts: string[] = [String(e.seq).padStart(4), e.layer.padEnd(8), e.phase ? `[${e.phase}] ${e.name}` : e.name]
  if (e.gpa !== undefined) parts.push(`gpa=0x${e.gpa.toString(16)}`)
  if (e.level) parts.push(`level=${e.level}`)
  if (e.count !== undefined && e.kind !== 'tdcall' && e.kind !== 'tdvmcall') parts.push(`n=${e.count}`)
  if (e.exits !== undefined) parts.push(`forced_exits=${e.exits}`)
  if (e.status_name) parts.push(`→ ${e.status_name}`)
  if (e.detail) parts.push(`(${e.detail})`)
  return parts.join('  ')
}

/** JSON-able event (bigints as hex strings). */
export function eventToJson(e: TraceEvent): Record<string, unknown> {
  return {
    seq: e.seq,
    kind: e.kind,
    layer: e.layer,
    name: e.name,
    ...(e.count !== undefined ? {count: e.count} : {}),
    ...(e.level ? {level: e.level} : {}),
    ...(e.exits !== undefined ? {exits: e.exits} : {}),
    ...(e.status !== undefined ? {status: '0x' + e.status.toString(16), status_name: e.status_name} : {}),
    ...(e.gpa !== undefined ? {gpa: '0x' + e.gpa.toString(16)} : {}),
    ...(e.detail ? {detail: e.detail} : {}),
    ...(e.phase ? {phase: e.phase} : {}),
  }
}
