/**
 * Writers: the simulator's RTMR extends (state doc.events) as a CCEL-format TCG2 crypto-agile log
 * (SHA-384 bank only, as TDVF writes it), plus the ACPI CCEL table that would point at it.
 */
import {ACPI_TABLE_HEADER, CCEL_REVISION, CCEL_SIGNATURE, CCEL_TABLE, CC_MR_INDEX_RTMR0, CC_TYPE, RTMR_COUNT, RTMR_SIZE, rtmrToCcMrIndex} from '../abi/ccel.js'
import {writeField} from '../abi/layout.js'
import {
  EVENT_SIZE_FIELD,
  EV,
  SPEC_ID_ALGORITHM,
  SPEC_ID_ERRATA,
  SPEC_ID_EVENT_HEADER,
  SPEC_ID_PLATFORM_CLIENT,
  SPEC_ID_SIGNATURE_03,
  SPEC_ID_UINTN_64BIT,
  SPEC_ID_VENDOR_INFO_SIZE,
  SPEC_ID_VERSION_MAJOR,
  SPEC_ID_VERSION_MINOR,
  TCG_PCR_EVENT2_HEADER,
  TCG_PCR_EVENT_HEADER,
  TCG_TAGGED_EVENT,
  TPMT_HA_HEADER,
  TPM_ALG,
  TPM_ALG_INFO,
} from '../abi/tcg.js'
import {StateError} from '../errors.js'
import {sha384} from './parse.js'
import type {StateEvent} from './types.js'

/**
 * Event types the simulator records when an extend names none:
 * - EV_IPL when the event data is what was measured (digest = SHA-384(data), as `rtmr extend --data`),
 * - EV_EVENT_TAG (TCG_PCClientTaggedEvent, tag SIM_EVENT_TAG) for an extend of a bare digest, carrying its
 *   description (or data) as an annotation that a verifier must not expect to hash to the digest.
 * Keeping the two apart lets a verifier spot a self-measured event whose digest was altered.
 */
export const SIM_DEFAULT_EVENT_TYPE = EV.IPL
export const SIM_ANNOTATION_EVENT_TYPE = EV.EVENT_TAG
/** taggedEventID of the simulator's annotation events ("tdxk"). */
export const SIM_EVENT_TAG = 0x6b786474
/** Vendor info in the simulator's Spec ID event: marks the log as simulated. */
export const SIM_VENDOR_INFO = Buffer.from('tdxkit SIMULATED')
/** MR index of the Spec ID header record as TDVF writes it. */
const SPEC_ID_RECORD_MR_INDEX = CC_MR_INDEX_RTMR0

interface SpecIdAlgorithmSpec {
  alg_id: number
  digest_size: number
}

/** The Spec ID event (data of record 0). */
export function encodeSpecIdEvent(algorithms: SpecIdAlgorithmSpec[], vendorInfo: Uint8Array = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(SPEC_ID_EVENT_HEADER.size)
  const sig = Buffer.alloc(SPEC_ID_EVENT_HEADER.fields.signature.size)
  sig.write(SPEC_ID_SIGNATURE_03, 'latin1')
  writeField(SPEC_ID_EVENT_HEADER, h, 'signature', sig)
  writeField(SPEC_ID_EVENT_HEADER, h, 'platform_class', SPEC_ID_PLATFORM_CLIENT)
  writeField(SPEC_ID_EVENT_HEADER, h, 'spec_version_minor', SPEC_ID_VERSION_MINOR)
  writeField(SPEC_ID_EVENT_HEADER, h, 'spec_version_major', SPEC_ID_VERSION_MAJOR)
  writeField(SPEC_ID_EVENT_HEADER, h, 'spec_errata', SPEC_ID_ERRATA)
  writeField(SPEC_ID_EVENT_HEADER, h, 'uintn_size', SPEC_ID_UINTN_64BIT)
  writeField(SPEC_ID_EVENT_HEADER, h, 'number_of_algorithms', algorithms.length)
  const algs = algorithms.map((a) => {
    const b = Buffer.alloc(SPEC_ID_ALGORITHM.size)
    writeField(SPEC_ID_ALGORITHM, b, 'algorithm_id', a.alg_id)
    writeField(SPEC_ID_ALGORITHM, b, 'digest_size', a.digest_size)
    return b
  })
  const v = Buffer.alloc(SPEC_ID_VENDOR_INFO_SIZE.size)
  writeField(SPEC_ID_VENDOR_INFO_SIZE, v, 'vendor_info_size', vendorInfo.length)
  return Buffer.concat([h, ...algs, v, vendorInfo])
}

/** Record 0: SHA-1-format header (zero digest) carrying a Spec ID event. */
export function encodeSpecIdRecord(specId: Uint8Array, mrIndex = SPEC_ID_RECORD_MR_INDEX): Buffer {
  const h = Buffer.alloc(TCG_PCR_EVENT_HEADER.size)
  writeField(TCG_PCR_EVENT_HEADER, h, 'pcr_index', mrIndex)
  writeField(TCG_PCR_EVENT_HEADER, h, 'event_type', EV.NO_ACTION)
  writeField(TCG_PCR_EVENT_HEADER, h, 'event_size', specId.length)
  return Buffer.concat([h, specId])
}

/** A TCG_PCR_EVENT2 record. */
export function encodeEvent2(e: {mr_index: number; event_type: number; digests: Array<{alg_id: number; digest: Uint8Array}>; data?: Uint8Array}): Buffer {
  const h = Buffer.alloc(TCG_PCR_EVENT2_HEADER.size)
  writeField(TCG_PCR_EVENT2_HEADER, h, 'pcr_index', e.mr_index)
  writeField(TCG_PCR_EVENT2_HEADER, h, 'event_type', e.event_type)
  writeField(TCG_PCR_EVENT2_HEADER, h, 'digest_count', e.digests.length)
  const digests = e.digests.map((d) => {
    const a = Buffer.alloc(TPMT_HA_HEADER.size)
    writeField(TPMT_HA_HEADER, a, 'hash_alg', d.alg_id)
    return Buffer.concat([a, d.digest])
  })
  const data = e.data ?? Buffer.alloc(0)
  const s = Buffer.alloc(EVENT_SIZE_FIELD.size)
  writeField(EVENT_SIZE_FIELD, s, 'event_size', data.length)
  return Buffer.concat([h, ...digests, s, data])
}

const HEX_RE = /^[0-9a-f]*$/i

function eventBytes(e: StateEvent, i: number): {mr_index: number; event_type: number; digest: Buffer; data: Buffer} {
  const where = `doc.events[${i}]`
  if (!Number.isInteger(e?.rtmr_index) || e.rtmr_index < 0 || e.rtmr_index >= RTMR_COUNT) {
    throw new StateError('BAD_EVENT_RECORD', `${where}: rtmr_index ${JSON.stringify(e?.rtmr_index)} is not 0..${RTMR_COUNT - 1}`)
  }
  if (typeof e.digest !== 'string' || !HEX_RE.test(e.digest) || e.digest.length !== RTMR_SIZE * 2) {
    throw new StateError('BAD_EVENT_RECORD', `${where}: digest must be ${RTMR_SIZE} bytes of hex`)
  }
  if (e.data !== undefined && (typeof e.data !== 'string' || !HEX_RE.test(e.data) || e.data.length % 2 !== 0)) {
    throw new StateError('BAD_EVENT_RECORD', `${where}: data must be hex`)
  }
  if (e.event_type !== undefined && (!Number.isInteger(e.event_type) || e.event_type < 0 || e.event_type > 0xffffffff)) {
    throw new StateError('BAD_EVENT_RECORD', `${where}: event_type ${e.event_type} is not a u32`)
  }
  if (e.description !== undefined && typeof e.description !== 'string') throw new StateError('BAD_EVENT_RECORD', `${where}: description is not a string`)
  if (e.event_type === EV.NO_ACTION) throw new StateError('BAD_EVENT_RECORD', `${where}: event_type EV_NO_ACTION cannot record an RTMR extend`)
  const digest = Buffer.from(e.digest, 'hex')
  const payload = e.data !== undefined ? Buffer.from(e.data, 'hex') : e.description !== undefined ? Buffer.from(e.description, 'utf8') : Buffer.alloc(0)
  const mr_index = rtmrToCcMrIndex(e.rtmr_index)
  if (e.event_type !== undefined) return {mr_index, event_type: e.event_type, digest, data: payload}
  if (e.data !== undefined && payload.length > 0 && sha384(payload).equals(digest)) return {mr_index, event_type: SIM_DEFAULT_EVENT_TYPE, digest, data: payload}
  return {mr_index, event_type: SIM_ANNOTATION_EVENT_TYPE, digest, data: taggedEvent(SIM_EVENT_TAG, payload)}
}

function taggedEvent(tag: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(TCG_TAGGED_EVENT.size)
  writeField(TCG_TAGGED_EVENT, h, 'tagged_event_id', tag)
  writeField(TCG_TAGGED_EVENT, h, 'tagged_event_data_size', payload.length)
  return Buffer.concat([h, payload])
}

/**
 * The simulator's event log: a Spec ID header declaring SHA-384, then one record per extend in
 * order (CC MR index = RTMR index + 1). Event type and data: `event_type` with `data` (else the UTF-8
 * `description`) when the record names a type; otherwise EV_IPL with `data` when the digest is SHA-384(data),
 * else EV_EVENT_TAG wrapping `data` / `description`.
 * Replaying it gives exactly the RTMRs the extends produced.
 */
export function eventsToCcelLog(events: StateEvent[]): Buffer {
  if (!Array.isArray(events)) throw new StateError('BAD_EVENT_RECORD', 'doc.events is not a list')
  const bank = {alg_id: TPM_ALG.SHA384, digest_size: TPM_ALG_INFO[TPM_ALG.SHA384].size}
  const records = events.map((e, i) => {
    const r = eventBytes(e, i)
    return encodeEvent2({mr_index: r.mr_index, event_type: r.event_type, digests: [{alg_id: TPM_ALG.SHA384, digest: r.digest}], data: r.data})
  })
  return Buffer.concat([encodeSpecIdRecord(encodeSpecIdEvent([bank], SIM_VENDOR_INFO)), ...records])
}

/** An ACPI CCEL table (TDX) pointing at a log area; checksum filled in. */
export function encodeCcelTable(opts: {laml: bigint; lasa: bigint; oemId?: string; oemTableId?: string}): Buffer {
  const t = Buffer.alloc(CCEL_TABLE.size)
  const str = (s: string, n: number) => {
    const b = Buffer.alloc(n, 0x20)
    b.write(s.slice(0, n), 'latin1')
    return b
  }
  writeField(ACPI_TABLE_HEADER, t, 'signature', Buffer.from(CCEL_SIGNATURE, 'latin1'))
  writeField(ACPI_TABLE_HEADER, t, 'length', CCEL_TABLE.size)
  writeField(ACPI_TABLE_HEADER, t, 'revision', CCEL_REVISION)
  writeField(ACPI_TABLE_HEADER, t, 'oem_id', str(opts.oemId ?? 'TDXKIT', ACPI_TABLE_HEADER.fields.oem_id.size))
  writeField(ACPI_TABLE_HEADER, t, 'oem_table_id', str(opts.oemTableId ?? 'SIMCCEL', ACPI_TABLE_HEADER.fields.oem_table_id.size))
  writeField(ACPI_TABLE_HEADER, t, 'creator_id', str('TDXK', ACPI_TABLE_HEADER.fields.creator_id.size))
  writeField(CCEL_TABLE, t, 'cc_type', CC_TYPE.TDX)
  writeField(CCEL_TABLE, t, 'laml', opts.laml)
  writeField(CCEL_TABLE, t, 'lasa', opts.lasa)
  let sum = 0
  for (const b of t) sum = (sum + b) & 0xff
  writeField(ACPI_TABLE_HEADER, t, 'checksum', (0x100 - sum) & 0xff)
  return t
}
