/**
 * The certificate/CRL reader (DER codec + RFC 5280 walk, src/x509/cert.ts) against independent
 * parsers: every certificate and CRL in the real DCAP vectors (Intel's root, platform and processor
 * CAs, PCK leaves, TCB signing certificates, root and PCK CRLs) must give the same fields through
 * pkijs under DCAP's profile; every certificate of the SPDM chains (libspdm's P-256, P-384 and
 * RSA-3072 chains in the vectors, spdm-emu's ecp256/ecp384 bundles) the same fields through pkijs
 * and the same subject, issuer, key and signature verdicts as Node's X509Certificate (OpenSSL)
 * under the open profile. Then the strictness the rewrite promises: non-canonical DER and RFC 5280
 * violations are rejected as X509_MALFORMED before any signature is looked at, and DCAP's profile
 * rejects other algorithms as X509_ALGORITHM.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createPublicKey, X509Certificate, type KeyObject} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {OID_BASIC_CONSTRAINTS, parseCert, parseCrl, X509Error, type Cert} from '../../src/x509/dcap.js'
import {certSignedBy, parseCert as parseCertWith} from '../../src/x509/cert.js'
import {issuedBy, splitDerCerts} from '../../src/x509/chain.js'
import {dmtfDeviceInfo, extKeyUsage, keyUsageHas, spdmExtensionOids} from '../../src/x509/extensions.js'
import {nameText} from '../../src/x509/name.js'
import {KeyUsageBit, OID_DMTF_HARDWARE_IDENTITY} from '../../src/x509/oids.js'
import {OPEN_PROFILE} from '../../src/x509/profile.js'
import {readVector, VECTORS_DIR, vectorPath, vectorTest} from '../helpers/vectors.js'
import {realX509} from '../helpers/x509-vectors.js'

const hex = (b: Uint8Array | ArrayBuffer) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex')
const serialHex = (v: Uint8Array) => hex(v).replace(/^(00)+(?=..)/, '')
const cnOf = (n: pkijs.RelativeDistinguishedNames) => String((n.typesAndValues.find((t) => t.type === '2.5.4.3')?.value as {valueBlock: {value: string}} | undefined)?.valueBlock.value ?? '')

const real = realX509()

function pkiCert(der: Buffer): pkijs.Certificate {
  return new pkijs.Certificate({schema: asn1js.fromBER(new Uint8Array(der).slice()).result})
}

vectorTest(test, 'real certificates: same fields as pkijs (root, CAs, PCK leaves, TCB signing)', () => {
  assert.ok(real.certs.size >= 8, `only ${real.certs.size} distinct certificates found`)
  const cns = new Set<string>()
  for (const der of real.certs.values()) {
    const mine = parseCert(der)
    const ref = pkiCert(der)
    cns.add(mine.subjectCN)
    assert.is(mine.subjectCN, cnOf(ref.subject))
    assert.is(mine.issuerCN, cnOf(ref.issuer))
    assert.is(hex(mine.subjectName), hex(ref.subject.valueBeforeDecode))
    assert.is(hex(mine.issuerName), hex(ref.issuer.valueBeforeDecode))
    assert.is(mine.notBefore, ref.notBefore.value.getTime())
    assert.is(mine.notAfter, ref.notAfter.value.getTime())
    assert.is(mine.serial, serialHex(ref.serialNumber.valueBlock.valueHexView))
    assert.is(hex(mine.tbs), hex(ref.tbsView))
    assert.is(hex(mine.signature), hex(ref.signatureValue.valueBlock.valueHexView))
    const bc = ref.extensions?.find((e) => e.extnID === OID_BASIC_CONSTRAINTS)?.parsedValue as pkijs.BasicConstraints | undefined
    assert.is(mine.isCA, Boolean(bc?.cA), mine.subjectCN)
    assert.equal(
      mine.extensions.map((e) => [e.oid, e.critical, hex(e.value)]),
      (ref.extensions ?? []).map((e) => [e.extnID, e.critical, hex(e.extnValue.valueBlock.valueHexView)]),
    )
    const spki = Buffer.from(ref.subjectPublicKeyInfo.toSchema().toBER())
    assert.is(hex(mine.publicKey.export({type: 'spki', format: 'der'})), hex(createPublicKey({key: spki, format: 'der', type: 'spki'}).export({type: 'spki', format: 'der'})))
  }
  // The set covers every kind of certificate the verifier meets.
  for (const want of ['Intel SGX Root CA', 'Intel SGX PCK Platform CA', 'Intel SGX PCK Processor CA', 'Intel SGX PCK Certificate', 'Intel SGX TCB Signing']) {
    assert.ok([...cns].some((c) => c === want), `no "${want}" among ${[...cns].join(', ')}`)
  }
})

vectorTest(test, 'real CRLs: same issuer, dates, revoked serials, signed bytes as pkijs', () => {
  assert.ok(real.crls.size >= 3, `only ${real.crls.size} distinct CRLs found`)
  let revokedTotal = 0
  for (const der of real.crls.values()) {
    const mine = parseCrl(der)
    const ref = new pkijs.CertificateRevocationList({schema: asn1js.fromBER(new Uint8Array(der).slice()).result})
    assert.is(mine.issuerCN, cnOf(ref.issuer))
    assert.is(hex(mine.issuerName), hex(ref.issuer.valueBeforeDecode))
    assert.is(mine.thisUpdate, ref.thisUpdate.value.getTime())
    assert.is(mine.nextUpdate, ref.nextUpdate?.value.getTime())
    assert.equal([...mine.revoked].sort(), (ref.revokedCertificates ?? []).map((r) => serialHex(r.userCertificate.valueBlock.valueHexView)).sort())
    assert.is(hex(mine.tbs), hex(ref.tbsView))
    assert.is(hex(mine.signature), hex(ref.signatureValue.valueBlock.valueHexView))
    revokedTotal += mine.revoked.size
  }
  assert.ok(revokedTotal > 0, 'no CRL with revoked entries: the revoked-list path is untested')
})

// ---- SPDM / device chains (open profile) -----------------------------------------------------

/** spdm-emu's sample chains sit next to the vectors (../shared/oracles); absent → skipped, like the vectors. */
const ORACLE_CHAINS = join(VECTORS_DIR, '..', 'oracles', 'spdm-emu')
const SPDM_CHAINS: Array<{name: string; path: string}> = [
  ...['ecp256', 'ecp384', 'rsa3072'].map((a) => ({name: `vectors ${a}`, path: vectorPath('spdm', `${a}-bundle_responder.certchain.der`)})),
  ...['ecp256', 'ecp384'].map((a) => ({name: `spdm-emu ${a}`, path: join(ORACLE_CHAINS, a, 'bundle_responder.certchain.der')})),
]

function spdmTest(name: string, path: string, fn: (ders: Buffer[]) => void): void {
  const run = () => fn(splitDerCerts(readFileSync(path)))
  if (existsSync(path)) test(name, run)
  else if (path.startsWith(VECTORS_DIR)) vectorTest(test, name, run)
  else {
    console.log(`  skip: ${name} (${path} not found)`)
    test.skip(name, run)
  }
}

const canonicalSpki = (k: KeyObject) => hex(k.export({type: 'spki', format: 'der'}))

for (const chain of SPDM_CHAINS) {
  spdmTest(`${chain.name} chain: every certificate gives pkijs' fields and OpenSSL's names, key, issuer and signature verdicts`, chain.path, (ders) => {
    assert.is(ders.length, 3)
    const certs = ders.map((d) => parseCertWith(d, OPEN_PROFILE))
    const nodes = ders.map((d) => new X509Certificate(d))
    certs.forEach((mine, i) => {
      const ref = pkiCert(ders[i])
      const x = nodes[i]
      assert.is(hex(mine.subjectName), hex(ref.subject.valueBeforeDecode))
      assert.is(hex(mine.issuerName), hex(ref.issuer.valueBeforeDecode))
      assert.is(mine.subjectCN, cnOf(ref.subject))
      assert.is(mine.notBefore, ref.notBefore.value.getTime())
      assert.is(mine.notAfter, ref.notAfter.value.getTime())
      assert.is(mine.serial, serialHex(ref.serialNumber.valueBlock.valueHexView))
      assert.is(hex(mine.tbs), hex(ref.tbsView))
      assert.is(hex(mine.signature), hex(ref.signatureValue.valueBlock.valueHexView))
      assert.is(mine.signatureAlgorithm.oid, ref.signatureAlgorithm.algorithmId)
      assert.is(mine.keyAlgorithm, ref.subjectPublicKeyInfo.algorithm.algorithmId)
      assert.equal(
        mine.extensions.map((e) => [e.oid, e.critical, hex(e.value)]),
        (ref.extensions ?? []).map((e) => [e.extnID, e.critical, hex(e.extnValue.valueBlock.valueHexView)]),
      )
      assert.is(mine.isCA, x.ca)
      // OpenSSL's view (Node's X509Certificate): names as printed, the key, EKU, the issuer relation and signatures
      assert.is(nameText(mine.subjectName), x.subject.replace(/\n/g, ', '))
      assert.is(nameText(mine.issuerName), x.issuer.replace(/\n/g, ', '))
      assert.is(canonicalSpki(mine.publicKey), canonicalSpki(x.publicKey))
      assert.equal(extKeyUsage(mine.extensions), x.keyUsage)
      for (const [j, parent] of certs.entries()) {
        assert.is(issuedBy(mine, parent), x.checkIssued(nodes[j]), `${i} issued by ${j}`)
        assert.is(certSignedBy(mine, parent), x.verify(nodes[j].publicKey), `${i} signed by ${j}`)
      }
    })
    // the chain itself: root self-signed, each certificate issued and signed by the one before
    assert.ok(issuedBy(certs[0], certs[0]) && certSignedBy(certs[0], certs[0]))
    assert.ok(issuedBy(certs[1], certs[0]) && certSignedBy(certs[1], certs[0]))
    assert.ok(issuedBy(certs[2], certs[1]) && certSignedBy(certs[2], certs[1]))
    // the leaf's DMTF identity (PROVENANCE.md): device-info otherName, SPDM extension naming hardware-identity
    assert.is(dmtfDeviceInfo(certs[2].extensions), 'ACME:WIDGET:1234567890')
    assert.equal(spdmExtensionOids(certs[2].extensions), [OID_DMTF_HARDWARE_IDENTITY])
    assert.is(keyUsageHas(certs[2].extensions, KeyUsageBit.digitalSignature), true)
    assert.is(keyUsageHas(certs[2].extensions, KeyUsageBit.keyCertSign), false)
  })
}

vectorTest(test, 'SPDM chains: a certificate is neither issued nor signed by another chain\'s CA', () => {
  const [p256, p384] = ['ecp256', 'ecp384'].map((a) => splitDerCerts(readVector('spdm', `${a}-bundle_responder.certchain.der`)).map((d) => parseCertWith(d, OPEN_PROFILE)))
  assert.not.ok(issuedBy(p256[2], p384[1]))
  assert.not.ok(certSignedBy(p256[2], p384[1]))
  assert.not.ok(certSignedBy(p384[1], p256[0]))
})

vectorTest(test, "DCAP's profile rejects the P-384 SPDM certificates the open profile reads", () => {
  const [root] = splitDerCerts(readVector('spdm', 'ecp384-bundle_responder.certchain.der'))
  assert.is(parseCertWith(root, OPEN_PROFILE).keyCurve, '1.3.132.0.34')
  assert.throws(() => parseCert(root), (e: unknown) => e instanceof X509Error && e.code === 'X509_ALGORITHM' && /ecdsa-with-SHA256/.test(e.message))
})

// ---- strictness -------------------------------------------------------------------------------

const malformed = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof X509Error && e.code === 'X509_MALFORMED' && re.test(e.message))

function aRealCert(pred: (c: Cert) => boolean): Buffer {
  for (const der of real.certs.values()) if (pred(parseCert(der))) return der
  throw new Error('no such certificate in the vectors')
}

/** Re-encode an element's length in non-minimal long form: 0x30 0x82 LL LL → 0x30 0x83 00 LL LL. */
function widenOuterLength(der: Buffer): Buffer {
  assert.is(der[1], 0x82)
  return Buffer.concat([der.subarray(0, 1), Buffer.from([0x83, 0x00]), der.subarray(2)])
}

/** Build a certificate from a real one with pkijs, changing something, then re-encode (unsigned: parse must fail first). */
function mutated(der: Buffer, edit: (c: pkijs.Certificate) => void): Buffer {
  const c = pkiCert(der)
  edit(c)
  return Buffer.from(c.toSchema(true).toBER())
}

vectorTest(test, 'non-canonical DER: a long-form length where short/shorter suffices is rejected', () => {
  const root = aRealCert((c) => c.subjectCN === 'Intel SGX Root CA')
  malformed(() => parseCert(widenOuterLength(root)), /canonical|DER/)
  const crl = [...real.crls.values()].find((d) => d[1] === 0x82)!
  malformed(() => parseCrl(widenOuterLength(crl)), /canonical|DER/)
})

vectorTest(test, 'trailing bytes, truncation and indefinite lengths are rejected', () => {
  const root = aRealCert((c) => c.subjectCN === 'Intel SGX Root CA')
  malformed(() => parseCert(Buffer.concat([root, Buffer.from([0])])), /DER/)
  malformed(() => parseCert(root.subarray(0, root.length - 1)), /DER/)
  // Outer SEQUENCE with indefinite length: 30 80 <content> 00 00.
  const content = root.subarray(4)
  malformed(() => parseCert(Buffer.concat([Buffer.from([0x30, 0x80]), content, Buffer.from([0, 0])])), /canonical|DER/)
})

vectorTest(test, 'RFC 5280 violations: v1, alg mismatch, duplicate or unknown critical extension, default critical=FALSE encoded', () => {
  const leaf = aRealCert((c) => c.subjectCN === 'Intel SGX PCK Certificate')
  malformed(() => parseCert(mutated(leaf, (c) => (c.version = 0))), /v3/)
  malformed(
    () => parseCert(mutated(leaf, (c) => (c.signature = new pkijs.AlgorithmIdentifier({algorithmId: '1.2.840.10045.4.3.3'})))),
    /inner and outer/,
  )
  malformed(() => parseCert(mutated(leaf, (c) => c.extensions!.push(c.extensions![0]))), /appears twice/)
  malformed(
    () => parseCert(mutated(leaf, (c) => c.extensions!.push(new pkijs.Extension({extnID: '1.2.3.4', critical: true, extnValue: new asn1js.Null().toBER()})))),
    /unrecognised critical extension 1\.2\.3\.4/,
  )
  // pkijs omits critical=FALSE itself; write the BOOLEAN explicitly into the DER.
  const withFalse = mutated(leaf, (c) => c.extensions!.push(new pkijs.Extension({extnID: '1.2.3.5', critical: true, extnValue: new asn1js.Null().toBER()})))
  const flagAt = withFalse.indexOf(Buffer.from('0603' + '2a0305' + '0101ff', 'hex'))
  assert.ok(flagAt > 0)
  withFalse[flagAt + 2 + 3 + 2] = 0x00
  malformed(() => parseCert(withFalse), /default critical=FALSE/)
})

vectorTest(test, 'signature algorithm other than ecdsa-with-SHA256: X509_ALGORITHM', () => {
  const leaf = aRealCert((c) => c.subjectCN === 'Intel SGX PCK Certificate')
  const sha384 = mutated(leaf, (c) => {
    c.signature = new pkijs.AlgorithmIdentifier({algorithmId: '1.2.840.10045.4.3.3'})
    c.signatureAlgorithm = new pkijs.AlgorithmIdentifier({algorithmId: '1.2.840.10045.4.3.3'})
  })
  assert.throws(() => parseCert(sha384), (e: unknown) => e instanceof X509Error && e.code === 'X509_ALGORITHM')
})

test.run()
