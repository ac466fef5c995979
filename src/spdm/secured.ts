/**
 * DSP0277 secured-message records on the PCI_DOE binding (no sequence number on the wire, no random
 * padding): session_id ‖ length ‖ AES-GCM(application_data_length ‖ message) ‖ tag, with
 * AAD = session_id ‖ length and IV = salt XOR the 64-bit per-direction counter written
 * little-endian into IV bytes 0..7. Each direction's counter advances by one per record.
 */
import {ParseError} from '../errors.js'
import {readNum, requireSize} from '../abi/layout.js'
import {AEAD_TAG_SIZE, SECURED_CIPHER_HEADER, SECURED_RECORD_HEADER, SEQUENCE_NUMBER_SIZE} from '../abi/secured-message.js'
import {aeadOpen, aeadSeal} from './crypto.js'
import type {DirectionKeys} from './key-schedule.js'

/** Highest counter value before the session must be re-keyed (DSP0277: the counter must not wrap). */
export const MAX_SEQUENCE = 0xffff_ffff_ffff_ffffn

function recordIv(k: DirectionKeys): Buffer {
  const iv = Buffer.from(k.iv)
  const seq = Buffer.alloc(SEQUENCE_NUMBER_SIZE)
  seq.writeBigUInt64LE(k.seq)
  for (let i = 0; i < SEQUENCE_NUMBER_SIZE; i++) iv[i] ^= seq[i]
  return iv
}

/** The session id of a record (without decrypting); throws ParseError when too short. */
export function recordSessionId(record: Buffer): number {
  requireSize(SECURED_RECORD_HEADER, record, 0, 'secured message')
  return readNum(SECURED_RECORD_HEADER, record, 'session_id')
}

/** Seal one message; advances the direction's counter. */
export function sealRecord(k: DirectionKeys, sessionId: number, message: Buffer): Buffer {
  if (k.seq >= MAX_SEQUENCE) throw new Error('secured-message sequence number exhausted')
  const plain = Buffer.alloc(SECURED_CIPHER_HEADER.size + message.length)
  plain.writeUInt16LE(message.length, SECURED_CIPHER_HEADER.fields.application_data_length.offset)
  message.copy(plain, SECURED_CIPHER_HEADER.size)
  const head = Buffer.alloc(SECURED_RECORD_HEADER.size)
  head.writeUInt32LE(sessionId >>> 0, SECURED_RECORD_HEADER.fields.session_id.offset)
  head.writeUInt16LE(plain.length + AEAD_TAG_SIZE, SECURED_RECORD_HEADER.fields.length.offset)
  const sealed = aeadSeal(k.key, recordIv(k), head, plain)
  k.seq++
  return Buffer.concat([head, sealed])
}

/**
 * Open one record with a direction's keys. Returns undefined when the tag does not verify (the
 * counter is then left alone); throws ParseError for a record whose lengths do not add up.
 * `trailing` bytes after the declared length (transport padding) are ignored.
 */
export function openRecord(k: DirectionKeys, record: Buffer): Buffer | undefined {
  requireSize(SECURED_RECORD_HEADER, record, 0, 'secured message')
  const length = readNum(SECURED_RECORD_HEADER, record, 'length')
  const end = SECURED_RECORD_HEADER.size + length
  if (length < AEAD_TAG_SIZE + SECURED_CIPHER_HEADER.size || end > record.length) {
    throw new ParseError('SECURED_LENGTH', `secured message: length ${length} does not fit the ${record.length}-byte record`)
  }
  const plain = aeadOpen(k.key, recordIv(k), record.subarray(0, SECURED_RECORD_HEADER.size), record.subarray(SECURED_RECORD_HEADER.size, end))
  if (!plain) return undefined
  const appLen = readNum(SECURED_CIPHER_HEADER, plain, 'application_data_length')
  if (SECURED_CIPHER_HEADER.size + appLen > plain.length) throw new ParseError('SECURED_APP_LENGTH', `secured message: application data length ${appLen} exceeds the ${plain.length - SECURED_CIPHER_HEADER.size} decrypted bytes`)
  k.seq++
  return plain.subarray(SECURED_CIPHER_HEADER.size, SECURED_CIPHER_HEADER.size + appLen)
}
