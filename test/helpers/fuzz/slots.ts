/**
 * Every value position in a decoded tree (JSON or CBOR), for structure-aware mutators: arrays, Maps,
 * plain objects and, when `isTag` says so, tagged values. The root is not a slot; shared or cyclic
 * nodes are visited once.
 */
interface Slot {
  get(): unknown
  set(v: unknown): void
  del(): void
}

export function treeSlots(root: unknown, isTag?: (v: object) => v is {value: unknown}): Slot[] {
  const out: Slot[] = []
  const seen = new Set<unknown>()
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return
    seen.add(v)
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        out.push({get: () => v[i], set: (n) => (v[i] = n), del: () => v.splice(i, 1)})
        walk(x)
      })
    } else if (v instanceof Map) {
      for (const [k, x] of [...v.entries()]) {
        out.push({get: () => v.get(k), set: (n) => v.set(k, n), del: () => v.delete(k)})
        walk(x)
      }
    } else if (isTag?.(v)) {
      out.push({get: () => v.value, set: (n) => (v.value = n), del: () => (v.value = null)})
      walk(v.value)
    } else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
      const o = v as Record<string, unknown>
      for (const k of Object.keys(o)) {
        out.push({get: () => o[k], set: (n) => (o[k] = n), del: () => delete o[k]})
        walk(o[k])
      }
    }
  }
  walk(root)
  return out
}
