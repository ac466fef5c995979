/**
 * The simulated PKI: chain and CRLs validated by pkijs' chain engine and OpenSSL-backed Node crypto,
 * Intel-shaped certificate profile, SIMULATED names, determinism per seed.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {X509Certificate} from 'node:crypto'
import * as pkijs from 'pkijs'
import {parsePckExtension, sgxExtensionOf} from '../../src/abi/pck-extension.js'
import {ensureHostPki} from '../../src/host/qe.js'
import {SIM_CN, SIM_NOT_AFTER, SIM_NOT_BEFORE} from '../../src/host/pki.js'
import {pemToDers} from '../../src/x509/pem.js'
import {createPlatformDoc} from '../../src/module/platform.js'
import {parseCert} from '../../src/x509/dcap.js'
import {readVector, vectorTest} from '../helpers/vectors.js'
import {platformWithHost, PROFILES} from './fixtures.js'

const cert = (pem: string) => pkijs.Certificate.fromBER(pemToDers(pem)[0])
const crl = (hex: string) => pkijs.CertificateRevocationList.fromBER(Buffer.from(hex, 'hex'))

async function validate(leafPem: string, intermediates: string[], rootPem: string, crlsHex: string[], at = new Date('2026-06-01T00:00:00Z')) {
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: [cert(rootPem)],
    // pkijs takes the LAST certificate of `certs` as the end entity.
    certs: [...intermediates.map(cert), cert(leafPem)],
    crls: crlsHex.map(crl),
    checkDate: at,
  })
  const r = await engine.verify()
  return {...r, path: (r.certificatePath ?? []).map((c) => c.subject.typesAndValues[0].value.valueBlock.value as string)}
}

const {host} = platformWithHost('tdx-1.5', 'pki-test')
const {certs, collateral} = host

test('PCK leaf → Platform CA → root validates with the pkijs chain engine (CRLs included)', async () => {
  const r = await validate(certs.pck, [certs.platform_ca], certs.root_ca, [collateral.root_ca_crl, collateral.pck_crl])
  assert.ok(r.result, r.resultMessage)
  assert.equal(r.path, [SIM_CN.pck, SIM_CN.platformCa, SIM_CN.root])
  const t = await validate(certs.tcb_signing, [], certs.root_ca, [collateral.root_ca_crl])
  assert.ok(t.result, t.resultMessage)
  assert.equal(t.path, [SIM_CN.tcbSigning, SIM_CN.root])
})

vectorTest(test, 'the chain does not validate to the Intel SGX Root CA', async () => {
  const intelPem = readVector('real', 'intel-sgx-root-ca', 'IntelSGXRootCA.pem').toString()
  const r = await validate(certs.pck, [certs.platform_ca], intelPem, []).catch((e: Error) => ({result: false, resultMessage: e.message}))
  assert.not.ok(r.result)
})

test('CRLs are signed by their issuers and list revoked serials', async () => {
  const root = cert(certs.root_ca)
  const ca = cert(certs.platform_ca)
  assert.ok(await crl(collateral.root_ca_crl).verify({issuerCertificate: root}))
  assert.ok(await crl(collateral.pck_crl).verify({issuerCertificate: ca}))
  assert.not.ok(await crl(collateral.pck_crl).verify({issuerCertificate: root}))
  // The PCK CRL names unrelated (simulated) revoked serials, never the platform's own PCK by default.
  const revoked = (crl(collateral.pck_crl).revokedCertificates ?? []).map((r) => Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex'))
  assert.ok(revoked.length >= 1)
  const pckSerial = new X509Certificate(pemToDers(certs.pck)[0]).serialNumber.toLowerCase()
  assert.not.ok(revoked.includes(pckSerial))
})

test('revoked-PCK scenario: the PCK CRL lists the leaf and chain validation fails', async () => {
  const {host: revokedHost} = platformWithHost('tdx-1.5', 'pki-test', {pck_revoked: true})
  const c = revokedHost.certs
  const r = await validate(c.pck, [c.platform_ca], c.root_ca, [revokedHost.collateral.root_ca_crl, revokedHost.collateral.pck_crl])
  assert.not.ok(r.result)
  assert.match(r.resultMessage, /revoked/i)
})

test('certificate profile mirrors Intel: names, key usage, basic constraints, validity', () => {
  const x = (pem: string) => new X509Certificate(pemToDers(pem)[0])
  const root = x(certs.root_ca)
  const ca = x(certs.platform_ca)
  const pck = x(certs.pck)
  const tcb = x(certs.tcb_signing)
  assert.match(root.subject, `CN=${SIM_CN.root}`)
  assert.is(root.subject, root.issuer)
  assert.is(ca.issuer, root.subject)
  assert.is(pck.issuer, ca.subject)
  assert.is(tcb.issuer, root.subject)
  for (const c of [root, ca, pck, tcb]) {
    assert.match(c.subject, /SIMULATED/)
    assert.not.match(c.subject, /O=Intel Corporation/)
    assert.is(new Date(c.validFrom).getTime(), SIM_NOT_BEFORE.getTime())
    assert.is(new Date(c.validTo).getTime(), SIM_NOT_AFTER.getTime())
    assert.is(c.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
  }
  assert.ok(root.ca && ca.ca)
  assert.not.ok(pck.ca || tcb.ca)
  assert.ok(root.verify(root.publicKey) && ca.verify(root.publicKey) && pck.verify(ca.publicKey) && tcb.verify(root.publicKey))
  assert.not.ok(pck.verify(root.publicKey))
  // pathLen and key usage, as Intel's: root pathLen 1, platform CA pathLen 0; leaves digitalSignature + nonRepudiation.
  const bc = (pem: string) => cert(pem).extensions!.find((e) => e.extnID === '2.5.29.19')!.parsedValue as pkijs.BasicConstraints
  assert.is(bc(certs.root_ca).pathLenConstraint, 1)
  assert.is(bc(certs.platform_ca).pathLenConstraint, 0)
  const ku = (pem: string) => Buffer.from(cert(pem).extensions!.find((e) => e.extnID === '2.5.29.15')!.extnValue.valueBlock.valueHexView).toString('hex')
  assert.is(ku(certs.pck), '030206c0') // Intel's PCK: digitalSignature, nonRepudiation
  assert.is(ku(certs.root_ca), '03020106') // keyCertSign, cRLSign
})

test('the PCK extension carries the platform values', () => {
  const doc = createPlatformDoc({profile: 'tdx-1.0', seed: 'ext-values'})
  const h = ensureHostPki(doc)
  const ext = parsePckExtension(sgxExtensionOf(parseCert(pemToDers(h.certs.pck)[0]).extensions))
  assert.is(ext.cpusvn.toString('hex'), doc.module.cpusvn)
  assert.equal(ext.tcb_components, [...Buffer.from(doc.module.cpusvn, 'hex')])
  assert.is(ext.pcesvn, h.platform.pcesvn)
  assert.is(ext.fmspc.toString('hex'), h.platform.fmspc)
  assert.is(ext.pceid.toString('hex'), h.platform.pce_id)
  assert.is(ext.ppid.toString('hex'), h.platform.ppid)
  assert.is(ext.sgx_type, 1)
  // A Platform-CA PCK: instance ID and configuration present, as in Intel's TDX PCKs.
  assert.is(ext.platform_instance_id?.toString('hex'), h.platform.platform_instance_id)
  assert.equal(ext.configuration, {dynamic_platform: true, cached_keys: true, smt_enabled: true})
})

test('determinism: same seed → byte-identical PKI and collateral; other seed or profile → different', () => {
  for (const profile of PROFILES) {
    const a = ensureHostPki(createPlatformDoc({profile, seed: 'same'}))
    const b = ensureHostPki(createPlatformDoc({profile, seed: 'same'}))
    assert.equal(a.certs, b.certs)
    assert.equal(a.collateral, b.collateral)
    assert.equal(a.qe, b.qe)
  }
  const a = ensureHostPki(createPlatformDoc({profile: 'tdx-1.5', seed: 'one'}))
  const c = ensureHostPki(createPlatformDoc({profile: 'tdx-1.5', seed: 'two'}))
  for (const k of ['root_ca', 'platform_ca', 'pck', 'tcb_signing'] as const) assert.is.not(a.certs[k], c.certs[k])
  assert.is.not(a.collateral.tcb_info_signature, c.collateral.tcb_info_signature)
  assert.is.not(a.collateral.pck_crl, c.collateral.pck_crl)
})

test.run()
