/**
 * What the engine needs from one allocator strategy: begin a GetQuote request (TDREPORT, take a
 * shared buffer, copy the TDREPORT in, submit GetQuote) and finish it (wait, copy the quote out,
 * give the buffer back), each returning the operations the real implementation recorded. The only
 * implementation is src/app/cost.ts over src/guest/alloc (the real allocators).
 */
import type {OpCounts} from './ops.js'
import type {StrategyName} from './workload.js'

export interface BeginOk<H> {
  ok: true
  handle: H
  /** Operations of the allocation itself (buffer alloc, conversion, vmap, slot take). */
  alloc: OpCounts
  /** Everything else before the wait (TDREPORT, copy in, GetQuote TDVMCALL). */
  path: OpCounts
}

export interface BeginExhausted {
  ok: false
  reason: 'pool_exhausted'
  /** Operations spent discovering it (a SWIOTLB search that found nothing, a kfree, …). */
  ops: OpCounts
  /**
   * What the kernel code does next: wait for a buffer (a mutex, the pre-shared pool by policy) or
   * fail the request at once (SWIOTLB's DMA_MAPPING_ERROR, tdx-guest's -EBUSY). Default: wait.
   */
  blocking?: boolean
}

export interface FinishOps {
  /**
   * Everything after the host completed apart from the wait itself (copy out). Status checks and
   * the notify interrupt are the model's: the engine counts them from the wait outcome.
   */
  path: OpCounts
  /** Operations of the free (MapGPA back, accept, vunmap, slot return). */
  free: OpCounts
}

export interface WaitOutcome {
  /** Status checks the guest made (poll completion), 0 with notify. */
  polls: number
  notified: boolean
}

export interface AllocatorDriver<H = unknown> {
  readonly strategy: StrategyName
  /** One-time operations before the first request (the pool's conversion). */
  init(): OpCounts
  begin(): BeginOk<H> | BeginExhausted
  finish(handle: H, wait: WaitOutcome): FinishOps
  /** Bytes of guest memory currently shared by this strategy. */
  sharedBytes(): number
  /** Buffers the strategy can have in flight at once (Infinity when unbounded). */
  capacity(): number
  /** Free resources (the engine calls it once at the end). */
  close?(): void
  /**
   * True once every further begin() and finish() returns the same operations (a replaying driver
   * in its steady state). Lets the engine fast-forward identical requests (see engine.ts).
   */
  steady?(): boolean
}

export type DriverFactory = (strategy: StrategyName, opts: DriverOptions) => AllocatorDriver

export interface DriverOptions {
  vcpus: number
  memory_bytes: number
  buffer_bytes: number
  /** preshared-pool size. */
  pool_bytes: number
  /** swiotlb pool size (after the kernel's rounding). */
  swiotlb_bytes: number
  /** upstream: the kernel whose GET_QUOTE_BUF_SIZE the driver buffer has. */
  upstream_kernel: '6.7' | '7.0'
  request_bytes: number
  response_bytes: number
  completion: 'poll' | 'notify'
  seed: string
}
