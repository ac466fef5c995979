/**
 * TCG PC Client Platform Firmware Profile event log structures ("crypto-agile" format, TCG2), as
 * used by TPM event logs and by the CCEL log area of a TD:
 *
 *   TCG_PCClientPCREvent (SHA-1 format) — the first record only; its data is the Spec ID event
 *   TCG_PCR_EVENT2 — every later record: index, type, TPML_DIGEST_VALUES, event size, event data
 *
 * Only fixed-size headers are layouts; variable parts (digest lists, event data, names) follow
 * the header at offsets computed from the sizes the headers declare.
 */
import {defineLayout} from './layout.js'

/** First record of a crypto-agile log: the legacy SHA-1 event header (data follows). */
export const TCG_PCR_EVENT_HEADER = defineLayout('TCG_PCClientPCREvent', 32, {
  pcr_index: {offset: 0, size: 4, kind: 'u32', doc: 'PCR / CC MR index'},
  event_type: {offset: 4, size: 4, kind: 'u32', doc: 'Event type'},
  digest: {offset: 8, size: 20, doc: 'SHA-1 digest (zero for the Spec ID event)'},
  event_size: {offset: 28, size: 4, kind: 'u32', doc: 'Size of the event data that follows'},
})

/** TCG_PCR_EVENT2 up to and including the digest count; digests then a u32 event size follow. */
export const TCG_PCR_EVENT2_HEADER = defineLayout('TCG_PCR_EVENT2', 12, {
  pcr_index: {offset: 0, size: 4, kind: 'u32', doc: 'PCR / CC MR index'},
  event_type: {offset: 4, size: 4, kind: 'u32', doc: 'Event type'},
  digest_count: {offset: 8, size: 4, kind: 'u32', doc: 'Number of TPMT_HA digests that follow'},
})

/** TPMT_HA header: the algorithm id; the digest (size from the Spec ID event) follows. */
export const TPMT_HA_HEADER = defineLayout('TPMT_HA', 2, {
  hash_alg: {offset: 0, size: 2, kind: 'u16', doc: 'TPM_ALG_ID'},
})

/** The u32 event size that follows the digest list of a TCG_PCR_EVENT2. */
export const EVENT_SIZE_FIELD = defineLayout('TCG_PCR_EVENT2.eventSize', 4, {
  event_size: {offset: 0, size: 4, kind: 'u32', doc: 'Size of the event data that follows'},
})

/** TCG_EfiSpecIDEventStruct up to numberOfAlgorithms; the algorithm table and vendor info follow. */
export const SPEC_ID_EVENT_HEADER = defineLayout('TCG_EfiSpecIDEventStruct', 28, {
  signature: {offset: 0, size: 16, doc: '"Spec ID Event03\\0"'},
  platform_class: {offset: 16, size: 4, kind: 'u32', doc: 'Platform class (0 = client, 1 = server)'},
  spec_version_minor: {offset: 20, size: 1, kind: 'u8', doc: 'Spec version minor'},
  spec_version_major: {offset: 21, size: 1, kind: 'u8', doc: 'Spec version major'},
  spec_errata: {offset: 22, size: 1, kind: 'u8', doc: 'Spec errata'},
  uintn_size: {offset: 23, size: 1, kind: 'u8', doc: 'UINTN size in 4-byte units (1 = 32-bit, 2 = 64-bit)'},
  number_of_algorithms: {offset: 24, size: 4, kind: 'u32', doc: 'Number of algorithm entries'},
})

/** TCG_EfiSpecIdEventAlgorithmSize. */
export const SPEC_ID_ALGORITHM = defineLayout('TCG_EfiSpecIdEventAlgorithmSize', 4, {
  algorithm_id: {offset: 0, size: 2, kind: 'u16', doc: 'TPM_ALG_ID'},
  digest_size: {offset: 2, size: 2, kind: 'u16', doc: 'Digest size in bytes'},
})

/** The u8 vendorInfoSize after the algorithm table. */
export const SPEC_ID_VENDOR_INFO_SIZE = defineLayout('TCG_EfiSpecIDEventStruct.vendorInfoSize', 1, {
  vendor_info_size: {offset: 0, size: 1, kind: 'u8', doc: 'Size of vendor info that follows'},
})

export const SPEC_ID_SIGNATURE_03 = 'Spec ID Event03'
export const SPEC_ID_VERSION_MAJOR = 2
export const SPEC_ID_VERSION_MINOR = 0
/** Errata value TDVF writes in CCEL logs (the TPM2 PFP examples use 2; parsers ignore it). */
export const SPEC_ID_ERRATA = 0
export const SPEC_ID_UINTN_64BIT = 2
export const SPEC_ID_PLATFORM_CLIENT = 0
/** Sanity bound on numberOfAlgorithms (the TPM algorithm registry has far fewer hash algorithms). */
export const SPEC_ID_MAX_ALGORITHMS = 16

/** TPM_ALG_ID values of hash algorithms with their digest sizes and Node crypto names. */
export const TPM_ALG = {
  SHA1: 0x0004,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  SM3_256: 0x0012,
  SHA3_256: 0x0027,
  SHA3_384: 0x0028,
  SHA3_512: 0x0029,
} as const

export const TPM_ALG_INFO: Readonly<Record<number, {name: string; size: number; node?: string}>> = {
  [TPM_ALG.SHA1]: {name: 'sha1', size: 20, node: 'sha1'},
  [TPM_ALG.SHA256]: {name: 'sha256', size: 32, node: 'sha256'},
  [TPM_ALG.SHA384]: {name: 'sha384', size: 48, node: 'sha384'},
  [TPM_ALG.SHA512]: {name: 'sha512', size: 64, node: 'sha512'},
  [TPM_ALG.SM3_256]: {name: 'sm3_256', size: 32},
  [TPM_ALG.SHA3_256]: {name: 'sha3_256', size: 32, node: 'sha3-256'},
  [TPM_ALG.SHA3_384]: {name: 'sha3_384', size: 48, node: 'sha3-384'},
  [TPM_ALG.SHA3_512]: {name: 'sha3_512', size: 64, node: 'sha3-512'},
}

export const algName = (id: number): string => TPM_ALG_INFO[id]?.name ?? `alg_0x${id.toString(16).padStart(4, '0')}`

/** Event types (TCG PC Client PFP, Table "Events"; EFI types from the TCG EFI Platform spec). */
export const EV = {
  PREBOOT_CERT: 0x0,
  POST_CODE: 0x1,
  UNUSED: 0x2,
  NO_ACTION: 0x3,
  SEPARATOR: 0x4,
  ACTION: 0x5,
  EVENT_TAG: 0x6,
  S_CRTM_CONTENTS: 0x7,
  S_CRTM_VERSION: 0x8,
  CPU_MICROCODE: 0x9,
  PLATFORM_CONFIG_FLAGS: 0xa,
  TABLE_OF_DEVICES: 0xb,
  COMPACT_HASH: 0xc,
  IPL: 0xd,
  IPL_PARTITION_DATA: 0xe,
  NONHOST_CODE: 0xf,
  NONHOST_CONFIG: 0x10,
  NONHOST_INFO: 0x11,
  OMIT_BOOT_DEVICE_EVENTS: 0x12,
  POST_CODE2: 0x13,
  EFI_EVENT_BASE: 0x80000000,
  EFI_VARIABLE_DRIVER_CONFIG: 0x80000001,
  EFI_VARIABLE_BOOT: 0x80000002,
  EFI_BOOT_SERVICES_APPLICATION: 0x80000003,
  EFI_BOOT_SERVICES_DRIVER: 0x80000004,
  EFI_RUNTIME_SERVICES_DRIVER: 0x80000005,
  EFI_GPT_EVENT: 0x80000006,
  EFI_ACTION: 0x80000007,
  EFI_PLATFORM_FIRMWARE_BLOB: 0x80000008,
  EFI_HANDOFF_TABLES: 0x80000009,
  EFI_PLATFORM_FIRMWARE_BLOB2: 0x8000000a,
  EFI_HANDOFF_TABLES2: 0x8000000b,
  EFI_VARIABLE_BOOT2: 0x8000000c,
  EFI_GPT_EVENT2: 0x8000000d,
  EFI_HCRTM_EVENT: 0x80000010,
  EFI_VARIABLE_AUTHORITY: 0x800000e0,
  EFI_SPDM_FIRMWARE_BLOB: 0x800000e1,
  EFI_SPDM_FIRMWARE_CONFIG: 0x800000e2,
  EFI_SPDM_DEVICE_POLICY: 0x800000e3,
  EFI_SPDM_DEVICE_AUTHORITY: 0x800000e4,
} as const

const EV_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(EV).map(([k, v]) => [v, `EV_${k}`]))

/** "EV_SEPARATOR", or "EV_UNKNOWN_0x…" for a type no spec here names. */
export const eventTypeName = (t: number): string => EV_NAMES[t] ?? `EV_UNKNOWN_0x${t.toString(16).padStart(8, '0')}`

/**
 * Event types whose digest is, by the PFP spec, the hash of exactly the event data field, so a
 * verifier can check the data against the digest. (Checked against the real GCE TDX CCEL log in
 * test/eventlog.) EV_EFI_VARIABLE_BOOT is deliberately absent: EDK2 hashes only the variable data.
 */
export const DATA_HASHED_EVENT_TYPES: ReadonlySet<number> = new Set([
  EV.SEPARATOR,
  EV.ACTION,
  EV.EFI_ACTION,
  EV.EFI_VARIABLE_DRIVER_CONFIG,
  EV.EFI_VARIABLE_BOOT2,
  EV.EFI_VARIABLE_AUTHORITY,
  EV.EFI_GPT_EVENT,
  EV.OMIT_BOOT_DEVICE_EVENTS,
])

/** Signatures (NUL-terminated ASCII at the start of the data) of known EV_NO_ACTION events. */
export const NO_ACTION_SIGNATURES = ['Spec ID Event03', 'StartupLocality', 'SP800-155 Event', 'SP800-155 Event2', 'SP800-155 Event3', 'NvIndexInstance', 'NvIndexDynamic'] as const

// ---- event data structures (fixed headers) -------------------------------------------------

/** UEFI_VARIABLE_DATA header; UnicodeName (UCS-2, no NUL) then VariableData follow. */
export const UEFI_VARIABLE_DATA = defineLayout('UEFI_VARIABLE_DATA', 32, {
  variable_name: {offset: 0, size: 16, doc: 'Vendor GUID of the variable'},
  unicode_name_length: {offset: 16, size: 8, kind: 'u64', doc: 'Name length in CHAR16'},
  variable_data_length: {offset: 24, size: 8, kind: 'u64', doc: 'Variable data length in bytes'},
})

/** UEFI_IMAGE_LOAD_EVENT header; the device path follows. */
export const UEFI_IMAGE_LOAD_EVENT = defineLayout('UEFI_IMAGE_LOAD_EVENT', 32, {
  image_location: {offset: 0, size: 8, kind: 'u64', doc: 'Image location in memory'},
  image_length: {offset: 8, size: 8, kind: 'u64', doc: 'Image length in memory'},
  image_link_time_address: {offset: 16, size: 8, kind: 'u64', doc: 'Link-time address'},
  device_path_length: {offset: 24, size: 8, kind: 'u64', doc: 'Length of the device path that follows'},
})

/** UEFI_PLATFORM_FIRMWARE_BLOB (and the tail of the BLOB2 form after its description). */
export const UEFI_PLATFORM_FIRMWARE_BLOB = defineLayout('UEFI_PLATFORM_FIRMWARE_BLOB', 16, {
  blob_base: {offset: 0, size: 8, kind: 'u64', doc: 'Blob base address'},
  blob_length: {offset: 8, size: 8, kind: 'u64', doc: 'Blob length'},
})

/** A u8 length-prefixed description (BLOB2 / HANDOFF_TABLES2). */
export const U8_LENGTH = defineLayout('u8 length', 1, {
  length: {offset: 0, size: 1, kind: 'u8', doc: 'Length of what follows'},
})

/** UEFI_HANDOFF_TABLE_POINTERS header; EFI_CONFIGURATION_TABLE entries follow. */
export const UEFI_HANDOFF_TABLE_POINTERS = defineLayout('UEFI_HANDOFF_TABLE_POINTERS', 8, {
  number_of_tables: {offset: 0, size: 8, kind: 'u64', doc: 'Number of tables'},
})

export const EFI_CONFIGURATION_TABLE = defineLayout('EFI_CONFIGURATION_TABLE', 24, {
  vendor_guid: {offset: 0, size: 16, doc: 'Table GUID'},
  vendor_table: {offset: 16, size: 8, kind: 'u64', doc: 'Table address'},
})

/** TCG_PCClientTaggedEvent header; the tagged data follows. */
export const TCG_TAGGED_EVENT = defineLayout('TCG_PCClientTaggedEvent', 8, {
  tagged_event_id: {offset: 0, size: 4, kind: 'u32', doc: 'Tag'},
  tagged_event_data_size: {offset: 4, size: 4, kind: 'u32', doc: 'Size of the tagged data'},
})

/** UEFI_GPT_DATA: the partition table header (92 bytes) then NumberOfPartitions. */
export const UEFI_GPT_DATA = defineLayout('UEFI_GPT_DATA', 100, {
  signature: {offset: 0, size: 8, doc: '"EFI PART"'},
  header: {offset: 8, size: 84, doc: 'Rest of EFI_PARTITION_TABLE_HEADER'},
  number_of_partitions: {offset: 92, size: 8, kind: 'u64', doc: 'Number of partition entries that follow'},
})

/** EFI_LOAD_OPTION (Boot####) header; the UCS-2 description, file path list and optional data follow. */
export const EFI_LOAD_OPTION = defineLayout('EFI_LOAD_OPTION', 6, {
  attributes: {offset: 0, size: 4, kind: 'u32', doc: 'LOAD_OPTION_* attributes'},
  file_path_list_length: {offset: 4, size: 2, kind: 'u16', doc: 'Length of the device path list'},
})

/** EFI_DEVICE_PATH_PROTOCOL node header. */
export const EFI_DEVICE_PATH_NODE = defineLayout('EFI_DEVICE_PATH_PROTOCOL', 4, {
  type: {offset: 0, size: 1, kind: 'u8', doc: 'Node type'},
  sub_type: {offset: 1, size: 1, kind: 'u8', doc: 'Node sub-type'},
  length: {offset: 2, size: 2, kind: 'u16', doc: 'Node length including this header'},
})

export const DEVICE_PATH = {
  HARDWARE: 0x01,
  ACPI: 0x02,
  MESSAGING: 0x03,
  MEDIA: 0x04,
  BBS: 0x05,
  END: 0x7f,
  HW_PCI: 0x01,
  ACPI_ACPI: 0x01,
  /** EISA id of PNP0A03 / PNP0A08 (PCI root bridges) in an ACPI device path node. */
  ACPI_PCI_ROOT_HIDS: [0x0a0341d0, 0x0a0841d0],
  MSG_NVME: 0x17,
  HW_MEMMAP: 0x03,
  MEDIA_HARDDRIVE: 0x01,
  MEDIA_FILEPATH: 0x04,
  MEDIA_PIWG_FW_FILE: 0x06,
  MEDIA_PIWG_FW_VOL: 0x07,
  MEDIA_OFFSET: 0x08,
  MSG_URI: 0x18,
} as const

/** EFI_GUID: the text form prints data1..data3 little-endian, then data4 as bytes (2 + 6). */
export const EFI_GUID = defineLayout('EFI_GUID', 16, {
  data1: {offset: 0, size: 4, kind: 'u32', doc: 'time_low'},
  data2: {offset: 4, size: 2, kind: 'u16', doc: 'time_mid'},
  data3: {offset: 6, size: 2, kind: 'u16', doc: 'time_hi_and_version'},
  data4_hi: {offset: 8, size: 2, doc: 'clock_seq'},
  data4_lo: {offset: 10, size: 6, doc: 'node'},
})
export const EFI_GUID_SIZE = EFI_GUID.size

/** Device path node bodies (after the 4-byte node header) that the decoder prints. */
export const ACPI_HID_DEVICE_PATH = defineLayout('ACPI_HID_DEVICE_PATH', 8, {
  hid: {offset: 0, size: 4, kind: 'u32', doc: 'EISA _HID'},
  uid: {offset: 4, size: 4, kind: 'u32', doc: '_UID'},
})
export const PCI_DEVICE_PATH = defineLayout('PCI_DEVICE_PATH', 2, {
  function: {offset: 0, size: 1, kind: 'u8', doc: 'PCI function'},
  device: {offset: 1, size: 1, kind: 'u8', doc: 'PCI device'},
})
export const NVME_NAMESPACE_DEVICE_PATH = defineLayout('NVME_NAMESPACE_DEVICE_PATH', 12, {
  namespace_id: {offset: 0, size: 4, kind: 'u32', doc: 'Namespace ID'},
  eui64: {offset: 4, size: 8, doc: 'IEEE EUI-64'},
})
export const HARDDRIVE_DEVICE_PATH = defineLayout('HARDDRIVE_DEVICE_PATH', 38, {
  partition_number: {offset: 0, size: 4, kind: 'u32', doc: 'Partition number'},
  partition_start: {offset: 4, size: 8, kind: 'u64', doc: 'Starting LBA'},
  partition_size: {offset: 12, size: 8, kind: 'u64', doc: 'Size in LBAs'},
  signature: {offset: 20, size: 16, doc: 'Partition signature (GUID for GPT)'},
  mbr_type: {offset: 36, size: 1, kind: 'u8', doc: '1 = MBR, 2 = GPT'},
  signature_type: {offset: 37, size: 1, kind: 'u8', doc: '0 none, 1 MBR id, 2 GUID'},
})

/** EV_SEPARATOR data (4 bytes: 0 = normal, 0xFFFFFFFF = error). */
export const SEPARATOR_DATA = defineLayout('EV_SEPARATOR data', 4, {
  value: {offset: 0, size: 4, kind: 'u32', doc: 'Separator value'},
})
export const SEPARATOR_ERROR = 0xffffffff

/** The NUL-padded signature that starts EV_NO_ACTION data, and StartupLocality's locality byte. */
export const NO_ACTION_SIGNATURE = defineLayout('EV_NO_ACTION signature', 16, {
  signature: {offset: 0, size: 16, doc: 'NUL-padded ASCII signature'},
})
export const STARTUP_LOCALITY_EVENT = defineLayout('TCG_EfiStartupLocalityEvent', 17, {
  signature: {offset: 0, size: 16, doc: '"StartupLocality\\0"'},
  startup_locality: {offset: 16, size: 1, kind: 'u8', doc: 'Locality of the startup'},
})
