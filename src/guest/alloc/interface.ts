/**
 * One interface for every GetQuote shared-buffer strategy the kernel debates produced, each modelled
 * after the code it comes from (docs/guide/alloc.md has the side-by-side reading):
 *
 * - `vmap-mapgpa`: Solution 1 (Kai Huang, May 2022): per request, fresh pages vmap'ed decrypted,
 *   MapGPA(shared); on free MapGPA(private) and an accept of every page. Direct map untouched.
 * - `swiotlb`: Solution 2 as argued (Kirill Shutemov, May 2022: "tap into swiotlb buffer that
 *   already converted"): streaming DMA through SWIOTLB — a pool converted once at boot, a slot
 *   search per request, bounce copies in and out. Needs a struct device (platform device).
 * - `dma-coherent`: Solution 2 as coded (v1, March 2023): dma_alloc_coherent(GFP_KERNEL) per
 *   request, which in an x86 TDX guest decrypts direct-map pages per allocation (dma_direct_alloc →
 *   dma_set_decrypted), and re-encrypts them on free.
 * - `upstream`: the merged driver (drivers/virt/coco/tdx-guest/tdx-guest.c, v6.7; 128 KiB from
 *   v7.0): one buffer allocated and decrypted once at driver init, serialised by quote_lock.
 * - `preshared-pool`: tdxkit's own N-slot pool decrypted once through the direct map (the upstream
 *   buffer generalised to several slots; the shape of the kernel's atomic DMA pool). Formerly named
 *   `dma-pool`, which is still accepted.
 *
 * The DMA view: a buffer is written by the CPU, handed to the host (`mapForDevice`, which for
 * SWIOTLB finds slots and bounces the contents in and returns the bounce address), read back after
 * `syncForCpu` (SWIOTLB bounces the range out), and freed. For the coherent strategies the two hooks
 * do nothing: the CPU's buffer is the host's.
 */
import {RefusedError} from '../../errors.js'
import {PAGE_SIZE, type GuestMemory} from '../../machine/memory.js'

export const STRATEGIES = ['vmap-mapgpa', 'swiotlb', 'dma-coherent', 'upstream', 'preshared-pool'] as const
export type StrategyName = (typeof STRATEGIES)[number]

/** Old names still accepted (commands, library callers, state files). */
export const STRATEGY_ALIASES = {'dma-pool': 'preshared-pool'} as const satisfies Readonly<Record<string, StrategyName>>
export type StrategyAlias = keyof typeof STRATEGY_ALIASES
/** A strategy as callers may name it. */
export type StrategySpec = StrategyName | StrategyAlias

/** Every name `--allocator` accepts: the strategies and their aliases. */
export const STRATEGY_NAMES_ACCEPTED: readonly string[] = [...STRATEGIES, ...Object.keys(STRATEGY_ALIASES)]

/** The strategy a name (or an alias) stands for; undefined if unknown. */
export function canonicalStrategy(name: string): StrategyName | undefined {
  if ((STRATEGIES as readonly string[]).includes(name)) return name as StrategyName
  return (STRATEGY_ALIASES as Readonly<Record<string, StrategyName>>)[name]
}

export function isStrategy(s: string): s is StrategyName {
  return (STRATEGIES as readonly string[]).includes(s)
}

/** Where a strategy comes from, for reports and docs. */
export const STRATEGY_SOURCES: Readonly<Record<StrategyName, string>> = {
  'vmap-mapgpa': 'Kai Huang, LKML 2022-05-09, "[PATCH v5 3/3] x86/tdx: Add Quote generation support" (Solution 1)',
  swiotlb: 'Kirill Shutemov, LKML 2022-05-03 (Solution 2 as argued); kernel/dma/swiotlb.c v6.6, arch/x86/mm/mem_encrypt.c',
  'dma-coherent': 'msg-id 20230326062039.341479-3-sathyanarayanan.kuppuswamy@linux.intel.com (Solution 2 as coded); kernel/dma/direct.c',
  upstream: 'drivers/virt/coco/tdx-guest/tdx-guest.c, Linux v6.7 (commit f4738f56d1dc), 128 KiB buffer from v7.0 (43185067c6fd)',
  'preshared-pool': 'tdxkit: the upstream buffer generalised to N slots (cost-model.md §2.2 B0 / kernel/dma/pool.c shape)',
}

export interface SharedBuffer {
  readonly id: number
  readonly strategy: StrategyName
  /** First page frame of the CPU's buffer. */
  readonly pfn: number
  readonly pages: number
  /** Usable bytes. */
  readonly bytes: number
  /**
   * GPA of the CPU's buffer as the host would be given it: the shared alias for the coherent
   * strategies; for swiotlb the private original (the host gets the bounce address from mapForDevice).
   */
  readonly gpa: bigint
  /** Guest kernel virtual address of the CPU's buffer. */
  readonly va: bigint
}

export interface SharedBufferAllocator {
  readonly strategy: StrategyName
  /** Make the allocator ready (pools: convert or restore). Idempotent. */
  init(): void
  /** A buffer of at least `bytes` bytes for the CPU to fill. */
  alloc(bytes: number): SharedBuffer
  /** Hand the buffer to the host: the shared GPA to put in the TDVMCALL (SWIOTLB: dma_map_single). */
  mapForDevice(buf: SharedBuffer): bigint
  /** Make what the host wrote to [offset, offset+len) visible to the CPU (SWIOTLB: bounce it out). */
  syncForCpu(buf: SharedBuffer, offset: number, len: number): void
  /** Give a buffer back (converting it back to private, unmapping it, … as the strategy does). */
  free(buf: SharedBuffer): void
  /** The host kept the buffer (request timed out): never hand it out again until the host lets go. */
  abandon(buf: SharedBuffer): void
  /** Guest access to the CPU's buffer through its kernel mapping. */
  read(buf: SharedBuffer, offset: number, len: number): Buffer
  write(buf: SharedBuffer, offset: number, data: Uint8Array): void
  /** Buffers in use right now. */
  inFlight(): number
  /** Buffers that can be in use at once (Infinity when unbounded). */
  capacity(): number
  /** Bytes of guest memory this strategy holds shared right now. */
  sharedBytes(): number
}

/**
 * A strategy's buffers are all in use: reported at once, never waited on here. `blocking` says what
 * the kernel code does next: wait (a mutex, as tdx-guest's quote_lock) or fail the request
 * (SWIOTLB's DMA_MAPPING_ERROR, tdx-guest's -EBUSY while the host still owns the buffer).
 */
export class PoolExhaustedError extends RefusedError {
  readonly blocking: boolean
  constructor(message: string, detail: Record<string, unknown>, opts: {code?: string; blocking?: boolean} = {}) {
    super(opts.code ?? 'POOL_EXHAUSTED', message, {detail})
    this.blocking = opts.blocking ?? true
  }
}

export const pagesFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / PAGE_SIZE))

export function checkRange(buf: SharedBuffer, offset: number, len: number): void {
  if (offset < 0 || len < 0 || offset + len > buf.bytes) {
    throw new RefusedError('BUFFER_OVERRUN', `access [${offset}, ${offset + len}) outside the ${buf.bytes}-byte shared buffer`)
  }
}

/** CPU read of a buffer through the kernel direct map (its decrypted or private alias, as mapped). */
export function readDirect(memory: GuestMemory, buf: SharedBuffer, offset: number, len: number): Buffer {
  checkRange(buf, offset, len)
  return memory.directMap.read(memory.strip(buf.gpa) + BigInt(offset), len)
}

/** CPU write of a buffer through the kernel direct map. */
export function writeDirect(memory: GuestMemory, buf: SharedBuffer, offset: number, data: Uint8Array): void {
  checkRange(buf, offset, data.length)
  memory.directMap.write(memory.strip(buf.gpa) + BigInt(offset), data)
}
