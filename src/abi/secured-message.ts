/**
 * DSP0277 secured-message record as libspdm encodes it on the PCI_DOE (and TCP) binding: session id
 * and length in the clear (no sequence number on the wire), then the AEAD ciphertext of
 * application_data_length ‖ application data (‖ random padding, none on PCI_DOE), then the tag.
 * Also the DSP0274 key-schedule labels ("bin_str" concatenations) and signing contexts of the
 * session handshake. Facts: DMTF/libspdm include/industry_standard/spdm_secured_message.h,
 * library/spdm_secured_message_lib (shared/oracles/spdm-emu/README.md §4.3).
 */
import {defineLayout} from './layout.js'

/** Record header in the clear: session_id u32 (req id | rsp id << 16) ‖ length u16 (ciphertext + tag). */
export const SECURED_RECORD_HEADER = defineLayout('SECURED_MESSAGE_RECORD_HEADER', 6, {
  session_id: {offset: 0, size: 4, kind: 'u32'},
  length: {offset: 4, size: 2, kind: 'u16', doc: 'bytes that follow: ciphertext + MAC'},
})
/** First bytes of the plaintext: application_data_length u16. */
export const SECURED_CIPHER_HEADER = defineLayout('SECURED_MESSAGE_CIPHER_HEADER', 2, {
  application_data_length: {offset: 0, size: 2, kind: 'u16'},
})
export const SESSION_ID_RSP_SHIFT = 16
export const SESSION_HALF_MASK = 0xffff

/** AES-GCM parameters. */
export const AEAD_TAG_SIZE = 16
export const AEAD_IV_SIZE = 12
export const AES_256_KEY_SIZE = 32
/** Bytes of the IV the little-endian sequence number is XORed into (DSP0277 1.2 rule). */
export const SEQUENCE_NUMBER_SIZE = 8

/** Secured-message (DSP0277) versions as SPDM version-number entries (major 15:12, minor 11:8). */
export const SECURED_VERSION_10 = 0x1000
export const SECURED_VERSION_11 = 0x1100
export const SECURED_VERSION_12 = 0x1200

/** Key-schedule labels (DSP0274 "bin_str" labels, after the "spdmX.Y " prefix). */
export const KeyLabel = {
  DERIVED: 'derived',
  REQ_HS: 'req hs data',
  RSP_HS: 'rsp hs data',
  REQ_APP: 'req app data',
  RSP_APP: 'rsp app data',
  KEY: 'key',
  IV: 'iv',
  FINISHED: 'finished',
  EXPORT: 'exp master',
  UPDATE: 'traffic upd',
} as const
/** Size of the u16 length that starts a bin_str. */
export const BIN_STR_LENGTH_SIZE = 2

/** Signing contexts of the 1.2+ combined prefix for the session handshake. */
export const SPDM_KEY_EXCHANGE_RSP_SIGN_CONTEXT = 'responder-key_exchange_rsp signing'
export const SPDM_FINISH_SIGN_CONTEXT = 'requester-finish signing'
