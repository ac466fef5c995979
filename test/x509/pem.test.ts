/** x509/pem: the one reader of certificate files a user gives (roots, trust anchors, identities), against the real Intel root. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {derToPem, pemCertificates} from '../../src/x509/pem.js'
import {readVector, vectorTest} from '../helpers/vectors.js'
import {fingerprintOf, INTEL_SGX_ROOT_CA_SHA256, rootFingerprints} from '../../src/verify/roots.js'
import {certificatesOf} from '../../src/app/device-inputs.js'
import {X509Error} from '../../src/x509/cert.js'

const rootPem = () => readVector('real', 'intel-sgx-root-ca', 'IntelSGXRootCA.pem').toString('latin1')

vectorTest(test, 'explanatory text around the blocks is ignored (RFC 7468 §2), as openssl writes it', () => {
  const [der] = pemCertificates(rootPem())
  assert.is(fingerprintOf(der), INTEL_SGX_ROOT_CA_SHA256)
  const annotated = `subject=CN = Intel SGX Root CA\nissuer=CN = Intel SGX Root CA\n${derToPem(der)}trailing words\n${derToPem(der)}`
  assert.equal(pemCertificates(annotated).map(fingerprintOf), [INTEL_SGX_ROOT_CA_SHA256, INTEL_SGX_ROOT_CA_SHA256])
  assert.equal(rootFingerprints(annotated), [INTEL_SGX_ROOT_CA_SHA256, INTEL_SGX_ROOT_CA_SHA256])
  assert.equal(certificatesOf(Buffer.from(annotated, 'latin1')).map(fingerprintOf), [INTEL_SGX_ROOT_CA_SHA256, INTEL_SGX_ROOT_CA_SHA256])
})

vectorTest(test, 'a block that is not canonical base64 is refused by every caller, not skipped or half-decoded', () => {
  const pem = derToPem(pemCertificates(rootPem())[0])
  const lines = pem.split('\n')
  const lastData = lines.length - 3 // the last base64 line, before END and the final newline
  const broken = [...lines.slice(0, lastData), lines[lastData] + 'A', ...lines.slice(lastData + 1)].join('\n') // one character too many
  assert.throws(() => pemCertificates(broken), (e: unknown) => e instanceof X509Error)
  assert.throws(() => certificatesOf(Buffer.from(broken, 'latin1')), (e: unknown) => e instanceof X509Error)
  assert.throws(() => rootFingerprints(broken), (e: unknown) => (e as {code?: string}).code === 'BAD_ROOT')
  assert.throws(() => pemCertificates('subject=nothing here\n'), (e: unknown) => e instanceof X509Error)
})

test.run()
