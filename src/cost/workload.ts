/**
 * The workload an allocator comparison runs: how many GetQuote requests, how big, how many in flight
 * (closed loop) or at what Poisson rate (open loop), the TD's shape and the host's behaviour.
 * Parsed from user text (flags, sweep values) and validated: every bad value is an InputError
 * (exit 2) naming the flag.
 */
import {InputError} from '../errors.js'
import {PAGE_SIZE, PAGE_SIZE_2M} from '../machine/memory.js'
import {STRATEGIES, canonicalStrategy, type StrategyName} from '../guest/alloc/interface.js'
import {DEFAULT_POOL_BYTES, validatePoolSizes} from '../guest/alloc/preshared-pool.js'
import {SWIOTLB_MAX_MAPPING, swiotlbGeometry} from '../guest/alloc/swiotlb.js'
import {DEFAULT_UPSTREAM_KERNEL, UPSTREAM_KERNELS, UPSTREAM_QUOTE_BUF_BYTES, type UpstreamKernel} from '../guest/alloc/upstream.js'
import {parseDuration, parseSize, requirePositive, requirePositiveInt} from './units.js'

export {STRATEGIES, type StrategyName} from '../guest/alloc/interface.js'

/** GetQuote shared-buffer header in front of the payload (GHCI: version, status, in_len, out_len). */
export const GETQUOTE_HEADER_BYTES = 24
/** The TDREPORT the guest sends. */
export const TDREPORT_BYTES = 1024
/** A typical v4 quote with its PCK chain (dcap-qvl sample quotes: 5,006 and 5,010 bytes). */
export const TYPICAL_QUOTE_BYTES = 5006
/** Linux's GET_QUOTE_BUF_SIZE. */
export const LINUX_QUOTE_BUF_BYTES = 8 * 1024

export const MAX_REQUESTS = 100_000_000
/**
 * Upper bound of --vcpus as a number (TDG.VP.INFO carries vCPU counts in 32 bits; this keeps the
 * model small). The real limit is the module's MAX_VCPUS_PER_TD: the TD-creation step refuses a TD
 * above it with the module's status when the simulated TD is built (src/module/td-create.ts).
 */
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
  /** preshared-pool size. */
  pool_bytes: number
  /** How pool_bytes was chosen ('swiotlb' = sized like the kernel's CoCo SWIOTLB). */
  pool_rule: 'explicit' | 'swiotlb' | 'default'
  /** SWIOTLB pool of the `swiotlb` strategy (bytes after the kernel's rounding). */
  swiotlb_bytes: number
  /** 'coco' = 6 % of RAM in [64 MiB, 1 GiB] (mem_encrypt_setup_arch), 'explicit' = like swiotlb=<nslabs>. */
  swiotlb_rule: 'coco' | 'explicit'
  /** Kernel of the `upstream` strategy (its GET_QUOTE_BUF_SIZE). */
  upstream_kernel: UpstreamKernel
  /** Strategies to compare (default: all). */
  strategies: StrategyName[]
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
  'swiotlb-size'?: string | number
  'upstream-kernel'?: string
  strategies?: string
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
  /** The guest path's default pool (src/guest/alloc/preshared-pool.ts): 8 slots of 8 KiB. */
  'pool-size': DEFAULT_POOL_BYTES,
  seed: 'tdxkit-alloc-compare',
} as const

/** What `--chart` sweeps when no --sweep is given: the reference's TD sizes and a few between. */
export const DEFAULT_CHART_SWEEP = 'vcpus=8,32,64,128,248'

/** Keys `--sweep key=v1,v2,…` may vary. */
export const SWEEP_KEYS = [
  'vcpus',
  'concurrency',
  'size',
  'rate',
  'pool-size',
  'swiotlb-size',
  'memory',
  'requests',
  'poll-interval',
  'quote-time',
  'response-size',
] as const
export type SweepKey = (typeof SWEEP_KEYS)[number]

/** What each sweepable key is, for axis labels: its name and the unit of its x values. */
export const SWEEP_AXIS: Readonly<Record<SweepKey, {label: string; unit: 'count' | 'bytes' | 'us' | 'per_s'}>> = {
  vcpus: {label: 'vCPUs in the TD (--vcpus)', unit: 'count'},
  concurrency: {label: 'requests in flight (--concurrency)', unit: 'count'},
  size: {label: 'GetQuote buffer size (--size)', unit: 'bytes'},
  rate: {label: 'arrival rate, requests/s (--rate)', unit: 'per_s'},
  'pool-size': {label: 'pre-shared pool size (--pool-size)', unit: 'bytes'},
  'swiotlb-size': {label: 'SWIOTLB pool size (--swiotlb-size)', unit: 'bytes'},
  memory: {label: 'TD memory (--memory)', unit: 'bytes'},
  requests: {label: 'requests modelled (--requests)', unit: 'count'},
  'poll-interval': {label: 'guest poll interval Δ (--poll-interval)', unit: 'us'},
  'quote-time': {label: 'host quote time T_q (--quote-time)', unit: 'us'},
  'response-size': {label: 'quote size (--response-size)', unit: 'bytes'},
}

/**
 * The kernel's CoCo SWIOTLB size for a TD: 6 % of RAM clamped to [64 MiB, 1 GiB], in 128-slot
 * segments, rounded up to a power of two once the areas are set (see guest/alloc/swiotlb.ts);
 * e.g. 4 GiB → 256 MiB ("SWIOTLB bounce buffer size roundup to 256MB", intel/tdx-linux #5).
 */
export function swiotlbBytes(memoryBytes: number, vcpus = 1): number {
  return swiotlbGeometry({memoryBytes, cpus: vcpus}).bytes
}

function parseStrategies(text: string | undefined): StrategyName[] {
  if (text === undefined || text.trim() === '' || text.trim() === 'all') return [...STRATEGIES]
  const out: StrategyName[] = []
  for (const name of text.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const s = canonicalStrategy(name)
    if (!s) throw new InputError('BAD_WORKLOAD', `--strategies: unknown strategy '${name}' (known: ${STRATEGIES.join(', ')})`)
    if (!out.includes(s)) out.push(s)
  }
  if (out.length === 0) throw new InputError('BAD_WORKLOAD', '--strategies needs at least one strategy')
  return out
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
  // Over the module's MAX_VCPUS_PER_TD is a TD-creation refusal (exit 7), reported when the TD is created.
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
    pool = swiotlbBytes(memory, vcpus)
    rule = 'swiotlb'
  } else {
    pool = sizeOf(poolIn, '--pool-size')
    rule = 'explicit'
  }
  // The pool hands out whole buffers: a pool must hold at least one.
  if (pool < buffer) throw new InputError('BAD_WORKLOAD', `--pool-size ${pool} bytes is smaller than one ${buffer}-byte buffer`)
  validatePoolSizes(pool, Math.ceil(buffer / PAGE_SIZE) * PAGE_SIZE) // 4 KiB multiples, as the guest path requires
  if (pool > memory / 2) throw new InputError('BAD_WORKLOAD', `--pool-size ${pool} bytes is more than half of the TD's memory (${memory} bytes)`)
  const sw = parseSwiotlb(input['swiotlb-size'], memory, vcpus, buffer)
  const kernel = input['upstream-kernel'] ?? DEFAULT_UPSTREAM_KERNEL
  if (!(UPSTREAM_KERNELS as readonly string[]).includes(kernel)) throw new InputError('BAD_WORKLOAD', `--upstream-kernel must be one of ${UPSTREAM_KERNELS.join(', ')} (got '${kernel}')`)
  const strategies = parseStrategies(input.strategies)
  if (strategies.includes('upstream') && buffer > UPSTREAM_QUOTE_BUF_BYTES[kernel as UpstreamKernel]) {
    throw new InputError('BAD_WORKLOAD', `--size ${buffer} bytes is larger than the upstream driver's GET_QUOTE_BUF_SIZE (${UPSTREAM_QUOTE_BUF_BYTES[kernel as UpstreamKernel]} bytes in ${kernel}); pick --upstream-kernel 7.0 or leave upstream out (--strategies)`)
  }

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
    swiotlb_bytes: sw.bytes,
    swiotlb_rule: sw.rule,
    upstream_kernel: kernel as UpstreamKernel,
    strategies,
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

/** The SWIOTLB pool of the workload: explicit (≥ one 256 KiB segment, ≤ half the RAM) or the CoCo rule. */
function parseSwiotlb(text: string | number | undefined, memory: number, vcpus: number, buffer: number): {bytes: number; rule: Workload['swiotlb_rule']} {
  if (buffer > SWIOTLB_MAX_MAPPING && text !== undefined) {
    throw new InputError('BAD_WORKLOAD', `--size ${buffer} bytes exceeds the largest SWIOTLB mapping (${SWIOTLB_MAX_MAPPING} bytes)`)
  }
  if (text === undefined) return {bytes: swiotlbBytes(memory, vcpus), rule: 'coco'}
  const want = sizeOf(text, '--swiotlb-size')
  if (want < SWIOTLB_MAX_MAPPING) throw new InputError('BAD_WORKLOAD', `--swiotlb-size must hold at least one ${SWIOTLB_MAX_MAPPING}-byte segment (got ${want} bytes)`)
  const bytes = swiotlbGeometry({memoryBytes: memory, cpus: vcpus, bytes: want}).bytes
  if (bytes > memory / 2) throw new InputError('BAD_WORKLOAD', `--swiotlb-size ${want} bytes (${bytes} after the kernel's rounding) is more than half of the TD's memory`)
  return {bytes, rule: 'explicit'}
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
    case 'swiotlb-size':
      return w.swiotlb_bytes
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
