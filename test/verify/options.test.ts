/**
 * The verifier's options object: what defaultOptions(now) holds, which defaults a QuoteVerifier
 * applies when a field is left out, how bad values are refused, and how getCollateral picks each
 * quote's collateral in PlatformVerifiers.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import type {QuoteCollateralV3} from '../../src/abi/collateral.js'
import {TdxkitError} from '../../src/errors.js'
import {DEFAULT_TRUSTED_ROOTS, defaultOptions, resolveOptions} from '../../src/verify/options.js'
import type {CollateralKey} from '../../src/verify/pck-info.js'
import {PlatformVerifiers} from '../../src/verify/platforms.js'
import {INTEL_SGX_ROOT_CA_SHA256} from '../../src/verify/roots.js'
import {QuoteVerifier} from '../../src/verify/verifier.js'
import {readVector, vectorTest} from '../helpers/vectors.js'

const DIR = 'dcapqvl-tdx-v4-uptodate'
const AT = 1752919234
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (e) {
    return e instanceof TdxkitError ? e.code : String(e)
  }
  return undefined
}

test('defaultOptions(now): the Intel SGX Root CA pinned, no collateral, a fresh roots array each call', () => {
  assert.equal(defaultOptions(AT), {now: AT, trustedRoots: [INTEL_SGX_ROOT_CA_SHA256]})
  assert.equal([...DEFAULT_TRUSTED_ROOTS], ['44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3'])
  const a = defaultOptions(AT)
  ;(a.trustedRoots as string[]).push('00'.repeat(32))
  assert.equal(defaultOptions(AT).trustedRoots, [INTEL_SGX_ROOT_CA_SHA256])
  assert.is(DEFAULT_TRUSTED_ROOTS.length, 1)
  assert.ok(Object.isFrozen(DEFAULT_TRUSTED_ROOTS))
})

test('resolveOptions: roots default to Intel and are normalised; now in ms; bad time or fingerprint refused', () => {
  const r = resolveOptions({now: 1.0005})
  assert.equal([...r.roots], [INTEL_SGX_ROOT_CA_SHA256])
  assert.is(r.nowMs, 1001)
  assert.is(r.collateral, undefined)
  const spaced = INTEL_SGX_ROOT_CA_SHA256.toUpperCase().match(/../g)!.join(':')
  assert.equal([...resolveOptions({now: AT, trustedRoots: [spaced]}).roots], [INTEL_SGX_ROOT_CA_SHA256])
  assert.equal([...resolveOptions({now: AT, trustedRoots: []}).roots], [], 'an empty list trusts nothing (not the default)')
  assert.is(codeOf(() => resolveOptions({now: Number.NaN})), 'BAD_TIME')
  assert.is(codeOf(() => resolveOptions({now: Infinity})), 'BAD_TIME')
  assert.is(codeOf(() => resolveOptions({now: AT, trustedRoots: ['abcd']})), 'BAD_FINGERPRINT')
  assert.is(codeOf(() => new QuoteVerifier({now: Number.NaN})), 'BAD_TIME')
})

vectorTest(test, 'a QuoteVerifier with the defaults: signatures-only without collateral, Intel root trusted, "now" decides validity', () => {
  const quote = readVector('real', DIR, 'quote.bin')
  const r = new QuoteVerifier(defaultOptions(AT)).verify(quote)
  assert.is(r.ok, true, r.error?.message)
  assert.is(r.mode, 'signatures-only')
  assert.is(r.at_unix, AT)
  assert.is(r.status, null)
  assert.ok(r.steps.filter((s) => s.result === 'skip').every((s) => s.detail === 'not applicable without collateral'))
  const untrusted = new QuoteVerifier({...defaultOptions(AT), trustedRoots: ['00'.repeat(32)]}).verify(quote)
  assert.is(untrusted.error?.code, 'PCK_CHAIN_UNTRUSTED_ROOT')
  const later = new QuoteVerifier(defaultOptions(Date.parse('2040-01-01T00:00:00Z') / 1000)).verify(quote)
  assert.is(later.error?.code, 'PCK_CERT_EXPIRED')
})

vectorTest(test, 'getCollateral: each quote verified with its own platform\'s bundle; missing and failed platforms named', () => {
  const quote = readVector('real', DIR, 'quote.bin')
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const asked: CollateralKey[] = []
  const pool = new PlatformVerifiers({
    ...defaultOptions(AT),
    getCollateral: (k) => {
      asked.push(k)
      return collateral
    },
  })
  const v = pool.forQuote(quote)
  assert.instance(v, QuoteVerifier)
  assert.is((v as QuoteVerifier).verify(quote).status, 'UpToDate')
  assert.is(pool.forQuote(quote), v, 'one verifier per platform')
  assert.equal(asked, [{fmspc: 'b0c06f000000', ca: 'platform', tee: 'tdx'}])

  assert.equal(new PlatformVerifiers({...defaultOptions(AT), getCollateral: () => undefined}).forQuote(quote), {
    code: 'COLLATERAL_MISSING',
    message: 'no collateral was fetched for platform tdx/b0c06f000000/platform',
    exit_code: 4,
  })
  const error = {code: 'PCCS_HTTP_ERROR', message: 'platform tdx/b0c06f000000/platform: HTTP 404', exit_code: 4}
  assert.equal(new PlatformVerifiers({...defaultOptions(AT), getCollateral: () => ({error})}).forQuote(quote), error)
  // Without a getter every quote goes to the one verifier; an unparsable quote too (it reports itself).
  const single = new PlatformVerifiers({...defaultOptions(AT), collateral})
  assert.is(single.forQuote(quote), single.verifier)
  const withGetter = new PlatformVerifiers({...defaultOptions(AT), getCollateral: () => collateral})
  assert.is(withGetter.forQuote(Buffer.from('not a quote')), withGetter.verifier)
})

test.run()
