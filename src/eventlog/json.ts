/** JSON forms (snake_case, bytes as lowercase hex) of parsed logs and tables, for --json output. */
import {ccMrName} from '../abi/ccel.js'
import type {CcelTable, EventLog, LogEvent} from './types.js'

export function eventToJson(e: LogEvent) {
  return {
    index: e.index,
    offset: e.offset,
    size: e.size,
    mr_index: e.mr_index,
    register: ccMrName(e.mr_index),
    rtmr_index: e.rtmr_index,
    event_type: e.event_type,
    type_name: e.type_name,
    extended: e.extended,
    digests: e.digests.map((d) => ({alg_id: d.alg_id, alg: d.alg, digest: d.digest.toString('hex')})),
    data: e.data.toString('hex'),
    data_check: e.data_check,
    ...(e.decoded ? {decoded: e.decoded.summary, ...(e.decoded.fields ? {decoded_fields: e.decoded.fields} : {})} : {}),
  }
}

export function eventLogToJson(log: EventLog) {
  return {
    format: log.format,
    spec_id: {
      signature: log.spec_id.signature,
      platform_class: log.spec_id.platform_class,
      spec_version: log.spec_id.spec_version,
      spec_errata: log.spec_id.spec_errata,
      uintn_size: log.spec_id.uintn_size,
      algorithms: log.spec_id.algorithms,
      vendor_info: log.spec_id.vendor_info.toString('hex'),
    },
    length: log.length,
    trailing_bytes: log.trailing_bytes,
    trailing_nonpadding: log.trailing_nonpadding,
    event_count: log.events.length,
    events: log.events.map(eventToJson),
  }
}

export function ccelTableToJson(t: CcelTable) {
  return {...t, laml: t.laml.toString(), lasa: '0x' + t.lasa.toString(16)}
}
