/**
 * Real third-party data: DMTF libspdm certificate chains, DMTF spdm-emu's sample measurement
 * record, veraison CoRIM / CoMID / concise-evidence test cases (see each PROVENANCE.md).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import {readVector, vectorTest} from '../helpers/vectors.js'
import {verifyCertChain} from '../../src/device/chain.js'
import {splitDerCerts} from '../../src/x509/chain.js'
import {spdmCertChain} from '../../src/spdm/context.js'
import {SpdmBaseAsym, decodeMeasurementRecord, blockTypeName} from '../../src/abi/spdm.js'
import {decodeCorim, encodeCorim, loadPublicKey} from '../../src/device/corim.js'
import {appraiseMeasurements, referenceByIndex} from '../../src/device/verifier.js'

const AT = new Date('2026-09-01T00:00:00Z')
const CHAINS = [
  {file: 'ecp256-bundle_responder.certchain.der', sizes: [411, 450, 557], asym: SpdmBaseAsym.ECDSA_P256, cn: 'ECP256',
    rootSha384: 'a91441ca4ddd34e5b11f6fe0f0060fa2abdf29ea85d97cfa4481506371b25524977eabf22f09b293241365ed5dff9f28'},
  {file: 'ecp384-bundle_responder.certchain.der', sizes: [472, 512, 619], asym: SpdmBaseAsym.ECDSA_P384, cn: 'ECP384',
    rootSha384: 'ed79ce9a32e4ac43ae6ad40d506f21419810e54f58d8c1b708aee93f9c9335d6310cf0903db89ff68f9b60c442cdf9ce'},
  {file: 'rsa3072-bundle_responder.certchain.der', sizes: [1313, 1225, 1204], asym: SpdmBaseAsym.RSAPSS_3072, cn: 'RSA',
    rootSha384: 'e59ee211027416a3a62aae64702e8fff8e0169dab66c1954a177ce4d623806bd4add3a744e30fc9b69e9870318361f14'},
]

for (const c of CHAINS) {
  vectorTest(test, `libspdm ${c.cn} chain validates against its pinned root`, () => {
    const der = readVector('spdm', c.file)
    const certs = splitDerCerts(der)
    assert.equal(certs.map((x) => x.length), c.sizes)
    const r = verifyCertChain(der, {anchors: [{cert: certs[0], source: 'pinned root'}], at: AT, baseAsym: c.asym})
    assert.ok(r.ok, JSON.stringify(r.checks.filter((x) => !x.ok)))
    assert.is(r.has_header, false)
    assert.is(r.device_info, 'ACME:WIDGET:1234567890')
    assert.ok(r.certs[2].subject.includes(`DMTF libspdm ${c.cn} responder cert`))
    assert.is(r.certs[0].not_after, '2036-06-20T' + r.certs[0].not_after.slice(11))
  })

  vectorTest(test, `libspdm ${c.cn} chain in SPDM slot format: header and RootHash checked`, () => {
    const certs = splitDerCerts(readVector('spdm', c.file))
    const slot = spdmCertChain(certs, 'sha384')
    assert.is(slot.subarray(4, 52).toString('hex'), c.rootSha384) // PROVENANCE.md value
    const anchor = {thumbprint: {alg: 'sha384' as const, digest: Buffer.from(c.rootSha384, 'hex')}, source: 'thumbprint'}
    const ok = verifyCertChain(slot, {anchors: [anchor], at: AT, hashAlg: 'sha384'})
    assert.ok(ok.ok, JSON.stringify(ok.checks.filter((x) => !x.ok)))
    assert.is(ok.has_header, true)
    const badHash = Buffer.from(slot)
    badHash[10] ^= 1
    const r = verifyCertChain(badHash, {anchors: [anchor], at: AT, hashAlg: 'sha384'})
    assert.is(r.checks.find((x) => x.name === 'root_hash')?.ok, false)
  })

  vectorTest(test, `libspdm ${c.cn} chain: validity, anchor and tamper failures`, () => {
    const der = readVector('spdm', c.file)
    const certs = splitDerCerts(der)
    const anchors = [{cert: certs[0], source: 'root'}]
    assert.is(verifyCertChain(der, {anchors, at: new Date('2026-01-01T00:00:00Z')}).checks.find((x) => x.name === 'validity')?.ok, false)
    const other = splitDerCerts(readVector('spdm', CHAINS.find((x) => x !== c)!.file))[0]
    assert.is(verifyCertChain(der, {anchors: [{cert: other, source: 'other'}], at: AT}).ok, false)
    // flip the last byte of the leaf signature and a byte inside the intermediate's TBS
    for (const pos of [der.length - 1, certs[0].length + 40]) {
      const t = Buffer.from(der)
      t[pos] ^= 0x01
      assert.is(verifyCertChain(t, {anchors, at: AT}).ok, false, `flip at ${pos}`)
    }
  })
}

const sha512of = (i: number) => createHash('sha512').update(Buffer.alloc(72, i)).digest()

vectorTest(test, 'device_measurement.bin decodes into its 7 DMTF blocks', () => {
  const blocks = decodeMeasurementRecord(readVector('spdm', 'device_measurement.bin'), 7)
  assert.equal(blocks.map((b) => b.index), [1, 2, 3, 4, 0x10, 0xfd, 0xfe])
  assert.equal(blocks.map((b) => b.value_type), [0x00, 0x01, 0x02, 0x03, 0x87, 0x84, 0x85])
  assert.equal(blocks.map(blockTypeName), ['immutable_rom', 'mutable_firmware', 'hardware_config', 'firmware_config', 'svn', 'measurement_manifest', 'device_mode'])
  assert.equal(blocks.map((b) => b.value.length), [64, 64, 64, 64, 8, 128, 16])
  assert.is(blocks[0].value.toString('hex').slice(0, 16), '8d531d77d821e167')
  assert.is(blocks[4].value.readBigUInt64LE(0), 7n)
  assert.ok(blocks[5].value.equals(Buffer.alloc(128, 0xfd)))
  const dm = blocks[6].value
  assert.equal([dm.readUInt32LE(0), dm.readUInt32LE(4), dm.readUInt32LE(8), dm.readUInt32LE(12)], [0x3f, 0x04, 0x1f, 0x11])
  // spdm-emu's sample device measures 72 bytes filled with the index, hashed with SHA-512
  for (let i = 1; i <= 4; i++) assert.ok(blocks[i - 1].value.equals(sha512of(i)), `index ${i}`)
})

vectorTest(test, "device_measurement.bin matches DMTF's sample reference values (CoMID digests sha-512, SVN 7)", () => {
  const blocks = decodeMeasurementRecord(readVector('spdm', 'device_measurement.bin'))
  // SpdmSampleCoMid.json: index 1-4 sha-512 (hash-alg id 8) digests, SVN reference 7; as a CoRIM via our encoder
  const corim = encodeCorim('dmtf-sample', [{
    tag_id: 'SpdmSampleCoMid', entity: {name: 'DMTF sample'},
    environment: {class_id_bytes: Buffer.from('spdm:dmtf:sample'), vendor: 'DMTF', model: 'spdm-emu sample'},
    measurements: [1, 2, 3, 4].map((i) => ({index: i, digest: {alg: 'sha512' as const, value: sha512of(i)}})),
  }])
  const doc = decodeCorim(corim)
  assert.equal(doc.comids[0].reference[0].measurements.map((m) => m.digests[0].alg), ['sha512', 'sha512', 'sha512', 'sha512'])
  const refs = referenceByIndex(doc)
  refs.set(0x10, [{index: 0x10, svn: {kind: 'exact', value: 7}, digests: []}])
  const checks = appraiseMeasurements(blocks, refs, {measHash: 'sha512', policy: {allow_debug: true}})
  assert.ok(checks.every((c) => c.ok), JSON.stringify(checks.filter((c) => !c.ok)))
  assert.is(checks.filter((c) => c.name.startsWith('digest[')).length, 4)
  // the sample's device-mode state 0x11 has non-invasive debug active: the default policy says so
  const strict = appraiseMeasurements(blocks, refs, {measHash: 'sha512'})
  assert.equal(strict.filter((c) => !c.ok).map((c) => c.name), ['debug[254]'])
  // a wrong SVN reference and a changed digest are caught
  refs.set(0x10, [{index: 0x10, svn: {kind: 'min', value: 8}, digests: []}])
  refs.set(2, [{index: 2, digests: [{alg: 'sha512', value: sha512of(9)}]}])
  const bad = appraiseMeasurements(blocks, refs, {measHash: 'sha512', policy: {allow_debug: true}})
  assert.equal(bad.filter((c) => !c.ok).map((c) => c.name).sort(), ['digest[2]', 'svn[16]'])
})

vectorTest(test, 'veraison corim-1.cbor: #6.501 with one #6.506 CoMID, UUID class, sha-256 digest', () => {
  const d = decodeCorim(readVector('corim', 'corim-1.cbor'))
  assert.is(d.kind, 'corim')
  assert.is(d.id, '284e6c3e5d9f4f6b851f5a4247f243a7')
  assert.is(d.comids.length, 1)
  const c = d.comids[0]
  assert.is(c.tag_id, '3f06af63a93c11e4979700505690773f')
  assert.equal(c.entities, [{name: 'ACME Inc.', reg_id: 'https://acme.example', roles: [0]}])
  const t = c.reference[0]
  assert.equal(t.environment, {class_id: {type: 'uuid', value: '67b28b6c34cc40a19117ab5b05911e37'}, vendor: 'ACME Inc.', model: 'ACME RoadRunner', layer: 1})
  assert.is(t.measurements[0].version, '1.0.0')
  assert.is(t.measurements[0].digests[0].alg, 'sha256')
  assert.is(t.measurements[0].digests[0].value.toString('hex'), '44aa336af4cb14a879432e53dd6571c7fa9bccafb75f488259262d6ea3a4d91b')
})

vectorTest(test, 'veraison signed-good-corim.cbor: ES256 verifies with the JWK; signer validity expired', () => {
  const key = loadPublicKey(readVector('corim', 'ec-p256.pub.jwk'), 'jwk')
  const d = decodeCorim(readVector('corim', 'signed-good-corim.cbor'), {key, at: AT})
  assert.is(d.kind, 'signed-corim')
  assert.is(d.id, 'test corim id')
  assert.is(d.signature?.status, 'valid')
  assert.is(d.signature?.alg_name, 'ES256')
  assert.is(d.signature?.kid, '1')
  assert.is(d.signature?.content_type, 'application/rim+cbor')
  assert.equal(d.signature?.signer, {name: 'ACME Ltd signing key', uri: 'https://acme.example'})
  assert.equal(d.signature?.validity, {not_before: '2021-12-31T00:00:00.000Z', not_after: '2025-12-31T00:00:00.000Z'})
  assert.is(d.signature?.expired, true)
  assert.is(decodeCorim(readVector('corim', 'signed-good-corim.cbor'), {key, at: new Date('2024-06-01T00:00:00Z')}).signature?.expired, false)
  const c = d.comids[0]
  assert.is(c.language, 'en-GB')
  assert.is(c.tag_id, '43bbe37f2e614b33aed353cff1428b16')
  assert.equal(c.reference[0].environment.class_id, {type: 'bytes', value: 'acme-implementation-id-000000001'})
  assert.equal(c.reference[0].measurements.map((m) => m.digests[0].value.toString('hex').slice(0, 8)), ['87428fc5', '02638299', 'a3a5e715'])
  assert.ok(c.reference[0].measurements.every((m) => m.mkey === '31fb5abf023e4992aa4e95f9c1503bfa'))
  // unchecked without a key; invalid when any payload byte changes
  assert.is(decodeCorim(readVector('corim', 'signed-good-corim.cbor')).signature?.status, 'unchecked')
  const t = Buffer.from(readVector('corim', 'signed-good-corim.cbor'))
  t[t.indexOf('RoadRunner')] ^= 0x20 // 'R' → 'r' inside the signed payload
  assert.is(decodeCorim(t, {key}).signature?.status, 'invalid')
  const s = Buffer.from(readVector('corim', 'signed-good-corim.cbor'))
  s[s.length - 1] ^= 0x01 // last byte of the signature
  assert.is(decodeCorim(s, {key}).signature?.status, 'invalid')
})

vectorTest(test, 'veraison ce-evidence.cbor: #6.571 concise evidence with an OID class and PKIX key', () => {
  const d = decodeCorim(readVector('corim', 'ce-evidence.cbor'))
  assert.is(d.kind, 'concise-evidence')
  const t = d.evidence![0]
  assert.equal(t.environment.class_id, {type: 'oid', value: '2.16.840.1.113741.1.15.4.99.1'})
  assert.is(t.environment.vendor, 'xyzinc.example')
  assert.is(t.measurements[0].digests[0].value.toString('hex'), 'a314fc2dc663ae7a6b6bc6787594057396e6b3f569cd50fd5ddb4d1bbafd2b6a')
  assert.equal(t.measurements[0].authorized_by, ['#6.554'])
})

vectorTest(test, 'veraison comid-cond-endorse-series.cbor: untagged CoMID with a 3-record series (triples key 8)', () => {
  const d = decodeCorim(readVector('corim', 'comid-cond-endorse-series.cbor'))
  assert.is(d.kind, 'comid')
  const c = d.comids[0]
  assert.is(c.tag_id, 'Sample Quoting Enclave RIM')
  assert.equal(c.reference[0].environment.class_id, {type: 'oid', value: '2.16.840.1.113741.1.2.3.4.4'})
  assert.is(c.reference[0].measurements[0].version, '2')
  assert.is(c.cond_endorse_series.length, 1)
  assert.is(c.cond_endorse_series[0].records, 3)
  assert.equal(c.cond_endorse_series[0].condition.class_id, {type: 'oid', value: '2.16.840.1.113741.1.2.3.4.1'})
})

test.run()
