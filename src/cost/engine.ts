/**
 * The allocator comparison engine: a discrete-event model of N GetQuote requests flowing through a
 * TD, driving the REAL allocator of one strategy (via an AllocatorDriver) in model-time order and
 * pricing the operations it records with a cost profile.
 *
 * Per request:  start ─ begin(): TDREPORT + alloc + copy in + GetQuote (priced) ─► submit
 *   submit ─ host QGS queue (FIFO, `qgs_workers` servers, T_q each) ─► done
 *   done ─ completion detected: notify, or the guest's next poll tick (Δ·ceil(wait/Δ)) ─► detect
 *   detect ─ finish(): copy out + free (priced) ─► complete
 * Arrivals: closed loop (C callers, next request as soon as the previous completes) or open loop
 * (Poisson, rate λ, at most C in flight). A begin() refused by an exhausted pool either waits for a
 * returned buffer (FIFO) or fails the request (`on_exhaustion`).
 */
import type {AllocatorDriver} from './driver.js'
import {OP_KEYS, effectiveTlbFlushes, forcedExits, priceOps, septChanges, zeroOps, type OpCounts} from './ops.js'
import {resolveCosts, type CostProfile, type ResolvedCosts} from './profiles.js'
import type {StrategyName, Workload} from './workload.js'
import {deriveBytes} from '../util/seed.js'

export interface LatencyStats {
  mean_us: number
  p50_us: number
  p99_us: number
  max_us: number
}

export interface StrategyResult {
  strategy: StrategyName
  requests: number
  completed: number
  /** Model time from the first arrival to the last completion. */
  makespan_us: number
  throughput_per_s: number
  latency: LatencyStats
  /** Allocator-attributable time per request: alloc + free (µs, mean over completed requests). */
  overhead_us: {alloc: number; free: number; total: number}
  /** Time from arrival until a buffer was taken: pool or admission queue (mean over completed requests). */
  queue_wait_us: number
  /** One-time cost before the first request (pool conversion). */
  init: {time_us: number; ops: OpCounts; forced_exits: number}
  /** Operations over all requests (init excluded). */
  ops: OpCounts
  /** The allocator's share of `ops`: alloc and free phases only (no TDREPORT, GetQuote, copies, polls). */
  allocator_ops: OpCounts
  /** Operations per completed request (init excluded). */
  per_request: {
    tdcalls: number
    tdvmcalls: number
    mapgpa_calls: number
    pages_converted: number
    pages_accepted: number
    sept_changes: number
    forced_exits: number
    tlb_flushes: number
  }
  forced_exits: number
  tlb_flushes: number
  sept_changes: number
  dm_splits: {'1g': number; '2m': number; init_1g: number; init_2m: number}
  shared_bytes: {mean: number; peak: number}
  failures: {pool_exhausted: number; failed_requests: number; mapgpa_retries: number}
}

export interface EngineOptions {
  /** Called every `progressEvery` completions with (done, total). */
  onProgress?: (done: number, total: number) => void
  progressEvery?: number
}

// Event kinds (small ints: the heap stores them in typed arrays).
const EV_START = 0
const EV_SUBMIT = 1
const EV_DETECT = 2
const EV_COMPLETE = 3
const EV_ARRIVAL = 4

/** Min-heap of (time, seq) → (kind, request id), on parallel arrays. */
class EventHeap {
  private t: Float64Array
  private seq: Float64Array
  private kind: Uint8Array
  private req: Int32Array
  private n = 0
  private nextSeq = 0

  constructor(cap = 1024) {
    this.t = new Float64Array(cap)
    this.seq = new Float64Array(cap)
    this.kind = new Uint8Array(cap)
    this.req = new Int32Array(cap)
  }

  get size(): number {
    return this.n
  }

  private grow(): void {
    const cap = this.t.length * 2
    const t = new Float64Array(cap)
    t.set(this.t)
    const seq = new Float64Array(cap)
    seq.set(this.seq)
    const kind = new Uint8Array(cap)
    kind.set(this.kind)
    const req = new Int32Array(cap)
    req.set(this.req)
    this.t = t
    this.seq = seq
    this.kind = kind
    this.req = req
  }

  private less(i: number, j: number): boolean {
    return this.t[i] < this.t[j] || (this.t[i] === this.t[j] && this.seq[i] < this.seq[j])
  }

  private swap(i: number, j: number): void {
    const t = this.t[i]
    this.t[i] = this.t[j]
    this.t[j] = t
    const s = this.seq[i]
    this.seq[i] = this.seq[j]
    this.seq[j] = s
    const k = this.kind[i]
    this.kind[i] = this.kind[j]
    this.kind[j] = k
    const r = this.req[i]
    this.req[i] = this.req[j]
    this.req[j] = r
  }

  push(time: number, kind: number, req: number): void {
    if (this.n === this.t.length) this.grow()
    let i = this.n++
    this.t[i] = time
    this.seq[i] = this.nextSeq++
    this.kind[i] = kind
    this.req[i] = req
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) break
      this.swap(i, p)
      i = p
    }
  }

  /** Pop the earliest event into `out` ([time, kind, req]). */
  pop(out: [number, number, number]): void {
    out[0] = this.t[0]
    out[1] = this.kind[0]
    out[2] = this.req[0]
    this.n--
    if (this.n > 0) {
      this.t[0] = this.t[this.n]
      this.seq[0] = this.seq[this.n]
      this.kind[0] = this.kind[this.n]
      this.req[0] = this.req[this.n]
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.n && this.less(l, m)) m = l
        if (r < this.n && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
  }
}

/** A FIFO of request ids. */
class Fifo {
  private a: number[] = []
  private head = 0
  get length(): number {
    return this.a.length - this.head
  }
  push(x: number): void {
    this.a.push(x)
  }
  shift(): number {
    const x = this.a[this.head++]
    if (this.head > 4096 && this.head * 2 > this.a.length) {
      this.a = this.a.slice(this.head)
      this.head = 0
    }
    return x
  }
}

/** Deterministic uniform [0, 1) stream from the workload seed (mulberry32). */
export function seededUniform(seed: string): () => number {
  let a = deriveBytes(seed, 'alloc-compare arrivals', 4).readUInt32LE(0)
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0
  // Nearest-rank percentile.
  const rank = Math.max(1, Math.ceil(q * sorted.length))
  return sorted[rank - 1]
}

/** Run one strategy through the workload. The driver is used once (fresh allocator state). */
export function runStrategy(driver: AllocatorDriver, w: Workload, profile: CostProfile, opts: EngineOptions = {}): StrategyResult {
  const c: ResolvedCosts = resolveCosts(profile, w.vcpus)
  const tq = w.quote_time_us ?? c.t_quote
  const delta = w.poll_interval_us ?? c.poll_interval
  const workers = w.host_workers ?? c.qgs_workers
  const notify = w.completion === 'notify'
  const N = w.requests
  const C = w.concurrency

  // Init: the pool's one-time conversion (priced, but outside per-request figures).
  const initOps = driver.init()
  const init = {time_us: priceOps(initOps, c), ops: initOps, forced_exits: forcedExits(initOps, c, w.vcpus)}

  const handles: unknown[] = new Array(N)
  const arrival = new Float64Array(N)
  const startedAt = new Float64Array(N)
  const submitAt = new Float64Array(N)
  const latency = new Float64Array(N)
  const allocCost = new Float64Array(N)
  const freeCost = new Float64Array(N)
  const polls = new Uint32Array(N)
  const failed = new Uint8Array(N)

  // Accumulators as vectors; each distinct OpCounts object is converted and priced once (the
  // replay driver hands back the same objects for every request, so this is the hot path).
  const NK = OP_KEYS.length
  const opsVec = new Float64Array(NK)
  const allocatorVec = new Float64Array(NK)
  const cache = new WeakMap<OpCounts, {vec: Float64Array; price: number}>()
  // A small identity memo in front of the WeakMap: replay hands back the same few objects.
  const memoObj: OpCounts[] = []
  const memoInfo: Array<{vec: Float64Array; price: number}> = []
  let memoNext = 0
  const info = (o: OpCounts) => {
    for (let i = 0; i < memoObj.length; i++) if (memoObj[i] === o) return memoInfo[i]
    let e = cache.get(o)
    if (!e) {
      const vec = new Float64Array(NK)
      for (let i = 0; i < NK; i++) vec[i] = o[OP_KEYS[i]]
      e = {vec, price: priceOps(o, c)}
      cache.set(o, e)
    }
    const slot = memoNext++ % 8
    memoObj[slot] = o
    memoInfo[slot] = e
    return e
  }
  const acc = (into: Float64Array, v: Float64Array) => {
    for (let i = 0; i < NK; i++) into[i] += v[i]
  }
  let pollsTotal = 0
  let notifiesTotal = 0
  let allocUs = 0
  let freeUs = 0
  let queueWaitUs = 0
  let poolExhausted = 0
  let failedRequests = 0
  let completed = 0
  let finishedOrFailed = 0

  const heap = new EventHeap()
  const poolWaiters = new Fifo()
  const admission = new Fifo()
  const hostFree = new Float64Array(workers) // when each QGS worker is next free
  let inFlight = 0
  let issued = 0

  // Shared-memory integral (byte·µs) for the time-weighted mean.
  let sharedNow = driver.sharedBytes()
  let sharedPeak = sharedNow
  let sharedArea = 0
  let lastT = 0
  let now = 0
  const noteShared = (t: number) => {
    sharedArea += sharedNow * (t - lastT)
    lastT = t
    sharedNow = driver.sharedBytes()
    if (sharedNow > sharedPeak) sharedPeak = sharedNow
  }

  const every = opts.progressEvery ?? Math.max(1000, Math.floor(N / 100))
  const closedLoop = w.rate === undefined
  const uniform = seededUniform(w.seed)

  const issue = (t: number) => {
    const id = issued++
    arrival[id] = t
    heap.push(t, EV_START, id)
  }

  const done = (t: number) => {
    finishedOrFailed++
    if (opts.onProgress && finishedOrFailed % every === 0) opts.onProgress(finishedOrFailed, N)
    if (closedLoop) {
      if (issued < N) issue(t)
    } else if (admission.length > 0) {
      heap.push(t, EV_START, admission.shift())
    }
  }

  /** Try to take a buffer for request id at time t; returns false when it had to wait or failed. */
  const tryBegin = (id: number, t: number): void => {
    const r = driver.begin()
    if (!r.ok) {
      acc(opsVec, info(r.ops).vec)
      poolExhausted++
      if (w.on_exhaustion === 'wait') {
        poolWaiters.push(id)
        return
      }
      failed[id] = 1
      failedRequests++
      inFlight--
      // A caller refused with -EBUSY backs off one poll interval before its next request.
      const back = t + delta
      if (closedLoop) {
        finishedOrFailed++
        if (opts.onProgress && finishedOrFailed % every === 0) opts.onProgress(finishedOrFailed, N)
        if (issued < N) issue(back)
      } else done(t)
      return
    }
    handles[id] = r.handle
    startedAt[id] = t
    const ai = info(r.alloc)
    const pi = info(r.path)
    acc(opsVec, ai.vec)
    acc(allocatorVec, ai.vec)
    acc(opsVec, pi.vec)
    allocCost[id] = ai.price
    noteShared(t)
    heap.push(t + ai.price + pi.price, EV_SUBMIT, id)
  }

  if (closedLoop) {
    for (let i = 0; i < Math.min(C, N); i++) issue(0)
  } else {
    heap.push(0, EV_ARRIVAL, -1)
  }

  const ev: [number, number, number] = [0, 0, 0]
  while (heap.size > 0) {
    heap.pop(ev)
    const t = ev[0]
    const kind = ev[1]
    const id = ev[2]
    now = t
    switch (kind) {
      case EV_ARRIVAL: {
        // Open loop: next arrival after an exponential gap; admit up to C in flight.
        const rid = issued++
        arrival[rid] = t
        if (inFlight < C) heap.push(t, EV_START, rid)
        else admission.push(rid)
        if (issued < N) heap.push(t + (-Math.log(1 - uniform()) / w.rate!) * 1e6, EV_ARRIVAL, -1)
        break
      }
      case EV_START: {
        inFlight++
        tryBegin(id, t)
        break
      }
      case EV_SUBMIT: {
        submitAt[id] = t
        // FIFO host service: the earliest-free worker takes it.
        let k = 0
        for (let j = 1; j < workers; j++) if (hostFree[j] < hostFree[k]) k = j
        const start = Math.max(t, hostFree[k])
        const finish = start + tq
        hostFree[k] = finish
        let detect: number
        if (notify) detect = finish
        else {
          const n = Math.max(1, Math.ceil((finish - t) / delta - 1e-9))
          polls[id] = n
          detect = t + n * delta
        }
        heap.push(detect, EV_DETECT, id)
        break
      }
      case EV_DETECT: {
        const f = driver.finish(handles[id], {polls: polls[id], notified: notify})
        handles[id] = undefined
        const fi = info(f.free)
        const pi = info(f.path)
        acc(opsVec, pi.vec)
        acc(opsVec, fi.vec)
        acc(allocatorVec, fi.vec)
        // The wait is the model's: its status checks (or the notify interrupt) are counted here.
        pollsTotal += polls[id]
        if (notify) notifiesTotal++
        freeCost[id] = fi.price
        noteShared(t)
        heap.push(t + fi.price + pi.price + (notify ? c.t_notify : 0), EV_COMPLETE, id)
        // The buffer is back: the oldest waiter takes it now.
        if (poolWaiters.length > 0) {
          const wid = poolWaiters.shift()
          tryBegin(wid, t)
        }
        break
      }
      case EV_COMPLETE: {
        inFlight--
        latency[completed] = t - arrival[id]
        allocUs += allocCost[id]
        freeUs += freeCost[id]
        queueWaitUs += startedAt[id] - arrival[id]
        completed++
        done(t)
        break
      }
    }
  }
  noteShared(now)
  driver.close?.()
  const ops = zeroOps()
  const allocatorOps = zeroOps()
  OP_KEYS.forEach((k, i) => {
    ops[k] = opsVec[i]
    allocatorOps[k] = allocatorVec[i]
  })
  ops.polls += pollsTotal
  ops.notifies += notifiesTotal

  const lat = latency.subarray(0, completed).sort()
  let sum = 0
  for (let i = 0; i < lat.length; i++) sum += lat[i]
  const per = completed > 0 ? 1 / completed : 0
  const fe = forcedExits(ops, c, w.vcpus)
  const tlb = effectiveTlbFlushes(ops, c)
  return {
    strategy: driver.strategy,
    requests: N,
    completed,
    makespan_us: now,
    throughput_per_s: now > 0 ? (completed / now) * 1e6 : 0,
    latency: {
      mean_us: completed > 0 ? sum / completed : 0,
      p50_us: percentile(lat, 0.5),
      p99_us: percentile(lat, 0.99),
      max_us: lat.length > 0 ? lat[lat.length - 1] : 0,
    },
    overhead_us: {alloc: allocUs * per, free: freeUs * per, total: (allocUs + freeUs) * per},
    queue_wait_us: queueWaitUs * per,
    init,
    ops,
    allocator_ops: allocatorOps,
    per_request: {
      tdcalls: ops.tdcalls * per,
      tdvmcalls: ops.tdvmcalls * per,
      mapgpa_calls: ops.mapgpa_calls * per,
      pages_converted: (ops.pages_to_shared + ops.pages_to_private) * per,
      pages_accepted: ops.pages_accepted * per,
      sept_changes: septChanges(ops) * per,
      forced_exits: fe * per,
      tlb_flushes: tlb * per,
    },
    forced_exits: fe,
    tlb_flushes: tlb,
    sept_changes: septChanges(ops),
    dm_splits: {'1g': ops.dm_splits_1g + initOps.dm_splits_1g, '2m': ops.dm_splits_2m + initOps.dm_splits_2m, init_1g: initOps.dm_splits_1g, init_2m: initOps.dm_splits_2m},
    shared_bytes: {mean: now > 0 ? sharedArea / now : sharedNow, peak: sharedPeak},
    failures: {pool_exhausted: poolExhausted, failed_requests: failedRequests, mapgpa_retries: ops.mapgpa_retries},
  }
}
