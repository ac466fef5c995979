/**
 * Cost runs (`alloc compare`): the cost profile (a builtin or a JSON file), and the engine's driver
 * factory over the real guest path. It builds a
 * simulated TD (platform, guest memory, TDX module, VMM, GHCI, QGS) per strategy and drives the
 * REAL allocators of src/guest/alloc through the REAL quote request path of src/guest/quote.ts
 * (`requestQuote`), so the operations priced here are the ones `quote generate --trace` records.
 *
 * Two adaptations, both confined to this file:
 * - The quoting enclave is replaced by a stand-in that returns `response_bytes` of filler: the
 *   comparison models the host's service time (T_q), it does not need signatures.
 * - requestQuote frees its buffer before returning; to hold C buffers in flight the allocator is
 *   wrapped so its free is deferred until the engine's model time reaches the request's end.
 */
import {existsSync} from 'node:fs'
import type {AllocatorDriver, BeginExhausted, BeginOk, DriverFactory, DriverOptions, FinishOps, WaitOutcome} from '../cost/driver.js'
import {MAX_PROFILE_BYTES, profileFromJson} from '../cost/profile-load.js'
import {DEFAULT_PROFILE as DEFAULT_COST_PROFILE, builtinProfile, builtinProfileNames, type CostProfile} from '../cost/profiles.js'
import {zeroOps, type OpCounts} from '../cost/ops.js'
import {ReplayDriver} from '../cost/replay.js'
import type {StrategyName} from '../cost/workload.js'
import {DmaCoherentAllocator} from '../guest/alloc/dma-coherent.js'
import {PoolExhaustedError, type SharedBuffer, type SharedBufferAllocator} from '../guest/alloc/interface.js'
import {PresharedPoolAllocator} from '../guest/alloc/preshared-pool.js'
import {SwiotlbAllocator} from '../guest/alloc/swiotlb.js'
import {UpstreamTdxGuestAllocator} from '../guest/alloc/upstream.js'
import {VmapMapGpaAllocator} from '../guest/alloc/vmap-mapgpa.js'
import {DEFAULT_NOTIFY_VECTOR} from '../guest/quote.js'
import {getSysInfo} from '../guest/sysinfo.js'
import {PAGE_SIZE} from '../machine/memory.js'
import {OpTrace, diffCounters, type TraceCounters} from '../machine/trace.js'
import {Platform, createPlatformDoc, DEFAULT_PROFILE} from '../module/platform.js'
import {createTd} from '../module/td-create.js'
import {InputError} from '../errors.js'
import {deriveBytes} from '../util/seed.js'
import {readTextInput} from './files.js'
import {requestQuoteOnHost} from './quote.js'
import {TdSession} from './session.js'

/**
 * Map the guest trace's counters (a delta) to the engine's priced operations. `reportCalls` is the
 * number of TDREPORTs the path asked for, used when the trace does not record TDG.MR.REPORT itself.
 */
export function opsFromCounters(c: TraceCounters, reportCalls = 0): OpCounts {
  const o = zeroOps()
  o.tdcalls = c.tdcalls
  o.tdvmcalls = c.tdvmcalls
  o.accept_calls = c.accept_calls
  o.report_calls = Math.max(c.report_calls, reportCalls)
  o.other_tdcalls = Math.max(0, c.tdcalls - c.tdvmcalls - c.accept_calls - c.report_calls)
  o.mapgpa_calls = c.mapgpa_calls
  o.mapgpa_retries = c.mapgpa_retries
  o.userspace_trips = c.userspace_trips
  o.getquote_calls = c.getquote_calls
  o.pages_to_shared = c.pages_to_shared
  o.pages_to_private = c.pages_to_private
  o.pages_accepted = c.pages_accepted
  o.sept_removals = c.sept_removals
  o.sept_adds = c.sept_adds
  o.vcpu_kicks = c.vcpu_kicks
  o.tlb_flushes = c.tlb_flushes
  o.lazy_purges = c.lazy_purges
  o.page_allocs = c.page_allocs
  o.vmaps = c.vmaps
  o.vunmaps = c.vunmaps
  o.cache_flush_pages = c.cache_flush_pages
  o.dm_splits_1g = c.dm_splits_1g
  o.dm_splits_2m = c.dm_splits_2m
  o.slot_ops = c.slot_ops
  o.slot_searches = c.slot_searches
  o.slots_scanned = c.slots_scanned
  o.bounce_bytes = c.bounce_bytes
  o.bytes_copied = c.bytes_copied
  o.polls = c.polls
  o.notifies = c.notifies
  return o
}

const EMPTY: OpCounts = Object.freeze(zeroOps()) as OpCounts

/** Filler the stand-in quoting enclave returns (the content never matters to the model). */
function fillerQuote(bytes: number): Buffer {
  return Buffer.alloc(bytes, 0x51)
}

interface Pending {
  buf: SharedBuffer
}

/**
 * Wraps the real allocator so requestQuote's free is held back: alloc, mapForDevice, reads, writes
 * and abandon pass through (alloc and mapForDevice are the allocation's operations), free() only
 * records the buffer. The engine frees it later through the real allocator.
 */
class DeferredFree implements SharedBufferAllocator {
  readonly strategy: StrategyName
  held?: SharedBuffer
  allocOps?: TraceCounters
  constructor(
    private readonly real: SharedBufferAllocator,
    private readonly trace: OpTrace,
  ) {
    this.strategy = real.strategy
  }
  init(): void {
    this.real.init()
  }
  alloc(bytes: number): SharedBuffer {
    const before = this.trace.snapshot()
    const b = this.real.alloc(bytes)
    this.allocOps = diffCounters(before, this.trace.snapshot())
    return b
  }
  mapForDevice(buf: SharedBuffer): bigint {
    const before = this.trace.snapshot()
    try {
      return this.real.mapForDevice(buf)
    } finally {
      const d = diffCounters(before, this.trace.snapshot())
      if (this.allocOps) for (const k of Object.keys(d) as Array<keyof TraceCounters>) if (k !== 'shared_bytes_now' && k !== 'shared_bytes_peak') this.allocOps[k] += d[k]
    }
  }
  syncForCpu(buf: SharedBuffer, offset: number, len: number): void {
    this.real.syncForCpu(buf, offset, len)
  }
  free(buf: SharedBuffer): void {
    this.held = buf
  }
  abandon(buf: SharedBuffer): void {
    this.real.abandon(buf)
  }
  read(buf: SharedBuffer, offset: number, len: number): Buffer {
    return this.real.read(buf, offset, len)
  }
  write(buf: SharedBuffer, offset: number, data: Uint8Array): void {
    this.real.write(buf, offset, data)
  }
  inFlight(): number {
    return this.real.inFlight()
  }
  capacity(): number {
    return this.real.capacity()
  }
  sharedBytes(): number {
    return this.real.sharedBytes()
  }
}

/** The allocator of one strategy on the TD of a comparison (sizes from the workload). */
function comparisonAllocator(strategy: StrategyName, td: TdSession, opts: DriverOptions): SharedBufferAllocator {
  const slotBytes = Math.ceil(opts.buffer_bytes / PAGE_SIZE) * PAGE_SIZE
  switch (strategy) {
    case 'vmap-mapgpa':
      return new VmapMapGpaAllocator(td)
    case 'swiotlb':
      return new SwiotlbAllocator(td, {poolBytes: opts.swiotlb_bytes, mappingBytes: slotBytes})
    case 'dma-coherent':
      return new DmaCoherentAllocator(td)
    case 'upstream':
      return new UpstreamTdxGuestAllocator(td, {kernel: opts.upstream_kernel})
    case 'preshared-pool':
      return new PresharedPoolAllocator(td, {poolBytes: opts.pool_bytes, slotBytes})
  }
}

/**
 * The simulated TD of a comparison, created the way the host creates one: the module's sysinfo
 * read once, then TD creation validated from it alone — a TD over MAX_VCPUS_PER_TD is refused
 * with the module's status (exit 7) before any request is modelled.
 */
function comparisonPlatform(opts: DriverOptions): Platform {
  const doc = createPlatformDoc({profile: DEFAULT_PROFILE, seed: opts.seed, td: {vcpus: opts.vcpus, memory_bytes: opts.memory_bytes}})
  const platform = new Platform(doc)
  const td = doc.td
  createTd(getSysInfo(platform.module), {vcpus: td.num_vcpus, attributes: BigInt(td.attributes), xfam: BigInt(td.xfam), memory_bytes: td.memory_bytes, gpaw: td.gpaw})
  return platform
}

/** One strategy on its own fresh simulated TD. */
export class GuestPathDriver implements AllocatorDriver<Pending> {
  readonly strategy: StrategyName
  readonly td: TdSession
  readonly platform: Platform
  readonly allocator: SharedBufferAllocator
  private readonly wrapped: DeferredFree
  private readonly trace: OpTrace
  private readonly opts: DriverOptions
  private readonly reportData: Buffer

  constructor(strategy: StrategyName, opts: DriverOptions) {
    this.strategy = strategy
    this.opts = opts
    this.platform = comparisonPlatform(opts)
    this.trace = new OpTrace({record: false})
    this.td = new TdSession({
      memory: this.platform.memory,
      module: this.platform.module,
      vcpus: opts.vcpus,
      trace: this.trace,
      logHostAccesses: false,
      qgs: {backend: () => fillerQuote(opts.response_bytes)},
    })
    this.allocator = comparisonAllocator(strategy, this.td, opts)
    this.wrapped = new DeferredFree(this.allocator, this.trace)
    this.reportData = deriveBytes(opts.seed, 'alloc-compare report data', 64)
  }

  private delta(before: TraceCounters, reportCalls = 0): OpCounts {
    return opsFromCounters(diffCounters(before, this.trace.snapshot()), reportCalls)
  }

  init(): OpCounts {
    const before = this.trace.snapshot()
    this.allocator.init()
    // The driver registers its notify vector once (module load), not per request.
    if (this.opts.completion === 'notify') this.td.ghci.setupEventNotifyInterrupt(DEFAULT_NOTIFY_VECTOR)
    return this.delta(before)
  }

  begin(): BeginOk<Pending> | BeginExhausted {
    const before = this.trace.snapshot()
    this.wrapped.held = undefined
    this.wrapped.allocOps = undefined
    // upstream's buffer is the kernel's GET_QUOTE_BUF_SIZE, whatever the workload's size.
    const bufferBytes = this.strategy === 'upstream' ? undefined : this.opts.buffer_bytes
    try {
      requestQuoteOnHost(this.td, this.wrapped, {reportData: this.reportData}, {completion: this.opts.completion, bufferBytes})
    } catch (error) {
      if (!(error instanceof PoolExhaustedError)) throw error
      // A SWIOTLB mapping that failed leaves the driver's own buffer to be freed.
      if (this.wrapped.held) this.allocator.free(this.wrapped.held)
      return {ok: false, reason: 'pool_exhausted', ops: this.delta(before, 1), blocking: error.blocking}
    }
    const buf = this.wrapped.held
    if (!buf || !this.wrapped.allocOps) throw new Error('requestQuote returned without handing its buffer back')
    const all = this.delta(before, 1)
    const alloc = opsFromCounters(this.wrapped.allocOps)
    const path = zeroOps()
    for (const k of Object.keys(all) as Array<keyof OpCounts>) path[k] = all[k] - alloc[k]
    // The wait is the model's: the engine counts status checks / the interrupt from its wait model.
    path.polls = 0
    path.notifies = 0
    return {ok: true, handle: {buf}, alloc, path}
  }

  finish(h: Pending, wait: WaitOutcome): FinishOps {
    const before = this.trace.snapshot()
    this.allocator.free(h.buf)
    const free = this.delta(before)
    void wait // the engine counts the wait's status checks / interrupt itself
    return {path: EMPTY, free}
  }

  sharedBytes(): number {
    return this.allocator.sharedBytes()
  }

  capacity(): number {
    return this.allocator.capacity()
  }
}

export interface GuestDriverOptions {
  /** Requests driven for real before steady-state replay may take over (Infinity: never replay). */
  calibrate?: number
}

/**
 * Requests always driven for real before replay is considered: 32 of warm-up (first-use effects
 * such as a dma-coherent buffer's direct-map splits), then 32 that must all agree.
 */
export const DEFAULT_CALIBRATION = 64

/** The engine's driver factory over the real guest path (optionally with steady-state replay). */
export function guestDriverFactory(o: GuestDriverOptions = {}): DriverFactory {
  const calibrate = o.calibrate ?? DEFAULT_CALIBRATION
  return (strategy: StrategyName, opts: DriverOptions) => {
    const real = new GuestPathDriver(strategy, opts)
    return Number.isFinite(calibrate) ? new ReplayDriver(real, calibrate) : real
  }
}

/** The simulated module's MAX_VCPUS_PER_TD, as its sysinfo reports it (the comparison's vCPU bound). */
export function simulatedMaxVcpus(): number | undefined {
  return getSysInfo(new Platform(createPlatformDoc({profile: DEFAULT_PROFILE, seed: 'max-vcpus'})).module).td_conf.max_vcpus_per_td
}

/** `--profile NAME|FILE`: a builtin by name (or alias), else a JSON file (the bounded UTF-8 reader, then validated). */
export function loadProfile(spec?: string): CostProfile {
  if (spec === undefined || spec === '') return builtinProfile(DEFAULT_COST_PROFILE)!
  const builtin = builtinProfile(spec)
  if (builtin) return builtin
  if (!existsSync(spec)) throw new InputError('BAD_PROFILE', `unknown profile '${spec}': not a builtin (${builtinProfileNames().join(', ')}) and no such file`)
  const text = readTextInput(spec, '--profile', MAX_PROFILE_BYTES)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    throw new InputError('BAD_PROFILE', `profile '${spec}' is not valid JSON: ${(error as Error).message}`)
  }
  return profileFromJson(doc, spec)
}
