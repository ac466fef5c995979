/**
 * Names: the one-line rendering against OpenSSL's (Node's X509Certificate.subject) for names with
 * escapes, multi-valued RDNs, other string types and unknown attribute types; name equality against
 * OpenSSL's X509_NAME_cmp (through X509Certificate.checkIssued).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {X509Certificate} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {buildDeviceChain} from '../../src/device/certs.js'
import {nameText, sameName} from '../../src/x509/name.js'

const chain = buildDeviceChain('name-test', {vendorLabel: 'v', vendorName: 'Vendor', deviceLabel: 'd', deviceInfo: 'V:M:1'})

type Value = asn1js.Utf8String | asn1js.PrintableString | asn1js.IA5String | asn1js.BmpString | asn1js.TeletexString
const atv = (oid: string, value: Value) => new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value: oid}), value]})
/** A Name DER from RDNs, each a list of (type, value). */
const nameDer = (rdns: Array<Array<[string, Value]>>): Buffer =>
  Buffer.from(new asn1js.Sequence({value: rdns.map((rdn) => new asn1js.Set({value: rdn.map(([oid, v]) => atv(oid, v))}))}).toBER())

/** A copy of `der` (unsigned from here on: only the names matter) with its subject and/or issuer replaced. */
function withNames(der: Buffer, names: {subject?: Buffer; issuer?: Buffer}): X509Certificate {
  const c = pkijs.Certificate.fromBER(Uint8Array.from(der))
  if (names.subject) c.subject = pkijs.RelativeDistinguishedNames.fromBER(Uint8Array.from(names.subject))
  if (names.issuer) c.issuer = pkijs.RelativeDistinguishedNames.fromBER(Uint8Array.from(names.issuer))
  return new X509Certificate(Buffer.from(c.toSchema(true).toBER()))
}

const utf8 = (value: string) => new asn1js.Utf8String({value})
const CN = '2.5.4.3'
const O = '2.5.4.10'
const C = '2.5.4.6'

const NAMES: Array<[string, Array<Array<[string, Value]>>]> = [
  ['plain', [[[C, new asn1js.PrintableString({value: 'XX'})]], [[O, utf8('Org')]], [[CN, utf8('Name')]]]],
  ['RFC 2253 specials', [[[CN, utf8('a,b+c"d\\e<f>g;h')]]]],
  ['leading # and space, trailing space', [[[CN, utf8('#lead')]], [[O, utf8(' both ')]]]],
  ['control characters', [[[CN, utf8('tab\there\u0001\u007f')]]]],
  ['non-ASCII UTF-8', [[[CN, utf8('Grüße – 設備')]]]],
  ['multi-valued RDN', [[[CN, utf8('one')], [O, utf8('two')]]]],
  ['IA5String and BMPString', [[['1.2.840.113549.1.9.1', new asn1js.IA5String({value: 'a@b.example'})]], [[CN, new asn1js.BmpString({value: 'bmp é'})]]]],
  ['unknown attribute type', [[['1.3.6.1.4.1.99999.1', utf8('x')]], [[CN, utf8('y')]]]],
  ['well-known short names', [[['2.5.4.11', utf8('unit')]], [['2.5.4.5', utf8('123')]], [['0.9.2342.19200300.100.1.25', utf8('example')]], [['2.5.4.97', utf8('VAT-1')]]]],
]

for (const [label, rdns] of NAMES) {
  test(`nameText renders like OpenSSL: ${label}`, () => {
    const der = nameDer(rdns)
    const x = withNames(chain.leaf, {subject: der})
    assert.is(nameText(der), x.subject.replace(/\n/g, ', '))
  })
}

test('sameName is OpenSSL X509_NAME_cmp: case, outer and repeated whitespace, string type do not matter; content does', () => {
  const rootSubject = new X509Certificate(chain.root)
  const root = pkijs.Certificate.fromBER(Uint8Array.from(chain.root))
  const subject = Buffer.from(root.subject.toSchema().toBER())
  const variants: Array<[string, Buffer, boolean]> = [
    ['identical', subject, true],
    ['other case and spacing', nameDer([[[O, new asn1js.PrintableString({value: '  TDXKIT   simulated DEVICE vendor '})]], [[CN, utf8('VENDOR ROOT CA (simulated)')]]]), true],
    ['other string type', nameDer([[[O, new asn1js.TeletexString({value: 'tdxkit SIMULATED device vendor'})]], [[CN, utf8('Vendor Root CA (SIMULATED)')]]]), true],
    ['other text', nameDer([[[O, utf8('tdxkit SIMULATED device vendor')]], [[CN, utf8('Vendor Root CA (SIMULATED) 2')]]]), false],
    ['other order', nameDer([[[CN, utf8('Vendor Root CA (SIMULATED)')]], [[O, utf8('tdxkit SIMULATED device vendor')]]]), false],
    ['merged RDNs', nameDer([[[O, utf8('tdxkit SIMULATED device vendor')], [CN, utf8('Vendor Root CA (SIMULATED)')]]]), false],
  ]
  for (const [label, issuer, same] of variants) {
    // OpenSSL decides through checkIssued (every other condition holds: AKI = root SKI, keyCertSign)
    assert.is(withNames(chain.intermediate, {issuer}).checkIssued(rootSubject), same, `OpenSSL: ${label}`)
    assert.is(sameName(issuer, subject), same, label)
  }
})

test.run()
