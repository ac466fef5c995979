/**
 * Named offset/size tables for binary layouts. Every structure in src/abi is declared once as a
 * Layout; code reads and writes fields by name, never by a literal offset. `defineLayout` checks at
 * load time that fields are in order, do not overlap and fit the declared size.
 */
import {ParseError} from '../errors.js'

export type FieldKind = 'bytes' | 'u8' | 'u16' | 'u32' | 'u64'

export interface FieldSpec {
  offset: number
  size: number
  kind?: FieldKind
  /** Human description for decoders (`report show`, `quote show`). */
  doc?: string
}

export interface Layout<F extends string> {
  readonly name: string
  readonly size: number
  readonly fields: Readonly<Record<F, Readonly<Required<Omit<FieldSpec, 'doc'>> & {doc: string}>>>
  /** Field names in offset order. */
  readonly order: readonly F[]
}

export function defineLayout<F extends string>(name: string, size: number, fields: Record<F, FieldSpec>): Layout<F> {
  const entries = Object.entries(fields) as Array<[F, FieldSpec]>
  const norm = {} as Record<F, Required<Omit<FieldSpec, 'doc'>> & {doc: string}>
  let end = 0
  for (const [fname, f] of entries.sort((a, b) => a[1].offset - b[1].offset)) {
    const kind = f.kind ?? 'bytes'
    const expected = {u8: 1, u16: 2, u32: 4, u64: 8, bytes: f.size}[kind]
    if (expected !== f.size) throw new Error(`layout ${name}.${fname}: kind ${kind} needs size ${expected}, got ${f.size}`)
    if (f.offset < end) throw new Error(`layout ${name}.${fname}: overlaps previous field (offset ${f.offset} < ${end})`)
    if (f.offset + f.size > size) throw new Error(`layout ${name}.${fname}: exceeds structure size ${size}`)
    end = f.offset + f.size
    norm[fname] = Object.freeze({offset: f.offset, size: f.size, kind, doc: f.doc ?? fname})
  }
  return Object.freeze({
    name,
    size,
    fields: Object.freeze(norm),
    order: Object.freeze(entries.map(([n]) => n)),
  })
}

/** A view of `buf` (at `base`) through a layout. */
export function field<F extends string>(layout: Layout<F>, buf: Uint8Array, name: F, base = 0): Buffer {
  const f = layout.fields[name]
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  return b.subarray(base + f.offset, base + f.offset + f.size)
}

export function readUint<F extends string>(layout: Layout<F>, buf: Uint8Array, name: F, base = 0): bigint {
  const f = layout.fields[name]
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const o = base + f.offset
  switch (f.kind) {
    case 'u8':
      return BigInt(b.readUInt8(o))
    case 'u16':
      return BigInt(b.readUInt16LE(o))
    case 'u32':
      return BigInt(b.readUInt32LE(o))
    case 'u64':
      return b.readBigUInt64LE(o)
    default:
      throw new Error(`layout ${layout.name}.${name} is not an integer field`)
  }
}

export function readNum<F extends string>(layout: Layout<F>, buf: Uint8Array, name: F, base = 0): number {
  return Number(readUint(layout, buf, name, base))
}

export function writeField<F extends string>(layout: Layout<F>, buf: Uint8Array, name: F, value: Uint8Array | bigint | number, base = 0): void {
  const f = layout.fields[name]
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const o = base + f.offset
  if (typeof value === 'bigint' || typeof value === 'number') {
    const v = BigInt(value)
    switch (f.kind) {
      case 'u8':
        b.writeUInt8(Number(v), o)
        return
      case 'u16':
        b.writeUInt16LE(Number(v), o)
        return
      case 'u32':
        b.writeUInt32LE(Number(v), o)
        return
      case 'u64':
        b.writeBigUInt64LE(BigInt.asUintN(64, v), o)
        return
      default:
        throw new Error(`layout ${layout.name}.${name} is not an integer field`)
    }
  }
  if (value.length !== f.size) throw new Error(`layout ${layout.name}.${name}: value is ${value.length} bytes, field is ${f.size}`)
  b.set(value, o)
}

/** Throw a ParseError unless `buf` holds at least `layout.size` bytes from `base`. */
export function requireSize(layout: Layout<string>, buf: Uint8Array, base = 0, what = layout.name): void {
  if (buf.length - base < layout.size) {
    throw new ParseError('TRUNCATED', `${what}: need ${layout.size} bytes at offset ${base}, have ${Math.max(0, buf.length - base)}`)
  }
}

/** Decode every field to {name: hex | number-as-string} for display / JSON. */
export function decodeAll<F extends string>(layout: Layout<F>, buf: Uint8Array, base = 0): Record<F, string> {
  const out = {} as Record<F, string>
  for (const name of layout.order) {
    const f = layout.fields[name]
    out[name] = f.kind === 'bytes' ? field(layout, buf, name, base).toString('hex') : readUint(layout, buf, name, base).toString()
  }
  return out
}
