/**
 * What an SPDM connection shares between its requester and responder code: the negotiated
 * algorithms, the device identity and measurement backend a responder answers for, the SPDM slot
 * certificate-chain format, the signing prefix, and the small builders every handler uses.
 */
import {
  HASH_SIZE,
  SPDM_CERT_CHAIN_HEADER,
  SPDM_MAX_CERT_CHAIN,
  SPDM_VERSION_12,
  SpdmBaseAsym,
  SpdmBaseHash,
  SpdmResponse,
  asymSignatureSize,
  spdmHeader,
  spdmSigningPrefix,
  type HashName,
  type MeasurementBlock,
} from '../abi/spdm.js'
import {hashOf} from './crypto.js'

/** Signs SPDM messages with the device's leaf key. */
export interface SpdmSigner {
  /** BaseAsym bit of the key (e.g. SpdmBaseAsym.ECDSA_P384) */
  asym: number
  /** Sign `message` (already the prefix ‖ digest for 1.2+) hashing it with `hash`; raw r‖s for ECDSA. */
  sign(hash: HashName, message: Buffer): Buffer
}

export interface SpdmIdentity {
  /** slot 0: DER certificates, root first, leaf last */
  certs: Buffer[]
  signer: SpdmSigner
}

/** A handler for one vendor-defined protocol family (e.g. PCI-SIG: IDE_KM + TDISP). */
export interface VendorHandler {
  standard_id: number
  vendor_id: Buffer
  /** Answer one request payload (starting at the protocol id); undefined = not supported. */
  handle(payload: Buffer, session: {session_id: number}): Buffer | undefined
  /** Name the request for logs (e.g. "TDISP LOCK_INTERFACE_REQUEST"); undefined when unknown. */
  describe?(payload: Buffer): string | undefined
}

/** What a responder answers for: identity, measurements, vendor protocols. */
export interface SpdmBackend {
  identity: SpdmIdentity
  /** MeasurementHashAlgo the blocks' digests use */
  measurement_hash: HashName
  measurements(): MeasurementBlock[]
  vendors?: VendorHandler[]
}

/** Algorithms both sides agreed on in ALGORITHMS. */
export interface Negotiated {
  version: number
  hash: HashName
  hash_bit: number
  asym: number
  meas_hash_bit: number
  meas_spec: number
  dhe: number
  aead: number
  key_schedule: number
  other_params: number
}

export const HASH_BITS: ReadonlyArray<[number, HashName]> = [
  [SpdmBaseHash.SHA_384, 'sha384'],
  [SpdmBaseHash.SHA_256, 'sha256'],
  [SpdmBaseHash.SHA_512, 'sha512'],
]
export const hashSize = (n: Negotiated): number => HASH_SIZE[n.hash]
export const sigSize = (n: Negotiated): number => asymSignatureSize(n.asym) ?? 0

/** The SPDM slot format: Length u16 ‖ Reserved u16 ‖ Hash(root DER) ‖ root ‖ … ‖ leaf. */
export function spdmCertChain(certs: readonly Buffer[], alg: HashName): Buffer {
  const body = Buffer.concat([hashOf(alg, certs[0]), ...certs])
  const total = SPDM_CERT_CHAIN_HEADER.size + body.length
  if (total > SPDM_MAX_CERT_CHAIN) throw new Error(`certificate chain of ${total} bytes exceeds the SPDM maximum`)
  const head = Buffer.alloc(SPDM_CERT_CHAIN_HEADER.size)
  head.writeUInt16LE(total, SPDM_CERT_CHAIN_HEADER.fields.length.offset)
  return Buffer.concat([head, body])
}

/** What the key signs for a transcript: prefix ‖ Hash(transcript) (1.2+), or Hash(transcript). */
export function signedMessage(version: number, alg: HashName, context: string, transcript: Buffer): Buffer {
  const digest = hashOf(alg, transcript)
  return version >= SPDM_VERSION_12 ? Buffer.concat([spdmSigningPrefix(version, context), digest]) : digest
}

export const errorMessage = (version: number, code: number, data = 0): Buffer => spdmHeader(version, SpdmResponse.ERROR, code, data)

/** The curve hash that pairs naturally with a BaseAsym (used to prefer a BaseHash). */
export function preferredHash(asym: number): HashName {
  return asym === SpdmBaseAsym.ECDSA_P256 ? 'sha256' : asym === SpdmBaseAsym.ECDSA_P521 ? 'sha512' : 'sha384'
}
