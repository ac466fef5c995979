/**
 * Regression inputs for the bugs the verifier-side fuzzing found (each failed before its fix):
 *  1. TCB info with a deeply nested tcbStatus: the error message JSON-stringified the value and
 *     overflowed the stack (RangeError out of the verifier instead of TCB_INFO_MALFORMED).
 *  2. PCK SGX extension holding a UniversalString whose length is not a multiple of 4: asn1js threw
 *     a bare RangeError out of parsePckExtension.
 *  3. Policy JSON nested thousands deep: the positioned JSON reader recursed until RangeError.
 *  4. Policy JSON with tens of thousands of values: line/column lookup per value was quadratic
 *     (a 700 KB policy took over a minute).
 *  5. Policy key "__proto__" was silently swallowed (set the object's prototype) instead of being
 *     rejected as an unknown key; "constructor"/"toString" under "expected" passed the known-field
 *     check via the prototype chain and gave a nonsense message.
 *  6. Policy and collateral files were read whole with no size bound.
 *  7. (long campaign) Signed TCB info / QE identity JSON of 6-17 MB with deep nesting took 3-4 s to
 *     decode; policies of tens of MB took 4 s: both now have a size bound with a clear error.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {parsePckExtension, PckExtensionError} from '../../src/abi/pck-extension.js'
import {CollateralFormatError, MAX_SIGNED_JSON_BYTES, parseQeIdentity, parseTcbInfo} from '../../src/abi/tcb-info.js'
import {policyFromFlags} from '../../src/app/verify-setup.js'
import {readTextInput as readJsonText} from '../../src/app/files.js'
import {MAX_POLICY_BYTES, parsePolicy} from '../../src/appraise/policy.js'
import {TdxkitError} from '../../src/errors.js'
import {signP256} from '../../src/x509/ecdsa.js'
import {QuoteVerifier} from '../../src/verify/verifier.js'
import {tempDir} from '../helpers/cli.js'
import {simPlatform, simSeeds} from './lib/seeds.js'

const sim = await simPlatform()
const [v4] = await simSeeds(sim)

const code = (fn: () => unknown): string => {
  try {
    fn()
  } catch (e) {
    if (e instanceof TdxkitError) return e.code
    return `${(e as Error).constructor.name}: ${(e as Error).message}`
  }
  return 'no error'
}

test('1. deeply nested tcbStatus: CollateralFormatError from the decoder, TCB_INFO_MALFORMED from the verifier', () => {
  const doc = JSON.parse(sim.collateral.tcb_info)
  const deep = '['.repeat(20000) + '1' + ']'.repeat(20000)
  const text = JSON.stringify(doc).replace(/"tcbStatus":"[A-Za-z]+"/, `"tcbStatus":${deep}`)
  assert.throws(() => parseTcbInfo(text), (e: unknown) => e instanceof CollateralFormatError && /unknown TCB status an array/.test((e as Error).message))
  const collateral = {...sim.collateral, tcb_info: text, tcb_info_signature: signP256(Buffer.from(text, 'utf8'), sim.privateKeys.tcbSigning).toString('hex')}
  const r = new QuoteVerifier({now: v4.at, trustedRoots: [sim.rootFingerprint], collateral}).verify(v4.quote)
  assert.is(r.error?.code, 'TCB_INFO_MALFORMED')
  assert.is(r.exit_code, 4)
})

test('2. SGX extension with a 2-byte UniversalString: PckExtensionError, not RangeError', () => {
  // The value came from the real leaf's extension position; asn1js threw a RangeError on it.
  assert.throws(() => parsePckExtension(new Uint8Array([0x30, 0x04, 0x1c, 0x02, 0x41, 0x41])), (e: unknown) => e instanceof PckExtensionError)
})

test('3. policy nested 200000 deep: POLICY_INVALID with a position', () => {
  let err: unknown
  try {
    parsePolicy('{"expected":' + '['.repeat(200000), 'p.json')
  } catch (e) {
    err = e
  }
  assert.instance(err, TdxkitError)
  assert.is((err as TdxkitError).code, 'POLICY_INVALID')
  assert.match((err as Error).message, /^p\.json:1:\d+: invalid JSON: nested deeper than/)
})

test('4. a policy with 40000 advisories parses, and errors after them name the right line', () => {
  const lines = Array.from({length: 40000}, () => '"INTEL-SA-00001"')
  const p = parsePolicy(`{"allowed_advisories":[\n${lines.join(',\n')}\n]}`)
  assert.is(p.allowed_advisories!.length, 40000)
  lines[39999] = '"bad"'
  assert.throws(() => parsePolicy(`{"allowed_advisories":[\n${lines.join(',\n')}\n]}`, 'p.json'), /^p\.json:40001:1: advisory IDs/)
})

test('5. "__proto__" is an unknown policy key; prototype names are unknown expected fields and --expect fields', () => {
  assert.throws(() => parsePolicy('{"__proto__": {"allow_debug": true}}', 'p.json'), /p\.json:1:2: unknown policy key "__proto__"/)
  for (const f of ['constructor', 'toString', 'hasOwnProperty']) {
    assert.throws(() => parsePolicy(`{"expected": {"${f}": "aa"}}`, 'p.json'), new RegExp(`unknown field "${f}" in "expected"`))
    assert.is(code(() => policyFromFlags({expect: [`${f}=aa`]})), 'BAD_EXPECT')
    assert.throws(() => policyFromFlags({expect: [`${f}=aa`]}), /use FIELD=HEX/)
  }
})

test('6. policy / collateral text files are size-bounded', () => {
  const f = join(tempDir(), 'big.json')
  writeFileSync(f, '{"comment":"' + 'x'.repeat(5000) + '"}')
  assert.is(code(() => readJsonText(f, 'policy', 4096)), 'INPUT_TOO_LARGE')
  assert.ok(readJsonText(f, 'policy', 1 << 20).length > 5000)
  assert.is(code(() => readJsonText('/dev/zero', 'collateral', 1 << 20)), 'INPUT_TOO_LARGE')
  assert.is(code(() => readJsonText(join(tempDir(), 'missing.json'), 'policy')), 'UNREADABLE_INPUT')
})

test('7. oversized signed JSON and policy documents are refused before decoding', () => {
  const pad = ' '.repeat(MAX_SIGNED_JSON_BYTES)
  assert.throws(() => parseTcbInfo(sim.collateral.tcb_info + pad), (e: unknown) => e instanceof CollateralFormatError && /more than the/.test((e as Error).message))
  assert.throws(() => parseQeIdentity(sim.collateral.qe_identity + pad), (e: unknown) => e instanceof CollateralFormatError)
  assert.ok(parseTcbInfo(sim.collateral.tcb_info + ' '.repeat(1000)).levels.length > 0, 'whitespace alone is fine')
  assert.is(code(() => parsePolicy('{"comment": "' + 'x'.repeat(MAX_POLICY_BYTES) + '"}')), 'POLICY_TOO_LARGE')
  // Through the verifier (re-signed, so the size check is what rejects it): exit 4.
  const text = sim.collateral.tcb_info + pad
  const collateral = {...sim.collateral, tcb_info: text, tcb_info_signature: signP256(Buffer.from(text, 'utf8'), sim.privateKeys.tcbSigning).toString('hex')}
  const r = new QuoteVerifier({now: v4.at, trustedRoots: [sim.rootFingerprint], collateral}).verify(v4.quote)
  assert.is(r.error?.code, 'TCB_INFO_MALFORMED')
})

test.run()
