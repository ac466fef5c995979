/**
 * TDREPORT layout, hash relations and MAC: against hand-computed offsets, the real Intel-produced
 * TDREPORT (trustee Azure vector) and independent hashing in this file.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash, createHmac} from 'node:crypto'
import {
  REPORTMACSTRUCT,
  TDINFO,
  TDREPORT,
  TDREPORT_SIZE,
  TEE_TCB_INFO,
  TEE_TCB_VALID_TD15,
  parseTdReport,
  tdReportFields,
} from '../../src/abi/tdreport.js'
import {ParseError} from '../../src/errors.js'
import {Platform, createPlatformDoc, verifyTdReportMac, profileInfo} from '../../src/module/platform.js'
import {getTdReport, extendRtmr} from '../../src/guest/tdx-guest.js'
import {readVector, vectorTest} from '../helpers/vectors.js'

const sha384 = (b: Uint8Array) => createHash('sha384').update(b).digest()
const report = (seed: string, profile: 'tdx-1.0' | 'tdx-1.5' | 'tdx-connect' = 'tdx-1.5', data = Buffer.alloc(64, 0x5a)) => {
  const p = new Platform(createPlatformDoc({profile, seed}))
  return {p, r: getTdReport(p, data)}
}

test('layout offsets match the ABI (hand-written absolute offsets)', () => {
  assert.is(TDREPORT.size, 1024)
  assert.is(TDREPORT.fields.report_mac_struct.offset, 0)
  assert.is(TDREPORT.fields.tee_tcb_info.offset, 256)
  assert.is(TDREPORT.fields.tee_tcb_info.size, 239)
  assert.is(TDREPORT.fields.td_info.offset, 512)
  assert.is(REPORTMACSTRUCT.fields.cpusvn.offset, 16)
  assert.is(REPORTMACSTRUCT.fields.tee_tcb_info_hash.offset, 32)
  assert.is(REPORTMACSTRUCT.fields.tee_info_hash.offset, 80)
  assert.is(REPORTMACSTRUCT.fields.report_data.offset, 128)
  assert.is(REPORTMACSTRUCT.fields.mac.offset, 224)
  assert.is(256 + TEE_TCB_INFO.fields.mrseam.offset, 280)
  assert.is(256 + TEE_TCB_INFO.fields.tee_tcb_svn2.offset, 384)
  assert.is(512 + TDINFO.fields.mrtd.offset, 528)
  assert.is(512 + TDINFO.fields.rtmr0.offset, 720)
  assert.is(512 + TDINFO.fields.rtmr3.offset, 864)
  assert.is(512 + TDINFO.fields.servtd_hash.offset, 912)
  // Every byte of the report is named exactly once.
  const rows = tdReportFields(Buffer.alloc(1024))
  let next = 0
  for (const f of rows) {
    assert.is(f.offset, next, `${f.section}.${f.name} starts where the previous field ended`)
    next += f.size
  }
  assert.is(next, 1024)
})

test('simulated TDREPORT: fields land at hand-computed offsets', () => {
  const data = Buffer.alloc(64)
  data.write('tdxkit-report-data')
  const {p, r} = report('offsets', 'tdx-1.5', data)
  assert.is(r.length, TDREPORT_SIZE)
  assert.equal([...r.subarray(0, 4)], [0x81, 0, 1, 0])
  assert.ok(r.subarray(128, 192).equals(data))
  assert.ok(r.subarray(16, 32).equals(Buffer.from(p.doc.module.cpusvn, 'hex')))
  assert.ok(r.subarray(528, 576).equals(Buffer.from(p.doc.td.mrtd, 'hex')))
  assert.is(r.readBigUInt64LE(512), BigInt(p.doc.td.attributes))
  assert.is(r.readBigUInt64LE(520), BigInt(p.doc.td.xfam))
  assert.ok(r.subarray(280, 328).equals(Buffer.from(p.doc.module.mrseam, 'hex')))
  assert.is(r.subarray(256, 264).toString('hex'), 'ff01030000000000') // what Intel hardware reports for 1.5
  assert.is(r.readBigUInt64LE(256), TEE_TCB_VALID_TD15)
  assert.ok(r.subarray(192, 224).every((b) => b === 0))
  assert.ok(r.subarray(495, 512).every((b) => b === 0))
})

test('simulated TDREPORT: hash relations hold (TEE_TCB_INFO 256..494, TDINFO 512..1023)', () => {
  for (const profile of ['tdx-1.0', 'tdx-1.5', 'tdx-connect'] as const) {
    const {r} = report('hashes', profile)
    assert.ok(sha384(r.subarray(256, 495)).equals(r.subarray(32, 80)), `${profile} TEE_TCB_INFO_HASH`)
    assert.ok(sha384(r.subarray(512, 1024)).equals(r.subarray(80, 128)), `${profile} TEE_INFO_HASH`)
    const parsed = parseTdReport(r)
    assert.equal(parsed.hashes, {tee_tcb_info_hash_ok: true, tee_info_hash_ok: true})
    assert.is(parsed.report_version, profileInfo(profile).tdreport_version)
  }
  assert.is(report('v', 'tdx-1.0').r[2], 0)
  assert.is(report('v', 'tdx-1.0').r.subarray(256, 264).toString('hex'), 'ff01000000000000')
})

test('REPORTMAC is HMAC-SHA-256 under the platform key over bytes 0..223; tampering breaks it', () => {
  const {p, r} = report('mac')
  const expected = createHmac('sha256', Buffer.from(p.doc.module.reportmac_key, 'hex')).update(r.subarray(0, 224)).digest()
  assert.ok(r.subarray(224, 256).equals(expected))
  assert.ok(verifyTdReportMac(p.doc, r))
  const t = Buffer.from(r)
  t[130] ^= 1
  assert.not.ok(verifyTdReportMac(p.doc, t))
  const other = createPlatformDoc({profile: 'tdx-1.5', seed: 'other'})
  assert.not.ok(verifyTdReportMac(other, r), 'another platform cannot verify it')
  assert.not.ok(verifyTdReportMac(p.doc, r.subarray(0, 1000)))
})

test('RTMR values appear in TDINFO and TEE_INFO_HASH follows them', () => {
  const p = new Platform(createPlatformDoc({profile: 'tdx-1.5', seed: 'rtmr'}))
  const before = getTdReport(p, Buffer.alloc(64))
  extendRtmr(p, 0, Buffer.alloc(48, 7))
  const after = getTdReport(p, Buffer.alloc(64))
  assert.ok(after.subarray(720, 768).equals(sha384(Buffer.concat([Buffer.alloc(48), Buffer.alloc(48, 7)]))))
  assert.not.ok(before.subarray(80, 128).equals(after.subarray(80, 128)))
})

test('same seed → byte-identical report; different seeds differ', () => {
  assert.ok(report('7').r.equals(report('7').r))
  const a = report('7').r
  const b = report('8').r
  assert.not.ok(a.equals(b))
  assert.not.ok(a.subarray(528, 576).equals(b.subarray(528, 576)), 'MRTD differs')
  assert.not.ok(a.subarray(224, 256).equals(b.subarray(224, 256)), 'MAC differs')
})

test('parseTdReport rejects wrong sizes and non-TDX report types', () => {
  const {r} = report('parse')
  for (const bad of [r.subarray(0, 1023), Buffer.concat([r, Buffer.alloc(1)])]) {
    try {
      parseTdReport(bad)
      assert.unreachable()
    } catch (e) {
      assert.instance(e, ParseError)
      assert.is((e as ParseError).code, 'TDREPORT_SIZE')
    }
  }
  const sgx = Buffer.from(r)
  sgx[0] = 0
  assert.throws(() => parseTdReport(sgx), (e: ParseError) => e.code === 'NOT_TDREPORT')
})

vectorTest(test, 'real TDREPORT (Azure, trustee): decodes with the same code and its hash relations hold', () => {
  const raw = readVector('real', 'trustee-tdx-v4-azure-vtpm', 'tdreport.bin')
  const quote = readVector('real', 'trustee-tdx-v4-azure-vtpm', 'quote.bin')
  const r = parseTdReport(raw)
  assert.is(r.report_type, 0x81)
  assert.is(r.report_version, 0)
  // The documented relations, computed here independently of the parser.
  assert.ok(sha384(raw.subarray(256, 495)).equals(raw.subarray(32, 80)))
  assert.ok(sha384(raw.subarray(512, 1024)).equals(raw.subarray(80, 128)))
  assert.equal(r.hashes, {tee_tcb_info_hash_ok: true, tee_info_hash_ok: true})
  assert.is(r.tee_tcb_info.valid, TEE_TCB_VALID_TD15)
  assert.is(r.tee_tcb_info.tee_tcb_svn.toString('hex'), '02010600000000000000000000000000')
  assert.is(r.tee_tcb_info.mrseam.subarray(0, 4).toString('hex'), '360304d3')
  assert.is(r.td_info.attributes, 0n)
  assert.is(r.td_info.xfam, 0x618e7n)
  assert.is(r.report_data.subarray(0, 32).toString('hex'), '9734504f161d104c74e3165c15f779b06a9bb40dfa71937817d7eee68e593839')
  // TD10 quote body (header 48): TEE_TCB_SVN @0, MRTD @136, RTMR0 @328 relative to the body.
  assert.ok(quote.subarray(48, 64).equals(r.tee_tcb_info.tee_tcb_svn))
  assert.ok(quote.subarray(48 + 136, 48 + 184).equals(r.td_info.mrtd))
  assert.ok(quote.subarray(48 + 328, 48 + 376).equals(r.td_info.rtmr[0]))
  assert.ok(quote.subarray(48 + 520, 48 + 584).equals(r.report_data))
})

test.run()
