/**
 * set_memory_decrypted() / set_memory_encrypted() on a run of the kernel direct map, in the order
 * x86 performs them in a TDX guest (arch/x86/mm/pat/set_memory.c __set_memory_enc_pgtable() with the
 * TDX hooks of arch/x86/coco/tdx/tdx.c, Linux v6.7 and later):
 *
 * decrypt (private → shared): cpa_flush (cache write-back: TDX has no cross-KeyID coherence) →
 *   __change_page_attr_set_clr (rewrite the direct-map entries; a 4 KiB-granular change inside a
 *   1 GiB / 2 MiB mapping splits it, and enc/dec splits never re-collapse) → cpa_flush (TLB
 *   shootdown) → enc_status_change_finish = MapGPA(shared).
 * encrypt (shared → private): enc_status_change_prepare = MapGPA(private) + TDG.MEM.PAGE.ACCEPT of
 *   every page → direct-map entries rewritten → cpa_flush (TLB shootdown).
 *
 * If the host refuses the conversion the pages are leaked, never returned to the page allocator
 * (Li RongQing's fix to the tdx-guest driver, 2024; dma_set_encrypted's "leaking DMA memory that
 * can't be re-encrypted").
 */
import {PAGE_SIZE, type DirectMapChange, type GuestMemory} from '../../machine/memory.js'
import type {GuestTd} from '../td.js'

function traceSplits(td: GuestTd, change: DirectMapChange): void {
  for (let i = 0; i < change.splits_1g; i++) td.trace.add({kind: 'dm_split', layer: 'guest', name: 'direct map split', level: '1G', count: 1})
  for (let i = 0; i < change.splits_2m; i++) td.trace.add({kind: 'dm_split', layer: 'guest', name: 'direct map split', level: '2M', count: 1})
}

/**
 * MapGPA of `pages` from `gpa` to shared or private. If the host refuses, the conversion state is
 * unknown: `undo` drops the guest's mapping, the pages are traced as leaked (never freed), and the
 * error goes on.
 */
export function mapGpaOrLeak(td: GuestTd, gpa: bigint, pages: number, shared: boolean, leak: string, undo?: () => void): void {
  try {
    td.ghci.mapGpa(gpa, pages * PAGE_SIZE, shared)
  } catch (error) {
    undo?.()
    td.trace.add({kind: 'leak', layer: 'guest', name: leak, gpa, count: pages})
    throw error
  }
}

/** set_memory_decrypted(page_address(pfn), pages). Throws (pages leaked) if MapGPA fails. */
export function setMemoryDecrypted(td: GuestTd, pfn: number, pages: number, what: string): DirectMapChange {
  const {memory, trace} = td
  const gpa = memory.gpaOf(pfn)
  trace.add({kind: 'cache_flush', layer: 'guest', name: 'clflush before conversion', gpa, count: pages})
  const change = memory.directMap.setProtection(pfn, pages, true)
  traceSplits(td, change)
  trace.add({kind: 'dm_prot', layer: 'guest', name: 'direct map → decrypted', gpa, count: pages})
  trace.add({kind: 'tlb_flush', layer: 'guest', name: 'cpa_flush (TLB shootdown)', count: pages})
  mapGpaOrLeak(td, gpa, pages, true, `${what}: pages leaked after failed MapGPA`)
  trace.add({kind: 'shared_delta', layer: 'guest', name: `${what} shared`, gpa, count: pages * PAGE_SIZE})
  return change
}

/** set_memory_encrypted(page_address(pfn), pages): MapGPA(private), accept, direct map re-encrypted. */
export function setMemoryEncrypted(td: GuestTd, pfn: number, pages: number, what: string): DirectMapChange {
  const {memory, trace} = td
  const gpa = memory.gpaOf(pfn)
  mapGpaOrLeak(td, gpa, pages, false, `${what}: pages leaked after failed MapGPA`)
  trace.add({kind: 'shared_delta', layer: 'guest', name: `${what} private again`, gpa, count: -pages * PAGE_SIZE})
  td.acceptPages(gpa, pages)
  const change = memory.directMap.setProtection(pfn, pages, false)
  traceSplits(td, change)
  trace.add({kind: 'dm_prot', layer: 'guest', name: 'direct map → encrypted', gpa, count: pages})
  trace.add({kind: 'tlb_flush', layer: 'guest', name: 'cpa_flush (TLB shootdown)', count: pages})
  return change
}

/**
 * A run converted by an earlier CLI invocation, put back into a fresh memory model (pages
 * reserved, shared, direct map decrypted) without recording anything.
 */
export function restoreSharedRun(memory: GuestMemory, pfn: number, pages: number): void {
  memory.pages.reserve(pfn, pages)
  memory.setState(memory.gpaOf(pfn), pages, 'shared')
  memory.directMap.setProtection(pfn, pages, true)
}
