/**
 * The quoting enclave: QE report binding, TDREPORT MAC check, TDREPORT → TD body mapping, and the
 * acceptance bar — simulated v4/v5 quotes verify under the independent @phala/dcap-qvl verifier with
 * the simulated root and exported collateral (UpToDate by default, the configured status otherwise),
 * and never under the Intel root.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash, verify, X509Certificate} from 'node:crypto'
import {BODY_TYPE_TD10, BODY_TYPE_TD15, INTEL_QE_VENDOR_ID, parseQuote, TEE_TYPE_TDX} from '../../src/abi/quote.js'
import {parseTdReport, REPORTMACSTRUCT, TDINFO, TDREPORT, TEE_TCB_INFO} from '../../src/abi/tdreport.js'
import {RefusedError} from '../../src/errors.js'
import {ensureHostPki, quoteTdReport} from '../../src/host/qe.js'
import {pemToDers} from '../../src/x509/pem.js'
import {platformWithHost, PROFILES, qvl, rootDer, tdReport, VERIFY_AT} from '../helpers/host-fixtures.js'

test('QE report binds the attestation key and is signed by the PCK key', () => {
  const {host} = platformWithHost('tdx-1.5', 'qe-bind')
  const q = host.qe
  const report = Buffer.from(q.qe_report, 'hex')
  const expected = createHash('sha256').update(Buffer.from(q.attestation_key + q.qe_auth_data, 'hex')).digest()
  assert.is(report.subarray(320, 352).toString('hex'), expected.toString('hex')) // REPORTDATA[0..32], computed here
  assert.ok(report.subarray(352, 384).every((b) => b === 0)) // then 32 zero bytes
  const pckKey = new X509Certificate(pemToDers(host.certs.pck)[0]).publicKey
  assert.ok(verify('sha256', report, {key: pckKey, dsaEncoding: 'ieee-p1363'}, Buffer.from(q.qe_report_signature, 'hex')))
  const caKey = new X509Certificate(pemToDers(host.certs.platform_ca)[0]).publicKey
  assert.not.ok(verify('sha256', report, {key: caKey, dsaEncoding: 'ieee-p1363'}, Buffer.from(q.qe_report_signature, 'hex')))
})

test('quote fields come from the TDREPORT; v4 = TD10, v5 = TD15 on 1.5 profiles and TD10 on tdx-1.0', () => {
  for (const profile of PROFILES) {
    const {p, host} = platformWithHost(profile, `map-${profile}`)
    const raw = tdReport(p, 0x21)
    const r = parseTdReport(raw)
    for (const version of [4, 5] as const) {
      const q = parseQuote(quoteTdReport(p.doc, raw, {version}))
      assert.is(q.version, version)
      assert.is(q.header.tee_type, TEE_TYPE_TDX)
      assert.ok(q.header.qe_vendor_id.equals(INTEL_QE_VENDOR_ID))
      assert.is(q.header.user_data.subarray(0, 16).toString('hex'), host.platform.qe_id)
      assert.is(q.trailing_bytes, 0)
      const td15 = version === 5 && profile !== 'tdx-1.0'
      assert.is(q.body_type, td15 ? BODY_TYPE_TD15 : BODY_TYPE_TD10, `${profile} v${version}`)
      const td = q.td!
      assert.ok(td.tee_tcb_svn.equals(r.tee_tcb_info.tee_tcb_svn))
      assert.ok(td.mrseam.equals(r.tee_tcb_info.mrseam))
      assert.is(td.td_attributes.readBigUInt64LE(0), r.td_info.attributes)
      assert.is(td.xfam.readBigUInt64LE(0), r.td_info.xfam)
      assert.ok(td.mrtd.equals(r.td_info.mrtd))
      assert.ok(td.rtmr2.equals(r.td_info.rtmr[2]))
      assert.ok(td.report_data.equals(Buffer.alloc(64, 0x21)))
      if (td15) {
        assert.ok(td.tee_tcb_svn2!.equals(r.tee_tcb_info.tee_tcb_svn2))
        assert.ok(td.mr_servicetd!.equals(r.td_info.servtd_hash))
      }
      // Quote signature over header ‖ [descriptor] ‖ body with the certified attestation key.
      const jwk = {kty: 'EC', crv: 'P-256', x: q.attestation_key.subarray(0, 32).toString('base64url'), y: q.attestation_key.subarray(32).toString('base64url')}
      assert.ok(verify('sha256', q.signed_region, {key: jwk, format: 'jwk', dsaEncoding: 'ieee-p1363'}, q.signature))
      assert.is(q.pck_chain_pem?.includes(host.certs.pck.trim()), true)
    }
  }
})

test('a tampered or foreign TDREPORT is refused with a typed RefusedError (exit 7)', () => {
  const {p} = platformWithHost('tdx-1.5', 'tamper')
  const good = tdReport(p)
  const refused = (report: Buffer) => {
    try {
      quoteTdReport(p.doc, report)
    } catch (e) {
      assert.instance(e, RefusedError)
      assert.is((e as RefusedError).code, 'TDREPORT_MAC_INVALID')
      assert.is((e as RefusedError).exit, 7)
      return
    }
    assert.unreachable('quoted a bad TDREPORT')
  }
  const flips = [REPORTMACSTRUCT.fields.report_data.offset, REPORTMACSTRUCT.fields.mac.offset + 5, REPORTMACSTRUCT.fields.cpusvn.offset]
  for (const at of flips) {
    const bad = Buffer.from(good)
    bad[at] ^= 0x01
    refused(bad)
  }
  // TDINFO (e.g. MRTD) and TEE_TCB_INFO are outside the MAC: bound only through their hashes.
  const hashRefused = (at: number) => {
    const bad = Buffer.from(good)
    bad[at] ^= 0x01
    try {
      quoteTdReport(p.doc, bad)
    } catch (e) {
      assert.instance(e, RefusedError)
      assert.is((e as RefusedError).code, 'TDREPORT_HASH_MISMATCH')
      return
    }
    assert.unreachable(`quoted a TDREPORT with byte ${at} flipped`)
  }
  hashRefused(TDREPORT.fields.td_info.offset + TDINFO.fields.mrtd.offset)
  hashRefused(TDREPORT.fields.td_info.offset + TDINFO.fields.rtmr3.offset + 47)
  hashRefused(TDREPORT.fields.tee_tcb_info.offset + TEE_TCB_INFO.fields.mrseam.offset)
  // Same layout, made on another platform (other REPORTMAC key).
  const {p: other} = platformWithHost('tdx-1.5', 'tamper-other')
  refused(tdReport(other))
  assert.ok(quoteTdReport(p.doc, good).length > 0)
})

test('dcap-qvl verifies v4 and v5 simulated quotes with the simulated root: UpToDate; the Intel root rejects them', () => {
  for (const profile of PROFILES) {
    const {p, host} = platformWithHost(profile, `oracle-${profile}`)
    const raw = tdReport(p)
    for (const version of [4, 5] as const) {
      const quote = quoteTdReport(p.doc, raw, {version})
      const r = qvl.QuoteVerifier.newWithRootCa(rootDer(host)).verify(quote, host.collateral, VERIFY_AT)
      assert.is(r.status, 'UpToDate', `${profile} v${version}`)
      assert.equal(r.advisory_ids, [])
      assert.is(r.report.type, version === 5 && profile !== 'tdx-1.0' ? 'td15' : 'td10')
      assert.throws(() => qvl.QuoteVerifier.newProd().verify(quote, host.collateral, VERIFY_AT), /certificate chain/)
    }
  }
})

test('dcap-qvl reports the configured scenario status; revoked PCK / Revoked TCB / expired collateral fail', () => {
  const {p} = platformWithHost('tdx-1.5', 'oracle-scenarios')
  const raw = tdReport(p)
  const run = (scenario: Parameters<typeof ensureHostPki>[1]) => {
    const host = ensureHostPki(p.doc, scenario)
    return () => qvl.QuoteVerifier.newWithRootCa(rootDer(host)).verify(quoteTdReport(p.doc, raw), host.collateral, VERIFY_AT)
  }
  for (const status of ['OutOfDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDateConfigurationNeeded'] as const) {
    const r = run({tcb_status: status})()
    assert.is(r.status, status)
    assert.equal(r.advisory_ids, ['TDXKIT-SIM-SA-00003'])
  }
  assert.throws(run({tcb_status: 'Revoked'}), /Revoked/)
  assert.throws(run({tcb_status: 'UpToDate', pck_revoked: true}), /revoked/)
  assert.throws(run({pck_revoked: false, collateral_expired: true}), /expired/)
  assert.is(run({collateral_expired: false})().status, 'UpToDate')
})

test('quotes are deterministic per seed and TDREPORT', () => {
  const a = platformWithHost('tdx-1.0', 'det-quote')
  const b = platformWithHost('tdx-1.0', 'det-quote')
  assert.ok(quoteTdReport(a.p.doc, tdReport(a.p)).equals(quoteTdReport(b.p.doc, tdReport(b.p))))
  const c = platformWithHost('tdx-1.0', 'det-quote-2')
  assert.not.ok(quoteTdReport(a.p.doc, tdReport(a.p)).equals(quoteTdReport(c.p.doc, tdReport(c.p))))
})

test.run()
