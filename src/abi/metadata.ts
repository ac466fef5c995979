/**
 * The metadata list TDH.SYS.RDALL / TDG.SYS.RDALL write into a 4 KiB page (module 1.5
 * `md_list_header_t` / `md_sequence_t`):
 *
 *   header   {u16 list_buff_size, u16 num_sequences, u32 reserved}      (8 bytes)
 *   sequence {u64 sequence_header, u64 element[last_field_in_sequence + 1]}
 *
 * A sequence header is the field id of its first element with "last field in sequence" = n - 1;
 * consecutive fields of one sequence have consecutive field codes and the same element size.
 * Each element occupies a 64-bit slot (value masked to the element size).
 */
import {defineLayout, readNum, writeField} from './layout.js'
import {sequenceBaseId, sequenceLastField, sequenceHeader} from './fields.js'
import {ParseError} from '../errors.js'

export const MD_LIST_HEADER = defineLayout('MD_LIST_HEADER', 8, {
  list_buff_size: {offset: 0, size: 2, kind: 'u16', doc: 'bytes of the list including this header'},
  num_sequences: {offset: 2, size: 2, kind: 'u16', doc: 'number of sequences that follow'},
  reserved: {offset: 4, size: 4, kind: 'u32', doc: 'reserved (0)'},
})

export const MD_LIST_PAGE_SIZE = 4096
const MD_SEQUENCE_HEADER_SIZE = 8
const MD_ELEMENT_SLOT = 8

export interface MdSequence {
  firstId: bigint
  values: bigint[]
}

/** Bytes a sequence of n elements takes in a list. */
export const sequenceBytes = (n: number): number => MD_SEQUENCE_HEADER_SIZE + n * MD_ELEMENT_SLOT

/** Encode sequences into one list page (caller guarantees they fit). */
export function encodeMetadataList(sequences: MdSequence[], pageSize = MD_LIST_PAGE_SIZE): Buffer {
  const page = Buffer.alloc(pageSize)
  let off = MD_LIST_HEADER.size
  for (const s of sequences) {
    page.writeBigUInt64LE(sequenceHeader(s.firstId, s.values.length - 1), off)
    off += MD_SEQUENCE_HEADER_SIZE
    for (const v of s.values) {
      page.writeBigUInt64LE(v, off)
      off += MD_ELEMENT_SLOT
    }
  }
  if (off > pageSize) throw new Error(`metadata list of ${off} bytes exceeds the ${pageSize}-byte page`)
  writeField(MD_LIST_HEADER, page, 'list_buff_size', off)
  writeField(MD_LIST_HEADER, page, 'num_sequences', sequences.length)
  return page
}

/** Decode a list page into field id → value. */
export function decodeMetadataList(page: Uint8Array): Map<bigint, bigint> {
  const buf = Buffer.from(page.buffer, page.byteOffset, page.byteLength)
  if (buf.length < MD_LIST_HEADER.size) throw new ParseError('MD_LIST_TRUNCATED', 'metadata list: shorter than its header')
  const size = readNum(MD_LIST_HEADER, buf, 'list_buff_size')
  const n = readNum(MD_LIST_HEADER, buf, 'num_sequences')
  if (size > buf.length) throw new ParseError('MD_LIST_TRUNCATED', `metadata list: declares ${size} bytes, page has ${buf.length}`)
  const out = new Map<bigint, bigint>()
  let off = MD_LIST_HEADER.size
  for (let s = 0; s < n; s++) {
    if (off + MD_SEQUENCE_HEADER_SIZE > size) throw new ParseError('MD_LIST_TRUNCATED', `metadata list: sequence ${s} starts past the end`)
    const header = buf.readBigUInt64LE(off)
    off += MD_SEQUENCE_HEADER_SIZE
    const count = sequenceLastField(header) + 1
    if (off + count * MD_ELEMENT_SLOT > size) throw new ParseError('MD_LIST_TRUNCATED', `metadata list: sequence ${s} overruns the list`)
    const base = sequenceBaseId(header)
    for (let i = 0; i < count; i++) {
      out.set(base + BigInt(i), buf.readBigUInt64LE(off))
      off += MD_ELEMENT_SLOT
    }
  }
  return out
}
