/**
 * The DSP0274 session key schedule (as libspdm implements it): HandshakeSecret = HKDF-Extract(0^H,
 * DHE secret); per-direction handshake secrets from TH1, finished keys, AEAD key/IV; Master secret
 * from salt1 = Expand(HS, "derived"); per-direction data secrets from TH2; KEY_UPDATE's "traffic upd".
 * bin_str = Length u16 LE ‖ "spdmX.Y " ‖ label ‖ context (the transcript hash, when one is used).
 */
import {HASH_SIZE, type HashName} from '../abi/spdm.js'
import {AEAD_IV_SIZE, AES_256_KEY_SIZE, BIN_STR_LENGTH_SIZE, KeyLabel} from '../abi/secured-message.js'
import {hkdfExpand, hkdfExtract} from './crypto.js'

/** "spdmX.Y " for an SPDM version byte like 0x13. */
const versionLabel = (version: number): string => `spdm${version >> 4}.${version & 0xf} `

export function binConcat(version: number, label: string, length: number, context?: Uint8Array): Buffer {
  const len = Buffer.alloc(BIN_STR_LENGTH_SIZE)
  len.writeUInt16LE(length)
  return Buffer.concat([len, Buffer.from(versionLabel(version) + label, 'ascii'), context ?? Buffer.alloc(0)])
}

/** One direction of a session: its secret, AEAD key, IV salt and record counter. */
export interface DirectionKeys {
  secret: Buffer
  key: Buffer
  iv: Buffer
  seq: bigint
}

export interface HandshakeKeys {
  handshake_secret: Buffer
  req: DirectionKeys
  rsp: DirectionKeys
  req_finished: Buffer
  rsp_finished: Buffer
}

export interface KeyScheduleParams {
  hash: HashName
  version: number
  keySize?: number
}

function direction(p: KeyScheduleParams, secret: Buffer): DirectionKeys {
  const keySize = p.keySize ?? AES_256_KEY_SIZE
  return {
    secret,
    key: hkdfExpand(p.hash, secret, binConcat(p.version, KeyLabel.KEY, keySize), keySize),
    iv: hkdfExpand(p.hash, secret, binConcat(p.version, KeyLabel.IV, AEAD_IV_SIZE), AEAD_IV_SIZE),
    seq: 0n,
  }
}

/** Handshake keys from the DHE secret and TH1 = Hash(VCA ‖ Hash(cert chain) ‖ KEY_EXCHANGE ‖ KEY_EXCHANGE_RSP up to the signature). */
export function handshakeKeys(p: KeyScheduleParams, dheSecret: Buffer, th1: Buffer): HandshakeKeys {
  const h = HASH_SIZE[p.hash]
  const hs = hkdfExtract(p.hash, Buffer.alloc(h), dheSecret)
  const reqSecret = hkdfExpand(p.hash, hs, binConcat(p.version, KeyLabel.REQ_HS, h, th1), h)
  const rspSecret = hkdfExpand(p.hash, hs, binConcat(p.version, KeyLabel.RSP_HS, h, th1), h)
  const finished = (s: Buffer) => hkdfExpand(p.hash, s, binConcat(p.version, KeyLabel.FINISHED, h), h)
  return {handshake_secret: hs, req: direction(p, reqSecret), rsp: direction(p, rspSecret), req_finished: finished(reqSecret), rsp_finished: finished(rspSecret)}
}

/** Data (application) keys from the handshake secret and TH2 = Hash(… ‖ FINISH ‖ FINISH_RSP). */
export function dataKeys(p: KeyScheduleParams, handshakeSecret: Buffer, th2: Buffer): {req: DirectionKeys; rsp: DirectionKeys; export_master: Buffer} {
  const h = HASH_SIZE[p.hash]
  const salt1 = hkdfExpand(p.hash, handshakeSecret, binConcat(p.version, KeyLabel.DERIVED, h), h)
  const master = hkdfExtract(p.hash, salt1, Buffer.alloc(h))
  const req = hkdfExpand(p.hash, master, binConcat(p.version, KeyLabel.REQ_APP, h, th2), h)
  const rsp = hkdfExpand(p.hash, master, binConcat(p.version, KeyLabel.RSP_APP, h, th2), h)
  const exp = hkdfExpand(p.hash, master, binConcat(p.version, KeyLabel.EXPORT, h, th2), h)
  return {req: direction(p, req), rsp: direction(p, rsp), export_master: exp}
}

/** KEY_UPDATE: the next secret of one direction, with its key and IV; the counter restarts at 0. */
export function updatedKeys(p: KeyScheduleParams, current: DirectionKeys): DirectionKeys {
  const h = HASH_SIZE[p.hash]
  return direction(p, hkdfExpand(p.hash, current.secret, binConcat(p.version, KeyLabel.UPDATE, h), h))
}
