/**
 * Each verification check on its own: the real dcap-qvl TDX v4 quote and its collateral pass every
 * check at their expected.json time, and a hand-built bad input for each check fails with that
 * check's named code (the step and exit code follow from the code: src/verify/errors.ts).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import type {QuoteCollateralV3} from '../../src/abi/collateral.js'
import {parseQuote, parseSgxReport, QUOTE_HEADER, TEE_TCB_SVN_BYTE} from '../../src/abi/quote.js'
import {CollateralFormatError} from '../../src/abi/tcb-info.js'
import {
  checkCollateralFields,
  checkCrlCurrent,
  checkCrls,
  checkSignedJson,
  checkWindow,
  tcbInfoDocument,
  qeIdentityDocument,
  verifyCollateral,
} from '../../src/verify/collateral-checks.js'
import {VERIFY_ERRORS, VerifyError} from '../../src/verify/errors.js'
import {
  checkPckIssuers,
  checkPckNames,
  checkPckSignatures,
  checkPinnedRoot,
  pckChainPemOf,
  pckExtensionOf,
  splitPckChain,
  verifyPckChain,
} from '../../src/verify/pck-chain.js'
import {
  checkCollateralFitsTee,
  checkNotRevoked,
  checkPckCrlIssuer,
  checkQeIdentity,
  checkQeReportData,
  checkQeReportSignature,
  checkQeVendor,
  checkQuoteSignature,
  checkTcbInfoMatchesPck,
  checkTdxModule,
} from '../../src/verify/quote-checks.js'
import {INTEL_SGX_ROOT_CA_SHA256} from '../../src/verify/roots.js'
import {parseCert, parsePemChain, type Crl} from '../../src/x509/dcap.js'
import {readVector, vectorTest} from '../helpers/vectors.js'

const DIR = 'dcapqvl-tdx-v4-uptodate'
const AT_MS = 1752919234 * 1000
const ROOTS = new Set([INTEL_SGX_ROOT_CA_SHA256])

/** The vector, parsed and checked once (lazily: the vectors may be absent). */
const fixture = (() => {
  let f: ReturnType<typeof load> | undefined
  const load = () => {
    const quote = readVector('real', DIR, 'quote.bin')
    const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
    const q = parseQuote(quote)
    const chain = verifyPckChain(q.pck_chain_pem!, ROOTS, AT_MS)
    const col = verifyCollateral(collateral, ROOTS, AT_MS)
    return {quote, collateral, q, chain, col, qe: parseSgxReport(q.qe_report)}
  }
  return () => (f ??= load())
})()

/** `fn` throws a VerifyError with `code` (and that code's step and exit code). */
function failsWith(code: keyof typeof VERIFY_ERRORS, fn: () => unknown, message?: RegExp): void {
  try {
    fn()
  } catch (e) {
    assert.instance(e, VerifyError, `expected ${code}, got ${(e as Error).message}`)
    const v = e as VerifyError
    assert.is(v.code, code, v.message)
    assert.is(v.step, VERIFY_ERRORS[code][0])
    assert.is(v.exit, VERIFY_ERRORS[code][1])
    if (message) assert.match(v.message, message)
    return
  }
  assert.unreachable(`expected ${code}, nothing was thrown`)
}

const pemOf = (ders: Buffer[]) => ders.map((d) => `-----BEGIN CERTIFICATE-----\n${d.toString('base64')}\n-----END CERTIFICATE-----\n`).join('')
const withRevoked = (crl: Crl, ...serials: string[]): Crl => ({...crl, revoked: new Set([...crl.revoked, ...serials])})

vectorTest(test, 'header: an unknown QE vendor ID is QE_VENDOR_MISMATCH', () => {
  const {quote, q} = fixture()
  checkQeVendor(q)
  const bad = Buffer.from(quote)
  bad[QUOTE_HEADER.fields.qe_vendor_id.offset] ^= 0xff
  failsWith('QE_VENDOR_MISMATCH', () => checkQeVendor(parseQuote(bad)))
})

vectorTest(test, 'PCK chain: missing, malformed, short, untrusted, misnamed, unchained, badly signed, expired, no SGX extension', () => {
  const {q, chain} = fixture()
  const pem = pckChainPemOf(q)
  failsWith('PCK_CHAIN_MISSING', () => pckChainPemOf({...q, pck_cert_data_type: 4, pck_chain_pem: undefined}))
  const ders = splitPckChain(pem)
  assert.is(ders.length, 3)
  failsWith('PCK_CHAIN_MALFORMED', () => splitPckChain('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n'))
  failsWith('PCK_CHAIN_LENGTH', () => splitPckChain(pemOf(ders.slice(0, 2))))
  checkPinnedRoot(ders[2], ROOTS)
  failsWith('PCK_CHAIN_UNTRUSTED_ROOT', () => checkPinnedRoot(ders[2], new Set()), /"Intel SGX Root CA"/)
  failsWith('PCK_CHAIN_UNTRUSTED_ROOT', () => checkPinnedRoot(Buffer.from('not a certificate'), new Set()), /unparsable certificate/)
  const {leaf, intermediate: inter, root} = chain
  checkPckNames(leaf, inter)
  failsWith('PCK_CHAIN_BAD_NAME', () => checkPckNames(inter, inter), /is not a PCK certificate/)
  failsWith('PCK_CHAIN_BAD_NAME', () => checkPckNames(leaf, root), /Platform\/Processor CA/)
  checkPckIssuers(leaf, inter, root)
  failsWith('PCK_CHAIN_ISSUER_MISMATCH', () => checkPckIssuers(leaf, root, inter), /do not chain/)
  failsWith('PCK_CHAIN_ISSUER_MISMATCH', () => checkPckIssuers(leaf, {...inter, isCA: false}, root), /not CA certificates/)
  checkPckSignatures(leaf, inter, root)
  failsWith('PCK_CHAIN_BAD_SIGNATURE', () => checkPckSignatures(leaf, inter, inter), /self-signature/)
  failsWith('PCK_CHAIN_BAD_SIGNATURE', () => checkPckSignatures(leaf, root, root), /PCK certificate signature/)
  failsWith('PCK_CERT_EXPIRED', () => verifyPckChain(pem, ROOTS, leaf.notAfter + 1))
  assert.is(pckExtensionOf(leaf).fmspc.toString('hex'), 'b0c06f000000')
  failsWith('PCK_EXTENSION_MALFORMED', () => pckExtensionOf(root))
})

vectorTest(test, 'collateral: fields, CRLs, signed JSON documents and their windows', () => {
  const {collateral: c, col} = fixture()
  checkCollateralFields(c)
  failsWith('COLLATERAL_MALFORMED', () => checkCollateralFields(null))
  failsWith('COLLATERAL_MALFORMED', () => checkCollateralFields({...c, tcb_info: 1}), /tcb_info/)
  failsWith('COLLATERAL_MALFORMED', () => checkCrls({...c, pck_crl: 'zz'}, ROOTS, AT_MS), /pck_crl is neither hex nor bytes/)
  failsWith('CRL_MALFORMED', () => checkCrls({...c, pck_crl: 'abcd'}, ROOTS, AT_MS))
  failsWith('CRL_ISSUER_MISMATCH', () => checkCrls({...c, pck_crl: c.root_ca_crl}, ROOTS, AT_MS))
  failsWith('CRL_CHAIN_UNTRUSTED', () => checkCrls(c, new Set(), AT_MS), /not a trusted root/)
  failsWith('CRL_EXPIRED', () => checkCrls(c, ROOTS, col.pckCrl.nextUpdate! + 1000), /PCK CRL is not valid/)
  checkCrlCurrent({thisUpdate: 10, revoked: new Set()} as unknown as Crl, 1e15, 'open CRL')
  failsWith('CRL_EXPIRED', () => checkCrlCurrent({thisUpdate: 10, nextUpdate: 20} as Crl, 5, 'CRL'))
  failsWith('CRL_EXPIRED', () => checkCrlCurrent({thisUpdate: 10, nextUpdate: 20} as Crl, 21, 'CRL'))
  checkWindow(10, 20, 15, 'TCB_INFO_EXPIRED', 'TCB info')
  failsWith('QE_IDENTITY_EXPIRED', () => checkWindow(10, 20, 21, 'QE_IDENTITY_EXPIRED', 'QE identity'))

  const tcb = tcbInfoDocument(c)
  assert.is(checkSignedJson(tcb, col.rootCrl, ROOTS, AT_MS).fmspc.toString('hex'), 'b0c06f000000')
  failsWith('TCB_INFO_SIGNATURE_INVALID', () => checkSignedJson({...tcb, text: tcb.text.replace('"TDX"', '"TDX" ')}, col.rootCrl, ROOTS, AT_MS))
  failsWith('TCB_INFO_EXPIRED', () => checkSignedJson(tcb, col.rootCrl, ROOTS, col.tcbInfo.next_update + 1000))
  const signer = parseCert(parsePemChain(c.tcb_info_issuer_chain, false)[0])
  failsWith('TCB_INFO_SIGNER_REVOKED', () => checkSignedJson(tcb, withRevoked(col.rootCrl, signer.serial), ROOTS, AT_MS))
  failsWith('TCB_INFO_CHAIN_UNTRUSTED', () => checkSignedJson({...tcb, chain: c.pck_crl_issuer_chain}, col.rootCrl, ROOTS, AT_MS), /not a TCB signing certificate/)
  const qe = qeIdentityDocument(c)
  assert.is(checkSignedJson(qe, col.rootCrl, ROOTS, AT_MS).id, 'TD_QE')
  const notIntelSchema = () => {
    throw new CollateralFormatError('enclaveIdentity.tcbLevels is missing')
  }
  failsWith('QE_IDENTITY_MALFORMED', () => checkSignedJson({...qe, parse: notIntelSchema}, col.rootCrl, ROOTS, AT_MS), /tcbLevels/)
})

vectorTest(test, 'collateral against the quote: TEE type, PCK CRL issuer, revocation, FMSPC / PCE-ID', () => {
  const {col, chain} = fixture()
  const ti = col.tcbInfo
  const qi = col.qeIdentity
  checkCollateralFitsTee(ti, qi, true)
  failsWith('TCB_INFO_MISMATCH', () => checkCollateralFitsTee(ti, qi, false), /SGX quote needs id "SGX"/)
  failsWith('TCB_INFO_MISMATCH', () => checkCollateralFitsTee({...ti, version: 2}, qi, true))
  failsWith('QE_IDENTITY_TYPE_MISMATCH', () => checkCollateralFitsTee(ti, {...qi, id: 'QE'}, true))
  checkPckCrlIssuer(col, chain)
  failsWith('CRL_ISSUER_MISMATCH', () => checkPckCrlIssuer({...col, pckCrl: col.rootCrl}, chain), /is not the PCK issuer/)
  failsWith('CRL_ISSUER_MISMATCH', () => checkPckCrlIssuer({...col, pckCrlIssuer: col.root}, chain), /different key/)
  checkNotRevoked(col, chain)
  failsWith('ROOT_REVOKED', () => checkNotRevoked({...col, rootCrl: withRevoked(col.rootCrl, chain.root.serial)}, chain))
  failsWith('PCK_CA_REVOKED', () => checkNotRevoked({...col, rootCrl: withRevoked(col.rootCrl, chain.intermediate.serial)}, chain))
  failsWith('PCK_REVOKED', () => checkNotRevoked({...col, pckCrl: withRevoked(col.pckCrl, chain.leaf.serial)}, chain))
  checkTcbInfoMatchesPck(ti, chain.ext)
  failsWith('FMSPC_MISMATCH', () => checkTcbInfoMatchesPck({...ti, fmspc: Buffer.alloc(6)}, chain.ext))
  failsWith('PCEID_MISMATCH', () => checkTcbInfoMatchesPck({...ti, pceid: Buffer.from('ffff', 'hex')}, chain.ext))
})

vectorTest(test, 'QE report: signature (checked once per pair and chain), key binding, QE identity', () => {
  const {q, chain, qe, col} = fixture()
  const fresh = () => ({...chain, verifiedQeReports: new Map<string, Buffer>()})
  const flipped = Buffer.from(q.qe_report_signature)
  flipped[0] ^= 1
  failsWith('QE_REPORT_SIGNATURE_INVALID', () => checkQeReportSignature({...q, qe_report_signature: flipped}, fresh()))
  failsWith('QE_REPORT_SIGNATURE_INVALID', () => checkQeReportSignature(q, {...fresh(), leaf: chain.root}))
  const remembered = fresh()
  checkQeReportSignature(q, remembered)
  assert.is(remembered.verifiedQeReports.size, 1)
  checkQeReportSignature(q, {...remembered, leaf: chain.root}) // the same pair under this chain: not checked again
  const otherReport = Buffer.from(q.qe_report)
  otherReport[0] ^= 1
  // The same signature over other report bytes is checked again (and fails).
  failsWith('QE_REPORT_SIGNATURE_INVALID', () => checkQeReportSignature({...q, qe_report: otherReport}, remembered))

  assert.equal(checkQeReportData(q, qe), qe.report_data.subarray(0, 32))
  failsWith('QE_REPORT_DATA_MISMATCH', () => checkQeReportData({...q, qe_auth_data: Buffer.from('other auth data')}, qe))

  const qi = col.qeIdentity
  assert.is(checkQeIdentity(qe, qi).status, 'UpToDate')
  failsWith('QE_IDENTITY_MISMATCH', () => checkQeIdentity(qe, {...qi, mrsigner: Buffer.alloc(32)}), /MRSIGNER/)
  failsWith('QE_IDENTITY_MISMATCH', () => checkQeIdentity(qe, {...qi, isvprodid: qi.isvprodid + 1}), /ISVPRODID/)
  failsWith('QE_IDENTITY_MISMATCH', () => checkQeIdentity(qe, {...qi, miscselect: Buffer.from('ffffffff', 'hex'), miscselect_mask: Buffer.from('ffffffff', 'hex')}), /MISCSELECT/)
  failsWith('QE_IDENTITY_MISMATCH', () => checkQeIdentity(qe, {...qi, attributes: Buffer.alloc(16, 0xff), attributes_mask: Buffer.alloc(16, 0xff)}), /ATTRIBUTES/)
  failsWith('QE_TCB_NOT_SUPPORTED', () => checkQeIdentity(qe, {...qi, levels: qi.levels.map((l) => ({...l, isvsvn: 0xffff}))}))
})

vectorTest(test, 'quote signature: key not on the curve, signature that does not verify', () => {
  const {q} = fixture()
  checkQuoteSignature(q)
  failsWith('ATTESTATION_KEY_INVALID', () => checkQuoteSignature({...q, attestation_key: Buffer.alloc(64, 1)}))
  const sig = Buffer.from(q.signature)
  sig[10] ^= 1
  failsWith('QUOTE_SIGNATURE_INVALID', () => checkQuoteSignature({...q, signature: sig}))
})

vectorTest(test, 'TDX module: identity selected by TEE_TCB_SVN major version, signer and attributes', () => {
  const {q, col} = fixture()
  const td = q.td!
  const m = checkTdxModule(td, col.tcbInfo)
  assert.equal([m.major, m.svn, m.identity.id], [1, 6, 'TDX_01'])
  const svn = (major: number) => {
    const b = Buffer.from(td.tee_tcb_svn)
    b[TEE_TCB_SVN_BYTE.MODULE_MAJOR] = major
    return b
  }
  failsWith('TDX_MODULE_IDENTITY_NOT_FOUND', () => checkTdxModule({...td, tee_tcb_svn: svn(0x7f)}, col.tcbInfo), /TDX_7F/)
  failsWith('TDX_MODULE_MISMATCH', () => checkTdxModule({...td, mrsignerseam: Buffer.alloc(48, 1)}, col.tcbInfo), /MRSIGNERSEAM/)
  failsWith('TDX_MODULE_MISMATCH', () => checkTdxModule({...td, seam_attributes: Buffer.alloc(8, 0xff)}, col.tcbInfo), /SEAMATTRIBUTES/)
  assert.is(checkTdxModule({...td, tee_tcb_svn: svn(0)}, col.tcbInfo).identity, col.tcbInfo.tdx_module)
  failsWith('TDX_MODULE_MISMATCH', () => checkTdxModule({...td, tee_tcb_svn: svn(0)}, {...col.tcbInfo, tdx_module: undefined}), /no tdxModule entry/)
})

test.run()
