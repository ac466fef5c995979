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
import type {AllocatorDriver, WaitOutcome} from './driver.js'
import {OP_KEYS, effectiveTlbFlushes, forcedExits, opsSignature, priceOps, septChanges, zeroOps, type OpCounts} from './ops.js'
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
  /** What the model kept in memory: independent of the number of requests (issue 17). */
  model: {distinct_operation_sets: number; request_slots: number; fast_forwarded: number}
}

interface EngineOptions {
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

/** Latencies kept exactly up to this many; beyond, a fixed-size histogram takes over (memory stays constant). */
export const EXACT_LATENCIES = 65_536
/** Relative width of a histogram bucket: percentiles beyond EXACT_LATENCIES are within 0.1 %. */
const HIST_REL = 1e-3
const HIST_LOG_BASE = Math.log1p(HIST_REL)
/** Bucket 0 holds values below 1 ns; the top bucket everything above ~1e12 µs. */
const HIST_MIN = 1e-3
const HIST_BUCKETS = Math.ceil(Math.log(1e15) / HIST_LOG_BASE) + 2

/** Log-bucket histogram keeping, per bucket, the count and the largest value seen (nearest-rank percentiles). */
class LogHistogram {
  private readonly counts = new Float64Array(HIST_BUCKETS)
  private readonly top = new Float64Array(HIST_BUCKETS)

  private bucket(v: number): number {
    if (!(v >= HIST_MIN)) return 0
    return Math.min(HIST_BUCKETS - 1, 1 + Math.floor(Math.log(v / HIST_MIN) / HIST_LOG_BASE))
  }

  private lastV = NaN
  private lastB = 0

  add(v: number): void {
    // Modelled latencies repeat exactly in a steady state: skip the logarithm for a repeat.
    const b = v === this.lastV ? this.lastB : this.bucket(v)
    this.lastV = v
    this.lastB = b
    this.counts[b]++
    if (v > this.top[b] || this.counts[b] === 1) this.top[b] = v
  }

  addMany(v: number, count: number): void {
    const b = this.bucket(v)
    if (this.counts[b] === 0 || v > this.top[b]) this.top[b] = v
    this.counts[b] += count
  }

  /** Nearest-rank percentile of n values: the largest value of the bucket holding rank ceil(q·n). */
  percentile(q: number, n: number): number {
    const rank = Math.max(1, Math.ceil(q * n))
    let seen = 0
    for (let b = 0; b < HIST_BUCKETS; b++) {
      seen += this.counts[b]
      if (seen >= rank) return this.top[b]
    }
    return 0
  }
}

/** Completed requests' latencies: exact while few, a histogram beyond (mean and max stay exact). */
export class LatencyRecorder {
  private exact: Float64Array | undefined = new Float64Array(1024)
  private hist?: LogHistogram
  private n = 0
  private sum = 0
  private max = 0

  add(v: number): void {
    this.sum += v
    if (v > this.max || this.n === 0) this.max = v
    if (this.exact) {
      if (this.n === this.exact.length) {
        if (this.n < EXACT_LATENCIES) {
          const grown = new Float64Array(Math.min(EXACT_LATENCIES, this.n * 2))
          grown.set(this.exact)
          this.exact = grown
        } else {
          this.spill()
        }
      }
    }
    if (this.exact) this.exact[this.n] = v
    else this.hist!.add(v)
    this.n++
  }

  /** Move the exact latencies into a histogram (from here on memory stays constant). */
  private spill(): void {
    const hist = new LogHistogram()
    for (let i = 0; i < this.n; i++) hist.add(this.exact![i])
    this.hist = hist
    this.exact = undefined
  }

  /** `count` more latencies of `v` (a fast-forwarded steady state). */
  addMany(v: number, count: number): void {
    if (count <= 0) return
    if (this.exact && this.n + count <= EXACT_LATENCIES) {
      for (let i = 0; i < count; i++) this.add(v)
      return
    }
    if (this.exact) this.spill()
    this.sum += v * count
    if (v > this.max || this.n === 0) this.max = v
    this.hist!.addMany(v, count)
    this.n += count
  }

  stats(): LatencyStats {
    const n = this.n
    if (n === 0) return {mean_us: 0, p50_us: 0, p99_us: 0, max_us: 0}
    const sorted = this.exact?.subarray(0, n).sort()
    const pct = (q: number): number => (sorted ? sorted[Math.max(1, Math.ceil(q * n)) - 1] : this.hist!.percentile(q, n))
    return {mean_us: this.sum / n, p50_us: pct(0.5), p99_us: pct(0.99), max_us: this.max}
  }
}

/** Run one strategy through the workload. The driver is used once (fresh allocator state). */
export function runStrategy(driver: AllocatorDriver, w: Workload, profile: CostProfile, opts: EngineOptions = {}): StrategyResult {
  return new StrategyRun(driver, w, profile, opts).run()
}

/**
 * One distinct set of operation counts, priced once. Requests only count how often each set was
 * used (`uses` overall, `allocatorUses` in the alloc / free phases): the per-request cost is a
 * counter increment, and the totals are vector × count at the end.
 */
interface PricedOps {
  ops: OpCounts
  price: number
  uses: number
  allocatorUses: number
}

/**
 * Prices operation counts: each distinct OpCounts object is priced once (the replay driver hands
 * back the same few objects for every request, so this is the hot path), with a small identity
 * memo in front of the WeakMap.
 */
class OpPricer {
  private readonly cache = new WeakMap<OpCounts, PricedOps>()
  private readonly bySignature = new Map<string, PricedOps>()
  private readonly memoObj: OpCounts[] = []
  private readonly memoInfo: PricedOps[] = []
  private memoNext = 0
  /** Every priced set, for the totals (bounded by the distinct sets a run produces). */
  readonly all: PricedOps[] = []

  constructor(private readonly costs: ResolvedCosts) {}

  priced(o: OpCounts): PricedOps {
    for (let i = 0; i < this.memoObj.length; i++) if (this.memoObj[i] === o) return this.memoInfo[i]
    let e = this.cache.get(o)
    if (!e) {
      // Same counts, same entry: a run driven for real (--exact) makes a new object per request,
      // but only a handful of distinct sets, so memory stays constant in the number of requests.
      const sig = opsSignature(o)
      e = this.bySignature.get(sig)
      if (!e) {
        e = {ops: {...o}, price: priceOps(o, this.costs), uses: 0, allocatorUses: 0}
        this.bySignature.set(sig, e)
        this.all.push(e)
      }
      this.cache.set(o, e)
    }
    const slot = this.memoNext++ % 8
    this.memoObj[slot] = o
    this.memoInfo[slot] = e
    return e
  }

  /** Σ ops × uses (or × allocatorUses). */
  total(which: 'uses' | 'allocatorUses'): OpCounts {
    const o = zeroOps()
    for (const e of this.all) if (e[which] > 0) for (const k of OP_KEYS) o[k] += e.ops[k] * e[which]
    return o
  }
}

/**
 * The requests in flight, in recycled slots: memory depends on how many are in flight at once,
 * never on how many the run models.
 */
class RequestSlots {
  handles: unknown[] = []
  arrival = new Float64Array(16)
  startedAt = new Float64Array(16)
  allocCost = new Float64Array(16)
  freeCost = new Float64Array(16)
  polls = new Uint32Array(16)
  private freeList: number[] = []
  private next = 0

  private grow(): void {
    const n = this.arrival.length * 2
    const g = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n)
      b.set(a)
      return b
    }
    this.arrival = g(this.arrival, (k) => new Float64Array(k))
    this.startedAt = g(this.startedAt, (k) => new Float64Array(k))
    this.allocCost = g(this.allocCost, (k) => new Float64Array(k))
    this.freeCost = g(this.freeCost, (k) => new Float64Array(k))
    this.polls = g(this.polls, (k) => new Uint32Array(k))
  }

  /** A slot for a request that arrived at `t`. */
  take(t: number): number {
    let i = this.freeList.pop()
    if (i === undefined) {
      if (this.next === this.arrival.length) this.grow()
      i = this.next++
    }
    this.arrival[i] = t
    this.startedAt[i] = 0
    this.allocCost[i] = 0
    this.freeCost[i] = 0
    this.polls[i] = 0
    this.handles[i] = undefined
    return i
  }

  release(i: number): void {
    this.handles[i] = undefined
    this.freeList.push(i)
  }

  /** Slots ever handed out (the peak number of requests in flight or waiting for a buffer). */
  get size(): number {
    return this.next
  }
}

/** One request of a single caller, as the fast-forward compares them. */
interface Step {
  latency: number
  alloc: number
  free: number
  wait: number
  polls: number
  /** Shared-memory integral (byte·µs) from the previous request's begin to this one's. */
  area: number
  ai: PricedOps
  pi: PricedOps
  fi: PricedOps
  pf: PricedOps
}

/** One strategy's pass through the workload: the model's state and one handler per event kind. */
class StrategyRun {
  private readonly c: ResolvedCosts
  private readonly tq: number
  private readonly delta: number
  private readonly workers: number
  private readonly notify: boolean
  private readonly N: number
  private readonly C: number
  private readonly closedLoop: boolean
  private readonly every: number
  private readonly uniform: () => number
  private readonly init: StrategyResult['init']
  private readonly pricer: OpPricer
  private readonly req = new RequestSlots()
  private readonly latencies = new LatencyRecorder()
  private readonly heap = new EventHeap()
  /** Requests (slots) waiting for a buffer. */
  private readonly poolWaiters = new Fifo()
  /** Open loop: arrival times of requests waiting for admission. */
  private readonly admission = new Fifo()
  /** When each QGS worker is next free. */
  private readonly hostFree: Float64Array
  /** The wait outcome handed to finish() (one object, refilled per request). */
  private readonly wait: WaitOutcome = {polls: 0, notified: false}
  private pollsTotal = 0
  private notifiesTotal = 0
  private allocUs = 0
  private freeUs = 0
  private queueWaitUs = 0
  private poolExhausted = 0
  private failedRequests = 0
  private completed = 0
  private finishedOrFailed = 0
  private inFlight = 0
  private issued = 0
  /** Shared-memory integral (byte·µs) for the time-weighted mean. */
  private sharedNow: number
  private sharedPeak: number
  private sharedArea = 0
  private lastT = 0
  private now = 0
  /** Latest completion (the makespan's end: completions handled early still end at their time). */
  private lastEnd = 0
  /** Closed loop, one caller: identical consecutive requests may be fast-forwarded. */
  private readonly canFastForward: boolean
  /** The request in flight (one caller): its priced operation sets and the area at its begin. */
  private cur = {ai: undefined as PricedOps | undefined, pi: undefined as PricedOps | undefined, fi: undefined as PricedOps | undefined, pf: undefined as PricedOps | undefined}
  private areaAtBegin = 0
  private prevAreaAtBegin = NaN
  private prevStep?: Step
  private sameSteps = 0
  /** Requests fast-forwarded (for diagnostics). */
  private fastForwarded = 0

  constructor(
    private readonly driver: AllocatorDriver,
    private readonly w: Workload,
    profile: CostProfile,
    private readonly opts: EngineOptions,
  ) {
    const c = resolveCosts(profile, w.vcpus)
    this.c = c
    this.tq = w.quote_time_us ?? c.t_quote
    this.delta = w.poll_interval_us ?? c.poll_interval
    this.workers = w.host_workers ?? c.qgs_workers
    this.notify = w.completion === 'notify'
    this.wait.notified = this.notify
    this.N = w.requests
    this.C = w.concurrency
    // Init: the pool's one-time conversion (priced, but outside per-request figures).
    const initOps = driver.init()
    this.init = {time_us: priceOps(initOps, c), ops: initOps, forced_exits: forcedExits(initOps, c, w.vcpus)}
    this.pricer = new OpPricer(c)
    this.hostFree = new Float64Array(this.workers)
    this.sharedNow = driver.sharedBytes()
    this.sharedPeak = this.sharedNow
    this.every = opts.progressEvery ?? Math.max(1000, Math.floor(this.N / 100))
    this.closedLoop = w.rate === undefined
    this.uniform = seededUniform(w.seed)
    this.canFastForward = this.closedLoop && this.C === 1 && typeof driver.steady === 'function'
  }

  run(): StrategyResult {
    this.seedArrivals()
    this.drain()
    if (this.lastEnd > this.now) this.now = this.lastEnd
    this.noteShared(this.now)
    this.driver.close?.()
    return this.result()
  }

  /** Closed loop: C callers start at once; open loop: the first Poisson arrival. */
  private seedArrivals(): void {
    if (this.closedLoop) {
      for (let i = 0; i < Math.min(this.C, this.N); i++) this.issue(0)
    } else {
      this.heap.push(0, EV_ARRIVAL, -1)
    }
  }

  private drain(): void {
    const ev: [number, number, number] = [0, 0, 0]
    while (this.heap.size > 0) {
      this.heap.pop(ev)
      const t = ev[0]
      const id = ev[2]
      this.now = t
      switch (ev[1]) {
        case EV_ARRIVAL:
          this.onArrival(t)
          break
        case EV_START:
          this.inFlight++
          this.tryBegin(id, t)
          break
        case EV_SUBMIT:
          this.onSubmit(id, t)
          break
        case EV_DETECT:
          this.onDetect(id, t)
          break
        case EV_COMPLETE:
          this.onComplete(id, t)
          break
      }
    }
  }

  private noteShared(t: number): void {
    this.sharedArea += this.sharedNow * (t - this.lastT)
    this.lastT = t
    this.sharedNow = this.driver.sharedBytes()
    if (this.sharedNow > this.sharedPeak) this.sharedPeak = this.sharedNow
  }

  private issue(t: number): void {
    this.issued++
    this.heap.push(t, EV_START, this.req.take(t))
  }

  private countFinished(): void {
    this.finishedOrFailed++
    if (this.opts.onProgress && this.finishedOrFailed % this.every === 0) this.opts.onProgress(this.finishedOrFailed, this.N)
  }

  /** A request left the system: the next caller (closed loop) or the next admitted arrival starts. */
  private done(t: number): void {
    this.countFinished()
    if (this.closedLoop) {
      if (this.issued < this.N) this.issue(t)
    } else if (this.admission.length > 0) {
      this.heap.push(t, EV_START, this.req.take(this.admission.shift()))
    }
  }

  /** Open loop: next arrival after an exponential gap; admit up to C in flight. */
  private onArrival(t: number): void {
    this.issued++
    if (this.inFlight < this.C) this.heap.push(t, EV_START, this.req.take(t))
    else this.admission.push(t)
    if (this.issued < this.N) this.heap.push(t + (-Math.log(1 - this.uniform()) / this.w.rate!) * 1e6, EV_ARRIVAL, -1)
  }

  /** Take a buffer for request `id` at time t; a full pool makes it wait or fail. */
  private tryBegin(id: number, t: number): void {
    const r = this.driver.begin()
    if (!r.ok) {
      this.pricer.priced(r.ops).uses++
      this.poolExhausted++
      // The kernel waits only where it blocks (a mutex); SWIOTLB's mapping error and -EBUSY fail.
      if (r.blocking !== false && this.w.on_exhaustion === 'wait') this.poolWaiters.push(id)
      else this.failRequest(id, t)
      return
    }
    this.req.handles[id] = r.handle
    this.req.startedAt[id] = t
    const ai = this.pricer.priced(r.alloc)
    const pi = this.pricer.priced(r.path)
    ai.uses++
    ai.allocatorUses++
    pi.uses++
    this.req.allocCost[id] = ai.price
    this.noteShared(t)
    if (this.canFastForward) {
      this.cur.ai = ai
      this.cur.pi = pi
      this.prevAreaAtBegin = this.areaAtBegin
      this.areaAtBegin = this.sharedArea
    }
    this.heap.push(t + ai.price + pi.price, EV_SUBMIT, id)
  }

  /** The request is refused; its caller backs off one poll interval (closed loop) and tries again. */
  private failRequest(id: number, t: number): void {
    this.failedRequests++
    this.inFlight--
    this.req.release(id)
    if (this.closedLoop) {
      this.countFinished()
      if (this.issued < this.N) this.issue(t + this.delta)
    } else this.done(t)
  }

  /** FIFO host service: the earliest-free worker takes it; completion is seen by notify or the next poll tick. */
  private onSubmit(id: number, t: number): void {
    let k = 0
    for (let j = 1; j < this.workers; j++) if (this.hostFree[j] < this.hostFree[k]) k = j
    const start = Math.max(t, this.hostFree[k])
    const finish = start + this.tq
    this.hostFree[k] = finish
    let detect: number
    if (this.notify) detect = finish
    else {
      const n = Math.max(1, Math.ceil((finish - t) / this.delta - 1e-9))
      this.req.polls[id] = n
      detect = t + n * this.delta
    }
    this.heap.push(detect, EV_DETECT, id)
  }

  /** Completion detected: copy out and free (priced); the returned buffer goes to the oldest waiter. */
  private onDetect(id: number, t: number): void {
    this.wait.polls = this.req.polls[id]
    const f = this.driver.finish(this.req.handles[id], this.wait)
    this.req.handles[id] = undefined
    const fi = this.pricer.priced(f.free)
    const pi = this.pricer.priced(f.path)
    pi.uses++
    fi.uses++
    fi.allocatorUses++
    // The wait is the model's: its status checks (or the notify interrupt) are counted here.
    this.pollsTotal += this.req.polls[id]
    if (this.notify) this.notifiesTotal++
    this.req.freeCost[id] = fi.price
    if (this.canFastForward) {
      this.cur.fi = fi
      this.cur.pf = pi
    }
    this.noteShared(t)
    const end = t + fi.price + pi.price + (this.notify ? this.c.t_notify : 0)
    // Closed loop: nothing between detection and completion reads the request (the next caller
    // starts at `end` through its own event), so complete now; open loop keeps the event, as
    // admission counts requests in flight until they complete.
    if (this.closedLoop) this.onComplete(id, end)
    else this.heap.push(end, EV_COMPLETE, id)
    if (this.poolWaiters.length > 0) this.tryBegin(this.poolWaiters.shift(), t)
  }

  private onComplete(id: number, t: number): void {
    if (t > this.lastEnd) this.lastEnd = t
    this.inFlight--
    const latency = t - this.req.arrival[id]
    this.latencies.add(latency)
    this.allocUs += this.req.allocCost[id]
    this.freeUs += this.req.freeCost[id]
    this.queueWaitUs += this.req.startedAt[id] - this.req.arrival[id]
    this.completed++
    const step = this.canFastForward ? this.stepOf(id, latency) : undefined
    this.req.release(id)
    if (step && this.steadyFor(step)) this.fastForward(t, step)
    this.done(t)
  }

  /** What one request of a single caller contributed, to recognise identical requests. */
  private stepOf(id: number, latency: number): Step | undefined {
    const {ai, pi, fi, pf} = this.cur
    if (!ai || !pi || !fi || !pf) return undefined
    return {latency, alloc: this.req.allocCost[id], free: this.req.freeCost[id], wait: this.req.startedAt[id] - this.req.arrival[id], polls: this.req.polls[id], area: this.areaAtBegin - this.prevAreaAtBegin, ai, pi, fi, pf}
  }

  /** Three identical requests in a row from a driver that promises no change: a steady state. */
  private steadyFor(step: Step): boolean {
    const p = this.prevStep
    const same =
      p !== undefined && p.latency === step.latency && p.alloc === step.alloc && p.free === step.free && p.wait === step.wait && p.polls === step.polls &&
      p.area === step.area && p.ai === step.ai && p.pi === step.pi && p.fi === step.fi && p.pf === step.pf
    this.sameSteps = same ? this.sameSteps + 1 : 0
    this.prevStep = step
    return this.sameSteps >= 2 && this.driver.steady!()
  }

  /**
   * One caller in a closed loop, a driver replaying the same operations, a deterministic host:
   * every remaining request is the last one again, one after the other. Account for all of them at
   * once — the same sums the event loop would reach (up to floating-point rounding), without
   * walking each event.
   */
  private fastForward(t: number, s: Step): void {
    const R = this.N - this.issued
    if (R <= 0) return
    this.latencies.addMany(s.latency, R)
    this.allocUs += s.alloc * R
    this.freeUs += s.free * R
    this.queueWaitUs += s.wait * R
    this.pollsTotal += s.polls * R
    if (this.notify) this.notifiesTotal += R
    s.ai.uses += R
    s.ai.allocatorUses += R
    s.pi.uses += R
    s.fi.uses += R
    s.fi.allocatorUses += R
    s.pf.uses += R
    this.sharedArea += s.area * R
    this.lastT += s.latency * R
    this.lastEnd = t + s.latency * R
    this.completed += R
    this.issued += R
    this.finishedOrFailed += R - 1
    this.fastForwarded += R
    this.countFinished()
  }

  private result(): StrategyResult {
    const {c, w, completed, now, init} = this
    const ops = this.pricer.total('uses')
    ops.polls += this.pollsTotal
    ops.notifies += this.notifiesTotal
    const per = completed > 0 ? 1 / completed : 0
    const fe = forcedExits(ops, c, w.vcpus)
    const tlb = effectiveTlbFlushes(ops, c)
    return {
      strategy: this.driver.strategy,
      requests: this.N,
      completed,
      makespan_us: now,
      throughput_per_s: now > 0 ? (completed / now) * 1e6 : 0,
      latency: this.latencies.stats(),
      overhead_us: {alloc: this.allocUs * per, free: this.freeUs * per, total: (this.allocUs + this.freeUs) * per},
      queue_wait_us: this.queueWaitUs * per,
      init,
      ops,
      allocator_ops: this.pricer.total('allocatorUses'),
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
      dm_splits: {'1g': ops.dm_splits_1g + init.ops.dm_splits_1g, '2m': ops.dm_splits_2m + init.ops.dm_splits_2m, init_1g: init.ops.dm_splits_1g, init_2m: init.ops.dm_splits_2m},
      shared_bytes: {mean: now > 0 ? this.sharedArea / now : this.sharedNow, peak: this.sharedPeak},
      failures: {pool_exhausted: this.poolExhausted, failed_requests: this.failedRequests, mapgpa_retries: ops.mapgpa_retries},
      model: {distinct_operation_sets: this.pricer.all.length, request_slots: this.req.size, fast_forwarded: this.fastForwarded},
    }
  }
}
