/**
 * Assembling a TDREPORT_STRUCT the way TDG.MR.REPORT does: the module fills TDINFO from TDCS and
 * hashes it (TEE_INFO_HASH); the CPU's SEAMREPORT fills TEE_TCB_INFO from the SEAM range,
 * REPORTMACSTRUCT (type, CPUSVN, both hashes, REPORTDATA) and MACs it.
 */
import {
  REPORTMACSTRUCT,
  REPORT_SUBTYPE_TD,
  REPORT_TYPE_TDX,
  RTMR_FIELDS,
  TDINFO,
  TDREPORT,
  TDREPORT_SIZE,
  TEE_TCB_INFO,
  TEE_TCB_VALID_TD10,
  TEE_TCB_VALID_TD15,
  teeInfoHash,
  teeTcbInfoHash,
} from '../abi/tdreport.js'
import {field, writeField, type Layout} from '../abi/layout.js'
import type {ModuleDoc, TdDoc} from './doc.js'
import {profileInfo} from './profiles.js'
import {reportMac} from './measure.js'

/** Write the hex text of field `name` straight into the report (no intermediate buffer); the text must be exactly the field's size. */
function putHex<F extends string>(layout: Layout<F>, report: Buffer, name: F, hex: string, base = 0): void {
  const f = layout.fields[name]
  if (hex.length !== 2 * f.size || report.write(hex, base + f.offset, f.size, 'hex') !== f.size) throw new Error(`layout ${layout.name}.${name}: value is not ${f.size} bytes of hex`)
}

export function buildTdReport(module: ModuleDoc, td: TdDoc, reportData: Uint8Array): Buffer {
  const info = profileInfo(module.profile)
  const report = Buffer.alloc(TDREPORT_SIZE)
  const tdBase = TDREPORT.fields.td_info.offset
  const tcbBase = TDREPORT.fields.tee_tcb_info.offset

  // TDINFO (module)
  writeField(TDINFO, report, 'attributes', BigInt(td.attributes), tdBase)
  writeField(TDINFO, report, 'xfam', BigInt(td.xfam), tdBase)
  putHex(TDINFO, report, 'mrtd', td.mrtd, tdBase)
  putHex(TDINFO, report, 'mrconfigid', td.mrconfigid, tdBase)
  putHex(TDINFO, report, 'mrowner', td.mrowner, tdBase)
  putHex(TDINFO, report, 'mrownerconfig', td.mrownerconfig, tdBase)
  RTMR_FIELDS.forEach((name, i) => putHex(TDINFO, report, name, td.rtmr[i], tdBase))
  if (info.td15) putHex(TDINFO, report, 'servtd_hash', td.servtd_hash, tdBase)

  // TEE_TCB_INFO (SEAMREPORT)
  writeField(TEE_TCB_INFO, report, 'valid', info.td15 ? TEE_TCB_VALID_TD15 : TEE_TCB_VALID_TD10, tcbBase)
  putHex(TEE_TCB_INFO, report, 'tee_tcb_svn', module.tee_tcb_svn, tcbBase)
  putHex(TEE_TCB_INFO, report, 'mrseam', module.mrseam, tcbBase)
  putHex(TEE_TCB_INFO, report, 'mrsignerseam', module.mrsignerseam, tcbBase)
  putHex(TEE_TCB_INFO, report, 'attributes', module.seam_attributes, tcbBase)
  if (info.td15 && module.tee_tcb_svn2) putHex(TEE_TCB_INFO, report, 'tee_tcb_svn2', module.tee_tcb_svn2, tcbBase)

  // REPORTMACSTRUCT (SEAMREPORT)
  writeField(REPORTMACSTRUCT, report, 'report_type', REPORT_TYPE_TDX)
  writeField(REPORTMACSTRUCT, report, 'report_subtype', REPORT_SUBTYPE_TD)
  writeField(REPORTMACSTRUCT, report, 'report_version', info.tdreport_version)
  putHex(REPORTMACSTRUCT, report, 'cpusvn', module.cpusvn)
  writeField(REPORTMACSTRUCT, report, 'tee_tcb_info_hash', teeTcbInfoHash(field(TDREPORT, report, 'tee_tcb_info')))
  writeField(REPORTMACSTRUCT, report, 'tee_info_hash', teeInfoHash(field(TDREPORT, report, 'td_info')))
  writeField(REPORTMACSTRUCT, report, 'report_data', reportData)
  writeField(REPORTMACSTRUCT, report, 'mac', reportMac(Buffer.from(module.reportmac_key, 'hex'), report))
  return report
}
