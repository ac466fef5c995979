/**
 * Signature algorithms beyond the builder's ECDSA: RSA PKCS #1 v1.5, RSASSA-PSS and Ed25519
 * certificates made here (pkijs fields, Node's signer) verify through the reader exactly when
 * OpenSSL (X509Certificate.verify) says they do; a signature never verifies under a key of another
 * family; the issuer relation follows OpenSSL's checkIssued for bad key identifiers and key usage.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {constants, generateKeyPairSync, sign, X509Certificate, type KeyObject} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {buildDeviceChain} from '../../src/device/certs.js'
import {certSignedBy, parseCert} from '../../src/x509/cert.js'
import {issuedBy} from '../../src/x509/chain.js'
import {OID_ED25519, OID_RSA_SHA384, OID_RSASSA_PSS, OID_SHA256} from '../../src/x509/oids.js'
import {OPEN_PROFILE} from '../../src/x509/profile.js'
import {verifySignature} from '../../src/x509/signature.js'

const base = buildDeviceChain('signature-test', {vendorLabel: 'v', vendorName: 'Vendor', deviceLabel: 'd', deviceInfo: 'V:M:1'})

/** RSASSA-PSS-params with SHA-256, MGF1-SHA-256 and the given salt length. */
function pssParams(saltLength: number): asn1js.Sequence {
  const sha256 = new pkijs.AlgorithmIdentifier({algorithmId: OID_SHA256, algorithmParams: new asn1js.Null()})
  return new pkijs.RSASSAPSSParams({
    hashAlgorithm: sha256,
    maskGenAlgorithm: new pkijs.AlgorithmIdentifier({algorithmId: '1.2.840.113549.1.1.8', algorithmParams: sha256.toSchema()}),
    saltLength,
  }).toSchema()
}

/** A self-signed copy of the device root with another key and signature algorithm. */
function selfSigned(keys: {publicKey: KeyObject; privateKey: KeyObject}, alg: pkijs.AlgorithmIdentifier, signTbs: (tbs: Buffer) => Buffer): Buffer {
  const c = pkijs.Certificate.fromBER(Uint8Array.from(base.root))
  c.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(Uint8Array.from(keys.publicKey.export({type: 'spki', format: 'der'})))
  c.signature = alg
  c.signatureAlgorithm = alg
  c.tbsView = new Uint8Array(c.encodeTBS().toBER())
  c.signatureValue = new asn1js.BitString({valueHex: Uint8Array.from(signTbs(Buffer.from(c.tbsView)))})
  return Buffer.from(c.toSchema().toBER())
}

const rsa = generateKeyPairSync('rsa', {modulusLength: 2048})
const ed = generateKeyPairSync('ed25519')
const CASES: Array<[string, () => Buffer]> = [
  ['sha384WithRSAEncryption', () => selfSigned(rsa, new pkijs.AlgorithmIdentifier({algorithmId: OID_RSA_SHA384, algorithmParams: new asn1js.Null()}), (t) => sign('sha384', t, rsa.privateKey))],
  [
    'RSASSA-PSS SHA-256 salt 32',
    () =>
      selfSigned(rsa, new pkijs.AlgorithmIdentifier({algorithmId: OID_RSASSA_PSS, algorithmParams: pssParams(32)}), (t) =>
        sign('sha256', t, {key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32}),
      ),
  ],
  [
    'RSASSA-PSS with the wrong salt length declared',
    () =>
      selfSigned(rsa, new pkijs.AlgorithmIdentifier({algorithmId: OID_RSASSA_PSS, algorithmParams: pssParams(20)}), (t) =>
        sign('sha256', t, {key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32}),
      ),
  ],
  ['Ed25519', () => selfSigned(ed, new pkijs.AlgorithmIdentifier({algorithmId: OID_ED25519}), (t) => sign(null, t, ed.privateKey))],
]

for (const [label, make] of CASES) {
  test(`${label}: the reader's verdict is OpenSSL's`, () => {
    const der = make()
    const c = parseCert(der, OPEN_PROFILE)
    const x = new X509Certificate(der)
    assert.is(certSignedBy(c, c), x.verify(x.publicKey))
    assert.is(issuedBy(c, c), x.checkIssued(x))
  })
}

test('RSA and Ed25519 self-signatures verify; PSS with a wrong declared salt length does not', () => {
  const verdicts = CASES.map(([, make]) => {
    const c = parseCert(make(), OPEN_PROFILE)
    return certSignedBy(c, c)
  })
  assert.equal(verdicts, [true, true, false, true])
})

test('a signature never verifies under a key of another family', () => {
  const ecRoot = parseCert(base.root, OPEN_PROFILE)
  const rsaCert = parseCert(CASES[0][1](), OPEN_PROFILE)
  assert.not.ok(verifySignature(ecRoot.signatureAlgorithm, ecRoot.tbs, ecRoot.signature, rsa.publicKey))
  assert.not.ok(verifySignature(rsaCert.signatureAlgorithm, rsaCert.tbs, rsaCert.signature, ed.publicKey))
  assert.not.ok(verifySignature({oid: '1.2.3.4'}, ecRoot.tbs, ecRoot.signature, ecRoot.publicKey))
  assert.ok(verifySignature(ecRoot.signatureAlgorithm, ecRoot.tbs, ecRoot.signature, ecRoot.publicKey))
})

/** The device intermediate with one extension value replaced (unsigned: only the issuer relation is looked at). */
function intermediateWith(oid: string, valueHex: string): Buffer {
  const c = pkijs.Certificate.fromBER(Uint8Array.from(base.intermediate))
  const e = c.extensions!.find((x) => x.extnID === oid)!
  e.extnValue = new asn1js.OctetString({valueHex: Buffer.from(valueHex, 'hex')})
  return Buffer.from(c.toSchema(true).toBER())
}

test("issuer relation follows OpenSSL's checkIssued: key identifiers, key usage, undecodable extensions", () => {
  const root = parseCert(base.root, OPEN_PROFILE)
  const xr = new X509Certificate(base.root)
  const cases: Array<[string, Buffer, boolean]> = [
    ['as issued', base.intermediate, true],
    ['authority key id of another key', intermediateWith('2.5.29.35', '30168014' + '11'.repeat(20)), false],
    ['authority key id that does not decode', intermediateWith('2.5.29.35', '30158014' + '11'.repeat(20)), false],
    ['subjectKeyIdentifier that is not an OCTET STRING', intermediateWith('2.5.29.14', '0c03616263'), false],
    ['basic constraints with a stray element', intermediateWith('2.5.29.19', '30030401ff'), false],
  ]
  for (const [label, der, want] of cases) {
    const x = new X509Certificate(der)
    assert.is(x.checkIssued(xr), want, `OpenSSL: ${label}`)
    assert.is(issuedBy(parseCert(der, OPEN_PROFILE), root), want, label)
  }
  // the root's own key usage without keyCertSign: no longer an issuer
  const c = pkijs.Certificate.fromBER(Uint8Array.from(base.root))
  c.extensions!.find((x) => x.extnID === '2.5.29.15')!.extnValue = new asn1js.OctetString({valueHex: Buffer.from('03020780', 'hex')})
  const noCertSign = Buffer.from(c.toSchema(true).toBER())
  assert.is(new X509Certificate(base.intermediate).checkIssued(new X509Certificate(noCertSign)), false)
  assert.is(issuedBy(parseCert(base.intermediate, OPEN_PROFILE), parseCert(noCertSign, OPEN_PROFILE)), false)
})

test.run()
