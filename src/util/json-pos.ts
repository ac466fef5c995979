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

interface PositionedJson {
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

/** Matches a JSON literal (true/false/null) or number at the start of its input. */
const LITERAL_RE = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/
/** A literal or number is never longer than this many characters (the window LITERAL_RE looks at). */
const LITERAL_WINDOW = 64

/** Recursive-descent reader: one method per production over a shared cursor, depth and position maps. */
class PositionedReader {
  readonly valueAt = new Map<string, JsonLoc>()
  readonly keyAt = new Map<string, JsonLoc>()
  readonly spanAt = new Map<string, [number, number]>()
  private readonly locAt: (offset: number) => JsonLoc
  private i = 0
  private depth = 0

  constructor(private readonly text: string) {
    this.locAt = lineIndex(text)
  }

  /** The whole document: one value and nothing after it but whitespace. */
  document(): unknown {
    const v = this.value('')
    this.ws()
    if (this.i < this.text.length) this.err('unexpected text after the JSON value')
    return v
  }

  private err(msg: string, at = this.i): never {
    throw new JsonPosError(msg, this.locAt(at))
  }

  private ws(): void {
    const t = this.text
    while (this.i < t.length && (t[this.i] === ' ' || t[this.i] === '\t' || t[this.i] === '\n' || t[this.i] === '\r')) this.i++
  }

  private str(): string {
    const t = this.text
    const start = this.i
    this.i++ // opening quote
    while (this.i < t.length && t[this.i] !== '"') {
      if (t[this.i] === '\\') this.i++
      else if (t.charCodeAt(this.i) < 0x20) this.err('control character in string')
      this.i++
    }
    if (this.i >= t.length) this.err('unterminated string', start)
    this.i++
    try {
      return JSON.parse(t.slice(start, this.i)) as string
    } catch {
      return this.err('invalid string escape', start)
    }
  }

  /** A value after optional whitespace; records its span. */
  private value(path: string): unknown {
    this.ws()
    const start = this.i
    const v = this.bareValue(path)
    this.spanAt.set(path, [start, this.i])
    return v
  }

  private bareValue(path: string): unknown {
    this.valueAt.set(path, this.locAt(this.i))
    const c = this.text[this.i]
    if ((c === '{' || c === '[') && ++this.depth > MAX_JSON_DEPTH) this.err(`nested deeper than ${MAX_JSON_DEPTH} levels`)
    if (c === '{') return this.object(path)
    if (c === '[') return this.array(path)
    if (c === '"') return this.str()
    return this.literal(c)
  }

  /** Consume `close` if it is next (ending a container); true if it was. */
  private closes(close: string): boolean {
    if (this.text[this.i] !== close) return false
    this.i++
    this.depth--
    return true
  }

  /** After a member or element: true to read another, false at the closing bracket. */
  private another(close: string, what: string): boolean {
    this.ws()
    if (this.text[this.i] === ',') {
      this.i++
      return true
    }
    if (this.closes(close)) return false
    return this.err(`expected "," or "${close}" in ${what}`)
  }

  private object(path: string): Record<string, unknown> {
    this.i++
    const out: Record<string, unknown> = {}
    this.ws()
    if (this.closes('}')) return out
    do this.member(path, out)
    while (this.another('}', 'object'))
    return out
  }

  private member(path: string, out: Record<string, unknown>): void {
    this.ws()
    if (this.text[this.i] !== '"') this.err('expected a "key" in object')
    const kloc = this.locAt(this.i)
    const k = this.str()
    const p = `${path}/${k}`
    if (Object.prototype.hasOwnProperty.call(out, k)) throw new JsonPosError(`duplicate key "${k}"`, kloc)
    this.keyAt.set(p, kloc)
    this.ws()
    if (this.text[this.i] !== ':') this.err('expected ":" after key')
    this.i++
    // defineProperty: a "__proto__" key is an ordinary member (as with JSON.parse), not the prototype.
    Object.defineProperty(out, k, {value: this.value(p), enumerable: true, writable: true, configurable: true})
  }

  private array(path: string): unknown[] {
    this.i++
    const out: unknown[] = []
    this.ws()
    if (this.closes(']')) return out
    do out.push(this.value(`${path}/${out.length}`))
    while (this.another(']', 'array'))
    return out
  }

  private literal(c: string | undefined): unknown {
    const m = LITERAL_RE.exec(this.text.slice(this.i, this.i + LITERAL_WINDOW))
    if (!m) return this.err(this.i >= this.text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`)
    this.i += m[0].length
    return JSON.parse(m[0])
  }
}

/** Parse `text`, recording where each value, key and span is. */
export function parseJsonWithPositions(text: string): PositionedJson {
  const reader = new PositionedReader(text)
  const value = reader.document()
  return {value, valueAt: reader.valueAt, keyAt: reader.keyAt, spanAt: reader.spanAt}
}
