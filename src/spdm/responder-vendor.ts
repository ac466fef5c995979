/**
 * VENDOR_DEFINED_REQUEST inside a session: find the backend's handler for the StandardID and
 * VendorID (PCI-SIG: IDE_KM and TDISP) and wrap its answer in a VENDOR_DEFINED_RESPONSE.
 */
import {SPDM_HEADER, SPDM_VENDOR_LARGE_FLAG, SpdmErrorCode, SpdmResponse, SpdmRequest} from '../abi/spdm.js'
import {decodeVendor, encodeVendor} from './vdm.js'
import type {Reply, SpdmResponder} from './responder.js'
import type {Session} from './responder-session.js'

export function vendorResponse(r: SpdmResponder, msg: Buffer, s: Session): Reply {
  const n = r.alg!
  if (msg[SPDM_HEADER.fields.param1.offset] & SPDM_VENDOR_LARGE_FLAG) return r.error(SpdmErrorCode.InvalidRequest)
  let vm
  try {
    vm = decodeVendor(msg)
  } catch {
    return r.error(SpdmErrorCode.InvalidRequest)
  }
  const handler = r.backend.vendors?.find((h) => h.standard_id === vm.standard_id && h.vendor_id.equals(vm.vendor_id))
  const detail = handler?.describe?.(vm.payload) ?? `vendor ${vendorLabel(vm.vendor_id)}`
  const answer = handler?.handle(vm.payload, {session_id: s.id})
  if (!answer) return {...r.error(SpdmErrorCode.UnsupportedRequest, SpdmRequest.VENDOR_DEFINED_REQUEST), detail}
  return {msg: encodeVendor(n.version, SpdmResponse.VENDOR_DEFINED_RESPONSE, {standard_id: vm.standard_id, vendor_id: vm.vendor_id, payload: answer}), detail}
}

/** A VendorID for logs: a 2-byte id as its little-endian number, anything else as hex. */
const VENDOR_ID_U16 = 2
const vendorLabel = (id: Buffer): string => '0x' + (id.length === VENDOR_ID_U16 ? id.readUInt16LE(0).toString(16).padStart(4, '0') : id.toString('hex'))
