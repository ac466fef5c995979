/**
 * The workload an allocator comparison runs: how many GetQuote requests, how big, how many in flight
 * (closed loop) or at what Poisson rate (open loop), the TD's shape and the host's behaviour.
 * Parsed from user text (flags, sweep values) and validated: every bad value is an InputError
 * (exit 2) naming the flag.
 */
import {InputError} from '../errors.js'
import {PAGE_SIZE, PAGE_SIZE_2M} from '../machine/memory.js'
import {DEFAULT_POOL_BYTES, validatePoolSizes} from '../guest/alloc/dma-pool.js'
import {parseDuration, parseSize, requirePositive, requirePositiveInt} from './units.js'

export const STRATEGIES = ['vmap-mapgpa', 'dma-pool'] as const
export type StrategyName = (typeof STRATEGIES)[number]

/** GetQuote shared-buffer header in front of the payload (GHCI: version, status, in_len, out_len). */
export const GETQUOTE_HEADER_BYTES = 24
/** The TDREPORT the guest sends. */
export const TDREPORT_BYTES = 1024
/** A typical v4 quote with its PCK chain (dcap-qvl sample quotes: 5,006 and 5,010 bytes). */
export const TYPICAL_QUOTE_BYTES = 5006
/** Linux's GET_QUOTE_BUF_SIZE. */
export const LINUX_QUOTE_BUF_BYTES = 8 * 1024

export const MAX_REQUESTS = 100_000_000
export const MAX_VCPUS = 4096

export type Completion = 'poll' | 'notify'
export type ExhaustionPolicy = 'wait' | 'fail'

export interface Workload {
  requests: number
  /** Shared buffer per request (bytes); pages per buffer P = ceil(buffer / 4 KiB). */
  buffer_bytes: number
  request_bytes: number
  response_bytes: number
  /** Closed loop: callers in flight. Open loop (rate set): cap on requests in flight. */
  concurrency: number
  /** Poisson arrival rate (requests/s); undefined = closed loop. */
  rate?: number
  vcpus: number
  memory_bytes: number
  pool_bytes: number
  /** How pool_bytes was chosen ('swiotlb' = the kernel's CoCo SWIOTLB sizing rule). */
  pool_rule: 'explicit' | 'swiotlb' | 'default'
  completion: Completion
  /** Overrides of the profile's Δ / T_q / QGS workers (µs, µs, count). */
  poll_interval_us?: number
  quote_time_us?: number
  host_workers?: number
  on_exhaustion: ExhaustionPolicy
  seed: string
}

/** Flag text as the user gave it; everything optional. */
export interface WorkloadInput {
  requests?: string | number
  size?: string | number
  'request-size'?: string | number
  'response-size'?: string | number
  concurrency?: string | number
  rate?: string | number
  vcpus?: string | number
  memory?: string | number
  'pool-size'?: string | number
  notify?: boolean
  'poll-interval'?: string | number
  'quote-time'?: string | number
  'host-workers'?: string | number
  'on-exhaustion'?: string
  seed?: string
}

export const WORKLOAD_DEFAULTS = {
  requests: 1000,
  size: LINUX_QUOTE_BUF_BYTES,
  'request-size': TDREPORT_BYTES,
  'response-size': TYPICAL_QUOTE_BYTES,
  concurrency: 1,
  vcpus: 32,
  memory: 16 * 1024 ** 3,
  /** The guest path's default pool (src/guest/alloc/dma-pool.ts): 8 slots of 8 KiB. */
  'pool-size': DEFAULT_POOL_BYTES,
  seed: 'tdxkit-alloc-compare',
} as const

/** What `--chart` sweeps when no --sweep is given: the reference's TD sizes and a few between. */
export const DEFAULT_CHART_SWEEP = 'vcpus=8,32,64,128,248'

/** Keys `--sweep key=v1,v2,…` may vary. */
export const SWEEP_KEYS = ['vcpus', 'concurrency', 'size', 'rate', 'pool-size', 'memory', 'requests', 'poll-interval', 'quote-time', 'response-size'] as const
export type SweepKey = (typeof SWEEP_KEYS)[number]

const SWIOTLB_MIN = 64 * 1024 ** 2
const SWIOTLB_MAX = 1024 ** 3

/** SWIOTLB allocates in segments of 128 slots × 2 KiB. */
const SWIOTLB_SEGMENT = 128 * 2048

/**
 * The kernel's CoCo SWIOTLB size: 6 % of RAM clamped to [64 MiB, 1 GiB] (cost-model §3.5 / row 16),
 * rounded up to whole 256 KiB segments.
 */
export function swiotlbBytes(memoryBytes: number): number {
  const raw = Math.min(SWIOTLB_MAX, Math.max(SWIOTLB_MIN, 0.06 * memoryBytes))
  return Math.ceil(raw / SWIOTLB_SEGMENT) * SWIOTLB_SEGMENT
}

export function pagesPerBuffer(w: Pick<Workload, 'buffer_bytes'>): number {
  return Math.ceil(w.buffer_bytes / PAGE_SIZE)
}

function intOf(v: string | number, what: string, max?: number): number {
  const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN
  if (Number.isNaN(n)) throw new InputError('BAD_WORKLOAD', `${what} must be a positive integer (got '${v}')`)
  return requirePositiveInt(n, what, max)
}

function sizeOf(v: string | number, what: string): number {
  const n = typeof v === 'number' ? v : parseSize(v, what)
  if (!Number.isFinite(n) || n <= 0) throw new InputError('BAD_WORKLOAD', `${what} must be a positive size (got '${v}')`)
  return n
}

function durationOf(v: string | number, what: string): number {
  const n = typeof v === 'number' ? v : parseDuration(v, what)
  return requirePositive(n, what)
}

export function parseWorkload(input: WorkloadInput = {}): Workload {
  const d = WORKLOAD_DEFAULTS
  const requests = intOf(input.requests ?? d.requests, '--requests', MAX_REQUESTS)
  const buffer = sizeOf(input.size ?? d.size, '--size')
  const reqBytes = sizeOf(input['request-size'] ?? d['request-size'], '--request-size')
  const respBytes = sizeOf(input['response-size'] ?? d['response-size'], '--response-size')
  const concurrency = intOf(input.concurrency ?? d.concurrency, '--concurrency', 1_000_000)
  const vcpus = intOf(input.vcpus ?? d.vcpus, '--vcpus', MAX_VCPUS)
  const memory = sizeOf(input.memory ?? d.memory, '--memory')
  let rate: number | undefined
  if (input.rate !== undefined) {
    rate = typeof input.rate === 'number' ? input.rate : Number(String(input.rate).replace(/\/s$/, ''))
    if (!Number.isFinite(rate) || rate <= 0) throw new InputError('BAD_WORKLOAD', `--rate must be a positive number of requests per second (got '${input.rate}')`)
  }

  if (memory < PAGE_SIZE_2M || memory % PAGE_SIZE !== 0) throw new InputError('BAD_WORKLOAD', `--memory must be a multiple of 4 KiB and at least 2 MiB (got ${memory} bytes)`)
  const payload = GETQUOTE_HEADER_BYTES + Math.max(reqBytes, respBytes)
  if (payload > buffer) {
    throw new InputError('BAD_WORKLOAD', `--size ${buffer} bytes cannot hold the ${GETQUOTE_HEADER_BYTES}-byte GetQuote header plus a ${Math.max(reqBytes, respBytes)}-byte payload (need ≥ ${payload})`)
  }
  if (buffer > memory / 4) throw new InputError('BAD_WORKLOAD', `--size ${buffer} bytes is more than a quarter of the TD's memory (${memory} bytes)`)

  let pool: number
  let rule: Workload['pool_rule']
  const poolIn = input['pool-size']
  if (poolIn === undefined) {
    pool = d['pool-size']
    rule = 'default'
  } else if (typeof poolIn === 'string' && poolIn.trim().toLowerCase() === 'swiotlb') {
    pool = swiotlbBytes(memory)
    rule = 'swiotlb'
  } else {
    pool = sizeOf(poolIn, '--pool-size')
    rule = 'explicit'
  }
  // The pool hands out whole buffers: a pool must hold at least one.
  if (pool < buffer) throw new InputError('BAD_WORKLOAD', `--pool-size ${pool} bytes is smaller than one ${buffer}-byte buffer`)
  validatePoolSizes(pool, Math.ceil(buffer / PAGE_SIZE) * PAGE_SIZE) // 4 KiB multiples, as the guest path requires
  if (pool > memory / 2) throw new InputError('BAD_WORKLOAD', `--pool-size ${pool} bytes is more than half of the TD's memory (${memory} bytes)`)

  const w: Workload = {
    requests,
    buffer_bytes: buffer,
    request_bytes: reqBytes,
    response_bytes: respBytes,
    concurrency,
    ...(rate === undefined ? {} : {rate}),
    vcpus,
    memory_bytes: memory,
    pool_bytes: pool,
    pool_rule: rule,
    completion: input.notify ? 'notify' : 'poll',
    on_exhaustion: 'wait',
    seed: input.seed ?? d.seed,
  }
  if (input['poll-interval'] !== undefined) {
    if (input.notify) throw new InputError('BAD_WORKLOAD', '--poll-interval and --notify are exclusive (notify completion does not poll)')
    w.poll_interval_us = durationOf(input['poll-interval'], '--poll-interval')
  }
  if (input['quote-time'] !== undefined) {
    const q = typeof input['quote-time'] === 'number' ? input['quote-time'] : parseDuration(input['quote-time'], '--quote-time')
    if (!Number.isFinite(q) || q < 0) throw new InputError('BAD_WORKLOAD', `--quote-time must not be negative (got '${input['quote-time']}')`)
    w.quote_time_us = q
  }
  if (input['host-workers'] !== undefined) w.host_workers = intOf(input['host-workers'], '--host-workers', 4096)
  if (input['on-exhaustion'] !== undefined) {
    if (input['on-exhaustion'] !== 'wait' && input['on-exhaustion'] !== 'fail') throw new InputError('BAD_WORKLOAD', `--on-exhaustion must be wait or fail (got '${input['on-exhaustion']}')`)
    w.on_exhaustion = input['on-exhaustion']
  }
  return w
}

export interface SweepSpec {
  key: SweepKey
  values: string[]
}

/** `--sweep vcpus=8,32,248` → {key, values}; values are validated when each point is parsed. */
export function parseSweep(text: string): SweepSpec {
  const m = /^\s*([a-z-]+)\s*=\s*(.+)$/.exec(text)
  if (!m) throw new InputError('BAD_SWEEP', `--sweep expects key=v1,v2,… (e.g. vcpus=8,32,248), got '${text}'`)
  const key = m[1] as SweepKey
  if (!(SWEEP_KEYS as readonly string[]).includes(key)) throw new InputError('BAD_SWEEP', `--sweep cannot vary '${m[1]}' (can vary: ${SWEEP_KEYS.join(', ')})`)
  const values = m[2]
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
  if (values.length === 0) throw new InputError('BAD_SWEEP', `--sweep ${key}= needs at least one value`)
  if (values.length > 1000) throw new InputError('BAD_SWEEP', `--sweep takes at most 1000 points (got ${values.length})`)
  return {key, values}
}

/** One workload per sweep point (each validated like a flag value). */
export function sweepWorkloads(base: WorkloadInput, sweep: SweepSpec): Array<{value: string; workload: Workload}> {
  return sweep.values.map((value) => ({value, workload: parseWorkload({...base, [sweep.key]: value})}))
}

/** The numeric x value of a sweep point (for charts). */
export function sweepX(w: Workload, key: SweepKey): number {
  switch (key) {
    case 'vcpus':
      return w.vcpus
    case 'concurrency':
      return w.concurrency
    case 'size':
      return w.buffer_bytes
    case 'rate':
      return w.rate ?? 0
    case 'pool-size':
      return w.pool_bytes
    case 'memory':
      return w.memory_bytes
    case 'requests':
      return w.requests
    case 'poll-interval':
      return w.poll_interval_us ?? 0
    case 'quote-time':
      return w.quote_time_us ?? 0
    case 'response-size':
      return w.response_bytes
  }
}
