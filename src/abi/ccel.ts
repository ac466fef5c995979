/**
 * ACPI CCEL table (Confidential Computing Event Log, ACPI 6.5 §5.2.34) and the CC measurement
 * register index used in CCEL event records (UEFI 2.10 EFI_CC_MEASUREMENT_PROTOCOL, TDX mapping).
 *
 * The table does not hold the log itself: it names the guest-physical start (LASA) and the
 * minimum length (LAML) of the log area, which Linux exposes as /sys/firmware/acpi/tables/data/CCEL.
 */
import {defineLayout} from './layout.js'

/** The 36-byte header shared by every ACPI system description table. */
export const ACPI_TABLE_HEADER = defineLayout('ACPI_TABLE_HEADER', 36, {
  signature: {offset: 0, size: 4, doc: 'Table signature (ASCII)'},
  length: {offset: 4, size: 4, kind: 'u32', doc: 'Length of the whole table in bytes'},
  revision: {offset: 8, size: 1, kind: 'u8', doc: 'Table revision'},
  checksum: {offset: 9, size: 1, kind: 'u8', doc: 'Makes the byte sum of the whole table 0 mod 256'},
  oem_id: {offset: 10, size: 6, doc: 'OEM ID (ASCII)'},
  oem_table_id: {offset: 16, size: 8, doc: 'OEM table ID (ASCII)'},
  oem_revision: {offset: 24, size: 4, kind: 'u32', doc: 'OEM revision'},
  creator_id: {offset: 28, size: 4, doc: 'Creator ID (ASCII)'},
  creator_revision: {offset: 32, size: 4, kind: 'u32', doc: 'Creator revision'},
})

/** The CCEL table: ACPI header + CC type/subtype + log area minimum length + log area start address. */
export const CCEL_TABLE = defineLayout('CCEL_TABLE', 56, {
  header: {offset: 0, size: 36, doc: 'ACPI table header'},
  cc_type: {offset: 36, size: 1, kind: 'u8', doc: 'Confidential computing type (2 = Intel TDX)'},
  cc_subtype: {offset: 37, size: 1, kind: 'u8', doc: 'CC subtype'},
  reserved: {offset: 38, size: 2, kind: 'u16', doc: 'Reserved'},
  laml: {offset: 40, size: 8, kind: 'u64', doc: 'Log area minimum length (bytes)'},
  lasa: {offset: 48, size: 8, kind: 'u64', doc: 'Log area start address (guest physical)'},
})

export const CCEL_SIGNATURE = 'CCEL'
/** Revision written by tdxkit's table encoder (the one real TDVF tables carry). */
export const CCEL_REVISION = 1

/** CCEL CC Type values. */
export const CC_TYPE = {SEV: 1, TDX: 2} as const
export const CC_TYPE_NAMES: Readonly<Record<number, string>> = {1: 'AMD SEV', 2: 'Intel TDX'}

/**
 * CC measurement register index (the "PCR index" field of a CCEL event record) for TDX:
 * 0 = MRTD, 1..4 = RTMR0..3.
 */
export const CC_MR_INDEX_MRTD = 0
export const CC_MR_INDEX_RTMR0 = 1
export const RTMR_COUNT = 4
export const RTMR_SIZE = 48

/** RTMR index (0..3) for a CC MR index, or null for MRTD / anything out of range (e.g. 0xFFFFFFFF). */
export function ccMrIndexToRtmr(mrIndex: number): number | null {
  const r = mrIndex - CC_MR_INDEX_RTMR0
  return r >= 0 && r < RTMR_COUNT ? r : null
}

export function rtmrToCcMrIndex(rtmrIndex: number): number {
  return rtmrIndex + CC_MR_INDEX_RTMR0
}

/** Human name of a CC MR index ("MRTD", "RTMR2", or the raw number). */
export function ccMrName(mrIndex: number): string {
  if (mrIndex === CC_MR_INDEX_MRTD) return 'MRTD'
  const r = ccMrIndexToRtmr(mrIndex)
  return r === null ? `MR${mrIndex === 0xffffffff ? '-1' : mrIndex}` : `RTMR${r}`
}
