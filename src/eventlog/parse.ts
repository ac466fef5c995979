/**
 * Parsers for the ACPI CCEL table and the TCG2 crypto-agile event log held in the CCEL log area.
 *
 * Log shape: one TCG_PCClientPCREvent (SHA-1 format) whose data is the Spec ID event declaring the
 * digest algorithms and sizes, then TCG_PCR_EVENT2 records until the log area's padding (0x00 or
 * 0xFF). Only the first record is the Spec ID event: later EV_NO_ACTION records (StartupLocality,
 * SP800-155, ...) are ordinary crypto-agile records and are never re-read as a header.
 */
import {createHash} from 'node:crypto'
import {ACPI_TABLE_HEADER, CCEL_SIGNATURE, CCEL_TABLE, CC_TYPE_NAMES, ccMrIndexToRtmr} from '../abi/ccel.js'
import {field, readNum, readUint, type Layout} from '../abi/layout.js'
import {
  DATA_HASHED_EVENT_TYPES,
  EVENT_SIZE_FIELD,
  EV,
  SPEC_ID_ALGORITHM,
  SPEC_ID_EVENT_HEADER,
  SPEC_ID_MAX_ALGORITHMS,
  SPEC_ID_SIGNATURE_03,
  SPEC_ID_VENDOR_INFO_SIZE,
  TCG_PCR_EVENT2_HEADER,
  TCG_PCR_EVENT_HEADER,
  TPMT_HA_HEADER,
  TPM_ALG,
  TPM_ALG_INFO,
  algName,
  eventTypeName,
} from '../abi/tcg.js'
import {ParseError} from '../errors.js'
import {decodeEventData} from './decode.js'
import type {CcelTable, DataCheck, EventDigest, EventLog, LogEvent, SpecIdAlgorithm, SpecIdEvent} from './types.js'

const ascii = (b: Buffer): string => b.toString('latin1').replace(/\0+$/, '')
const cstr = (b: Buffer): string => {
  const nul = b.indexOf(0)
  return b.subarray(0, nul < 0 ? b.length : nul).toString('latin1')
}

// ---- CCEL ACPI table --------------------------------------------------------------------------

export function parseCcelTable(table: Uint8Array): CcelTable {
  const buf = Buffer.from(table.buffer, table.byteOffset, table.byteLength)
  if (buf.length < ACPI_TABLE_HEADER.size) {
    throw new ParseError('CCEL_TABLE_TRUNCATED', `CCEL table: ${buf.length} bytes, shorter than the ${ACPI_TABLE_HEADER.size}-byte ACPI header`)
  }
  const signature = field(ACPI_TABLE_HEADER, buf, 'signature').toString('latin1')
  if (signature !== CCEL_SIGNATURE) {
    throw new ParseError('CCEL_BAD_SIGNATURE', `CCEL table: signature is ${JSON.stringify(signature)}, expected "${CCEL_SIGNATURE}"`)
  }
  const length = readNum(ACPI_TABLE_HEADER, buf, 'length')
  if (length < CCEL_TABLE.size) {
    throw new ParseError('CCEL_BAD_LENGTH', `CCEL table: declared length ${length} is shorter than the ${CCEL_TABLE.size}-byte CCEL table`)
  }
  if (buf.length < length) {
    throw new ParseError('CCEL_TABLE_TRUNCATED', `CCEL table: declares ${length} bytes, have ${buf.length}`)
  }
  let sum = 0
  for (let i = 0; i < length; i++) sum = (sum + buf[i]) & 0xff
  if (sum !== 0) {
    throw new ParseError('CCEL_BAD_CHECKSUM', `CCEL table: checksum does not verify (byte sum is 0x${sum.toString(16)} mod 256, must be 0)`)
  }
  const ccType = readNum(CCEL_TABLE, buf, 'cc_type')
  return {
    signature,
    length,
    revision: readNum(ACPI_TABLE_HEADER, buf, 'revision'),
    checksum_ok: true,
    oem_id: ascii(field(ACPI_TABLE_HEADER, buf, 'oem_id')).trimEnd(),
    oem_table_id: ascii(field(ACPI_TABLE_HEADER, buf, 'oem_table_id')).trimEnd(),
    oem_revision: readNum(ACPI_TABLE_HEADER, buf, 'oem_revision'),
    creator_id: ascii(field(ACPI_TABLE_HEADER, buf, 'creator_id')),
    creator_revision: readNum(ACPI_TABLE_HEADER, buf, 'creator_revision'),
    cc_type: ccType,
    cc_type_name: CC_TYPE_NAMES[ccType] ?? `unknown (${ccType})`,
    cc_subtype: readNum(CCEL_TABLE, buf, 'cc_subtype'),
    laml: readUint(CCEL_TABLE, buf, 'laml'),
    lasa: readUint(CCEL_TABLE, buf, 'lasa'),
  }
}

/**
 * The log area bounded by a CCEL table: the first LAML bytes of `data` (a sysfs dump of the area may
 * be longer; a shorter one is used as is).
 */
export function logAreaFromTable(table: CcelTable, data: Uint8Array): Uint8Array {
  return table.laml < BigInt(data.length) ? data.subarray(0, Number(table.laml)) : data
}

// ---- event log --------------------------------------------------------------------------------

/** A bounds-checked cursor that names the record being read in its errors. */
class Cursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    private readonly what: () => string,
  ) {}

  need(n: number, part: string): void {
    if (this.buf.length - this.pos < n) {
      throw new ParseError(
        'EVENTLOG_TRUNCATED',
        `${this.what()}: truncated ${part} at offset ${this.pos} (need ${n} bytes, ${this.buf.length - this.pos} left)`,
      )
    }
  }

  layout<F extends string>(l: Layout<F>, part = l.name): number {
    this.need(l.size, part)
    const at = this.pos
    this.pos += l.size
    return at
  }

  take(n: number, part: string): Buffer {
    this.need(n, part)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }
}

const isPadding = (b: Buffer): boolean => b.every((x) => x === 0) || b.every((x) => x === 0xff)

/** Length of the (pcr index, event type) prefix used to recognise the padding after the last record. */
const RECORD_PREFIX = TCG_PCR_EVENT2_HEADER.fields.digest_count.offset

function parseSpecId(data: Buffer): SpecIdEvent {
  const where = () => 'event log: Spec ID event (record 0)'
  const c = new Cursor(data, 0, where)
  const h = c.layout(SPEC_ID_EVENT_HEADER, 'Spec ID header')
  const signature = cstr(field(SPEC_ID_EVENT_HEADER, data, 'signature', h))
  if (signature !== SPEC_ID_SIGNATURE_03) {
    throw new ParseError(
      'EVENTLOG_NOT_CRYPTO_AGILE',
      `event log: first record's signature is ${JSON.stringify(signature)}, expected "${SPEC_ID_SIGNATURE_03}" (only TCG2 crypto-agile logs are supported)`,
    )
  }
  const n = readNum(SPEC_ID_EVENT_HEADER, data, 'number_of_algorithms', h)
  if (n === 0 || n > SPEC_ID_MAX_ALGORITHMS) {
    throw new ParseError('EVENTLOG_BAD_SPEC_ID', `${where()}: declares ${n} digest algorithms (must be 1..${SPEC_ID_MAX_ALGORITHMS})`)
  }
  const algorithms: SpecIdAlgorithm[] = []
  for (let i = 0; i < n; i++) {
    const a = c.layout(SPEC_ID_ALGORITHM, `algorithm entry ${i}`)
    const alg_id = readNum(SPEC_ID_ALGORITHM, data, 'algorithm_id', a)
    const digest_size = readNum(SPEC_ID_ALGORITHM, data, 'digest_size', a)
    const known = TPM_ALG_INFO[alg_id]
    if (known && known.size !== digest_size) {
      throw new ParseError(
        'EVENTLOG_BAD_SPEC_ID',
        `${where()}: algorithm ${known.name} declared with digest size ${digest_size}, must be ${known.size}`,
      )
    }
    if (digest_size === 0) throw new ParseError('EVENTLOG_BAD_SPEC_ID', `${where()}: algorithm ${algName(alg_id)} declared with digest size 0`)
    if (algorithms.some((x) => x.alg_id === alg_id)) {
      throw new ParseError('EVENTLOG_BAD_SPEC_ID', `${where()}: algorithm ${algName(alg_id)} declared twice`)
    }
    algorithms.push({alg_id, alg: algName(alg_id), digest_size})
  }
  const v = c.layout(SPEC_ID_VENDOR_INFO_SIZE, 'vendor info size')
  const vendor_info = Buffer.from(c.take(readNum(SPEC_ID_VENDOR_INFO_SIZE, data, 'vendor_info_size', v), 'vendor info'))
  return {
    signature,
    platform_class: readNum(SPEC_ID_EVENT_HEADER, data, 'platform_class', h),
    spec_version: `${readNum(SPEC_ID_EVENT_HEADER, data, 'spec_version_major', h)}.${readNum(SPEC_ID_EVENT_HEADER, data, 'spec_version_minor', h)}`,
    spec_errata: readNum(SPEC_ID_EVENT_HEADER, data, 'spec_errata', h),
    uintn_size: readNum(SPEC_ID_EVENT_HEADER, data, 'uintn_size', h),
    algorithms,
    vendor_info,
  }
}

export const sha384 = (b: Uint8Array): Buffer => createHash('sha384').update(b).digest()

/** The SHA-384 digest of an event, if the log carries that bank. */
export const sha384Of = (e: {digests: EventDigest[]}): Buffer | undefined => e.digests.find((d) => d.alg_id === TPM_ALG.SHA384)?.digest

function dataCheck(eventType: number, data: Buffer, digest: Buffer | undefined): DataCheck {
  if (!digest) return 'unchecked'
  if (data.length > 0 && sha384(data).equals(digest)) return 'match'
  return DATA_HASHED_EVENT_TYPES.has(eventType) ? 'mismatch' : 'unchecked'
}

/** Refuse what is plainly not a log area: nothing but padding, or the ACPI table itself. */
function checkLogArea(buf: Buffer): void {
  if (buf.length === 0 || isPadding(buf)) throw new ParseError('EVENTLOG_EMPTY', 'event log: empty (no records, only padding)')
  if (buf.subarray(0, 4).toString('latin1') === CCEL_SIGNATURE) {
    throw new ParseError('EVENTLOG_IS_ACPI_TABLE', 'event log: this is the ACPI CCEL table, not the log area (pass the table with --table)')
  }
}

/** Record 0: the SHA-1-format header carrying the Spec ID event. */
function readSpecIdRecord(buf: Buffer): {spec_id: SpecIdEvent; event: LogEvent} {
  const c0 = new Cursor(buf, 0, () => 'event log: record 0 (Spec ID header)')
  const h0 = c0.layout(TCG_PCR_EVENT_HEADER, 'record header')
  const type0 = readNum(TCG_PCR_EVENT_HEADER, buf, 'event_type', h0)
  if (type0 !== EV.NO_ACTION) {
    throw new ParseError(
      'EVENTLOG_NOT_CRYPTO_AGILE',
      `event log: first record has type ${eventTypeName(type0)}, expected EV_NO_ACTION carrying the Spec ID event (not a TCG2 crypto-agile log?)`,
    )
  }
  const data0 = Buffer.from(c0.take(readNum(TCG_PCR_EVENT_HEADER, buf, 'event_size', h0), 'Spec ID event data'))
  const spec_id = parseSpecId(data0)
  const mr0 = readNum(TCG_PCR_EVENT_HEADER, buf, 'pcr_index', h0)
  const event: LogEvent = {
    index: 0,
    offset: 0,
    size: c0.pos,
    mr_index: mr0,
    rtmr_index: ccMrIndexToRtmr(mr0),
    event_type: type0,
    type_name: eventTypeName(type0),
    digests: [{alg_id: TPM_ALG.SHA1, alg: 'sha1', digest: Buffer.from(field(TCG_PCR_EVENT_HEADER, buf, 'digest', h0))}],
    data: data0,
    extended: false,
    data_check: 'unchecked',
    decoded: decodeEventData(type0, data0),
  }
  return {spec_id, event}
}

/** The digest list of one crypto-agile record: exactly one digest per algorithm the Spec ID event declares. */
function readDigests(c: Cursor, buf: Buffer, spec_id: SpecIdEvent, sizes: Map<number, number>, count: number, at: string): EventDigest[] {
  if (count !== spec_id.algorithms.length) {
    throw new ParseError(
      'EVENTLOG_DIGEST_COUNT_MISMATCH',
      `${at} carries ${count} digests, the Spec ID event declares ${spec_id.algorithms.length} (${spec_id.algorithms.map((a) => a.alg).join(', ')})`,
    )
  }
  const digests: EventDigest[] = []
  for (let i = 0; i < count; i++) {
    const a = c.layout(TPMT_HA_HEADER, `digest ${i} algorithm`)
    const alg_id = readNum(TPMT_HA_HEADER, buf, 'hash_alg', a)
    const size = sizes.get(alg_id)
    if (size === undefined) {
      throw new ParseError(
        'EVENTLOG_UNKNOWN_ALGORITHM',
        `${at}: digest ${i} uses algorithm 0x${alg_id.toString(16).padStart(4, '0')} (${algName(alg_id)}), which the Spec ID event does not declare`,
      )
    }
    if (digests.some((d) => d.alg_id === alg_id)) {
      throw new ParseError('EVENTLOG_DIGEST_COUNT_MISMATCH', `${at}: two ${algName(alg_id)} digests`)
    }
    digests.push({alg_id, alg: algName(alg_id), digest: Buffer.from(c.take(size, `${algName(alg_id)} digest`))})
  }
  return digests
}

/** One TCG_PCR_EVENT2 record at `pos` (record number `index`). */
function readRecord(buf: Buffer, pos: number, index: number, spec_id: SpecIdEvent, sizes: Map<number, number>): LogEvent {
  const c = new Cursor(buf, pos, () => `event log: record ${index}`)
  const h = c.layout(TCG_PCR_EVENT2_HEADER, 'record header')
  const mr_index = readNum(TCG_PCR_EVENT2_HEADER, buf, 'pcr_index', h)
  const event_type = readNum(TCG_PCR_EVENT2_HEADER, buf, 'event_type', h)
  const count = readNum(TCG_PCR_EVENT2_HEADER, buf, 'digest_count', h)
  const digests = readDigests(c, buf, spec_id, sizes, count, `event log: record ${index} at offset ${pos}`)
  const s = c.layout(EVENT_SIZE_FIELD, 'event size')
  const data = Buffer.from(c.take(readNum(EVENT_SIZE_FIELD, buf, 'event_size', s), 'event data'))
  const rtmr_index = ccMrIndexToRtmr(mr_index)
  return {
    index,
    offset: pos,
    size: c.pos - pos,
    mr_index,
    rtmr_index,
    event_type,
    type_name: eventTypeName(event_type),
    digests,
    data,
    extended: event_type !== EV.NO_ACTION && rtmr_index !== null,
    data_check: dataCheck(event_type, data, sha384Of({digests})),
    decoded: decodeEventData(event_type, data),
  }
}

/** Parse a TCG2 crypto-agile event log (e.g. the CCEL log area). Trailing 0x00 / 0xFF padding is allowed. */
export function parseEventLog(log: Uint8Array): EventLog {
  const buf = Buffer.from(log.buffer, log.byteOffset, log.byteLength)
  checkLogArea(buf)
  const {spec_id, event} = readSpecIdRecord(buf)
  const events: LogEvent[] = [event]
  const sizes = new Map(spec_id.algorithms.map((a) => [a.alg_id, a.digest_size]))
  let pos = event.size
  while (pos < buf.length) {
    if (isPadding(buf.subarray(pos, Math.min(buf.length, pos + RECORD_PREFIX)))) break
    const record = readRecord(buf, pos, events.length, spec_id, sizes)
    events.push(record)
    pos += record.size
  }
  const tail = buf.subarray(pos)
  return {
    format: 'tcg2-crypto-agile',
    spec_id,
    events,
    length: pos,
    trailing_bytes: tail.length,
    trailing_nonpadding: tail.length > 0 && !isPadding(tail),
  }
}
