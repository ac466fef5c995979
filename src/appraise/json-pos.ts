/**
 * A small JSON reader that remembers where every value and key is, so a policy file's schema
 * errors can name the exact line and column. Strict RFC 8259 (no comments, no trailing commas).
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

export function parseJsonWithPositions(text: string): PositionedJson {
  const valueAt = new Map<string, JsonLoc>()
  const keyAt = new Map<string, JsonLoc>()
  const spanAt = new Map<string, [number, number]>()
  let i = 0
  const err = (msg: string, at = i): never => {
    throw new JsonPosError(msg, locOf(text, at))
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
    valueAt.set(path, locOf(text, i))
    const c = text[i]
    if (c === '{') {
      i++
      const out: Record<string, unknown> = {}
      ws()
      if (text[i] === '}') {
        i++
        return out
      }
      for (;;) {
        ws()
        if (text[i] !== '"') err('expected a "key" in object')
        const kloc = locOf(text, i)
        const k = str()
        const p = `${path}/${k}`
        if (Object.prototype.hasOwnProperty.call(out, k)) throw new JsonPosError(`duplicate key "${k}"`, kloc)
        keyAt.set(p, kloc)
        ws()
        if (text[i] !== ':') err('expected ":" after key')
        i++
        out[k] = value(p)
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
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
