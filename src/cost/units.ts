/**
 * Parsing and formatting of the quantities the cost model works in. Internally every duration is
 * in microseconds (µs) and every size in bytes; user input may carry units ("8KiB", "5ms").
 */
import {InputError} from '../errors.js'

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tib: 1024 ** 4,
}

const TIME_UNITS_US: Record<string, number> = {
  ns: 1e-3,
  us: 1,
  'µs': 1,
  ms: 1e3,
  s: 1e6,
}

/** "8192", "8K", "8KiB", "2 MiB", "1G" → bytes (binary K/M/G unless the unit is kB/MB/GB). */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(text))
  const mult = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined
  if (!m || mult === undefined) throw new InputError('BAD_SIZE', `${what}: cannot parse size '${text}' (use e.g. 8192, 8KiB, 16MiB, 2GiB)`)
  const v = Number(m[1]) * mult
  if (!Number.isFinite(v)) throw new InputError('BAD_SIZE', `${what}: size '${text}' is not finite`)
  return Math.round(v)
}

/** "5ms", "1s", "250us", "4000" (bare number = µs) → microseconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*([a-zA-Zµ]*)\s*$/.exec(String(text))
  const unit = m ? (m[2] === '' ? 'us' : m[2].toLowerCase()) : ''
  const mult = TIME_UNITS_US[unit]
  if (!m || mult === undefined) throw new InputError('BAD_DURATION', `${what}: cannot parse duration '${text}' (use e.g. 250us, 5ms, 1s)`)
  return Number(m[1]) * mult
}

/** A positive integer flag value (requests, vCPUs, concurrency). */
export function requirePositiveInt(v: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v <= 0) throw new InputError('BAD_WORKLOAD', `${what} must be a positive integer (got ${v})`)
  if (v > max) throw new InputError('BAD_WORKLOAD', `${what} must be at most ${max} (got ${v})`)
  return v
}

export function requirePositive(v: number, what: string): number {
  if (!Number.isFinite(v) || v <= 0) throw new InputError('BAD_WORKLOAD', `${what} must be positive (got ${v})`)
  return v
}

/** µs → a short human string ("82.0 µs", "4.08 ms", "1.02 s"). */
export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return String(us)
  const a = Math.abs(us)
  if (a >= 1e6) return `${(us / 1e6).toPrecision(3)} s`
  if (a >= 1e3) return `${(us / 1e3).toPrecision(3)} ms`
  if (a >= 100) return `${us.toFixed(0)} µs`
  return `${us.toFixed(1)} µs`
}

/** Bytes → "8 KiB", "1.5 MiB". */
export function fmtBytes(b: number): string {
  if (!Number.isFinite(b)) return String(b)
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = b
  let i = 0
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  const s = Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : 1)
  return `${s} ${units[i]}`
}

/** A count with thousands separators and at most 2 decimals. */
export function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (Number.isInteger(n)) return n.toLocaleString('en-US')
  return n.toLocaleString('en-US', {maximumFractionDigits: Math.abs(n) >= 100 ? 0 : 2})
}
