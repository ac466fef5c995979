/**
 * The DSP0274 session key schedule (src/spdm/key-schedule.ts) against a schedule written out here
 * from the spec with RFC 5869 HKDF by hand (HMAC only): bin_str = Length u16 LE ‖ "spdm1.2 " ‖
 * label ‖ context, SHA-384, AES-256-GCM keys (32 bytes) and 12-byte IVs.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHmac} from 'node:crypto'
import {dataKeys, handshakeKeys, updatedKeys} from '../../src/spdm/key-schedule.js'

const H = 48
const hmac = (key: Buffer, data: Buffer) => createHmac('sha384', key).update(data).digest()
const extract = (salt: Buffer, ikm: Buffer) => hmac(salt, ikm)
function expand(prk: Buffer, info: Buffer, len: number): Buffer {
  const out: Buffer[] = []
  let t = Buffer.alloc(0)
  for (let i = 1; Buffer.concat(out).length < len; i++) {
    t = hmac(prk, Buffer.concat([t, info, Buffer.from([i])]))
    out.push(t)
  }
  return Buffer.concat(out).subarray(0, len)
}
const bin = (len: number, label: string, context = Buffer.alloc(0)) =>
  Buffer.concat([Buffer.from([len & 0xff, len >> 8]), Buffer.from(`spdm1.2 ${label}`, 'ascii'), context])

const P = {hash: 'sha384' as const, version: 0x12}
const dhe = Buffer.alloc(H, 0x11)
const th1 = Buffer.alloc(H, 0x22)
const th2 = Buffer.alloc(H, 0x33)

test('handshake secrets, finished keys, AEAD keys and IVs from the DHE secret and TH1', () => {
  const hs = extract(Buffer.alloc(H), dhe)
  const req = expand(hs, bin(H, 'req hs data', th1), H)
  const rsp = expand(hs, bin(H, 'rsp hs data', th1), H)
  const k = handshakeKeys(P, dhe, th1)
  assert.is(k.handshake_secret.toString('hex'), hs.toString('hex'))
  assert.is(k.req.secret.toString('hex'), req.toString('hex'))
  assert.is(k.rsp.secret.toString('hex'), rsp.toString('hex'))
  assert.is(k.req_finished.toString('hex'), expand(req, bin(H, 'finished'), H).toString('hex'))
  assert.is(k.rsp_finished.toString('hex'), expand(rsp, bin(H, 'finished'), H).toString('hex'))
  assert.is(k.rsp.key.toString('hex'), expand(rsp, bin(32, 'key'), 32).toString('hex'))
  assert.is(k.rsp.iv.toString('hex'), expand(rsp, bin(12, 'iv'), 12).toString('hex'))
  assert.is(k.req.seq, 0n)
})

test('data secrets from the master secret and TH2; KEY_UPDATE derives "traffic upd"', () => {
  const hs = extract(Buffer.alloc(H), dhe)
  const master = extract(expand(hs, bin(H, 'derived'), H), Buffer.alloc(H))
  const d = dataKeys(P, hs, th2)
  const req = expand(master, bin(H, 'req app data', th2), H)
  assert.is(d.req.secret.toString('hex'), req.toString('hex'))
  assert.is(d.rsp.secret.toString('hex'), expand(master, bin(H, 'rsp app data', th2), H).toString('hex'))
  assert.is(d.export_master.toString('hex'), expand(master, bin(H, 'exp master', th2), H).toString('hex'))
  const next = updatedKeys(P, d.req)
  const nextSecret = expand(req, bin(H, 'traffic upd'), H)
  assert.is(next.secret.toString('hex'), nextSecret.toString('hex'))
  assert.is(next.key.toString('hex'), expand(nextSecret, bin(32, 'key'), 32).toString('hex'))
  assert.is(next.seq, 0n)
})

test.run()
