/**
 * The allocators' section of the state document (doc.alloc) and opening the allocator of a run.
 * What outlives one CLI invocation is what outlives one request in the kernel: the pre-shared pool
 * (doc.alloc.dma_pool, key kept from before issue 16), the tdx-guest driver's buffer
 * (doc.alloc.upstream) and the SWIOTLB pool converted at boot (doc.alloc.swiotlb), each with the
 * buffers the host still owns after a timed-out request. Every run puts all of them back into the
 * TD's memory, whichever strategy it uses: they are part of the TD.
 *
 * Old states load unchanged; `quotes['dma-pool']` counts are carried over to 'preshared-pool'.
 */
import {StateError} from '../../errors.js'
import type {GuestMemory} from '../../machine/memory.js'
import type {StateDoc} from '../../util/state-doc.js'
import type {GuestTd} from '../td.js'
import {DmaCoherentAllocator} from './dma-coherent.js'
import {STRATEGY_ALIASES, canonicalStrategy, type SharedBufferAllocator, type StrategyName} from './interface.js'
import {DEFAULT_POOL_BYTES, PresharedPoolAllocator, abandonedSlotGpas, restorePoolMemory, type DmaPoolState} from './preshared-pool.js'
import {restoreSharedRun} from './set-memory.js'
import {IO_TLB_SIZE, SwiotlbAllocator, heldSwiotlbGpas, type SwiotlbState} from './swiotlb.js'
import {UPSTREAM_KERNELS, UpstreamTdxGuestAllocator, abandonedUpstreamGpas, type UpstreamKernel, type UpstreamState} from './upstream.js'
import {VmapMapGpaAllocator} from './vmap-mapgpa.js'
import {PAGE_SIZE} from '../../machine/memory.js'

/** This layer's section of the state document. */
export interface AllocDoc {
  /** The pre-shared pool (strategy `preshared-pool`, formerly `dma-pool`). */
  dma_pool?: DmaPoolState
  /** The tdx-guest driver's quote buffer (strategy `upstream`). */
  upstream?: UpstreamState
  /** The SWIOTLB pool converted at boot (strategy `swiotlb`). */
  swiotlb?: SwiotlbState
  /** Quotes generated per strategy. */
  quotes?: Partial<Record<StrategyName, number>>
}

const corrupt = (what: string): StateError => new StateError('STATE_CORRUPT', `state section '${what}' is corrupt; run 'tdxkit module reset'`)
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isNat = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0

function checkPool(pool: unknown): void {
  if (pool === undefined) return
  const p = pool as DmaPoolState
  if (!isObj(pool) || !isNat(p.base_pfn) || !Number.isInteger(p.pool_bytes) || !Number.isInteger(p.slot_bytes) || !Array.isArray(p.abandoned)) throw corrupt('alloc.dma_pool')
}

function checkUpstream(u: unknown): void {
  if (u === undefined) return
  const s = u as UpstreamState
  if (!isObj(u) || !isNat(s.base_pfn) || !UPSTREAM_KERNELS.includes(s.kernel) || typeof s.abandoned !== 'boolean') throw corrupt('alloc.upstream')
}

function checkSwiotlb(u: unknown): void {
  if (u === undefined) return
  const s = u as SwiotlbState
  const ok =
    isObj(u) && isNat(s.base_pfn) && isNat(s.nslabs) && s.nslabs > 0 && isNat(s.nareas) && s.nareas > 0 && s.nslabs % s.nareas === 0 &&
    Array.isArray(s.area_index) && Array.isArray(s.held) &&
    s.held.every((h) => Array.isArray(h) && h.length === 2 && isNat(h[0]) && isNat(h[1]) && h[1] > 0 && h[0] + h[1] <= s.nslabs)
  if (!ok) throw corrupt('alloc.swiotlb')
}

/** doc.alloc, checked; quote counts under an old strategy name are moved to the new one. */
export function allocDoc(doc: StateDoc): AllocDoc {
  const a = doc.alloc
  if (a === undefined) return {}
  if (!isObj(a)) throw corrupt('alloc')
  const d = a as AllocDoc
  checkPool(d.dma_pool)
  checkUpstream(d.upstream)
  checkSwiotlb(d.swiotlb)
  if (d.quotes !== undefined && !isObj(d.quotes)) throw corrupt('alloc.quotes')
  const q = d.quotes as Record<string, number> | undefined
  if (q) {
    for (const [old, now] of Object.entries(STRATEGY_ALIASES)) {
      if (q[old] !== undefined) {
        q[now] = (q[now] ?? 0) + q[old]
        delete q[old]
      }
    }
  }
  return d
}

export interface AllocatorConfig {
  /** A strategy or one of its aliases ('dma-pool'). */
  strategy: StrategyName | string
  /** preshared-pool size (default: the persisted pool's, else 64 KiB). */
  poolBytes?: number
  /** preshared-pool slot size (default: the persisted pool's, else 8 KiB). */
  slotBytes?: number
  /** upstream: the kernel whose GET_QUOTE_BUF_SIZE to use (default: the persisted buffer's, else 7.0). */
  upstreamKernel?: UpstreamKernel
  /** swiotlb / dma-coherent: the driver has a platform device (default true). */
  platformDevice?: boolean
  /** swiotlb: size of the mappings (capacity in buffers). */
  mappingBytes?: number
}

/** Put every persisted shared run except `skip`'s back into a fresh TD memory model (nothing traced). */
export function restoreTdMemory(memory: GuestMemory, a: AllocDoc, skip?: StrategyName): void {
  if (a.dma_pool && skip !== 'preshared-pool') restorePoolMemory(memory, a.dma_pool)
  if (a.upstream && skip !== 'upstream') restoreSharedRun(memory, a.upstream.base_pfn, a.upstream.buffer_bytes / PAGE_SIZE)
  if (a.swiotlb && skip !== 'swiotlb') restoreSharedRun(memory, a.swiotlb.base_pfn, (a.swiotlb.nslabs * IO_TLB_SIZE) / PAGE_SIZE)
}

/** Shared-alias GPAs of every buffer a persisted allocator left with the host (timed-out requests). */
export function abandonedGpas(memory: GuestMemory, a: AllocDoc): bigint[] {
  return [
    ...(a.dma_pool ? abandonedSlotGpas(memory, a.dma_pool) : []),
    ...(a.upstream ? abandonedUpstreamGpas(memory, a.upstream) : []),
    ...(a.swiotlb ? heldSwiotlbGpas(memory, a.swiotlb) : []),
  ]
}

function openPresharedPool(td: GuestTd, saved: DmaPoolState | undefined, cfg: AllocatorConfig): PresharedPoolAllocator {
  if (!saved) return new PresharedPoolAllocator(td, {poolBytes: cfg.poolBytes ?? DEFAULT_POOL_BYTES, slotBytes: cfg.slotBytes})
  const pool = new PresharedPoolAllocator(td, {state: saved})
  pool.init()
  const wantPool = cfg.poolBytes ?? saved.pool_bytes
  const wantSlot = cfg.slotBytes ?? saved.slot_bytes
  if (wantPool === saved.pool_bytes && wantSlot === saved.slot_bytes) return pool
  pool.destroy()
  return new PresharedPoolAllocator(td, {poolBytes: wantPool, slotBytes: wantSlot})
}

function openUpstream(td: GuestTd, saved: UpstreamState | undefined, cfg: AllocatorConfig): UpstreamTdxGuestAllocator {
  if (!saved) return new UpstreamTdxGuestAllocator(td, {kernel: cfg.upstreamKernel})
  const drv = new UpstreamTdxGuestAllocator(td, {state: saved})
  if (cfg.upstreamKernel === undefined || cfg.upstreamKernel === saved.kernel) return drv
  // Another kernel: the module is unloaded (tdx_guest_exit → free_quote_buf) and loaded again.
  drv.init()
  drv.destroy()
  return new UpstreamTdxGuestAllocator(td, {kernel: cfg.upstreamKernel})
}

/**
 * The allocator for this run. Pools and buffers of earlier runs come back from doc.alloc without
 * conversion (a pre-shared pool whose geometry changes is released and converted anew; a driver
 * buffer of another kernel version is freed and allocated anew).
 */
export function openAllocator(td: GuestTd, doc: StateDoc, cfg: AllocatorConfig): SharedBufferAllocator {
  const strategy = canonicalStrategy(cfg.strategy)
  if (!strategy) throw new StateError('BAD_STRATEGY', `unknown allocator strategy '${cfg.strategy}'`)
  const a = allocDoc(doc)
  restoreTdMemory(td.memory, a, strategy)
  let alloc: SharedBufferAllocator
  switch (strategy) {
    case 'vmap-mapgpa':
      alloc = new VmapMapGpaAllocator(td)
      break
    case 'dma-coherent':
      alloc = new DmaCoherentAllocator(td, {platformDevice: cfg.platformDevice})
      break
    case 'swiotlb':
      alloc = new SwiotlbAllocator(td, {state: a.swiotlb, platformDevice: cfg.platformDevice, mappingBytes: cfg.mappingBytes})
      break
    case 'upstream':
      alloc = openUpstream(td, a.upstream, cfg)
      break
    case 'preshared-pool':
      alloc = openPresharedPool(td, a.dma_pool, cfg)
      break
  }
  alloc.init()
  return alloc
}

/** Persist what the allocator keeps across runs, and count its quotes. */
export function saveAllocator(doc: StateDoc, alloc: SharedBufferAllocator, quotes = 0): void {
  const a: AllocDoc = {...allocDoc(doc)}
  if (alloc instanceof PresharedPoolAllocator && alloc.initialized) a.dma_pool = alloc.state()
  if (alloc instanceof UpstreamTdxGuestAllocator && alloc.initialized) a.upstream = alloc.state()
  if (alloc instanceof SwiotlbAllocator && alloc.initialized) a.swiotlb = alloc.state()
  if (quotes > 0) a.quotes = {...a.quotes, [alloc.strategy]: (a.quotes?.[alloc.strategy] ?? 0) + quotes}
  doc.alloc = a
}

/** Does this allocator keep state in doc.alloc (so a failed request must still save it)? */
export function isPersistent(alloc: SharedBufferAllocator): boolean {
  return (alloc instanceof PresharedPoolAllocator || alloc instanceof UpstreamTdxGuestAllocator || alloc instanceof SwiotlbAllocator) && alloc.initialized
}
