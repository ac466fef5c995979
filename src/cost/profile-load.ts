/**
 * User cost profiles: a JSON document validated field by field (src/app/cost.ts reads the file),
 * and `--cost key=value` overrides.
 *
 * File shape (every field but `primitives` optional):
 *   {
 *     "name": "my-lab", "title": "…", "description": "…",
 *     "base": "granite-rapids",                 // builtin to start from
 *     "primitives": {
 *       "t_call": 4.2,                           // bare number (µs) → tagged estimated
 *       "t_user": {"value": "12us", "kind": "measured", "confidence": "high", "source": "lab run 2024-05"},
 *       "t_kick": [{"vcpus": 16, "value": 7, "kind": "measured", "source": "…"}]   // replaces the curve
 *     }
 *   }
 * A figure given without a kind is tagged `estimated`: nothing the user did not vouch for is shown
 * as measured.
 */
import {InputError} from '../errors.js'
import {
  COST_KINDS,
  CONFIDENCES,
  CURVE_KEYS,
  DEFAULT_PROFILE,
  PRIMITIVE_DOCS,
  SCALAR_KEYS,
  builtinProfile,
  builtinProfileNames,
  type Confidence,
  type CostKind,
  type CostProfile,
  type CurveKey,
  type CurvePoint,
  type ScalarKey,
  type ScalarPrimitive,
} from './profiles.js'
import {parseDuration} from './units.js'

/** Largest profile file accepted (a profile is a few KiB). */
export const MAX_PROFILE_BYTES = 1024 * 1024
const TOP_KEYS = new Set(['name', 'title', 'description', 'base', 'primitives'])
const PRIM_KEYS = new Set(['value', 'kind', 'confidence', 'source', 'range'])
const POINT_KEYS = new Set(['vcpus', 'value', 'kind', 'confidence', 'source'])

const bad = (where: string, msg: string) => new InputError('BAD_PROFILE', `${where}: ${msg}`)

const isScalarKey = (k: string): k is ScalarKey => (SCALAR_KEYS as readonly string[]).includes(k)
const isCurveKey = (k: string): k is CurveKey => (CURVE_KEYS as readonly string[]).includes(k)

function unknownPrimitive(where: string, key: string): InputError {
  return bad(where, `unknown primitive '${key}' (known: ${[...SCALAR_KEYS, ...CURVE_KEYS].join(', ')})`)
}

/** A number or a duration string ("5ms") for µs-valued primitives; range-checked per primitive. */
function numberValue(where: string, key: string, raw: unknown): number {
  let v: number
  if (typeof raw === 'number') v = raw
  else if (typeof raw === 'string' && PRIMITIVE_DOCS[key as ScalarKey | CurveKey].unit === 'us') v = parseDurationAsProfile(where, raw)
  else if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) v = Number(raw)
  else throw bad(where, `value must be a number${PRIMITIVE_DOCS[key as ScalarKey].unit === 'us' ? ' (µs) or a duration like "5ms"' : ''}`)
  if (!Number.isFinite(v)) throw bad(where, 'value must be finite')
  checkRange(where, key, v)
  return v
}

function parseDurationAsProfile(where: string, raw: string): number {
  try {
    return parseDuration(raw, where)
  } catch {
    throw bad(where, `cannot parse duration '${raw}' (use e.g. 250us, 5ms, 1s)`)
  }
}

function checkRange(where: string, key: string, v: number): void {
  if (v < 0) throw bad(where, `must not be negative (got ${v})`)
  if (key === 'phi' && v > 1) throw bad(where, `φ is a share in [0, 1] (got ${v})`)
  if (key === 'qgs_workers' && (!Number.isInteger(v) || v < 1)) throw bad(where, `must be a positive integer (got ${v})`)
  if (key === 'poll_interval' && v <= 0) throw bad(where, `must be positive (got ${v})`)
}

function kindOf(where: string, raw: unknown): CostKind {
  if (raw === undefined) return 'estimated'
  if (typeof raw !== 'string' || !(COST_KINDS as readonly string[]).includes(raw)) throw bad(where, `kind must be one of ${COST_KINDS.join(', ')}`)
  return raw as CostKind
}

function confidenceOf(where: string, raw: unknown, kind: CostKind): Confidence {
  if (raw === undefined) return kind === 'estimated' ? 'low' : 'medium'
  if (typeof raw !== 'string' || !(CONFIDENCES as readonly string[]).includes(raw)) throw bad(where, `confidence must be one of ${CONFIDENCES.join(', ')}`)
  return raw as Confidence
}

function sourceOf(where: string, raw: unknown, fallback: string): string {
  if (raw === undefined) return fallback
  if (typeof raw !== 'string' || raw.trim() === '') throw bad(where, 'source must be a non-empty string')
  return raw
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function checkKeys(where: string, obj: Record<string, unknown>, allowed: Set<string>): void {
  for (const k of Object.keys(obj)) if (!allowed.has(k)) throw bad(where, `unknown field '${k}' (allowed: ${[...allowed].join(', ')})`)
}

function scalarFrom(where: string, key: ScalarKey, raw: unknown, origin: string): ScalarPrimitive {
  if (!isObject(raw)) return {value: numberValue(where, key, raw), kind: 'estimated', confidence: 'low', source: `${origin} (no kind given: estimated)`}
  checkKeys(where, raw, PRIM_KEYS)
  if (raw.value === undefined) throw bad(where, "missing 'value'")
  const value = numberValue(`${where}.value`, key, raw.value)
  const kind = kindOf(`${where}.kind`, raw.kind)
  const out: ScalarPrimitive = {value, kind, confidence: confidenceOf(`${where}.confidence`, raw.confidence, kind), source: sourceOf(`${where}.source`, raw.source, origin)}
  if (raw.range !== undefined) {
    const r = raw.range
    if (!Array.isArray(r) || r.length !== 2 || r.some((x) => typeof x !== 'number' || !Number.isFinite(x)) || r[0] > r[1]) throw bad(`${where}.range`, 'must be [low, high] numbers with low ≤ high')
    out.range = [r[0], r[1]]
  }
  return out
}

function curveFrom(where: string, key: CurveKey, raw: unknown, origin: string): CurvePoint[] {
  if (typeof raw === 'number' || typeof raw === 'string') {
    // A single number: constant for every TD size.
    return [{vcpus: 1, value: numberValue(where, key, raw), kind: 'estimated', confidence: 'low', source: `${origin} (constant, no kind given: estimated)`}]
  }
  if (!Array.isArray(raw) || raw.length === 0) throw bad(where, 'must be a number or a non-empty array of {vcpus, value, kind?, confidence?, source?}')
  const seen = new Set<number>()
  return raw.map((p, i) => {
    const w = `${where}[${i}]`
    if (!isObject(p)) throw bad(w, 'must be an object {vcpus, value, …}')
    checkKeys(w, p, POINT_KEYS)
    if (typeof p.vcpus !== 'number' || !Number.isInteger(p.vcpus) || p.vcpus < 1) throw bad(`${w}.vcpus`, 'must be a positive integer')
    if (seen.has(p.vcpus)) throw bad(`${w}.vcpus`, `duplicate point for ${p.vcpus} vCPUs`)
    seen.add(p.vcpus)
    if (p.value === undefined) throw bad(w, "missing 'value'")
    const kind = kindOf(`${w}.kind`, p.kind)
    return {vcpus: p.vcpus, value: numberValue(`${w}.value`, key, p.value), kind, confidence: confidenceOf(`${w}.confidence`, p.confidence, kind), source: sourceOf(`${w}.source`, p.source, origin)}
  })
}

/** Validate a parsed profile document (already JSON-decoded) into a CostProfile. */
export function profileFromJson(doc: unknown, origin: string): CostProfile {
  const where = origin
  if (!isObject(doc)) throw bad(where, 'a cost profile must be a JSON object')
  checkKeys(where, doc, TOP_KEYS)
  for (const k of ['name', 'title', 'description', 'base'] as const) {
    if (doc[k] !== undefined && (typeof doc[k] !== 'string' || (doc[k] as string).trim() === '')) throw bad(`${where}.${k}`, 'must be a non-empty string')
  }
  const baseName = (doc.base as string | undefined) ?? DEFAULT_PROFILE
  const base = builtinProfile(baseName)
  if (!base) throw bad(`${where}.base`, `unknown builtin profile '${baseName}' (builtin: ${builtinProfileNames().join(', ')})`)
  if (!isObject(doc.primitives)) throw bad(`${where}.primitives`, 'must be an object of primitive → value')
  const src = `user profile ${origin}`
  for (const [key, raw] of Object.entries(doc.primitives)) {
    const w = `${where}.primitives.${key}`
    if (isScalarKey(key)) base.scalars[key] = scalarFrom(w, key, raw, src)
    else if (isCurveKey(key)) base.curves[key] = curveFrom(w, key, raw, src)
    else throw unknownPrimitive(where, key)
  }
  return {
    ...base,
    name: (doc.name as string | undefined) ?? `custom(${base.name})`,
    title: (doc.title as string | undefined) ?? `User profile based on ${base.name}`,
    description: (doc.description as string | undefined) ?? `Loaded from ${origin}; unset primitives come from ${base.name}.`,
    origin,
  }
}

/**
 * `--cost key=value[:kind]` overrides, e.g. `t_call=4`, `t_quote=39ms:measured`, `t_kick@248=150`
 * (one point of the vCPU curve) or `t_kick=20` (constant for every TD size). Returns a new profile.
 */
export function applyOverrides(p: CostProfile, overrides: readonly string[]): CostProfile {
  if (overrides.length === 0) return p
  const out: CostProfile = {...p, scalars: {...p.scalars}, curves: {...p.curves}}
  for (const o of overrides) {
    const where = `--cost ${o}`
    const m = /^\s*([a-z_]+)(?:@(\d+))?\s*=\s*([^:]+?)\s*(?::\s*([a-z]+))?\s*$/.exec(o)
    if (!m) throw bad(where, "expected key=value[:kind], e.g. t_call=4, t_quote=39ms, t_kick@248=150")
    const [, key, at, valueText, kindText] = m
    const kind = kindOf(where, kindText)
    const confidence = confidenceOf(where, undefined, kind)
    const source = `--cost ${o.trim()}`
    if (isScalarKey(key)) {
      if (at !== undefined) throw bad(where, `'${key}' does not depend on the vCPU count (drop @${at})`)
      out.scalars[key] = {value: numberValue(where, key, valueText), kind, confidence, source}
    } else if (isCurveKey(key)) {
      const value = numberValue(where, key, valueText)
      if (at === undefined) out.curves[key] = [{vcpus: 1, value, kind, confidence, source: `${source} (constant)`}]
      else {
        const v = Number(at)
        if (v < 1) throw bad(where, 'the vCPU count after @ must be at least 1')
        out.curves[key] = [...out.curves[key].filter((pt) => pt.vcpus !== v), {vcpus: v, value, kind, confidence, source}]
      }
    } else throw unknownPrimitive(where, key)
  }
  out.name = `${p.name}+overrides`
  return out
}
