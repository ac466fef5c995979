/**
 * `quote verify` setup: --at parsing, root CA files, the choice of collateral source, the options
 * handed to the verifier (defaultOptions narrowed), collateral and policy files.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {loadCollateralFile} from '../../src/app/collateral-file.js'
import {loadPolicyFile, parseAt, policyFromFlags, resolveVerifySetup, rootFingerprintsFromFile} from '../../src/app/verify-setup.js'
import {ExitCode, TdxkitError} from '../../src/errors.js'
import type {StateStore} from '../../src/state/store.js'
import {INTEL_SGX_ROOT_CA_SHA256} from '../../src/verify/roots.js'
import {parsePemChain} from '../../src/x509/dcap.js'
import {parseQuote} from '../../src/abi/quote.js'
import {tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

const DIR = 'dcapqvl-tdx-v4-uptodate'
const noStore = (): StateStore => {
  throw new Error('the state store must not be opened')
}
const errorOf = (fn: () => unknown): TdxkitError | undefined => {
  try {
    fn()
  } catch (e) {
    if (e instanceof TdxkitError) return e
    throw e
  }
  return undefined
}
const rejects = async (p: Promise<unknown>): Promise<TdxkitError> => {
  try {
    await p
  } catch (e) {
    if (e instanceof TdxkitError) return e
    throw e
  }
  throw new Error('expected a rejection')
}
const flags = (over: Partial<Parameters<typeof resolveVerifySetup>[0]> = {}) => ({files: ['q.bin'], rootCa: 'intel', signaturesOnly: false, ...over})

test('--at: unix seconds or ISO 8601; the clock when absent; anything else BAD_TIME (exit 2)', () => {
  assert.is(parseAt('1752919234'), 1752919234)
  assert.is(parseAt('1752919234.5'), 1752919234.5)
  assert.is(parseAt('2025-07-19T10:00:34Z'), 1752919234)
  assert.is(parseAt(undefined, () => 1752919234999), 1752919234)
  const e = errorOf(() => parseAt('yesterday'))
  assert.is(e?.code, 'BAD_TIME')
  assert.is(e?.exit, ExitCode.USAGE)
})

vectorTest(test, '--root-ca FILE: PEM (one or several) or DER; unreadable and non-certificate files named', () => {
  const chain = parsePemChain(parseQuote(readVector('real', DIR, 'quote.bin')).pck_chain_pem!, false)
  const dir = tempDir()
  const pem = join(dir, 'root.pem')
  writeFileSync(pem, `-----BEGIN CERTIFICATE-----\n${chain[2].toString('base64')}\n-----END CERTIFICATE-----\n`)
  assert.equal(rootFingerprintsFromFile(pem), [INTEL_SGX_ROOT_CA_SHA256])
  const der = join(dir, 'root.der')
  writeFileSync(der, chain[2])
  assert.equal(rootFingerprintsFromFile(der), [INTEL_SGX_ROOT_CA_SHA256])
  const text = join(dir, 'root.txt')
  writeFileSync(text, 'hello')
  assert.is(errorOf(() => rootFingerprintsFromFile(text))?.code, 'BAD_ROOT_CA')
  assert.is(errorOf(() => rootFingerprintsFromFile(join(dir, 'missing.pem')))?.code, 'UNREADABLE_INPUT')
})

vectorTest(test, 'collateral source: one of --collateral / --pccs-url / --signatures-only; a file gives defaultOptions(now) with that bundle', async () => {
  const file = vectorPath('real', DIR, 'collateral.json')
  const s = await resolveVerifySetup(flags({collateral: file, at: '1752919234'}), noStore)
  assert.equal(s.options, {now: 1752919234, trustedRoots: [INTEL_SGX_ROOT_CA_SHA256], collateral: loadCollateralFile(file)})
  assert.is(s.collateral_source, file)
  assert.is(s.root_source, 'intel')
  const none = await resolveVerifySetup(flags({signaturesOnly: true, at: '1752919234'}), noStore)
  assert.equal(none.options, {now: 1752919234, trustedRoots: [INTEL_SGX_ROOT_CA_SHA256]})
  assert.match(none.collateral_source, /^none/)
  assert.is((await rejects(resolveVerifySetup(flags({collateral: file, signaturesOnly: true}), noStore))).code, 'USAGE')
  assert.is((await rejects(resolveVerifySetup(flags(), noStore))).code, 'NO_COLLATERAL')
})

test('collateral files: not JSON is exit 2, the wrong shape exit 4', () => {
  const dir = tempDir()
  const bad = join(dir, 'bad.json')
  writeFileSync(bad, '{"pck_crl": ')
  const e = errorOf(() => loadCollateralFile(bad))
  assert.equal([e?.code, e?.exit], ['COLLATERAL_JSON', ExitCode.USAGE])
  const shape = join(dir, 'shape.json')
  writeFileSync(shape, '{"pck_crl": "00"}')
  const s = errorOf(() => loadCollateralFile(shape))
  assert.equal([s?.code, s?.exit], ['COLLATERAL_MALFORMED', ExitCode.COLLATERAL])
})

test('policy: the file, then the flags over it; errors name file:line:column', () => {
  const dir = tempDir()
  const f = join(dir, 'policy.json')
  writeFileSync(f, '{"allow_debug": true, "min_tcb_status": "OutOfDate"}')
  assert.equal(loadPolicyFile(f).min_tcb_status, 'OutOfDate')
  const p = policyFromFlags({policy: f, minTcbStatus: 'UpToDate', allowPerfmon: true, expect: ['xfam=e718060000000000']})
  assert.equal([p.allow_debug, p.allow_perfmon, p.min_tcb_status, p.expected.xfam], [true, true, 'UpToDate', ['e718060000000000']])
  assert.equal(policyFromFlags({}).allow_debug, false)
  writeFileSync(f, '{\n  "allow_debug": 1\n}')
  assert.match(errorOf(() => policyFromFlags({policy: f}))!.message, /policy\.json:2:18: "allow_debug" must be true or false/)
})

test.run()
