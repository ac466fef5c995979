/**
 * What an SPDM 1.2+ measurement signature covers: combined_spdm_prefix ‖ Hash(L1/L2), with
 * L1/L2 = VCA ‖ GET_MEASUREMENTS ‖ MEASUREMENTS-without-signature (single-request transcript).
 * SPDM 1.0/1.1 sign Hash(L1/L2) directly and L1/L2 omits the VCA.
 */
import {SPDM_MEASUREMENTS_SIGN_CONTEXT, SPDM_VERSION_12, type HashName} from '../abi/spdm.js'
import {signedMessage} from '../spdm/context.js'

export function measurementL1L2(version: number, vca: Buffer, request: Buffer, responseWithoutSignature: Buffer): Buffer {
  return version >= SPDM_VERSION_12 ? Buffer.concat([vca, request, responseWithoutSignature]) : Buffer.concat([request, responseWithoutSignature])
}

/** The byte string the responder's key signs (ECDSA hashes it again with BaseHash). */
export function measurementSigningMessage(version: number, alg: HashName, l1l2: Buffer): Buffer {
  return signedMessage(version, alg, SPDM_MEASUREMENTS_SIGN_CONTEXT, l1l2)
}
