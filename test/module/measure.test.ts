/** MRTD and RTMR folding against hashes built by hand in this file. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import {computeMrtd, rtmrExtend, simulatedTdImage, mrtdBlock} from '../../src/module/measure.js'
import {Platform, createPlatformDoc} from '../../src/module/platform.js'
import {extendRtmr} from '../../src/guest/tdx-guest.js'

const sha384 = (...parts: Uint8Array[]) => {
  const h = createHash('sha384')
  for (const p of parts) h.update(p)
  return h.digest()
}

test('RTMR extend = SHA-384(old ‖ digest), chained from 48 zero bytes', () => {
  const d1 = Buffer.alloc(48, 0x11)
  const d2 = Buffer.alloc(48, 0x22)
  const d3 = sha384(Buffer.from('event three'))
  const r1 = sha384(Buffer.alloc(48), d1)
  const r2 = sha384(r1, d2)
  const r3 = sha384(r2, d3)
  // The first step, computed outside this project: `openssl dgst -sha384` over 48×00 ‖ 48×11.
  assert.is(r1.toString('hex'), 'c7304e0aec48bbbc703c099b425485b7a60e19b6a83630b0fb558ce2f02ec41e4cdf205335b4b613b3537ad83eb62262')
  const p = new Platform(createPlatformDoc({profile: 'tdx-1.5', seed: 'fold'}))
  extendRtmr(p, 1, d1)
  assert.is(p.doc.td.rtmr[1], r1.toString('hex'))
  extendRtmr(p, 1, d2, {description: 'two'})
  extendRtmr(p, 1, d3, {data: Buffer.from('event three'), event_type: 13})
  assert.is(p.doc.td.rtmr[1], r3.toString('hex'))
  assert.is(p.doc.td.rtmr[0], '00'.repeat(48))
  assert.is(p.doc.td.rtmr[2], '00'.repeat(48))
  assert.equal(
    p.doc.events.map((e) => [e.seq, e.rtmr_index, e.digest, e.data, e.description, e.event_type]),
    [
      [0, 1, d1.toString('hex'), undefined, undefined, undefined],
      [1, 1, d2.toString('hex'), undefined, 'two', undefined],
      [2, 1, d3.toString('hex'), Buffer.from('event three').toString('hex'), undefined, 13],
    ],
  )
  assert.ok(rtmrExtend(r2, d3).equals(r3))
})

test('MRTD block format: tag zero-padded to 16, GPA u64 LE, 104 zero bytes', () => {
  const b = mrtdBlock('MEM.PAGE.ADD', 0xfffff000n)
  assert.is(b.length, 128)
  assert.is(b.subarray(0, 16).toString('hex'), Buffer.from('MEM.PAGE.ADD\0\0\0\0').toString('hex'))
  assert.is(b.subarray(16, 24).toString('hex'), '00f0ffff00000000')
  assert.ok(b.subarray(24).every((x) => x === 0))
})

test('MRTD = SHA-384 over PAGE.ADD and MR.EXTEND blocks of the image (rebuilt by hand)', () => {
  const image = simulatedTdImage('mrtd')
  const h = createHash('sha384')
  for (const page of image) {
    const add = Buffer.alloc(128)
    add.write('MEM.PAGE.ADD', 0, 'ascii')
    add.writeBigUInt64LE(page.gpa, 16)
    h.update(add)
    if (!page.measured) continue
    for (let off = 0; off < 4096; off += 256) {
      const ext = Buffer.alloc(128)
      ext.write('MR.EXTEND', 0, 'ascii')
      ext.writeBigUInt64LE(page.gpa + BigInt(off), 16)
      h.update(ext)
      h.update(page.content.subarray(off, off + 256))
    }
  }
  const expected = h.digest()
  assert.ok(computeMrtd(image).equals(expected))
  assert.is(createPlatformDoc({profile: 'tdx-1.0', seed: 'mrtd'}).td.mrtd, expected.toString('hex'))
  assert.is.not(createPlatformDoc({profile: 'tdx-1.0', seed: 'mrtd2'}).td.mrtd, expected.toString('hex'))
  // Unmeasured pages still count through PAGE.ADD: changing their content does not move MRTD, their GPA does.
  const moved = image.map((p, i) => (i === 0 ? {...p, content: Buffer.alloc(4096, 9)} : p))
  assert.ok(computeMrtd(moved).equals(expected))
  const changed = image.map((p, i) => (i === 1 ? {...p, content: Buffer.alloc(4096, 9)} : p))
  assert.not.ok(computeMrtd(changed).equals(expected))
})

test.run()
