/**
 * Every check in ../shared/testvectors/real/<vector>/expected.json, through the library, plus the
 * @phala/dcap-qvl oracle on every vector with collateral.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createRequire} from 'node:module'
import {existsSync, readdirSync} from 'node:fs'
import {readVector, vectorPath, vectorTest, vectorsPresent} from '../helpers/vectors.js'
import {verifyQuote, type VerifyResult} from '../../src/verify/verifier.js'
import {appraise} from '../../src/appraise/appraise.js'
import {defaultPolicy} from '../../src/appraise/policy.js'
import {fingerprintOf} from '../../src/verify/roots.js'
import {parsePemChain} from '../../src/x509/dcap.js'
import {parseQuote} from '../../src/abi/quote.js'
import type {QuoteCollateralV3} from '../../src/abi/collateral.js'

const require = createRequire(import.meta.url)
const dcap = require('@phala/dcap-qvl') as {verify(q: Buffer, c: unknown, now: number): {status: string; advisory_ids: string[]}}

interface Check {
  at_unix?: number
  quote?: string
  with?: string
  what?: string
  expect: {result: string; status?: string; advisory_ids?: string[]} | string
}
interface Expected {
  quote?: {file: string}
  checks: Check[]
}

/** Checks that verify without collateral (signature and chain checks only). */
const noCollateral = (c: Check) => /no collateral|signature-level|internal consistency|PCK chain against/.test(c.what ?? '')

const vectors = vectorsPresent()
  ? readdirSync(vectorPath('real')).filter((d) => existsSync(vectorPath('real', d, 'expected.json')))
  : []

const json = <T>(...p: string[]): T => JSON.parse(readVector(...p).toString('utf8')) as T

function collateralFor(dir: string, c: Check): QuoteCollateralV3 | undefined {
  if (noCollateral(c)) return undefined
  const rel = c.with ?? 'collateral.json'
  return existsSync(vectorPath('real', dir, rel)) ? json<QuoteCollateralV3>('real', dir, rel) : undefined
}

/** What each expected error means, as our error code (asserts the failing step too). */
const EXPECTED_ERROR: Record<string, {code: string; step: string}> = {
  'dcapqvl-sgx-v3-config-swhardening@1752919279': {code: 'QE_IDENTITY_EXPIRED', step: 'qe_identity'},
  'dcapqvl-tdx-v4-uptodate@1752919236': {code: 'CRL_EXPIRED', step: 'crls'},
  'dcapqvl-tdx-v5-tcb-unmatched@1774003274': {code: 'TCB_NOT_SUPPORTED', step: 'tcb_level'},
  'dcapqvl-tdx-v4-sgx-collateral-mismatch@1725258675': {code: 'TCB_INFO_MISMATCH', step: 'tcb_info'},
  'gotdx-tdx-v4-spr@1688173200': {code: 'TCB_NOT_SUPPORTED', step: 'tcb_level'},
  'gotdx-tdx-v4-spr@2635117200': {code: 'PCK_CERT_EXPIRED', step: 'pck_chain'},
  'gotdx-tdx-v5@1772549367': {code: 'TCB_INFO_EXPIRED', step: 'tcb_info'},
  'gotdx-tdx-v5-preprod-root@1700000000': {code: 'PCK_CHAIN_UNTRUSTED_ROOT', step: 'pck_chain'},
  'trustee-tdx-v4-tdx03-outofdate@1762944333': {code: 'CRL_EXPIRED', step: 'crls'},
}

let checked = 0
for (const dir of vectors) {
  const exp = json<Expected>('real', dir, 'expected.json')
  exp.checks.forEach((c, i) => {
    if (c.at_unix === undefined || typeof c.expect === 'string') return
    const e = c.expect
    if (e.result !== 'ok' && e.result !== 'error') return
    const file = c.quote ?? exp.quote?.file ?? 'quote.bin'
    if (/policy/.test(c.what ?? '')) {
      // A policy check: authentic quote, rejected by the default appraisal policy.
      vectorTest(test, `${dir} #${i} ${file}: default policy rejects`, () => {
        const quote = readVector('real', dir, file)
        const collateral = collateralFor(dir, {...c, with: c.with ?? (dir === 'trustee-tdx-v4-debug' ? '../gotdx-tdx-v4-spr/collateral.json' : undefined)})
        const r = verifyQuote(quote, {now: c.at_unix!, ...(collateral ? {collateral} : {})})
        assert.ok(r.ok, r.error?.message)
        const a = appraise(r, quote, defaultPolicy())
        assert.not.ok(a.ok)
        assert.ok(a.violations.some((v) => v.rule === 'debug'))
      })
      return
    }
    vectorTest(test, `${dir} #${i} ${file} @${c.at_unix}: ${e.result}${e.status ? ' ' + e.status : ''}`, () => {
      const quote = readVector('real', dir, file)
      const collateral = collateralFor(dir, c)
      let trustedRoots: string[] | undefined
      // The pre-production vector's internal-consistency check trusts its own (pre-production) root.
      if (dir === 'gotdx-tdx-v5-preprod-root' && e.result === 'ok') {
        const certs = parsePemChain(parseQuote(quote).pck_chain_pem!, true)
        trustedRoots = [fingerprintOf(certs[certs.length - 1])]
      }
      const r = verifyQuote(quote, {now: c.at_unix!, ...(collateral ? {collateral} : {}), ...(trustedRoots ? {trustedRoots} : {})})
      checked++
      if (e.result === 'ok') {
        assert.ok(r.ok, `expected ok, got ${r.error?.code}: ${r.error?.message}`)
        assert.is(r.exit_code, 0)
        if (collateral) {
          assert.is(r.status, e.status ?? 'UpToDate')
          assert.equal(new Set(r.advisory_ids), new Set(e.advisory_ids ?? []))
          assert.ok(r.steps.every((s) => s.result === 'pass' || (s.id === 'tdx_module' && r.quote?.tee_type === 'SGX')), 'every step passes')
        } else {
          assert.is(r.mode, 'signatures-only')
          assert.is(r.status, null)
        }
      } else {
        assert.not.ok(r.ok)
        const want = EXPECTED_ERROR[`${dir}@${c.at_unix}`]
        assert.ok(want, `an expected error code is listed for ${dir}@${c.at_unix} (got ${r.error?.code})`)
        assert.is(r.error?.code, want.code, r.error?.message)
        assert.is(r.error?.step, want.step)
        assert.ok([3, 4, 5].includes(r.exit_code), `exit ${r.exit_code}`)
        assert.is(r.steps.find((s) => s.result === 'fail')?.id, want.step)
      }
    })
  })
}

vectorTest(test, 'all expected checks with a time ran', () => {
  assert.ok(checked >= 24, `ran ${checked} checks`)
})

// ---------------------------------------------------------------------------------------------
// Appraisal cases (default policy)
// ---------------------------------------------------------------------------------------------

function verified(dir: string, at: number, colDir?: string): {r: VerifyResult; quote: Buffer} {
  const quote = readVector('real', dir, 'quote.bin')
  const collateral = colDir ? json<QuoteCollateralV3>('real', colDir, 'collateral.json') : undefined
  const r = verifyQuote(quote, {now: at, ...(collateral ? {collateral} : {})})
  assert.ok(r.ok, r.error?.message)
  return {r, quote}
}

vectorTest(test, 'trustee debug TD: TCB UpToDate but the default policy rejects debug; --allow-debug accepts', () => {
  const {r, quote} = verified('trustee-tdx-v4-debug', 1688173200, 'gotdx-tdx-v4-spr')
  assert.is(r.status, 'UpToDate')
  const a = appraise(r, quote, defaultPolicy())
  assert.equal(a.violations.map((v) => v.rule), ['debug'])
  assert.ok(appraise(r, quote, {...defaultPolicy(), allow_debug: true}).ok)
})

vectorTest(test, 'Azure TD without SEPT_VE_DISABLE: default policy rejects, opt-in accepts', () => {
  const {r, quote} = verified('trustee-tdx-v4-azure-vtpm', 1697000000)
  assert.equal(appraise(r, quote, defaultPolicy()).violations.map((v) => v.rule), ['sept_ve_disable'])
  assert.ok(appraise(r, quote, {...defaultPolicy(), allow_missing_sept_ve_disable: true}).ok)
})

vectorTest(test, 'PERFMON TD: default policy rejects, opt-in accepts', () => {
  const {r, quote} = verified('moemahhouk-tdx-v4-perfmon', 1720000000)
  assert.equal(appraise(r, quote, defaultPolicy()).violations.map((v) => v.rule), ['perfmon'])
  assert.ok(appraise(r, quote, {...defaultPolicy(), allow_perfmon: true}).ok)
})

vectorTest(test, 'expected measurements and minimum TCB status', () => {
  const {r, quote} = verified('trustee-tdx-v4-tdx03-outofdate', 1762944331, 'trustee-tdx-v4-tdx03-outofdate')
  assert.is(r.status, 'OutOfDate')
  const mrtd = parseQuote(quote).td!.mrtd.toString('hex')
  assert.ok(appraise(r, quote, {...defaultPolicy(), expected: {mrtd: [mrtd]}}).ok)
  const wrong = appraise(r, quote, {...defaultPolicy(), expected: {mrtd: ['00'.repeat(48)], rtmr0: ['11'.repeat(48)]}})
  assert.equal(wrong.violations.map((v) => v.rule), ['expected.mrtd', 'expected.rtmr0'])
  assert.equal(appraise(r, quote, {...defaultPolicy(), min_tcb_status: 'UpToDate'}).violations.map((v) => v.rule), ['min_tcb_status'])
  assert.ok(appraise(r, quote, {...defaultPolicy(), min_tcb_status: 'OutOfDate'}).ok)
})

vectorTest(test, 'allowed advisories: SGX v3 advisories must be in the allow-list', () => {
  const {r, quote} = verified('dcapqvl-sgx-v3-config-swhardening', 1752919277, 'dcapqvl-sgx-v3-config-swhardening')
  assert.equal(appraise(r, quote, {...defaultPolicy(), allowed_advisories: ['INTEL-SA-00289']}).violations.map((v) => v.rule), ['allowed_advisories'])
  assert.ok(appraise(r, quote, {...defaultPolicy(), allowed_advisories: ['INTEL-SA-00289', 'INTEL-SA-00615']}).ok)
})

// ---------------------------------------------------------------------------------------------
// Oracle: @phala/dcap-qvl (pure JS) on every vector with collateral
// ---------------------------------------------------------------------------------------------

/**
 * Where the oracle and Intel's rules differ, Intel's rules win and the difference is listed here:
 * dcap-qvl-js does not check CRL expiry (so it accepts after the PCK CRL's nextUpdate), and it has
 * no TDX module-identity handling; neither affects the "ok" checks compared below.
 */
for (const dir of vectors) {
  const exp = json<Expected>('real', dir, 'expected.json')
  exp.checks.forEach((c, i) => {
    if (c.at_unix === undefined || typeof c.expect === 'string' || noCollateral(c)) return
    const e = c.expect
    const file = c.quote ?? exp.quote?.file ?? 'quote.bin'
    const collateral = collateralFor(dir, c)
    if (!collateral) return
    // Only compare inside the collateral window (dcap-qvl-js ignores CRL expiry by design).
    if (e.result === 'error' && /expired/i.test(JSON.stringify(e))) return
    vectorTest(test, `oracle dcap-qvl agrees: ${dir} #${i} @${c.at_unix}`, () => {
      const quote = readVector('real', dir, file)
      const ours = verifyQuote(quote, {now: c.at_unix!, collateral})
      let theirs: {status: string; advisory_ids: string[]} | undefined
      let theirError: string | undefined
      try {
        theirs = dcap.verify(quote, collateral, c.at_unix!)
      } catch (err) {
        theirError = (err as Error).message
      }
      if (theirError && /debug/i.test(theirError)) {
        // dcap-qvl applies its attribute policy inside verify; tdxkit does it in appraisal.
        assert.ok(ours.ok && !appraise(ours, quote, defaultPolicy()).ok, 'tdxkit default policy rejects the debug TD too')
        return
      }
      if (ours.ok) {
        assert.ok(theirs, `dcap-qvl failed: ${theirError}`)
        assert.is(ours.status, theirs!.status)
        assert.equal(new Set(ours.advisory_ids), new Set(theirs!.advisory_ids ?? []))
      } else {
        assert.ok(theirError, `dcap-qvl accepted what tdxkit rejected (${ours.error?.code}) with ${theirs?.status}`)
      }
    })
  })
}

test.run()
