/**
 * TDREPORT_STRUCT (1024 bytes, output of TDG.MR.REPORT) and its parts, as named layouts:
 *
 *   0..255    REPORTMACSTRUCT  (REPORTTYPE, CPUSVN, TEE_TCB_INFO_HASH, TEE_INFO_HASH, REPORTDATA, MAC)
 *   256..494  TEE_TCB_INFO     (239 bytes: VALID, TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, ATTRIBUTES, TEE_TCB_SVN2)
 *   495..511  reserved
 *   512..1023 TDINFO           (ATTRIBUTES, XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3, SERVTD_HASH)
 *
 * Hash relations (checked on Intel hardware output in test/abi/tdreport.test.ts): TEE_TCB_INFO_HASH =
 * SHA-384 of the 239 TEE_TCB_INFO bytes (256..494); TEE_INFO_HASH = SHA-384 of the 512 TDINFO bytes.
 */
import {hash} from 'node:crypto'
import {ParseError} from '../errors.js'
import {defineLayout, field, readUint, type Layout} from './layout.js'

export const TDREPORT_SIZE = 1024
export const REPORT_DATA_SIZE = 64
export const MEASUREMENT_SIZE = 48
export const REPORT_TYPE_TDX = 0x81
export const REPORT_SUBTYPE_TD = 0
/** REPORTTYPE.VERSION: 0 = TDX 1.0 layout; 1 = TDX 1.5 (SERVTD_HASH meaningful). */
export const REPORT_VERSION_TD10 = 0
export const REPORT_VERSION_TD15 = 1

export const REPORTMACSTRUCT = defineLayout('REPORTMACSTRUCT', 256, {
  report_type: {offset: 0, size: 1, kind: 'u8', doc: 'REPORTTYPE.TYPE (0x81 = TDX)'},
  report_subtype: {offset: 1, size: 1, kind: 'u8', doc: 'REPORTTYPE.SUBTYPE (0)'},
  report_version: {offset: 2, size: 1, kind: 'u8', doc: 'REPORTTYPE.VERSION (0 TDX 1.0, 1 TDX 1.5)'},
  report_type_reserved: {offset: 3, size: 1, kind: 'u8', doc: 'REPORTTYPE reserved'},
  reserved1: {offset: 4, size: 12, doc: 'reserved'},
  cpusvn: {offset: 16, size: 16, doc: 'CPUSVN'},
  tee_tcb_info_hash: {offset: 32, size: 48, doc: 'SHA-384 of TEE_TCB_INFO'},
  tee_info_hash: {offset: 80, size: 48, doc: 'SHA-384 of TDINFO'},
  report_data: {offset: 128, size: 64, doc: 'REPORTDATA (caller-supplied)'},
  reserved2: {offset: 192, size: 32, doc: 'reserved'},
  mac: {offset: 224, size: 32, doc: 'MAC over bytes 0..223'},
})

export const TEE_TCB_INFO = defineLayout('TEE_TCB_INFO', 239, {
  valid: {offset: 0, size: 8, kind: 'u64', doc: 'VALID bitmap (bit i: qword i populated)'},
  tee_tcb_svn: {offset: 8, size: 16, doc: 'TEE_TCB_SVN'},
  mrseam: {offset: 24, size: 48, doc: 'MRSEAM (TDX module measurement)'},
  mrsignerseam: {offset: 72, size: 48, doc: 'MRSIGNERSEAM (0 for Intel-signed module)'},
  attributes: {offset: 120, size: 8, doc: 'SEAM ATTRIBUTES'},
  tee_tcb_svn2: {offset: 128, size: 16, doc: 'TEE_TCB_SVN2 (TDX 1.5)'},
  reserved: {offset: 144, size: 95, doc: 'reserved'},
})

export const TDINFO = defineLayout('TDINFO', 512, {
  attributes: {offset: 0, size: 8, kind: 'u64', doc: 'TD ATTRIBUTES'},
  xfam: {offset: 8, size: 8, kind: 'u64', doc: 'XFAM'},
  mrtd: {offset: 16, size: 48, doc: 'MRTD (build-time measurement)'},
  mrconfigid: {offset: 64, size: 48, doc: 'MRCONFIGID'},
  mrowner: {offset: 112, size: 48, doc: 'MROWNER'},
  mrownerconfig: {offset: 160, size: 48, doc: 'MROWNERCONFIG'},
  rtmr0: {offset: 208, size: 48, doc: 'RTMR0'},
  rtmr1: {offset: 256, size: 48, doc: 'RTMR1'},
  rtmr2: {offset: 304, size: 48, doc: 'RTMR2'},
  rtmr3: {offset: 352, size: 48, doc: 'RTMR3'},
  servtd_hash: {offset: 400, size: 48, doc: 'SERVTD_HASH (TDX 1.5)'},
  reserved: {offset: 448, size: 64, doc: 'reserved'},
})

export const TDREPORT = defineLayout('TDREPORT', TDREPORT_SIZE, {
  report_mac_struct: {offset: 0, size: REPORTMACSTRUCT.size, doc: 'REPORTMACSTRUCT'},
  tee_tcb_info: {offset: 256, size: TEE_TCB_INFO.size, doc: 'TEE_TCB_INFO'},
  reserved: {offset: 495, size: 17, doc: 'reserved'},
  td_info: {offset: 512, size: TDINFO.size, doc: 'TDINFO'},
})

/** Sub-structure layouts in report order with their base offset. */
export const TDREPORT_SECTIONS: ReadonlyArray<{name: 'report_mac_struct' | 'tee_tcb_info' | 'td_info'; layout: Layout<string>; base: number}> = [
  {name: 'report_mac_struct', layout: REPORTMACSTRUCT, base: TDREPORT.fields.report_mac_struct.offset},
  {name: 'tee_tcb_info', layout: TEE_TCB_INFO, base: TDREPORT.fields.tee_tcb_info.offset},
  {name: 'td_info', layout: TDINFO, base: TDREPORT.fields.td_info.offset},
]

/** Bytes covered by the MAC: REPORTMACSTRUCT up to the MAC field. */
export const REPORTMAC_INPUT_SIZE = REPORTMACSTRUCT.fields.mac.offset
export const RTMR_FIELDS = ['rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'] as const

/** VALID bitmap for a set of TEE_TCB_INFO fields: one bit per 8-byte qword the field covers. */
export function teeTcbValidBitmap(fields: ReadonlyArray<keyof typeof TEE_TCB_INFO.fields>): bigint {
  let bits = 0n
  for (const name of fields) {
    const f = TEE_TCB_INFO.fields[name]
    for (let q = f.offset / 8; q < (f.offset + f.size) / 8; q++) bits |= 1n << BigInt(q)
  }
  return bits
}
/** What TDX 1.0 / 1.5 modules mark valid (the 1.5 value is what Intel hardware reports: ff01030000000000). */
export const TEE_TCB_VALID_TD10 = teeTcbValidBitmap(['valid', 'tee_tcb_svn', 'mrseam'])
export const TEE_TCB_VALID_TD15 = teeTcbValidBitmap(['valid', 'tee_tcb_svn', 'mrseam', 'tee_tcb_svn2'])

/** One-shot SHA-384 (crypto.hash: no Hash object per call). */
const sha384 = (b: Uint8Array): Buffer => hash('sha384', b, 'buffer')

/** The TEE_TCB_INFO / TDINFO byte ranges of a report. */
export const teeTcbInfoBytes = (report: Uint8Array): Buffer => field(TDREPORT, report, 'tee_tcb_info')
export const tdInfoBytes = (report: Uint8Array): Buffer => field(TDREPORT, report, 'td_info')
export const teeTcbInfoHash = (teeTcbInfo: Uint8Array): Buffer => sha384(teeTcbInfo)
export const teeInfoHash = (tdInfo: Uint8Array): Buffer => sha384(tdInfo)

export interface TdReport {
  report_type: number
  report_subtype: number
  report_version: number
  cpusvn: Buffer
  tee_tcb_info_hash: Buffer
  tee_info_hash: Buffer
  report_data: Buffer
  mac: Buffer
  tee_tcb_info: {
    valid: bigint
    tee_tcb_svn: Buffer
    mrseam: Buffer
    mrsignerseam: Buffer
    attributes: Buffer
    tee_tcb_svn2: Buffer
  }
  td_info: {
    attributes: bigint
    xfam: bigint
    mrtd: Buffer
    mrconfigid: Buffer
    mrowner: Buffer
    mrownerconfig: Buffer
    rtmr: [Buffer, Buffer, Buffer, Buffer]
    servtd_hash: Buffer
  }
  /** Whether the two hash fields match the bytes they cover. */
  hashes: {tee_tcb_info_hash_ok: boolean; tee_info_hash_ok: boolean}
  raw: Buffer
}

/** A TDREPORT's size and report type, checked (ParseError otherwise): REPORTTYPE.TYPE. */
function checkedReportType(buf: Uint8Array): number {
  if (buf.length !== TDREPORT_SIZE) {
    throw new ParseError('TDREPORT_SIZE', `TDREPORT must be exactly ${TDREPORT_SIZE} bytes, got ${buf.length}`)
  }
  const type = Number(readUint(REPORTMACSTRUCT, buf, 'report_type'))
  if (type !== REPORT_TYPE_TDX) {
    throw new ParseError('NOT_TDREPORT', `not a TDREPORT: REPORTTYPE.TYPE is 0x${type.toString(16)}, expected 0x81 (TDX)`)
  }
  return type
}

/** Whether the two hash fields of REPORTMACSTRUCT match the bytes they cover. */
function reportHashes(buf: Uint8Array): TdReport['hashes'] {
  return {
    tee_tcb_info_hash_ok: teeTcbInfoHash(teeTcbInfoBytes(buf)).equals(field(REPORTMACSTRUCT, buf, 'tee_tcb_info_hash')),
    tee_info_hash_ok: teeInfoHash(tdInfoBytes(buf)).equals(field(REPORTMACSTRUCT, buf, 'tee_info_hash')),
  }
}

/**
 * What a quoting enclave checks before it trusts a report's fields, without decoding them: size and
 * type as parseTdReport checks them (same errors), then the two hashes.
 */
export function tdReportHashes(buf: Uint8Array): TdReport['hashes'] {
  checkedReportType(buf)
  return reportHashes(buf)
}

/** Decode a 1024-byte TDREPORT_STRUCT. Throws ParseError on a wrong size or a non-TDX report type. */
export function parseTdReport(buf: Uint8Array): TdReport {
  const type = checkedReportType(buf)
  const raw = Buffer.from(buf)
  const tcb = TDREPORT.fields.tee_tcb_info.offset
  const td = TDREPORT.fields.td_info.offset
  const m = (name: keyof typeof REPORTMACSTRUCT.fields) => Buffer.from(field(REPORTMACSTRUCT, raw, name))
  const t = (name: keyof typeof TEE_TCB_INFO.fields) => Buffer.from(field(TEE_TCB_INFO, raw, name, tcb))
  const i = (name: keyof typeof TDINFO.fields) => Buffer.from(field(TDINFO, raw, name, td))
  const report: TdReport = {
    report_type: type,
    report_subtype: Number(readUint(REPORTMACSTRUCT, raw, 'report_subtype')),
    report_version: Number(readUint(REPORTMACSTRUCT, raw, 'report_version')),
    cpusvn: m('cpusvn'),
    tee_tcb_info_hash: m('tee_tcb_info_hash'),
    tee_info_hash: m('tee_info_hash'),
    report_data: m('report_data'),
    mac: m('mac'),
    tee_tcb_info: {
      valid: readUint(TEE_TCB_INFO, raw, 'valid', tcb),
      tee_tcb_svn: t('tee_tcb_svn'),
      mrseam: t('mrseam'),
      mrsignerseam: t('mrsignerseam'),
      attributes: t('attributes'),
      tee_tcb_svn2: t('tee_tcb_svn2'),
    },
    td_info: {
      attributes: readUint(TDINFO, raw, 'attributes', td),
      xfam: readUint(TDINFO, raw, 'xfam', td),
      mrtd: i('mrtd'),
      mrconfigid: i('mrconfigid'),
      mrowner: i('mrowner'),
      mrownerconfig: i('mrownerconfig'),
      rtmr: [i('rtmr0'), i('rtmr1'), i('rtmr2'), i('rtmr3')],
      servtd_hash: i('servtd_hash'),
    },
    hashes: reportHashes(raw),
    raw,
  }
  return report
}

export interface TdReportFieldRow {
  section: string
  name: string
  offset: number
  size: number
  hex: string
  doc: string
}

/** Every field of a report, named, with its absolute offset (for `report show`). */
export function tdReportFields(buf: Uint8Array): TdReportFieldRow[] {
  const rows: TdReportFieldRow[] = []
  for (const s of TDREPORT_SECTIONS) {
    for (const name of s.layout.order) {
      const f = s.layout.fields[name]
      rows.push({section: s.name, name, offset: s.base + f.offset, size: f.size, hex: field(s.layout, buf, name, s.base).toString('hex'), doc: f.doc})
    }
    if (s.name === 'tee_tcb_info') {
      const r = TDREPORT.fields.reserved
      rows.push({section: 'tdreport', name: 'reserved', offset: r.offset, size: r.size, hex: field(TDREPORT, buf, 'reserved').toString('hex'), doc: r.doc})
    }
  }
  return rows
}
