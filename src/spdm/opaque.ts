/**
 * The opaque data of KEY_EXCHANGE / KEY_EXCHANGE_RSP that negotiates the secured-message (DSP0277)
 * version: general opaque data format 1 with one DMTF element, a supported-version list from the
 * requester and a version selection from the responder. Elements are padded to 4 bytes.
 */
import {ParseError} from '../errors.js'
import {readNum, requireSize} from '../abi/layout.js'
import {
  SECURED_OPAQUE_DATA_VERSION,
  SECURED_OPAQUE_ELEMENT_HEADER,
  SPDM_OPAQUE_ALIGN,
  SPDM_OPAQUE_ELEMENT,
  SPDM_OPAQUE_HEADER,
  SPDM_REGISTRY_ID_DMTF,
  SPDM_VERSION_ENTRY_SIZE,
  SecuredOpaqueId,
} from '../abi/spdm.js'

const VERSION_COUNT_SIZE = 1
const pad = (n: number) => (SPDM_OPAQUE_ALIGN - (n % SPDM_OPAQUE_ALIGN)) % SPDM_OPAQUE_ALIGN

function opaqueTable(elementData: Buffer): Buffer {
  const head = Buffer.alloc(SPDM_OPAQUE_HEADER.size)
  head[SPDM_OPAQUE_HEADER.fields.total_elements.offset] = 1
  const el = Buffer.alloc(SPDM_OPAQUE_ELEMENT.size)
  el[SPDM_OPAQUE_ELEMENT.fields.id.offset] = SPDM_REGISTRY_ID_DMTF
  el.writeUInt16LE(elementData.length, SPDM_OPAQUE_ELEMENT.fields.data_length.offset)
  return Buffer.concat([head, el, elementData, Buffer.alloc(pad(SPDM_OPAQUE_ELEMENT.size + elementData.length))])
}

function smHeader(id: number): Buffer {
  const b = Buffer.alloc(SECURED_OPAQUE_ELEMENT_HEADER.size)
  b[SECURED_OPAQUE_ELEMENT_HEADER.fields.sm_data_version.offset] = SECURED_OPAQUE_DATA_VERSION
  b[SECURED_OPAQUE_ELEMENT_HEADER.fields.sm_data_id.offset] = id
  return b
}

/** Requester opaque data: the secured-message versions it supports (u16 version entries). */
export function supportedVersionsOpaque(versions: readonly number[]): Buffer {
  const list = Buffer.alloc(VERSION_COUNT_SIZE + versions.length * SPDM_VERSION_ENTRY_SIZE)
  list[0] = versions.length
  versions.forEach((v, i) => list.writeUInt16LE(v, VERSION_COUNT_SIZE + i * SPDM_VERSION_ENTRY_SIZE))
  return opaqueTable(Buffer.concat([smHeader(SecuredOpaqueId.SUPPORTED_VERSION_LIST), list]))
}

/** Responder opaque data: the one secured-message version it selected. */
export function versionSelectionOpaque(version: number): Buffer {
  const v = Buffer.alloc(SPDM_VERSION_ENTRY_SIZE)
  v.writeUInt16LE(version)
  return opaqueTable(Buffer.concat([smHeader(SecuredOpaqueId.VERSION_SELECTION), v]))
}

/** Walk a format-1 opaque table; returns the DMTF secured-message element data, if any. Strict bounds. */
function securedElement(opaque: Buffer): Buffer | undefined {
  requireSize(SPDM_OPAQUE_HEADER, opaque, 0, 'opaque data')
  const n = readNum(SPDM_OPAQUE_HEADER, opaque, 'total_elements')
  let off = SPDM_OPAQUE_HEADER.size
  let found: Buffer | undefined
  for (let i = 0; i < n; i++) {
    requireSize(SPDM_OPAQUE_ELEMENT, opaque, off, `opaque element ${i}`)
    const vendorLen = readNum(SPDM_OPAQUE_ELEMENT, opaque, 'vendor_len', off)
    const id = readNum(SPDM_OPAQUE_ELEMENT, opaque, 'id', off)
    // element: id ‖ vendor_len ‖ vendor id[vendor_len] ‖ data_len u16 ‖ data; DMTF has no vendor id
    const lenAt = off + SPDM_OPAQUE_ELEMENT.fields.data_length.offset + vendorLen
    if (lenAt + 2 > opaque.length) throw new ParseError('OPAQUE_TRUNCATED', `opaque element ${i} runs past the opaque data`)
    const dataLen = opaque.readUInt16LE(lenAt)
    const dataAt = lenAt + 2
    if (dataAt + dataLen > opaque.length) throw new ParseError('OPAQUE_TRUNCATED', `opaque element ${i} data runs past the opaque data`)
    if (id === SPDM_REGISTRY_ID_DMTF && vendorLen === 0 && !found) found = opaque.subarray(dataAt, dataAt + dataLen)
    off = dataAt + dataLen + pad(dataAt + dataLen - off)
  }
  return found
}

/** The versions a requester offers (empty when its opaque data names none). */
export function parseSupportedVersions(opaque: Buffer): number[] {
  const el = securedElement(opaque)
  if (!el) return []
  requireSize(SECURED_OPAQUE_ELEMENT_HEADER, el, 0, 'secured-message opaque element')
  if (readNum(SECURED_OPAQUE_ELEMENT_HEADER, el, 'sm_data_id') !== SecuredOpaqueId.SUPPORTED_VERSION_LIST) return []
  const at = SECURED_OPAQUE_ELEMENT_HEADER.size
  if (el.length < at + VERSION_COUNT_SIZE) throw new ParseError('OPAQUE_TRUNCATED', 'secured-message version list is empty')
  const count = el[at]
  if (el.length < at + VERSION_COUNT_SIZE + count * SPDM_VERSION_ENTRY_SIZE) throw new ParseError('OPAQUE_TRUNCATED', `secured-message version list says ${count} entries, has fewer`)
  return Array.from({length: count}, (_, i) => el.readUInt16LE(at + VERSION_COUNT_SIZE + i * SPDM_VERSION_ENTRY_SIZE))
}

/** The version a responder selected (undefined when its opaque data has no selection). */
export function parseVersionSelection(opaque: Buffer): number | undefined {
  const el = securedElement(opaque)
  if (!el) return undefined
  requireSize(SECURED_OPAQUE_ELEMENT_HEADER, el, 0, 'secured-message opaque element')
  if (readNum(SECURED_OPAQUE_ELEMENT_HEADER, el, 'sm_data_id') !== SecuredOpaqueId.VERSION_SELECTION) return undefined
  const at = SECURED_OPAQUE_ELEMENT_HEADER.size
  if (el.length < at + SPDM_VERSION_ENTRY_SIZE) throw new ParseError('OPAQUE_TRUNCATED', 'secured-message version selection is truncated')
  return el.readUInt16LE(at)
}
