/**
 * A simulated device as an SPDM backend (src/spdm's responder answers for it): its certificate chain
 * and leaf key (or an identity loaded from files), its measurement blocks, and the vendor-defined
 * protocols inside a session — PCI-SIG TDISP driving the device model's own TDI state machine
 * (DeviceRuntime.tdisp, the one source of truth) and IDE_KM on the device's port; and, only for a
 * CXL model, the CXL vendor's (0x1E98) IDE_KM and TSP. Other devices have no CXL handler, so the
 * responder answers CXL requests with UnsupportedRequest.
 */
import {sign as nodeSign, type KeyObject} from 'node:crypto'
import {pciSigVendorId} from '../abi/doe.js'
import {SpdmBaseAsym, SpdmRegistry, type HashName} from '../abi/spdm.js'
import {PCI_PROTOCOL_ID_IDE_KM, PCI_PROTOCOL_ID_SIZE, PCI_PROTOCOL_ID_TDISP, TDISP_HEADER, tdispMessageName} from '../abi/tdisp.js'
import {ideKmObjectName} from '../abi/ide-km.js'
import {CXL_PROTOCOL_ID_IDE_KM, CXL_PROTOCOL_ID_TSP, cxlIdeKmObjectName, cxlVendorId} from '../abi/cxl-ide-km.js'
import {CXL_TSP_HEADER, cxlTspMessageName} from '../abi/cxl-tsp.js'
import type {SpdmBackend, SpdmIdentity, SpdmSigner, VendorHandler} from '../spdm/context.js'
import {SpdmResponder, type ResponderOptions} from '../spdm/responder.js'
import {ecPrivateKey, ecSign, type EcKeyPair} from '../x509/keys.js'
import type {DeviceRuntime} from './device.js'
import {IdeKmPort} from './ide-km.js'
import {CxlIdeKmPort} from './cxl-ide-km.js'

const CURVE_ASYM: Record<string, number> = {'P-256': SpdmBaseAsym.ECDSA_P256, 'P-384': SpdmBaseAsym.ECDSA_P384, 'P-521': SpdmBaseAsym.ECDSA_P521}
const VENDOR_ID_PCISIG = pciSigVendorId()
const VENDOR_ID_CXL = cxlVendorId()

/** A signer over a device's seed-derived key: RFC 6979 (byte-reproducible) or Node's (fast, randomised). */
function deviceSigner(key: EcKeyPair, deterministic: boolean): SpdmSigner {
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

/** One protocol behind a vendor id: its log name, the device's handler, and how to name a message. */
interface VendorProtocol {
  name: string
  handle(body: Buffer): Buffer
  message(body: Buffer): string
}
/** Bytes a namer may read: through the TDISP message type / TSP op code (IDE_KM's object id comes first). */
const NAMED_BODY_MIN = Math.max(TDISP_HEADER.fields.message_type.offset, CXL_TSP_HEADER.fields.op_code.offset) + 1

/** A vendor handler routing on the protocol id (first payload byte, PCI-SIG's and CXL's framing alike). */
function vendorProtocols(vendor_id: Buffer, protocols: Record<number, VendorProtocol>): VendorHandler {
  const split = (payload: Buffer) => ({p: payload.length >= PCI_PROTOCOL_ID_SIZE ? protocols[payload[0]] : undefined, body: payload.subarray(PCI_PROTOCOL_ID_SIZE)})
  return {
    standard_id: SpdmRegistry.PCISIG,
    vendor_id,
    handle(payload) {
      const {p, body} = split(payload)
      return p && Buffer.concat([payload.subarray(0, PCI_PROTOCOL_ID_SIZE), p.handle(body)])
    },
    describe(payload) {
      const {p, body} = split(payload)
      if (!p) return payload.length ? `protocol 0x${payload[0].toString(16)}` : undefined
      return body.length >= NAMED_BODY_MIN ? `${p.name} ${p.message(body)}` : p.name
    },
  }
}

/** PCI-SIG vendor protocols of one device: TDISP (protocol 1) and IDE_KM (protocol 0). */
function pciSigHandler(dev: DeviceRuntime, ide: IdeKmPort): VendorHandler {
  return vendorProtocols(VENDOR_ID_PCISIG, {
    [PCI_PROTOCOL_ID_TDISP]: {name: 'TDISP', handle: (b) => dev.tdisp(b), message: (b) => tdispMessageName(b[TDISP_HEADER.fields.message_type.offset])},
    [PCI_PROTOCOL_ID_IDE_KM]: {name: 'IDE_KM', handle: (b) => ide.handle(b), message: (b) => ideKmObjectName(b[0])},
  })
}

/** CXL vendor protocols of a CXL device: IDE_KM (protocol 0) on its CXL port, TSP (protocol 1) on its record. */
function cxlHandler(dev: DeviceRuntime, ide: CxlIdeKmPort): VendorHandler {
  return vendorProtocols(VENDOR_ID_CXL, {
    [CXL_PROTOCOL_ID_IDE_KM]: {name: 'CXL IDE_KM', handle: (b) => ide.handle(b), message: (b) => cxlIdeKmObjectName(b[0])},
    [CXL_PROTOCOL_ID_TSP]: {name: 'CXL TSP', handle: (b) => dev.cxlTsp(ide).handle(b), message: (b) => cxlTspMessageName(b[CXL_TSP_HEADER.fields.op_code.offset])},
  })
}

interface DeviceBackendOptions {
  /** identity from files instead of the device's own chain */
  identity?: SpdmIdentity
  /** RFC 6979 signatures (the in-process TSM path, whose evidence is byte-reproducible) */
  deterministic?: boolean
  ide?: IdeKmPort
  /** the CXL port's IDE_KM state (CXL models only; a fresh port when absent) */
  cxl_ide?: CxlIdeKmPort
}

/** The SPDM backend of a simulated device. */
function deviceBackend(dev: DeviceRuntime, opts: DeviceBackendOptions = {}): SpdmBackend {
  const c = dev.chain
  const identity = opts.identity ?? {certs: [c.root, c.intermediate, c.leaf], signer: deviceSigner(c.leafKey, opts.deterministic ?? false)}
  const ide = opts.ide ?? new IdeKmPort(dev.rec.function_id)
  const vendors = [pciSigHandler(dev, ide)]
  const cxl = dev.spec.cxl
  if (cxl) vendors.push(cxlHandler(dev, opts.cxl_ide ?? new CxlIdeKmPort(dev.rec.function_id, cxl)))
  return {identity, measurement_hash: 'sha384', measurements: () => dev.blocks(), vendors}
}

/** An SPDM responder for a device (one per connection). */
export function deviceResponder(dev: DeviceRuntime, opts: DeviceBackendOptions & ResponderOptions = {}): SpdmResponder {
  return new SpdmResponder(deviceBackend(dev, opts), opts)
}
