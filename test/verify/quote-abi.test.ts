/** src/abi/quote.ts against the real quotes: layouts, exact lengths, encoder round trip, bad input. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import {readVector, vectorTest} from '../helpers/vectors.js'
import {describeQuote, encodeQuote, parseQuote, quoteSignedRegion, BODY_DESCRIPTOR, QUOTE_HEADER, TD10_BODY, TD15_BODY} from '../../src/abi/quote.js'
import {parsePckExtension, sgxExtensionOf} from '../../src/abi/pck-extension.js'
import {parseCert, parsePemChain} from '../../src/x509/dcap.js'
import {describePckChain} from '../../src/verify/pck-info.js'
import {ParseError} from '../../src/errors.js'

const QUOTES = [
  'dcapqvl-sgx-v3-config-swhardening',
  'dcapqvl-tdx-v4-near',
  'dcapqvl-tdx-v4-uptodate',
  'dcapqvl-tdx-v5-tcb-unmatched',
  'gotdx-tdx-v4-cos113-ccel',
  'gotdx-tdx-v4-spr',
  'gotdx-tdx-v5',
  'gotdx-tdx-v5-preprod-root',
  'moemahhouk-tdx-v4-perfmon',
  'trustee-tdx-v4-azure-vtpm',
  'trustee-tdx-v4-debug',
  'trustee-tdx-v4-tdx03-outofdate',
]

for (const dir of QUOTES) {
  vectorTest(test, `${dir}: fields match expected.json`, () => {
    const raw = readVector('real', dir, 'quote.bin')
    const exp = JSON.parse(readVector('real', dir, 'expected.json').toString('utf8')).quote
    assert.is(createHash('sha256').update(raw).digest('hex'), exp.sha256)
    const q = parseQuote(raw)
    assert.is(q.version, exp.version)
    assert.is(q.header.tee_type, Number(exp.tee_type))
    assert.is(q.signature_data_len, exp.signature_data_len)
    assert.is(q.trailing_bytes, exp.trailing_bytes_after_signature_data)
    assert.is(q.length + q.trailing_bytes, exp.size)
    assert.is(q.qe_report.readUInt16LE(258), exp.qe_isvsvn)
    if (q.td) {
      assert.is(q.td.tee_tcb_svn.toString('hex'), exp.tee_tcb_svn)
      assert.is(q.td.td_attributes.toString('hex'), exp.td_attributes)
      if (exp.tee_tcb_svn2) assert.is(q.td.tee_tcb_svn2!.toString('hex'), exp.tee_tcb_svn2)
      if (exp.mr_servicetd_is_zero !== undefined) assert.is(q.td.mr_servicetd!.every((b) => b === 0), exp.mr_servicetd_is_zero)
    }
    const certs = parsePemChain(q.pck_chain_pem!, true).map((d) => parseCert(d))
    const ext = parsePckExtension(sgxExtensionOf(certs[0].extensions))
    assert.is(ext.fmspc.toString('hex'), exp.fmspc)
    assert.is(ext.pceid.toString('hex'), exp.pce_id)
    assert.is(ext.pcesvn, exp.pck_pcesvn)
    assert.is(ext.cpusvn.toString('hex'), exp.pck_cpusvn)
    assert.is(certs[1].subjectCN, exp.pck_issuer_cn)
    // quote show's decoded view of the same chain.
    const shown = describePckChain(q.pck_chain_pem!)
    assert.is(shown.error, undefined)
    assert.is(shown.sgx_extension!.fmspc, exp.fmspc)
    assert.is(shown.sgx_extension!.pcesvn, exp.pck_pcesvn)
    assert.is(shown.ca, exp.pck_issuer_cn.includes('Processor') ? 'processor' : 'platform')
    if (q.version !== 3) {
      const again = encodeQuote({
        version: q.version as 4 | 5,
        header: q.header,
        body_type: q.body_type as 2 | 3,
        body: q.body,
        signature: q.signature,
        attestation_key: q.attestation_key,
        qe_report: q.qe_report,
        qe_report_signature: q.qe_report_signature,
        qe_auth_data: q.qe_auth_data,
        pck_chain_pem: q.pck_chain_pem!,
      })
      assert.ok(again.equals(raw.subarray(0, q.length)), 'encodeQuote reproduces the quote byte for byte')
      assert.ok(quoteSignedRegion(q).equals(raw.subarray(0, q.version === 5 ? 48 + 6 + q.body.length : 48 + q.body.length)))
    }
  })
}

vectorTest(test, 'REPORTDATA offsets: 568 in v4, 574 in v5/TD15 (describeQuote)', () => {
  const v4 = describeQuote(parseQuote(readVector('real', 'dcapqvl-tdx-v4-uptodate', 'quote.bin')))
  const v5 = describeQuote(parseQuote(readVector('real', 'gotdx-tdx-v5', 'quote.bin')))
  assert.is(v4.find((r) => r.name === 'td_body.report_data')!.offset, QUOTE_HEADER.size + TD10_BODY.fields.report_data.offset)
  assert.is(v4.find((r) => r.name === 'td_body.report_data')!.offset, 568)
  assert.is(v5.find((r) => r.name === 'td_body.report_data')!.offset, 574)
  assert.is(v5.find((r) => r.name === 'td_body.mr_servicetd')!.offset, 48 + BODY_DESCRIPTOR.size + TD15_BODY.fields.mr_servicetd.offset)
  assert.is(v4.find((r) => r.name === 'signature_data_len')!.offset, 632)
  assert.is(v5.find((r) => r.name === 'signature_data_len')!.offset, 702)
  assert.is(v4.find((r) => r.name === 'signature_data.qe_report.isvsvn')!.value, '6')
})

const code = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    assert.instance(e, ParseError)
    return (e as ParseError).code
  }
  return 'NO_ERROR'
}

vectorTest(test, 'bad input: truncation, wrong version, absurd lengths, bad v5 descriptor', () => {
  const raw = readVector('real', 'gotdx-tdx-v5', 'quote.bin')
  assert.is(code(() => parseQuote(raw.subarray(0, 20))), 'QUOTE_TRUNCATED')
  assert.is(code(() => parseQuote(raw.subarray(0, 600))), 'QUOTE_TRUNCATED')
  assert.is(code(() => parseQuote(raw.subarray(0, raw.length - 1))), 'SIG_DATA_LENGTH')
  const ver = Buffer.from(raw)
  ver.writeUInt16LE(6, 0)
  assert.is(code(() => parseQuote(ver)), 'UNSUPPORTED_QUOTE_VERSION')
  const len = Buffer.from(raw)
  len.writeUInt32LE(0xffffffff, 702)
  assert.is(code(() => parseQuote(len)), 'SIG_DATA_LENGTH')
  const size = Buffer.from(raw)
  size.writeUInt32LE(584, 50)
  assert.is(code(() => parseQuote(size)), 'BODY_SIZE_MISMATCH')
  const type = Buffer.from(raw)
  type.writeUInt16LE(1, 48)
  assert.is(code(() => parseQuote(type)), 'BAD_BODY_TYPE')
  const key = Buffer.from(raw)
  key.writeUInt16LE(3, 2)
  assert.is(code(() => parseQuote(key)), 'UNSUPPORTED_ATT_KEY_TYPE')
  assert.is(code(() => parseQuote(Buffer.alloc(0))), 'QUOTE_TRUNCATED')
})

test('describePckChain: an undecodable chain is reported, not thrown', () => {
  const bad = describePckChain('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
  assert.is(bad.certificates.length, 0)
  assert.is(bad.error?.code, 'X509_MALFORMED')
})

test.run()
