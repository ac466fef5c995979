/**
 * Golden reference values for a simulated device, as the vendor would publish them: a CoRIM whose
 * CoMID has one reference triple (environment class-id "spdm:VVVV:DDDD", vendor, product) with one
 * measurement per SPDM index (mkey = index) taken from the vendor's golden firmware, and an
 * identity triple pinning the vendor root certificate (SHA-384 thumbprint + the certificate).
 * Optionally COSE_Sign1-signed (ES384) by the vendor's reference-value signing key.
 */
import {blockIsRaw} from '../abi/spdm.js'
import {vendorRoot} from './certs.js'
import {encodeCorim, signCorim, type RefMeasurementSpec} from './corim.js'
import {deriveEcKey, type EcKeyPair} from '../x509/keys.js'
import {measurementBlocks, SVN_INDEX, type ModelSpec} from './models.js'
import {DEVICE_CERT_NOT_AFTER, DEVICE_CERT_NOT_BEFORE} from './certs.js'

export const CORIM_PROFILE = 'tag:tdxkit.invalid,2026:spdm-tdisp-device'

export const classIdFor = (spec: ModelSpec): string => `spdm:${spec.vendor_id.toString(16).padStart(4, '0')}:${spec.device_id.toString(16).padStart(4, '0')}`

/** The vendor's CoRIM signing key (P-384, deterministic from the seed). */
export const referenceSigningKey = (seed: string, spec: ModelSpec): EcKeyPair => deriveEcKey(seed, `corim-signer:${spec.vendor_label}`, 'P-384')

export function goldenReference(seed: string, spec: ModelSpec, opts: {sign?: boolean} = {}): Buffer {
  const ms: RefMeasurementSpec[] = measurementBlocks(spec, spec.golden_firmware).map((b) => {
    if (b.index === SVN_INDEX) return {index: b.index, min_svn: spec.svn}
    if (blockIsRaw(b)) return {index: b.index, raw: b.value}
    return {index: b.index, digest: {alg: 'sha384', value: b.value}}
  })
  const id = `tdxkit-sim/${spec.vendor_label}/${spec.model}/${spec.golden_firmware}`
  const corim = encodeCorim(
    id,
    [
      {
        tag_id: `${id}/comid`,
        entity: {name: `${spec.vendor_name} (SIMULATED reference-value provider)`, reg_id: `https://${spec.vendor_label}.invalid`},
        environment: {class_id_bytes: Buffer.from(classIdFor(spec), 'ascii'), vendor: spec.vendor_name, model: spec.product},
        measurements: ms,
        anchors: [vendorRoot(seed, spec.vendor_label, spec.vendor_name).cert],
      },
    ],
    CORIM_PROFILE,
  )
  if (!opts.sign) return corim
  return signCorim(corim, {
    key: referenceSigningKey(seed, spec),
    kid: `${spec.vendor_label}-rim-signer`,
    signer: {name: `${spec.vendor_name} RIM signer (SIMULATED)`, uri: `https://${spec.vendor_label}.invalid`},
    validity: {not_before: DEVICE_CERT_NOT_BEFORE, not_after: DEVICE_CERT_NOT_AFTER},
  })
}
