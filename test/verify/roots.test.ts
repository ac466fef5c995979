/**
 * Trusted roots given every way a user has them: SHA-256 fingerprint (with colons, any case), PEM
 * text, PEM file (bundle), DER bytes / file — in the library's `trustedRoots` and `quote verify
 * --root-ca` (repeatable); a PEM given where a fingerprint is expected just works, and anything else
 * is a one-line error (exit 2), never a stack trace. Truth: Intel's root certificate from the real
 * vectors and its published SHA-256 44a0196b…74d3.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {QuoteVerifier, verifyQuote} from '../../src/verify/verifier.js'
import {rootFingerprints} from '../../src/verify/roots.js'
import type {TdxkitError} from '../../src/errors.js'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

const ROOT_SHA256 = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3'
const DIR = 'dcapqvl-tdx-v4-uptodate'
const AT = 1752919234

vectorTest(test, 'library: fingerprint, colon fingerprint, PEM text and DER bytes all pin the Intel root', () => {
  const pem = readVector('real', 'intel-sgx-root-ca', 'IntelSGXRootCA.pem').toString('utf8')
  const der = readVector('real', 'intel-sgx-root-ca', 'IntelSGXRootCA.der')
  const colons = ROOT_SHA256.toUpperCase().match(/../g)!.join(':')
  for (const root of [ROOT_SHA256, colons, pem, new Uint8Array(der)]) assert.equal(rootFingerprints(root), [ROOT_SHA256])
  const quote = readVector('real', DIR, 'quote.bin')
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8'))
  for (const root of [pem, der, colons]) assert.is(verifyQuote(quote, {now: AT, collateral, trustedRoots: [root]}).status, 'UpToDate')
  // A different root (the fingerprint of something else) rejects the chain.
  assert.is(verifyQuote(quote, {now: AT, collateral, trustedRoots: ['00'.repeat(32)]}).error?.code, 'PCK_CHAIN_UNTRUSTED_ROOT')
})

test('library: a bad root is a TdxkitError with a one-line message', () => {
  for (const [root, code] of [
    ['-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n', 'BAD_ROOT'],
    ['not a root', 'BAD_FINGERPRINT'],
    [new Uint8Array([1, 2, 3]), 'BAD_ROOT'],
  ] as const) {
    let err: TdxkitError | undefined
    try {
      new QuoteVerifier({now: AT, trustedRoots: [root]})
    } catch (e) {
      err = e as TdxkitError
    }
    assert.is(err?.code, code, String(root))
    assert.not.match(err!.message, /\n/)
    assert.ok(err!.message.length < 200)
  }
})

vectorTest(test, 'CLI --root-ca: fingerprint, PEM file, DER file, pasted PEM text, repeated; bad values are one line, exit 2', async () => {
  const tmp = tempDir()
  const pemFile = vectorPath('real', 'intel-sgx-root-ca', 'IntelSGXRootCA.pem')
  const derFile = vectorPath('real', 'intel-sgx-root-ca', 'IntelSGXRootCA.der')
  const base = ['quote', 'verify', vectorPath('real', DIR, 'quote.bin'), '--collateral', vectorPath('real', DIR, 'collateral.json'), '--at', String(AT), '--json']
  const pemText = readFileSync(pemFile, 'utf8')
  for (const roots of [[ROOT_SHA256], [pemFile], [derFile], [pemText], ['00'.repeat(32), ROOT_SHA256]]) {
    const r = await cliAsync([...base, ...roots.flatMap((x) => ['--root-ca', x])], {stateDir: tmp})
    assert.is(r.code, 0, `${roots.join(' ').slice(0, 40)}: ${r.stdout}`)
  }
  const other = await cliAsync([...base, '--root-ca', 'ab'.repeat(32)], {stateDir: tmp})
  assert.is(other.code, 3)
  const junk = join(tmp, 'junk.pem')
  writeFileSync(junk, '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n')
  for (const bad of ['-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----', junk, join(tmp, 'missing.pem'), 'ab'.repeat(31)]) {
    const r = await cliAsync(base.filter((a) => a !== '--json').concat(['--root-ca', bad]), {stateDir: tmp})
    assert.is(r.code, 2, `${bad}: ${r.stderr}`)
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /^tdxkit: error: /)
    assert.not.match(r.stderr, /\s+at /)
  }
})

test('device --trust-anchor: a fingerprint gets a one-line explanation (exit 2)', async () => {
  const r = await cliAsync(['device', 'verify', join(tempDir(), 'ev.cbor'), '--reference', join(tempDir(), 'ref.cbor'), '--trust-anchor', ROOT_SHA256], {stateDir: tempDir()})
  assert.is(r.code, 2)
  assert.match(r.stderr, /^tdxkit: error: --trust-anchor takes a PEM or DER certificate .*not a fingerprint/)
  assert.is(r.stderr.trim().split('\n').length, 1)
})

test.run()
