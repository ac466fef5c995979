/**
 * Simulated collateral: TCB info v3 / QE identity v2 content tied to the platform, signatures over
 * the exact JSON text checked with Node crypto against the TCB signing certificate, scenarios.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {verify, X509Certificate} from 'node:crypto'
import {COLLATERAL_FIELDS} from '../../src/abi/collateral.js'
import {parsePckExtension, sgxExtensionOf} from '../../src/abi/pck-extension.js'
import {SIM_CN, SIM_EXPIRED_WINDOW_DAYS, SIM_NOT_BEFORE} from '../../src/host/pki.js'
import {pemToDers} from '../../src/x509/pem.js'
import {TCB_STATUSES} from '../../src/host/collateral.js'
import {SIM_QE} from '../../src/host/qe.js'
import {parseCert} from '../../src/x509/dcap.js'
import {platformWithHost, PROFILES} from './fixtures.js'

const verifyText = (text: string, sigHex: string, chainPem: string) =>
  verify('sha256', Buffer.from(text, 'utf8'), {key: new X509Certificate(pemToDers(chainPem)[0]).publicKey, dsaEncoding: 'ieee-p1363'}, Buffer.from(sigHex, 'hex'))

test('QuoteCollateralV3 shape: every field present, chains leaf-first, CRLs hex DER', () => {
  const {host} = platformWithHost('tdx-1.5', 'shape')
  const c = host.collateral
  for (const f of COLLATERAL_FIELDS) assert.type(c[f], 'string', f)
  const subjects = (pem: string) => pemToDers(pem).map((d) => new X509Certificate(d).subject.split('\n')[0])
  assert.equal(subjects(c.tcb_info_issuer_chain), [`CN=${SIM_CN.tcbSigning}`, `CN=${SIM_CN.root}`])
  assert.equal(subjects(c.pck_crl_issuer_chain), [`CN=${SIM_CN.platformCa}`, `CN=${SIM_CN.root}`])
  assert.is(c.qe_identity_issuer_chain, c.tcb_info_issuer_chain)
  for (const crl of [c.root_ca_crl, c.pck_crl]) {
    assert.match(crl, /^[0-9a-f]+$/)
    assert.is(crl.slice(0, 2), '30') // DER SEQUENCE
  }
  assert.match(c.tcb_info_signature, /^[0-9a-f]{128}$/)
  assert.match(c.qe_identity_signature, /^[0-9a-f]{128}$/)
})

test('signatures over tcb_info and qe_identity verify over the exact text (and not over a variant)', () => {
  for (const profile of PROFILES) {
    const {host} = platformWithHost(profile, `sig-${profile}`)
    const c = host.collateral
    assert.ok(verifyText(c.tcb_info, c.tcb_info_signature, c.tcb_info_issuer_chain), profile)
    assert.ok(verifyText(c.qe_identity, c.qe_identity_signature, c.qe_identity_issuer_chain), profile)
    // Compact JSON as PCS sends it: re-serialising with spaces changes the bytes and breaks the signature.
    assert.is(JSON.stringify(JSON.parse(c.tcb_info)), c.tcb_info)
    assert.not.ok(verifyText(JSON.stringify(JSON.parse(c.tcb_info), null, 1), c.tcb_info_signature, c.tcb_info_issuer_chain))
    assert.not.ok(verifyText(c.tcb_info, c.qe_identity_signature, c.tcb_info_issuer_chain))
  }
})

test('TCB info v3 matches the platform: FMSPC/PCE-ID of the PCK, levels around its TCB, module identity', () => {
  for (const profile of PROFILES) {
    const {p, host} = platformWithHost(profile, `tcb-${profile}`)
    const info = JSON.parse(host.collateral.tcb_info)
    const ext = parsePckExtension(sgxExtensionOf(parseCert(pemToDers(host.certs.pck)[0]).extensions))
    const teeTcbSvn = [...Buffer.from(p.doc.module.tee_tcb_svn, 'hex')]
    assert.is(info.id, 'TDX')
    assert.is(info.version, 3)
    assert.is(info.tcbType, 0)
    assert.is(info.fmspc.toLowerCase(), ext.fmspc.toString('hex'))
    assert.is(info.pceId.toLowerCase(), ext.pceid.toString('hex'))
    assert.is(info.tdxModule.mrsigner.toLowerCase(), p.doc.module.mrsignerseam)
    assert.is(info.tdxModule.attributes.toLowerCase(), p.doc.module.seam_attributes)
    const levels = info.tcbLevels as Array<{tcb: {sgxtcbcomponents: {svn: number}[]; pcesvn: number; tdxtcbcomponents: {svn: number}[]}; tcbStatus: string; tcbDate: string}>
    assert.is(levels[0].tcbStatus, 'UpToDate')
    assert.equal(levels[0].tcb.sgxtcbcomponents.map((c) => c.svn), ext.tcb_components)
    assert.is(levels[0].tcb.pcesvn, ext.pcesvn)
    assert.equal(levels[0].tcb.tdxtcbcomponents.map((c) => c.svn), teeTcbSvn)
    // At least one older OutOfDate level, strictly below the platform on some component.
    const older = levels.filter((l) => l.tcbStatus === 'OutOfDate')
    assert.ok(older.length >= 1)
    assert.ok(older.every((l) => l.tcb.pcesvn < ext.pcesvn))
    // The module identity for TEE_TCB_SVN[1] exists (TDX_%02X) with an UpToDate level at TEE_TCB_SVN[0].
    const id = `TDX_${teeTcbSvn[1].toString(16).toUpperCase().padStart(2, '0')}`
    const ident = info.tdxModuleIdentities.find((m: {id: string}) => m.id === id)
    assert.ok(ident, `module identity ${id}`)
    assert.is(ident.tcbLevels[0].tcb.isvsvn, teeTcbSvn[0])
    assert.is(ident.tcbLevels[0].tcbStatus, 'UpToDate')
    // Dates: Intel's format, issue date before next update.
    assert.match(info.issueDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.ok(Date.parse(info.issueDate) < Date.parse(info.nextUpdate))
  }
})

test('QE identity v2 (TD_QE) describes the simulated QE', () => {
  const {host} = platformWithHost('tdx-1.0', 'qeid')
  const qe = JSON.parse(host.collateral.qe_identity)
  assert.is(qe.id, 'TD_QE')
  assert.is(qe.version, 2)
  assert.is(qe.mrsigner.toLowerCase(), SIM_QE.mrsigner.toString('hex'))
  assert.is(qe.isvprodid, 2)
  assert.is(qe.tcbLevels[0].tcb.isvsvn, SIM_QE.isvsvn)
  assert.is(qe.tcbLevels[0].tcbStatus, 'UpToDate')
})

test('scenarios: configured status on the platform level, expired windows', () => {
  for (const status of TCB_STATUSES.filter((s) => s !== 'UpToDate')) {
    const {host} = platformWithHost('tdx-1.5', 'scn', {tcb_status: status})
    const levels = JSON.parse(host.collateral.tcb_info).tcbLevels
    assert.is(levels[0].tcbStatus, 'UpToDate') // a newer level the platform does not reach
    assert.is(levels[1].tcbStatus, status)
    assert.ok(levels[1].advisoryIDs.length > 0)
  }
  const {host} = platformWithHost('tdx-1.5', 'scn', {collateral_expired: true})
  const end = new Date(SIM_NOT_BEFORE.getTime() + SIM_EXPIRED_WINDOW_DAYS * 86_400_000).toISOString().replace('.000Z', 'Z')
  assert.is(JSON.parse(host.collateral.tcb_info).nextUpdate, end)
  assert.is(JSON.parse(host.collateral.qe_identity).nextUpdate, end)
})

test.run()
