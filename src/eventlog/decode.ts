/**
 * Decoders for the event data of well-known event types (TCG PC Client PFP / TCG EFI Platform).
 * Best effort: data that does not fit its type's structure is reported as such, never thrown on,
 * since a log's event data is informative (replay uses only the digests).
 */
import {field, readNum, readUint, type Layout} from '../abi/layout.js'
import {
  ACPI_HID_DEVICE_PATH,
  DEVICE_PATH,
  EFI_GUID,
  HARDDRIVE_DEVICE_PATH,
  NO_ACTION_SIGNATURE,
  NVME_NAMESPACE_DEVICE_PATH,
  PCI_DEVICE_PATH,
  SEPARATOR_DATA,
  SEPARATOR_ERROR,
  STARTUP_LOCALITY_EVENT,
  EFI_CONFIGURATION_TABLE,
  EFI_DEVICE_PATH_NODE,
  EFI_LOAD_OPTION,
  EV,
  NO_ACTION_SIGNATURES,
  TCG_TAGGED_EVENT,
  U8_LENGTH,
  UEFI_GPT_DATA,
  UEFI_HANDOFF_TABLE_POINTERS,
  UEFI_IMAGE_LOAD_EVENT,
  UEFI_PLATFORM_FIRMWARE_BLOB,
  UEFI_VARIABLE_DATA,
} from '../abi/tcg.js'
import type {DecodedEventData} from './types.js'

/** EFI GUID text form (first three fields little-endian). */
export function formatGuid(b: Uint8Array): string {
  return [
    readNum(EFI_GUID, b, 'data1').toString(16).padStart(8, '0'),
    readNum(EFI_GUID, b, 'data2').toString(16).padStart(4, '0'),
    readNum(EFI_GUID, b, 'data3').toString(16).padStart(4, '0'),
    field(EFI_GUID, b, 'data4_hi').toString('hex'),
    field(EFI_GUID, b, 'data4_lo').toString('hex'),
  ]
    .join('-')
    .toUpperCase()
}

const hex0x = (v: bigint) => '0x' + v.toString(16)

/** UCS-2 (UTF-16LE) text up to the first NUL. */
function ucs2(b: Buffer): string {
  const even = b.subarray(0, b.length - (b.length % 2))
  const s = even.toString('utf16le')
  const nul = s.indexOf('\0')
  return nul < 0 ? s : s.slice(0, nul)
}

/** Printable text from event data, or undefined: ASCII / UTF-8 (NUL-terminated or not), or UCS-2. */
function printableText(b: Buffer): string | undefined {
  if (b.length === 0) return undefined
  const trimmed = b.subarray(0, b.length - (b[b.length - 1] === 0 ? 1 : 0))
  const ok = (s: string) => s.length > 0 && /^[\x20-\x7e\t\r\n\u00a0-\uffff]*$/u.test(s) && !s.includes('\ufffd')
  const utf8 = trimmed.toString('utf8')
  if (ok(utf8) && !trimmed.includes(0)) return utf8
  if (b.length % 2 === 0 && b.length >= 2) {
    const u = ucs2(b)
    if (u.length > 0 && /^[\x20-\x7e]*$/.test(u)) return u
  }
  return undefined
}

const fits = (b: Buffer, l: Layout<string>, base = 0) => b.length - base >= l.size

/** Decode an EFI device path into the familiar text form (best effort; unknown nodes as Path(t,s)). */
export function formatDevicePath(b: Buffer): string {
  const parts: string[] = []
  let pos = 0
  while (fits(b, EFI_DEVICE_PATH_NODE, pos)) {
    const type = readNum(EFI_DEVICE_PATH_NODE, b, 'type', pos)
    const sub = readNum(EFI_DEVICE_PATH_NODE, b, 'sub_type', pos)
    const len = readNum(EFI_DEVICE_PATH_NODE, b, 'length', pos)
    if (len < EFI_DEVICE_PATH_NODE.size || pos + len > b.length) {
      parts.push('<malformed>')
      break
    }
    const body = b.subarray(pos + EFI_DEVICE_PATH_NODE.size, pos + len)
    pos += len
    if (type === DEVICE_PATH.END) {
      if (sub === 0xff) break
      parts.push('|')
      continue
    }
    parts.push(deviceNode(type, sub, body))
  }
  return parts.join('/').replace(/\/\|\//g, ', ')
}

function deviceNode(type: number, sub: number, body: Buffer): string {
  if (type === DEVICE_PATH.MEDIA && sub === DEVICE_PATH.MEDIA_FILEPATH) return ucs2(body)
  if (type === DEVICE_PATH.MEDIA && sub === DEVICE_PATH.MEDIA_PIWG_FW_FILE && fits(body, EFI_GUID)) return `FvFile(${formatGuid(body)})`
  if (type === DEVICE_PATH.MEDIA && sub === DEVICE_PATH.MEDIA_PIWG_FW_VOL && fits(body, EFI_GUID)) return `Fv(${formatGuid(body)})`
  if (type === DEVICE_PATH.MEDIA && sub === DEVICE_PATH.MEDIA_HARDDRIVE && fits(body, HARDDRIVE_DEVICE_PATH)) {
    return `HD(${readNum(HARDDRIVE_DEVICE_PATH, body, 'partition_number')},${formatGuid(field(HARDDRIVE_DEVICE_PATH, body, 'signature'))})`
  }
  if (type === DEVICE_PATH.ACPI && sub === DEVICE_PATH.ACPI_ACPI && fits(body, ACPI_HID_DEVICE_PATH)) {
    const hid = readNum(ACPI_HID_DEVICE_PATH, body, 'hid')
    const uid = readNum(ACPI_HID_DEVICE_PATH, body, 'uid')
    return (DEVICE_PATH.ACPI_PCI_ROOT_HIDS as readonly number[]).includes(hid) ? `PciRoot(0x${uid.toString(16)})` : `Acpi(0x${hid.toString(16)},0x${uid.toString(16)})`
  }
  if (type === DEVICE_PATH.MESSAGING && sub === DEVICE_PATH.MSG_NVME && fits(body, NVME_NAMESPACE_DEVICE_PATH)) {
    return `NVMe(0x${readNum(NVME_NAMESPACE_DEVICE_PATH, body, 'namespace_id').toString(16)})`
  }
  if (type === DEVICE_PATH.HARDWARE && sub === DEVICE_PATH.HW_PCI && fits(body, PCI_DEVICE_PATH)) {
    return `Pci(0x${readNum(PCI_DEVICE_PATH, body, 'device').toString(16)},0x${readNum(PCI_DEVICE_PATH, body, 'function').toString(16)})`
  }
  if (type === DEVICE_PATH.MESSAGING && sub === DEVICE_PATH.MSG_URI) return `Uri(${body.toString('latin1')})`
  return `Path(${type},${sub})`
}

/** A length-prefixed (u8) description followed by more data: returns [description, rest offset]. */
function u8Described(b: Buffer): [string, number] | undefined {
  if (!fits(b, U8_LENGTH)) return undefined
  const n = readNum(U8_LENGTH, b, 'length')
  if (U8_LENGTH.size + n > b.length) return undefined
  return [b.subarray(U8_LENGTH.size, U8_LENGTH.size + n).toString('latin1').replace(/\0+$/, ''), U8_LENGTH.size + n]
}

function variableData(b: Buffer, type: number): DecodedEventData {
  if (!fits(b, UEFI_VARIABLE_DATA)) return {summary: `<${b.length} bytes, too short for UEFI_VARIABLE_DATA>`}
  const guid = formatGuid(field(UEFI_VARIABLE_DATA, b, 'variable_name'))
  const nameLen = readUint(UEFI_VARIABLE_DATA, b, 'unicode_name_length')
  const dataLen = readUint(UEFI_VARIABLE_DATA, b, 'variable_data_length')
  const nameEnd = BigInt(UEFI_VARIABLE_DATA.size) + nameLen * 2n
  if (nameEnd + dataLen > BigInt(b.length)) return {summary: `<UEFI_VARIABLE_DATA lengths exceed the ${b.length}-byte event>`, fields: {guid}}
  const name = ucs2(b.subarray(UEFI_VARIABLE_DATA.size, Number(nameEnd)))
  const value = b.subarray(Number(nameEnd), Number(nameEnd + dataLen))
  const fields: Record<string, unknown> = {guid, name, data_length: Number(dataLen)}
  let extra = ''
  if (/^Boot[0-9A-F]{4}$/.test(name) && fits(value, EFI_LOAD_OPTION) && (type === EV.EFI_VARIABLE_BOOT || type === EV.EFI_VARIABLE_BOOT2)) {
    const desc = ucs2(value.subarray(EFI_LOAD_OPTION.size))
    const descBytes = (desc.length + 1) * 2
    const fpl = readNum(EFI_LOAD_OPTION, value, 'file_path_list_length')
    const pathStart = EFI_LOAD_OPTION.size + descBytes
    fields.description = desc
    if (pathStart + fpl <= value.length) fields.device_path = formatDevicePath(value.subarray(pathStart, pathStart + fpl))
    extra = ` "${desc}"${fields.device_path ? ` ${fields.device_path}` : ''}`
  } else if (name === 'BootOrder' && value.length % 2 === 0) {
    const order = Array.from({length: value.length / 2}, (_, i) => value.readUInt16LE(i * 2).toString(16).toUpperCase().padStart(4, '0'))
    fields.boot_order = order
    extra = ` ${order.join(',')}`
  } else if (value.length === 1) {
    fields.value = value[0]
    extra = ` = ${value[0]}`
  } else {
    extra = ` (${value.length} bytes)`
  }
  return {summary: `${name}${extra}`, fields}
}

function imageLoad(b: Buffer): DecodedEventData {
  if (!fits(b, UEFI_IMAGE_LOAD_EVENT)) return {summary: `<${b.length} bytes, too short for UEFI_IMAGE_LOAD_EVENT>`}
  const dpLen = readUint(UEFI_IMAGE_LOAD_EVENT, b, 'device_path_length')
  const dp = BigInt(UEFI_IMAGE_LOAD_EVENT.size) + dpLen <= BigInt(b.length) ? formatDevicePath(b.subarray(UEFI_IMAGE_LOAD_EVENT.size, UEFI_IMAGE_LOAD_EVENT.size + Number(dpLen))) : '<bad device path length>'
  const location = readUint(UEFI_IMAGE_LOAD_EVENT, b, 'image_location')
  const length = readUint(UEFI_IMAGE_LOAD_EVENT, b, 'image_length')
  return {
    summary: `${dp || '<no device path>'} (${length} bytes at ${hex0x(location)})`,
    fields: {image_location: hex0x(location), image_length: Number(length), device_path: dp},
  }
}

function firmwareBlob(b: Buffer, base: number, description?: string): DecodedEventData {
  if (!fits(b, UEFI_PLATFORM_FIRMWARE_BLOB, base)) return {summary: `<${b.length} bytes, too short for a firmware blob>`}
  const blobBase = readUint(UEFI_PLATFORM_FIRMWARE_BLOB, b, 'blob_base', base)
  const len = readUint(UEFI_PLATFORM_FIRMWARE_BLOB, b, 'blob_length', base)
  return {
    summary: `${description ? `${description} ` : ''}${len} bytes at ${hex0x(blobBase)}`,
    fields: {...(description === undefined ? {} : {description}), blob_base: hex0x(blobBase), blob_length: Number(len)},
  }
}

function handoffTables(b: Buffer, base: number, description?: string): DecodedEventData {
  if (!fits(b, UEFI_HANDOFF_TABLE_POINTERS, base)) return {summary: `<${b.length} bytes, too short for handoff tables>`}
  const n = readUint(UEFI_HANDOFF_TABLE_POINTERS, b, 'number_of_tables', base)
  const tables: string[] = []
  let pos = base + UEFI_HANDOFF_TABLE_POINTERS.size
  for (let i = 0n; i < n && fits(b, EFI_CONFIGURATION_TABLE, pos); i++, pos += EFI_CONFIGURATION_TABLE.size) {
    tables.push(formatGuid(field(EFI_CONFIGURATION_TABLE, b, 'vendor_guid', pos)))
  }
  return {
    summary: `${description ? `${description}: ` : ''}${n} table(s) ${tables.join(', ')}`.trimEnd(),
    fields: {...(description === undefined ? {} : {description}), tables},
  }
}

/** Decode event data for display; undefined for empty data. */
export function decodeEventData(type: number, data: Buffer): DecodedEventData | undefined {
  if (data.length === 0) return undefined
  switch (type) {
    case EV.NO_ACTION: {
      if (!fits(data, NO_ACTION_SIGNATURE)) return {summary: `${data.length} bytes`}
      const sig = field(NO_ACTION_SIGNATURE, data, 'signature').toString('latin1').replace(/\0.*$/s, '')
      const known = NO_ACTION_SIGNATURES.find((s) => s === sig)
      if (!known) return {summary: `${data.length} bytes`}
      if (known === 'StartupLocality' && fits(data, STARTUP_LOCALITY_EVENT)) {
        const locality = readNum(STARTUP_LOCALITY_EVENT, data, 'startup_locality')
        return {summary: `StartupLocality ${locality}`, fields: {signature: known, locality}}
      }
      return {summary: known, fields: {signature: known}}
    }
    case EV.SEPARATOR: {
      if (data.length !== SEPARATOR_DATA.size) break
      const v = readNum(SEPARATOR_DATA, data, 'value')
      return {summary: v === SEPARATOR_ERROR ? 'error separator (0xFFFFFFFF)' : `separator 0x${v.toString(16).padStart(8, '0')}`, fields: {value: v}}
    }
    case EV.EFI_VARIABLE_DRIVER_CONFIG:
    case EV.EFI_VARIABLE_BOOT:
    case EV.EFI_VARIABLE_BOOT2:
    case EV.EFI_VARIABLE_AUTHORITY:
      return variableData(data, type)
    case EV.EFI_BOOT_SERVICES_APPLICATION:
    case EV.EFI_BOOT_SERVICES_DRIVER:
    case EV.EFI_RUNTIME_SERVICES_DRIVER:
      return imageLoad(data)
    case EV.EFI_PLATFORM_FIRMWARE_BLOB:
      return firmwareBlob(data, 0)
    case EV.EFI_PLATFORM_FIRMWARE_BLOB2: {
      const d = u8Described(data)
      return d ? firmwareBlob(data, d[1], d[0]) : {summary: '<malformed BLOB2 description>'}
    }
    case EV.EFI_HANDOFF_TABLES:
      return handoffTables(data, 0)
    case EV.EFI_HANDOFF_TABLES2: {
      const d = u8Described(data)
      return d ? handoffTables(data, d[1], d[0]) : {summary: '<malformed HANDOFF_TABLES2 description>'}
    }
    case EV.EVENT_TAG: {
      if (!fits(data, TCG_TAGGED_EVENT)) break
      const id = readNum(TCG_TAGGED_EVENT, data, 'tagged_event_id')
      const size = readNum(TCG_TAGGED_EVENT, data, 'tagged_event_data_size')
      const tagged = data.subarray(TCG_TAGGED_EVENT.size, TCG_TAGGED_EVENT.size + size)
      const text = printableText(tagged)
      return {summary: `tag 0x${id.toString(16)}: ${text ?? `${size} bytes`}`, fields: {tagged_event_id: id, tagged_event_data_size: size, ...(text ? {text} : {})}}
    }
    case EV.EFI_GPT_EVENT: {
      if (!fits(data, UEFI_GPT_DATA)) break
      const n = readUint(UEFI_GPT_DATA, data, 'number_of_partitions')
      return {summary: `GPT with ${n} partition(s)`, fields: {number_of_partitions: Number(n)}}
    }
    default:
      break
  }
  const text = printableText(data)
  if (text !== undefined) return {summary: JSON.stringify(text), fields: {text}}
  return {summary: `${data.length} bytes`}
}
