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
import {field, writeField} from '../abi/layout.js'
import type {ModuleDoc, TdDoc} from './doc.js'
import {profileInfo} from './profiles.js'
import {reportMac} from './measure.js'

const hexBuf = (s: string): Buffer => Buffer.from(s, 'hex')

export function buildTdReport(module: ModuleDoc, td: TdDoc, reportData: Uint8Array): Buffer {
  const info = profileInfo(module.profile)
  const report = Buffer.alloc(TDREPORT_SIZE)
  const tdBase = TDREPORT.fields.td_info.offset
  const tcbBase = TDREPORT.fields.tee_tcb_info.offset

  // TDINFO (module)
  writeField(TDINFO, report, 'attributes', BigInt(td.attributes), tdBase)
  writeField(TDINFO, report, 'xfam', BigInt(td.xfam), tdBase)
  writeField(TDINFO, report, 'mrtd', hexBuf(td.mrtd), tdBase)
  writeField(TDINFO, report, 'mrconfigid', hexBuf(td.mrconfigid), tdBase)
  writeField(TDINFO, report, 'mrowner', hexBuf(td.mrowner), tdBase)
  writeField(TDINFO, report, 'mrownerconfig', hexBuf(td.mrownerconfig), tdBase)
  RTMR_FIELDS.forEach((name, i) => writeField(TDINFO, report, name, hexBuf(td.rtmr[i]), tdBase))
  if (info.td15) writeField(TDINFO, report, 'servtd_hash', hexBuf(td.servtd_hash), tdBase)

  // TEE_TCB_INFO (SEAMREPORT)
  writeField(TEE_TCB_INFO, report, 'valid', info.td15 ? TEE_TCB_VALID_TD15 : TEE_TCB_VALID_TD10, tcbBase)
  writeField(TEE_TCB_INFO, report, 'tee_tcb_svn', hexBuf(module.tee_tcb_svn), tcbBase)
  writeField(TEE_TCB_INFO, report, 'mrseam', hexBuf(module.mrseam), tcbBase)
  writeField(TEE_TCB_INFO, report, 'mrsignerseam', hexBuf(module.mrsignerseam), tcbBase)
  writeField(TEE_TCB_INFO, report, 'attributes', hexBuf(module.seam_attributes), tcbBase)
  if (info.td15 && module.tee_tcb_svn2) writeField(TEE_TCB_INFO, report, 'tee_tcb_svn2', hexBuf(module.tee_tcb_svn2), tcbBase)

  // REPORTMACSTRUCT (SEAMREPORT)
  writeField(REPORTMACSTRUCT, report, 'report_type', REPORT_TYPE_TDX)
  writeField(REPORTMACSTRUCT, report, 'report_subtype', REPORT_SUBTYPE_TD)
  writeField(REPORTMACSTRUCT, report, 'report_version', info.tdreport_version)
  writeField(REPORTMACSTRUCT, report, 'cpusvn', hexBuf(module.cpusvn))
  writeField(REPORTMACSTRUCT, report, 'tee_tcb_info_hash', teeTcbInfoHash(field(TDREPORT, report, 'tee_tcb_info')))
  writeField(REPORTMACSTRUCT, report, 'tee_info_hash', teeInfoHash(field(TDREPORT, report, 'td_info')))
  writeField(REPORTMACSTRUCT, report, 'report_data', reportData)
  writeField(REPORTMACSTRUCT, report, 'mac', reportMac(hexBuf(module.reportmac_key), report))
  return report
}
