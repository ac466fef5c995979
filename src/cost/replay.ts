/**
 * Steady-state replay: a wrapper that lets a million-request run finish in seconds while every
 * figure still comes from the real allocator.
 *
 * For the first `calibrate` requests every begin()/finish() goes to the real driver and the wrapper
 * records what each returned: the operation counts per phase and outcome, the change in memory held
 * shared, and whether a refusal happened exactly at the driver's declared capacity. The first half
 * of that window is warm-up (a dma_alloc_coherent buffer splits the direct map the first time its
 * pages are decrypted, then reuses them); if every observation of a phase in the second half was
 * identical (the allocator is in a steady state), later calls repeat those recorded operations
 * instead of calling the driver again; a pool refusal is replayed exactly when the in-flight count
 * reaches the driver's capacity, as observed. If anything varied (retries, fresh direct-map splits,
 * SWIOTLB searches of different lengths, …) the wrapper never replays and the run stays fully real.
 */
import type {AllocatorDriver, BeginExhausted, BeginOk, FinishOps, WaitOutcome} from './driver.js'
import {opsEqual, type OpCounts} from './ops.js'

interface Observation<T> {
  value?: T
  count: number
  stable: boolean
}

function observe<T>(o: Observation<T>, v: T, eq: (a: T, b: T) => boolean): void {
  if (o.count === 0) o.value = v
  else if (o.stable && !eq(o.value as T, v)) o.stable = false
  o.count++
}

const fresh = <T>(): Observation<T> => ({count: 0, stable: true})

interface BeginObs {
  alloc: OpCounts
  path: OpCounts
  shared: number
}
interface FinishObs {
  path: OpCounts
  free: OpCounts
  shared: number
}

const REPLAYED = Symbol('replayed buffer')
type Handle<H> = {real: H} | typeof REPLAYED

export interface ReplayStats {
  real_begins: number
  real_finishes: number
  replayed_begins: number
  replayed_finishes: number
  /** Why replay was not used (undefined when it was, or the run ended first). */
  not_replayed_because?: string
}

export class ReplayDriver<H> implements AllocatorDriver<Handle<H>> {
  readonly strategy: AllocatorDriver['strategy']
  private readonly inner: AllocatorDriver<H>
  private readonly calibrate: number
  private readonly cap: number
  private inFlight = 0
  private replayedShared = 0
  private replaying = false
  private begins = 0
  private okObs = fresh<BeginObs>()
  private exhaustedObs = fresh<{ops: OpCounts; blocking?: boolean}>()
  private finishObs = fresh<FinishObs>()
  private warmedUp = false
  /** The replayed answers (the same objects every time: nothing allocated per request). */
  private okResult?: BeginOk<Handle<H>>
  private finishResult?: FinishOps
  /** Every refusal happened at in-flight == capacity, every success below it. */
  private capacityExact = true
  readonly stats: ReplayStats = {real_begins: 0, real_finishes: 0, replayed_begins: 0, replayed_finishes: 0}

  constructor(inner: AllocatorDriver<H>, calibrate: number) {
    this.inner = inner
    this.strategy = inner.strategy
    this.calibrate = calibrate
    this.cap = inner.capacity()
  }

  init(): OpCounts {
    return this.inner.init()
  }

  /** Observations of the warm-up half of the window are dropped. */
  private maybeForgetWarmup(): void {
    if (this.warmedUp || this.begins < Math.floor(this.calibrate / 2)) return
    this.warmedUp = true
    this.okObs = fresh<BeginObs>()
    this.exhaustedObs = fresh<{ops: OpCounts; blocking?: boolean}>()
    this.finishObs = fresh<FinishObs>()
  }

  private maybeSwitch(): void {
    this.maybeForgetWarmup()
    if (this.replaying || this.begins < this.calibrate) return
    const reasons: string[] = []
    if (this.okObs.count < 2 || !this.okObs.stable) reasons.push('allocation operations varied between requests')
    if (this.finishObs.count < 2 || !this.finishObs.stable) reasons.push('free operations varied between requests')
    if (!this.exhaustedObs.stable) reasons.push('pool refusals varied')
    if (!this.capacityExact) reasons.push('refusals did not match the declared capacity')
    if (reasons.length === 0) {
      this.replaying = true
      this.stats.not_replayed_because = undefined
    } else this.stats.not_replayed_because = reasons.join('; ')
  }

  begin(): BeginOk<Handle<H>> | BeginExhausted {
    this.begins++
    this.maybeSwitch()
    if (this.replaying) {
      this.stats.replayed_begins++
      if (this.inFlight >= this.cap) {
        const x = this.exhaustedObs.value
        return {ok: false, reason: 'pool_exhausted', ops: x ? x.ops : zero(this.okObs.value!.alloc), blocking: x ? x.blocking : true}
      }
      const o = this.okObs.value!
      this.inFlight++
      this.replayedShared += o.shared
      this.okResult ??= {ok: true, handle: REPLAYED, alloc: o.alloc, path: o.path}
      return this.okResult
    }
    this.stats.real_begins++
    const before = this.inner.sharedBytes()
    const r = this.inner.begin()
    if (!r.ok) {
      if (this.inFlight < this.cap) this.capacityExact = false
      observe(this.exhaustedObs, {ops: r.ops, blocking: r.blocking}, (a, b) => opsEqual(a.ops, b.ops) && a.blocking === b.blocking)
      return r
    }
    if (this.inFlight >= this.cap) this.capacityExact = false
    this.inFlight++
    observe(this.okObs, {alloc: r.alloc, path: r.path, shared: this.inner.sharedBytes() - before}, (a, b) => opsEqual(a.alloc, b.alloc) && opsEqual(a.path, b.path) && a.shared === b.shared)
    return {ok: true, handle: {real: r.handle}, alloc: r.alloc, path: r.path}
  }

  finish(handle: Handle<H>, wait: WaitOutcome): FinishOps {
    this.inFlight--
    if (handle === REPLAYED) {
      const o = this.finishObs.value!
      this.stats.replayed_finishes++
      this.replayedShared += o.shared
      this.finishResult ??= {path: o.path, free: o.free}
      return this.finishResult
    }
    this.stats.real_finishes++
    const before = this.inner.sharedBytes()
    const f = this.inner.finish(handle.real, wait)
    observe(this.finishObs, {path: f.path, free: f.free, shared: this.inner.sharedBytes() - before}, (a, b) => opsEqual(a.path, b.path) && opsEqual(a.free, b.free) && a.shared === b.shared)
    return f
  }

  sharedBytes(): number {
    return this.inner.sharedBytes() + this.replayedShared
  }

  /** Replaying: every further call repeats the recorded operations (refusals only at capacity). */
  steady(): boolean {
    return this.replaying
  }

  capacity(): number {
    return this.cap
  }

  close(): void {
    this.inner.close?.()
  }
}

function zero(like: OpCounts): OpCounts {
  const o = {...like}
  for (const k of Object.keys(o) as Array<keyof OpCounts>) o[k] = 0
  return o
}
