/**
 * The guest memory model's kernel views: the direct map (1G/2M/4K mappings that split, counted,
 * never re-collapse), vmap mappings with their own protection, the contiguous page allocator, and
 * the hardware-like faults for wrong aliases.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {GuestMemory, MemoryFault, PAGE_OFFSET, PAGE_SIZE, VMALLOC_START} from '../../src/machine/memory.js'

const GiB = 1024 ** 3
const MiB = 1024 ** 2
const PFN_16M = (16 * MiB) / PAGE_SIZE

const fault = (fn: () => unknown, code: string) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, MemoryFault)
    assert.is((error as MemoryFault).code, code)
    return
  }
  assert.unreachable(`expected ${code}`)
}

test('direct map of 2 GiB starts as two 1 GiB mappings; a tail below 1 GiB uses 2 MiB and 4 KiB mappings', () => {
  const m = new GuestMemory({sizeBytes: 2 * GiB})
  assert.equal(m.directMap.census(), {mappings_1g: 2, mappings_2m: 0, mappings_4k: 0, splits_1g: 0, splits_2m: 0})
  const odd = new GuestMemory({sizeBytes: GiB + 4 * MiB + 8 * PAGE_SIZE})
  assert.equal(odd.directMap.census(), {mappings_1g: 1, mappings_2m: 2, mappings_4k: 8, splits_1g: 0, splits_2m: 0})
})

test('decrypting 2 pages inside a 1 GiB mapping splits it once into 2 MiB and one 2 MiB into 4 KiB', () => {
  const m = new GuestMemory({sizeBytes: 2 * GiB})
  const change = m.directMap.setProtection(PFN_16M, 2, true)
  assert.equal(change, {splits_1g: 1, splits_2m: 1, pages: 2})
  // 1 GiB left intact, 511 × 2 MiB, 512 × 4 KiB
  assert.equal(m.directMap.census(), {mappings_1g: 1, mappings_2m: 511, mappings_4k: 512, splits_1g: 1, splits_2m: 1})
  assert.ok(m.directMap.isDecrypted(PFN_16M))
  assert.ok(m.directMap.isDecrypted(PFN_16M + 1))
  assert.not.ok(m.directMap.isDecrypted(PFN_16M + 2))
  assert.not.ok(m.directMap.isDecrypted(PFN_16M - 1))
  assert.is(m.directMap.levelOf(PFN_16M), '4K')
  assert.is(m.directMap.levelOf(PFN_16M + 512), '2M')
  assert.is(m.directMap.levelOf(GiB / PAGE_SIZE), '1G')
  // Re-encrypting does not re-collapse (Linux keeps enc/dec splits).
  const back = m.directMap.setProtection(PFN_16M, 2, false)
  assert.equal(back, {splits_1g: 0, splits_2m: 0, pages: 2})
  assert.not.ok(m.directMap.isDecrypted(PFN_16M))
  assert.is(m.directMap.census().mappings_4k, 512)
  // A second conversion in the same 2 MiB region costs no further split.
  assert.equal(m.directMap.setProtection(PFN_16M + 4, 1, true), {splits_1g: 0, splits_2m: 0, pages: 1})
})

test('a 2 MiB-aligned 2 MiB range flips one 2 MiB mapping: one 1 GiB split, no 2 MiB split', () => {
  const m = new GuestMemory({sizeBytes: 2 * GiB})
  assert.equal(m.directMap.setProtection(PFN_16M, 512, true), {splits_1g: 1, splits_2m: 0, pages: 512})
  assert.is(m.directMap.levelOf(PFN_16M), '2M')
  assert.ok(m.directMap.isDecrypted(PFN_16M + 511))
  // a whole aligned 1 GiB flips without splitting
  assert.equal(m.directMap.setProtection(GiB / PAGE_SIZE, GiB / PAGE_SIZE, true), {splits_1g: 0, splits_2m: 0, pages: GiB / PAGE_SIZE})
})

test('direct-map accesses use the alias of the mapping: a private alias of a shared page is fatal', () => {
  const m = new GuestMemory({sizeBytes: 64 * MiB})
  const gpa = BigInt(16 * MiB)
  m.directMap.write(gpa, Buffer.from('private data'))
  assert.is(m.directMap.read(gpa, 12).toString(), 'private data')
  m.setState(gpa, 1, 'shared') // converted by the host, direct map still encrypted
  fault(() => m.directMap.read(gpa, 4), 'PRIVATE_ALIAS_OF_SHARED')
  m.directMap.setProtection(Number(gpa) / PAGE_SIZE, 1, true)
  m.directMap.write(gpa, Buffer.from('shared'))
  assert.is(m.hostRead(gpa, 6).toString(), 'shared')
  assert.is(m.directMap.va(gpa), PAGE_OFFSET + gpa)
})

test('vmap maps pages with its own protection at a fresh vmalloc address, with a guard page', () => {
  const m = new GuestMemory({sizeBytes: 64 * MiB})
  const pfn = 5000
  const va = m.vmap.map([pfn, pfn + 1], 'shared')
  assert.is(va, VMALLOC_START)
  // the pages are still private: a shared access through the vmap faults
  fault(() => m.vmap.read(va, 8), 'SHARED_ALIAS_OF_PRIVATE')
  m.setState(m.gpaOf(pfn), 2, 'shared')
  m.vmap.write(va + 4090n, Buffer.from('crosspage'))
  assert.is(m.hostRead(m.gpaOf(pfn) + 4090n, 9).toString(), 'crosspage')
  // the direct map was not touched: its private alias of the shared page faults
  fault(() => m.directMap.read(m.gpaOf(pfn), 1), 'PRIVATE_ALIAS_OF_SHARED')
  const va2 = m.vmap.map([pfn + 2], 'private')
  assert.is(va2, VMALLOC_START + 3n * BigInt(PAGE_SIZE)) // 2 pages + guard page
  fault(() => m.vmap.read(va + 2n * BigInt(PAGE_SIZE), 1), 'VMAP_NOT_MAPPED') // the guard page
  assert.is(m.vmap.unmap(va), 2)
  fault(() => m.vmap.read(va, 1), 'VMAP_NOT_MAPPED')
})

test('page allocator: first fit above the reserved low memory, natural alignment, reuse after free, double free caught', () => {
  const m = new GuestMemory({sizeBytes: 64 * MiB})
  const a = m.pages.allocContiguous(2)
  assert.is(a, PFN_16M)
  const b = m.pages.allocContiguous(3) // order-2 block: 4-page aligned
  assert.is(b % 4, 0)
  assert.is(b, PFN_16M + 4)
  m.pages.freePages(a, 2)
  assert.is(m.pages.allocContiguous(1), PFN_16M)
  m.pages.freePages(b + 1, 1) // part of a run may be freed
  fault(() => m.pages.freePages(b + 1, 1), 'DOUBLE_FREE')
  fault(() => m.pages.reserve(b, 1), 'PAGES_IN_USE')
  fault(() => m.pages.allocContiguous(64 * 256), 'OUT_OF_MEMORY')
})

test.run()
