/**
 * The builder: certificates and CRLs it makes read back through the reader, pkijs and OpenSSL with
 * the names, validity (UTCTime before 2050, GeneralizedTime from 2050), key, extensions and
 * signature that went in; same input, same bytes.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {X509Certificate} from 'node:crypto'
import * as pkijs from 'pkijs'
import {
  authorityKeyIdValue,
  basicConstraintsValue,
  buildCertificate,
  buildCrl,
  crlDistributionPointValue,
  crlNumberValue,
  crlReasonValue,
  extKeyUsageValue,
  keyUsageValue,
  otherNameAltNameValue,
  spdmExtensionValue,
  subjectKeyIdValue,
  type CertificateSpec,
} from '../../src/x509/build.js'
import {certSignedBy, crlSignedBy, parseCert, parseCrl} from '../../src/x509/cert.js'
import {issuedBy} from '../../src/x509/chain.js'
import {authorityKeyId, dmtfDeviceInfo, extKeyUsage, keyUsageHas, spdmExtensionOids, subjectKeyId} from '../../src/x509/extensions.js'
import {deriveEcKey} from '../../src/x509/keys.js'
import {nameText} from '../../src/x509/name.js'
import {
  CrlReason,
  KeyUsageBit,
  OID_AUTHORITY_KEY_ID,
  OID_BASIC_CONSTRAINTS,
  OID_C,
  OID_CN,
  OID_CRL_DISTRIBUTION_POINTS,
  OID_CRL_NUMBER,
  OID_CRL_REASON,
  OID_DMTF_EKU_RESPONDER_AUTH,
  OID_DMTF_HARDWARE_IDENTITY,
  OID_DMTF_SPDM_EXTENSION,
  OID_EXT_KEY_USAGE,
  OID_KEY_USAGE,
  OID_O,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_ID,
} from '../../src/x509/oids.js'
import {OPEN_PROFILE} from '../../src/x509/profile.js'

const ca = deriveEcKey('build-test', 'ca', 'P-384')
const leafKey = deriveEcKey('build-test', 'leaf', 'P-256')
const caName = [
  {oid: OID_CN, value: 'Test CA'},
  {oid: OID_O, value: 'Org, Inc.'},
  {oid: OID_C, value: 'XX', printable: true},
]
const leafName = [{oid: OID_CN, value: 'Test leaf'}]
const KEY_ID = Buffer.alloc(20, 0xab)

const caSpec: CertificateSpec = {
  serial: Buffer.from('01020304', 'hex'),
  subject: caName,
  issuer: caName,
  notBefore: new Date('2025-01-01T00:00:00Z'),
  notAfter: new Date('2060-01-01T00:00:00Z'),
  subjectKey: ca,
  signer: ca,
  extensions: [
    {oid: OID_BASIC_CONSTRAINTS, critical: true, value: basicConstraintsValue(true, 0)},
    {oid: OID_KEY_USAGE, critical: true, value: keyUsageValue([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign])},
    {oid: OID_SUBJECT_KEY_ID, critical: false, value: subjectKeyIdValue(KEY_ID)},
  ],
}
const leafSpec: CertificateSpec = {
  serial: Buffer.from('7f', 'hex'),
  subject: leafName,
  issuer: caName,
  notBefore: new Date('2025-01-01T00:00:00Z'),
  notAfter: new Date('2049-12-31T23:59:59Z'),
  subjectKey: leafKey,
  signer: ca,
  extensions: [
    {oid: OID_BASIC_CONSTRAINTS, critical: true, value: basicConstraintsValue(false)},
    {oid: OID_KEY_USAGE, critical: true, value: keyUsageValue([KeyUsageBit.digitalSignature, KeyUsageBit.nonRepudiation])},
    {oid: OID_AUTHORITY_KEY_ID, critical: false, value: authorityKeyIdValue(KEY_ID)},
    {oid: OID_CRL_DISTRIBUTION_POINTS, critical: false, value: crlDistributionPointValue('https://crl.invalid/ca')},
    {oid: OID_EXT_KEY_USAGE, critical: true, value: extKeyUsageValue([OID_DMTF_EKU_RESPONDER_AUTH])},
    {oid: OID_SUBJECT_ALT_NAME, critical: false, value: otherNameAltNameValue('ACME:WIDGET:42')},
    {oid: OID_DMTF_SPDM_EXTENSION, critical: false, value: spdmExtensionValue([OID_DMTF_HARDWARE_IDENTITY])},
  ],
}

test('a built CA and leaf read back with their names, validity, key, extensions; signatures verify (reader and OpenSSL)', () => {
  const caDer = buildCertificate(caSpec)
  const leafDer = buildCertificate(leafSpec)
  const [c, l] = [caDer, leafDer].map((d) => parseCert(d, OPEN_PROFILE))
  const [xc, xl] = [caDer, leafDer].map((d) => new X509Certificate(d))
  assert.is(nameText(c.subjectName), 'CN=Test CA, O=Org\\, Inc., C=XX')
  assert.is(xc.subject.replace(/\n/g, ', '), 'CN=Test CA, O=Org\\, Inc., C=XX')
  assert.is(c.notAfter, caSpec.notAfter.getTime())
  assert.is(l.notAfter, leafSpec.notAfter.getTime())
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050
  const times = (d: Buffer) => {
    const p = pkijs.Certificate.fromBER(Uint8Array.from(d))
    return [p.notBefore.type, p.notAfter.type]
  }
  assert.equal(times(caDer), [pkijs.TimeType.UTCTime, pkijs.TimeType.GeneralizedTime])
  assert.equal(times(leafDer), [pkijs.TimeType.UTCTime, pkijs.TimeType.UTCTime])
  assert.is(c.signatureAlgorithm.oid, '1.2.840.10045.4.3.3') // P-384 signer: ecdsa-with-SHA384
  assert.is(c.keyCurve, '1.3.132.0.34')
  assert.is(l.keyCurve, '1.2.840.10045.3.1.7')
  assert.is(l.publicKey.export({format: 'jwk'}).x, leafKey.key.export({format: 'jwk'}).x)
  assert.ok(c.isCA && !l.isCA && xc.ca && !xl.ca)
  assert.is(keyUsageHas(c.extensions, KeyUsageBit.keyCertSign), true)
  assert.is(keyUsageHas(l.extensions, KeyUsageBit.nonRepudiation), true)
  assert.is(keyUsageHas(l.extensions, KeyUsageBit.keyCertSign), false)
  assert.equal(extKeyUsage(l.extensions), [OID_DMTF_EKU_RESPONDER_AUTH])
  assert.equal(xl.keyUsage, [OID_DMTF_EKU_RESPONDER_AUTH])
  assert.is(dmtfDeviceInfo(l.extensions), 'ACME:WIDGET:42')
  assert.equal(spdmExtensionOids(l.extensions), [OID_DMTF_HARDWARE_IDENTITY])
  assert.ok(authorityKeyId(l.extensions).keyId?.equals(KEY_ID))
  assert.ok(subjectKeyId(c.extensions)?.equals(KEY_ID))
  assert.equal(l.extensions.map((e) => [e.oid, e.critical]), leafSpec.extensions.map((e) => [e.oid, e.critical]))
  assert.ok(certSignedBy(c, c) && xc.verify(xc.publicKey))
  assert.ok(issuedBy(l, c) && certSignedBy(l, c) && xl.checkIssued(xc) && xl.verify(xc.publicKey))
  assert.not.ok(certSignedBy(c, l))
})

test('key usage, basic constraints and CRL values are minimal DER', () => {
  assert.is(keyUsageValue([KeyUsageBit.digitalSignature]).toString('hex'), '03020780')
  assert.is(keyUsageValue([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]).toString('hex'), '03020106')
  assert.is(keyUsageValue([KeyUsageBit.digitalSignature, KeyUsageBit.nonRepudiation]).toString('hex'), '030206c0')
  assert.is(basicConstraintsValue(false).toString('hex'), '3000')
  assert.is(basicConstraintsValue(true).toString('hex'), '30030101ff')
  assert.is(basicConstraintsValue(true, 1).toString('hex'), '30060101ff020101')
  assert.is(crlNumberValue(1).toString('hex'), '020101')
  assert.is(crlReasonValue(CrlReason.keyCompromise).toString('hex'), '0a0101')
})

test('a built CRL reads back (reader and pkijs): issuer, window, revoked serials, signature', async () => {
  const caDer = buildCertificate(caSpec)
  const der = buildCrl({
    issuer: caName,
    signer: ca,
    thisUpdate: new Date('2025-02-01T00:00:00Z'),
    nextUpdate: new Date('2025-03-01T00:00:00Z'),
    revoked: [{serial: Buffer.from('0a0b', 'hex'), date: new Date('2025-02-01T00:00:00Z'), extensions: [{oid: OID_CRL_REASON, critical: false, value: crlReasonValue(CrlReason.keyCompromise)}]}],
    extensions: [{oid: OID_CRL_NUMBER, critical: false, value: crlNumberValue(7)}],
  })
  const crl = parseCrl(der, OPEN_PROFILE)
  const c = parseCert(caDer, OPEN_PROFILE)
  assert.is(crl.issuerCN, 'Test CA')
  assert.ok(crl.issuerName.equals(c.subjectName))
  assert.equal([...crl.revoked], ['0a0b'])
  assert.is(crl.nextUpdate, Date.parse('2025-03-01T00:00:00Z'))
  assert.ok(crlSignedBy(crl, c))
  const ref = pkijs.CertificateRevocationList.fromBER(Uint8Array.from(der))
  assert.ok(await ref.verify({issuerCertificate: pkijs.Certificate.fromBER(Uint8Array.from(caDer))}))
})

test('deterministic: the same spec gives the same bytes', () => {
  assert.ok(buildCertificate(leafSpec).equals(buildCertificate(leafSpec)))
})

test.run()
