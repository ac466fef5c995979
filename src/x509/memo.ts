/** Bounded memo tables of the certificate stack (parses, keys, signature results), all dropped at once by clearX509Memo. */

/** A least-recently-used map with at most `max` entries. */
export class Lru<V> {
  private m = new Map<string, V>()
  constructor(private readonly max: number) {
    ALL.push(this)
  }
  get(k: string): V | undefined {
    const v = this.m.get(k)
    if (v !== undefined) {
      this.m.delete(k)
      this.m.set(k, v)
    }
    return v
  }
  set(k: string, v: V): void {
    this.m.set(k, v)
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string)
  }
  clear(): void {
    this.m.clear()
  }
}

const ALL: Array<Lru<unknown>> = []

/** Drop every memoised parse, key and signature result (benchmarks measure cold verification with this). */
export function clearX509Memo(): void {
  for (const m of ALL) m.clear()
}
