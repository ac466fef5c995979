/**
 * A simulated device as an SPDM backend (src/spdm's responder answers for it): its certificate chain
 * and leaf key (or an identity loaded from files), its measurement blocks, and the PCI-SIG
 * vendor-defined protocols inside a session — TDISP driving the device model's own TDI state machine
 * (DeviceRuntime.tdisp, the one source of truth) and IDE_KM on the device's port.
 */
import {sign as nodeSign, type KeyObject} from 'node:crypto'
import {pciSigVendorId} from '../abi/doe.js'
import {SpdmBaseAsym, SpdmRegistry, type HashName} from '../abi/spdm.js'
import {PCI_PROTOCOL_ID_IDE_KM, PCI_PROTOCOL_ID_SIZE, PCI_PROTOCOL_ID_TDISP} from '../abi/tdisp.js'
import type {SpdmBackend, SpdmIdentity, SpdmSigner, VendorHandler} from '../spdm/context.js'
import {SpdmResponder, type ResponderOptions} from '../spdm/responder.js'
import {ecPrivateKey, ecSign, type EcKeyPair} from '../x509/keys.js'
import type {DeviceRuntime} from './device.js'
import {IdeKmPort} from './ide-km.js'

const CURVE_ASYM: Record<string, number> = {'P-256': SpdmBaseAsym.ECDSA_P256, 'P-384': SpdmBaseAsym.ECDSA_P384, 'P-521': SpdmBaseAsym.ECDSA_P521}
const VENDOR_ID_PCISIG = pciSigVendorId()

/** A signer over a device's seed-derived key: RFC 6979 (byte-reproducible) or Node's (fast, randomised). */
export function deviceSigner(key: EcKeyPair, deterministic: boolean): SpdmSigner {
  if (deterministic) return {asym: CURVE_ASYM[key.curve], sign: (_hash: HashName, msg: Buffer) => ecSign(key, msg)}
  return keySigner(ecPrivateKey(key), CURVE_ASYM[key.curve])
}

/** A signer over a private KeyObject (e.g. libspdm's sample end_responder.key). ECDSA only. */
export function keySigner(priv: KeyObject, asym: number): SpdmSigner {
  return {asym, sign: (hash: HashName, msg: Buffer) => nodeSign(hash, msg, {key: priv, dsaEncoding: 'ieee-p1363'})}
}

/** BaseAsym bit of an EC private key, or undefined for key types tdxkit does not sign with. */
export function keyAsym(priv: KeyObject): number | undefined {
  const curve = priv.asymmetricKeyDetails?.namedCurve
  return curve === 'prime256v1' ? SpdmBaseAsym.ECDSA_P256 : curve === 'secp384r1' ? SpdmBaseAsym.ECDSA_P384 : curve === 'secp521r1' ? SpdmBaseAsym.ECDSA_P521 : undefined
}

/** PCI-SIG vendor protocols of one device: TDISP (protocol 1) and IDE_KM (protocol 0). */
export function pciSigHandler(dev: DeviceRuntime, ide: IdeKmPort): VendorHandler {
  return {
    standard_id: SpdmRegistry.PCISIG,
    vendor_id: VENDOR_ID_PCISIG,
    handle(payload) {
      if (payload.length < PCI_PROTOCOL_ID_SIZE) return undefined
      const body = payload.subarray(PCI_PROTOCOL_ID_SIZE)
      const proto = payload.subarray(0, PCI_PROTOCOL_ID_SIZE)
      if (payload[0] === PCI_PROTOCOL_ID_TDISP) return Buffer.concat([proto, dev.tdisp(body)])
      if (payload[0] === PCI_PROTOCOL_ID_IDE_KM) return Buffer.concat([proto, ide.handle(body)])
      return undefined
    },
  }
}

export interface DeviceBackendOptions {
  /** identity from files instead of the device's own chain */
  identity?: SpdmIdentity
  /** RFC 6979 signatures (the in-process TSM path, whose evidence is byte-reproducible) */
  deterministic?: boolean
  ide?: IdeKmPort
}

/** The SPDM backend of a simulated device. */
export function deviceBackend(dev: DeviceRuntime, opts: DeviceBackendOptions = {}): SpdmBackend {
  const c = dev.chain
  const identity = opts.identity ?? {certs: [c.root, c.intermediate, c.leaf], signer: deviceSigner(c.leafKey, opts.deterministic ?? false)}
  const ide = opts.ide ?? new IdeKmPort(dev.rec.function_id)
  return {identity, measurement_hash: 'sha384', measurements: () => dev.blocks(), vendors: [pciSigHandler(dev, ide)]}
}

/** An SPDM responder for a device (one per connection). */
export function deviceResponder(dev: DeviceRuntime, opts: DeviceBackendOptions & ResponderOptions = {}): SpdmResponder {
  return new SpdmResponder(deviceBackend(dev, opts), opts)
}
