/** Parsed forms of the ACPI CCEL table and a TCG2 crypto-agile event log. */

export interface CcelTable {
  signature: string
  length: number
  revision: number
  checksum_ok: boolean
  oem_id: string
  oem_table_id: string
  oem_revision: number
  creator_id: string
  creator_revision: number
  cc_type: number
  cc_type_name: string
  cc_subtype: number
  /** Log area minimum length (bytes). */
  laml: bigint
  /** Log area start address (guest physical). */
  lasa: bigint
}

export interface SpecIdAlgorithm {
  alg_id: number
  /** sha384, sha256, ... or alg_0x…. for an id this build does not know. */
  alg: string
  digest_size: number
}

export interface SpecIdEvent {
  signature: string
  platform_class: number
  spec_version: string
  spec_errata: number
  uintn_size: number
  algorithms: SpecIdAlgorithm[]
  vendor_info: Buffer
}

export interface EventDigest {
  alg_id: number
  alg: string
  digest: Buffer
}

/** What the event data says, for the types tdxkit knows how to read. */
export interface DecodedEventData {
  /** One line for a table column. */
  summary: string
  /** Structured fields for --json. */
  fields?: Record<string, unknown>
}

/**
 * How the event's data relates to its SHA-384 digest:
 * - match: SHA-384(data) equals the digest (the data is what was measured)
 * - mismatch: the TCG spec defines the digest as the hash of the data for this event type, and it is not
 * - unchecked: neither (the digest covers something outside the log, e.g. a PE image)
 */
export type DataCheck = 'match' | 'mismatch' | 'unchecked'

export interface LogEvent {
  /** Position in the log; 0 is the Spec ID header record. */
  index: number
  /** Byte offset of the record in the log. */
  offset: number
  /** Record size in bytes. */
  size: number
  /** The record's register index: the CC MR index in a CCEL log (0 = MRTD, 1..4 = RTMR0..3). */
  mr_index: number
  /** RTMR this event extends (0..3), or null (MRTD, out-of-range index). */
  rtmr_index: number | null
  event_type: number
  type_name: string
  digests: EventDigest[]
  data: Buffer
  /** True when replay extends this event's SHA-384 digest into an RTMR. */
  extended: boolean
  data_check: DataCheck
  decoded?: DecodedEventData
}

export interface EventLog {
  format: 'tcg2-crypto-agile'
  spec_id: SpecIdEvent
  /** Every record, the Spec ID header first. */
  events: LogEvent[]
  /** Bytes of the log that hold records. */
  length: number
  /** Bytes after the last record (zero / 0xFF padding of the log area). */
  trailing_bytes: number
  /** True when the trailing bytes are not all 0x00 or all 0xFF (something the parser did not read). */
  trailing_nonpadding: boolean
}

/** The simulator's record of one RTMR extend (state doc.events, contract in the brief). */
export interface StateEvent {
  seq?: number
  rtmr_index: number
  /** 48-byte digest, lowercase hex. */
  digest: string
  /** Event data, hex. */
  data?: string
  event_type?: number
  description?: string
}
