/**
 * One interface, two strategies for the GetQuote shared buffer (shared/reference/cost-model.md §2):
 *
 * - `vmap-mapgpa`: per request, contiguous pages, vmap'ed decrypted (direct map untouched), cache
 *   flushed, MapGPA(shared); on free MapGPA(private), TDG.MEM.PAGE.ACCEPT every page, vunmap.
 * - `dma-pool`: a pool converted to shared once (direct map decrypted, MapGPA once), then cheap
 *   slot take/return; exhaustion is an immediate, clear error.
 *
 * A SharedBuffer names its memory three ways: the page frames, the shared-alias GPA the host is
 * given, and the guest virtual address the kernel reads and writes it through.
 */
import {RefusedError} from '../../errors.js'
import {PAGE_SIZE} from '../../machine/memory.js'

export type StrategyName = 'vmap-mapgpa' | 'dma-pool'
export const STRATEGIES: readonly StrategyName[] = ['vmap-mapgpa', 'dma-pool']

export interface SharedBuffer {
  readonly id: number
  readonly strategy: StrategyName
  /** First page frame. */
  readonly pfn: number
  readonly pages: number
  /** Usable bytes (pages × 4 KiB for vmap-mapgpa, the slot size for dma-pool). */
  readonly bytes: number
  /** Shared-alias GPA (shared bit set): what GetQuote is given. */
  readonly gpa: bigint
  /** Guest kernel virtual address of the buffer. */
  readonly va: bigint
}

export interface SharedBufferAllocator {
  readonly strategy: StrategyName
  /** Make the allocator ready (dma-pool: convert or restore the pool). Idempotent. */
  init(): void
  /** A shared buffer of at least `bytes` bytes. */
  alloc(bytes: number): SharedBuffer
  /** Give a buffer back (converting it back to private where the strategy does). */
  free(buf: SharedBuffer): void
  /** The host kept the buffer (request timed out): never hand it out again until the host lets go. */
  abandon(buf: SharedBuffer): void
  /** Guest access to the buffer through its kernel mapping. */
  read(buf: SharedBuffer, offset: number, len: number): Buffer
  write(buf: SharedBuffer, offset: number, data: Uint8Array): void
  /** Buffers in use right now. */
  inFlight(): number
  /** Buffers that can be in use at once (Infinity when unbounded). */
  capacity(): number
  /** Bytes of guest memory this strategy holds shared right now. */
  sharedBytes(): number
}

/** A strategy's buffers are all in use: reported at once, never waited on. */
export class PoolExhaustedError extends RefusedError {
  constructor(message: string, detail: Record<string, unknown>) {
    super('POOL_EXHAUSTED', message, {detail})
  }
}

export const pagesFor = (bytes: number): number => Math.max(1, Math.ceil(bytes / PAGE_SIZE))

export function isStrategy(s: string): s is StrategyName {
  return (STRATEGIES as readonly string[]).includes(s)
}
