/**
 * A small JSON reader that remembers where every value and key is, so a policy file's schema
 * errors can name the exact line and column, and a PCS response's signed member can be cut out
 * byte for byte. Strict RFC 8259 (no comments, no trailing commas).
 */

export interface JsonLoc {
  line: number
  column: number
}

export class JsonPosError extends Error {
  constructor(
    message: string,
    readonly loc: JsonLoc,
  ) {
    super(message)
  }
}

export interface PositionedJson {
  value: unknown
  /** JSON pointer-ish path ("", "/expected", "/expected/mrtd", "/allowed_advisories/0") → location of the value. */
  valueAt: Map<string, JsonLoc>
  /** Same paths → location of the member key (objects only). */
  keyAt: Map<string, JsonLoc>
  /** Same paths → [start, end) character offsets of the value's source text. */
  spanAt: Map<string, [number, number]>
}

export function locOf(text: string, offset: number): JsonLoc {
  let line = 1
  let last = -1
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      last = i
    }
  }
  return {line, column: offset - last}
}

/** Deepest array/object nesting accepted (the reader recurses; real policies and PCS bodies nest < 10). */
export const MAX_JSON_DEPTH = 128

/** Line/column lookup in O(log n) from a table of line starts (locOf per value would be quadratic). */
function lineIndex(text: string): (offset: number) => JsonLoc {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return (offset) => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return {line: lo + 1, column: offset - starts[lo] + 1}
  }
}

/**
 * Parse `text`, recording where each value, key and span is. One recursive-descent reader over
 * closures (longer than the usual function on purpose): the cursor, depth and position maps are
 * shared by every production, and threading them through separate functions would only add noise.
 */
export function parseJsonWithPositions(text: string): PositionedJson {
  const valueAt = new Map<string, JsonLoc>()
  const keyAt = new Map<string, JsonLoc>()
  const spanAt = new Map<string, [number, number]>()
  const locAt = lineIndex(text)
  let i = 0
  let depth = 0
  const err = (msg: string, at = i): never => {
    throw new JsonPosError(msg, locAt(at))
  }
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++
  }
  const str = (): string => {
    const start = i
    i++ // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++
      else if (text.charCodeAt(i) < 0x20) err('control character in string')
      i++
    }
    if (i >= text.length) err('unterminated string', start)
    i++
    try {
      return JSON.parse(text.slice(start, i)) as string
    } catch {
      return err('invalid string escape', start)
    }
  }
  const value = (path: string): unknown => {
    ws()
    const start = i
    const v = value0(path)
    spanAt.set(path, [start, i])
    return v
  }
  const value0 = (path: string): unknown => {
    valueAt.set(path, locAt(i))
    const c = text[i]
    if ((c === '{' || c === '[') && ++depth > MAX_JSON_DEPTH) err(`nested deeper than ${MAX_JSON_DEPTH} levels`)
    if (c === '{') {
      i++
      const out: Record<string, unknown> = {}
      ws()
      if (text[i] === '}') {
        i++
        depth--
        return out
      }
      for (;;) {
        ws()
        if (text[i] !== '"') err('expected a "key" in object')
        const kloc = locAt(i)
        const k = str()
        const p = `${path}/${k}`
        if (Object.prototype.hasOwnProperty.call(out, k)) throw new JsonPosError(`duplicate key "${k}"`, kloc)
        keyAt.set(p, kloc)
        ws()
        if (text[i] !== ':') err('expected ":" after key')
        i++
        // defineProperty: a "__proto__" key is an ordinary member (as with JSON.parse), not the prototype.
        Object.defineProperty(out, k, {value: value(p), enumerable: true, writable: true, configurable: true})
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          depth--
          return out
        }
        err('expected "," or "}" in object')
      }
    }
    if (c === '[') {
      i++
      const out: unknown[] = []
      ws()
      if (text[i] === ']') {
        i++
        depth--
        return out
      }
      for (;;) {
        out.push(value(`${path}/${out.length}`))
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          depth--
          return out
        }
        err('expected "," or "]" in array')
      }
    }
    if (c === '"') return str()
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 64))
    if (!m) err(i >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`)
    i += m![0].length
    return JSON.parse(m![0])
  }
  const v = value('')
  ws()
  if (i < text.length) err('unexpected text after the JSON value')
  return {value: v, valueAt, keyAt, spanAt}
}
