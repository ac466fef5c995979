/**
 * The module's global metadata store, shared by the host (TDH.SYS.RD / RDALL) and guest
 * (TDG.SYS.RD / RDALL) paths. The guest sees only fields in the guest read mask.
 *
 * Semantics follow module 1.5 (tdh_sys_rd.c, tdg_sys_rd.c, metadata_generic.c):
 * - a null field id (all ones, context bits ignored) returns the first readable field id in RDX
 *   with the warning TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT;
 * - an id with reserved or sequence bits set, or one the module does not have, fails with
 *   TDX_METADATA_FIELD_ID_INCORRECT; a field the caller may not read with
 *   TDX_METADATA_FIELD_NOT_READABLE;
 * - on success R8 = value (masked to the element size), RDX = next readable id (all ones at the end).
 */
import {
  MD_FIELD_ID_NA,
  isNullFieldId,
  isSingleElementId,
  maskToElement,
  elementSizeBytes,
} from '../abi/fields.js'
import {MD_LIST_HEADER, MD_LIST_PAGE_SIZE, encodeMetadataList, sequenceBytes, type MdSequence} from '../abi/metadata.js'
import {
  TDX_METADATA_FIELD_ID_INCORRECT,
  TDX_METADATA_FIELD_NOT_READABLE,
  TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT,
  TDX_SUCCESS,
} from '../abi/status.js'
import type {MetadataEntry} from './profiles.js'

type Reader = 'host' | 'guest'

interface MdReadResult {
  status: bigint
  value: bigint
  next: bigint
}

export class GlobalMetadata {
  private readonly entries: Map<bigint, MetadataEntry>
  private readonly ids: bigint[]

  constructor(entries: Map<bigint, MetadataEntry>) {
    this.ids = [...entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    this.entries = new Map(this.ids.map((id) => [id, entries.get(id)!]))
  }

  has(id: bigint): boolean {
    return this.entries.has(id)
  }

  /**
   * Give a field this module has another value: the same module with one limit changed, for
   * what-if runs and tests (e.g. a TDX Connect module with a smaller SPDM_MAX_DEV_INFO_PAGES).
   * Only the store changes; readers that already cached sysinfo keep what they read.
   */
  override(id: bigint, value: bigint): void {
    const e = this.entries.get(id)
    if (!e) throw new Error(`metadata field 0x${id.toString(16)} is not in this module`)
    this.entries.set(id, {...e, value})
  }

  private readable(id: bigint, who: Reader): boolean {
    const e = this.entries.get(id)
    return e !== undefined && (who === 'host' || e.guest)
  }

  /** The next id after `id` (or the first, when id is undefined) this reader may read; all ones at the end. */
  nextReadable(id: bigint | undefined, who: Reader): bigint {
    const start = id === undefined ? 0 : this.ids.indexOf(id) + 1
    for (let i = start; i < this.ids.length; i++) if (this.readable(this.ids[i], who)) return this.ids[i]
    return MD_FIELD_ID_NA
  }

  /** One TDH.SYS.RD / TDG.SYS.RD. */
  read(id: bigint, who: Reader): MdReadResult {
    if (isNullFieldId(id)) return {status: TDX_METADATA_FIRST_FIELD_ID_IN_CONTEXT, value: 0n, next: this.nextReadable(undefined, who)}
    if (!isSingleElementId(id) || !this.entries.has(id)) return {status: TDX_METADATA_FIELD_ID_INCORRECT, value: 0n, next: MD_FIELD_ID_NA}
    if (!this.readable(id, who)) return {status: TDX_METADATA_FIELD_NOT_READABLE, value: 0n, next: MD_FIELD_ID_NA}
    return {status: TDX_SUCCESS, value: maskToElement(id, this.entries.get(id)!.value), next: this.nextReadable(id, who)}
  }

  /**
   * One RDALL: a metadata list of readable fields from `start` (null id = first) that fits in one
   * page; `next` is where to continue (all ones when done).
   */
  list(start: bigint, who: Reader, pageSize = MD_LIST_PAGE_SIZE): {status: bigint; page?: Buffer; next: bigint} {
    let id: bigint
    if (isNullFieldId(start)) id = this.nextReadable(undefined, who)
    else if (!isSingleElementId(start) || !this.entries.has(start)) return {status: TDX_METADATA_FIELD_ID_INCORRECT, next: MD_FIELD_ID_NA}
    else if (!this.readable(start, who)) return {status: TDX_METADATA_FIELD_NOT_READABLE, next: MD_FIELD_ID_NA}
    else id = start
    const sequences: MdSequence[] = []
    let used = MD_LIST_HEADER.size
    while (id !== MD_FIELD_ID_NA) {
      // Start a sequence; extend it while field codes are consecutive with the same element size.
      if (used + sequenceBytes(1) > pageSize) break
      const seq: MdSequence = {firstId: id, values: [maskToElement(id, this.entries.get(id)!.value)]}
      used += sequenceBytes(1)
      let nextId = this.nextReadable(id, who)
      while (
        nextId !== MD_FIELD_ID_NA &&
        nextId === seq.firstId + BigInt(seq.values.length) &&
        elementSizeBytes(nextId) === elementSizeBytes(seq.firstId) &&
        used + sequenceBytes(seq.values.length + 1) - sequenceBytes(seq.values.length) <= pageSize
      ) {
        seq.values.push(maskToElement(nextId, this.entries.get(nextId)!.value))
        used += sequenceBytes(seq.values.length) - sequenceBytes(seq.values.length - 1)
        nextId = this.nextReadable(nextId, who)
      }
      sequences.push(seq)
      id = nextId
    }
    return {status: TDX_SUCCESS, page: encodeMetadataList(sequences, pageSize), next: id}
  }
}
