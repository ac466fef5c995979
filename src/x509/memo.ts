/** Bounded memo tables of the certificate stack (parses, keys, signature results), all dropped at once by clearX509Memo. */

/**
 * A map of at most `max` entries that drops the least recently used first (approximately: an entry
 * read is moved to the young end only once it has drifted into the older half, so that a hot entry
 * costs a lookup, not a delete and a re-insert, per read).
 */
export class Lru<V> {
  private m = new Map<string, {v: V; at: number}>()
  /** Insertions and moves so far: an entry's `at` is its place in the map's order. */
  private clock = 0
  constructor(private readonly max: number) {
    ALL.push(this)
  }
  get(k: string): V | undefined {
    const e = this.m.get(k)
    if (e === undefined) return undefined
    if (this.clock - e.at > this.max >> 1) {
      this.m.delete(k)
      e.at = ++this.clock
      this.m.set(k, e)
    }
    return e.v
  }
  set(k: string, v: V): void {
    this.m.delete(k)
    this.m.set(k, {v, at: ++this.clock})
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string)
  }
  clear(): void {
    this.m.clear()
  }
}

const ALL: Array<{clear(): void}> = []

/** Register another memo table for clearX509Memo. */
export function onClearMemo(clear: () => void): void {
  ALL.push({clear})
}

/** Drop every memoised parse, key and signature result (benchmarks measure cold verification with this). */
export function clearX509Memo(): void {
  for (const m of ALL) m.clear()
}
