/** One cbor-x configuration for the device layer: integer map keys kept (Maps), byte strings untagged. */
import {Encoder, Tag} from 'cbor-x'

export const cbor = new Encoder({mapsAsObjects: false, useRecords: false, tagUint8Array: false, variableMapSize: true})
export {Tag}

export const isTag = (v: unknown, tag?: number): v is Tag => v instanceof Tag && (tag === undefined || v.tag === tag)
export const asBytes = (v: unknown): Buffer | undefined => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : undefined)
export const asMap = (v: unknown): Map<unknown, unknown> | undefined => (v instanceof Map ? v : undefined)
