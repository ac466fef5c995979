/**
 * JSON tree mutator for state files: replace / delete / retype one value somewhere in the document,
 * with replacements biased to what the state's readers parse (hex strings of almost the right
 * length, "0x…" 64-bit strings, out-of-range integers, wrong container types).
 */
import fc from 'fast-check'
import {treeSlots} from './slots.js'

type JsonAction = {k: 'replace'; at: number; value: unknown} | {k: 'delete'; at: number} | {k: 'retype'; at: number} | {k: 'dupArray'; at: number}

const special: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1, 2, 3, 4, 5, 48, 52, 255, 256, 1e308, -1e308, 2 ** 53, 0.5, '', '0x', '0xzz', '0x' + 'f'.repeat(17), 'tdx-1.5', 'tdx-connect', 'nic', 'gpu', 'CONFIG_LOCKED', 'RUN'),
  fc.constantFrom(1, 2, 8, 16, 31, 32, 33, 47, 48, 49, 64).map((n) => '00'.repeat(n)),
  fc.constantFrom(1, 2, 8, 16, 32, 48).map((n) => 'zz'.repeat(n)),
  fc.integer({min: -10, max: 1 << 20}),
  fc.array(fc.constant('00'.repeat(48)), {maxLength: 6}),
  fc.constant({}),
  fc.constant([]),
)

const replacement = fc.oneof({weight: 3, arbitrary: special}, {weight: 1, arbitrary: fc.jsonValue({maxDepth: 2})})

const jsonAction: fc.Arbitrary<JsonAction> = fc.oneof(
  {weight: 6, arbitrary: fc.record({k: fc.constant('replace' as const), at: fc.nat(), value: replacement})},
  {weight: 2, arbitrary: fc.record({k: fc.constant('delete' as const), at: fc.nat()})},
  {weight: 2, arbitrary: fc.record({k: fc.constant('retype' as const), at: fc.nat()})},
  {weight: 1, arbitrary: fc.record({k: fc.constant('dupArray' as const), at: fc.nat()})},
)

function retype(v: unknown): unknown {
  if (typeof v === 'string') return v.length
  if (typeof v === 'number') return String(v)
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]))
  if (v && typeof v === 'object') return Object.values(v)
  return 'x'
}

function mutateJson(doc: unknown, actions: readonly JsonAction[]): unknown {
  const root = structuredClone(doc)
  for (const a of actions) {
    const all = treeSlots(root)
    if (!all.length) break
    const s = all[a.at % all.length]
    if (a.k === 'replace') s.set(a.value)
    else if (a.k === 'delete') s.del()
    else if (a.k === 'retype') s.set(retype(s.get()))
    else {
      const cur = s.get()
      if (Array.isArray(cur)) s.set([...cur, ...cur.map((x) => structuredClone(x))])
    }
  }
  return root
}

/** State-file text mutants: JSON tree edits (most), or byte edits of the serialised text. */
export function stateTextMutant(seeds: readonly string[]): fc.Arbitrary<string> {
  return fc.record({i: fc.nat(seeds.length - 1), actions: fc.array(jsonAction, {minLength: 1, maxLength: 4})}).map(({i, actions}) => JSON.stringify(mutateJson(JSON.parse(seeds[i]), actions), null, 1))
}
