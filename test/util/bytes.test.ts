/** Hex parsing, the raw / hex / base64 detection and encoding (src/util/bytes.ts), against values written out by hand. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {decodeBinary, encodeBinary, hex, isZero, parseHex, parseHexPadded} from '../../src/util/bytes.js'
import {errorCode as codeOf} from '../helpers/errors.js'

test('parseHex: 0x prefix and whitespace ignored; odd, invalid and wrong-length input are typed errors', () => {
  assert.equal([...parseHex(' 0xDE ad\nbe EF ')], [0xde, 0xad, 0xbe, 0xef])
  assert.equal([...parseHex('')], [])
  assert.is(codeOf(() => parseHex('abc')), 'ODD_HEX')
  assert.is(codeOf(() => parseHex('zz')), 'BAD_HEX')
  assert.is(codeOf(() => parseHex('0011', 'x', 3)), 'BAD_LENGTH')
  assert.equal([...parseHex('001122', 'x', 3)], [0x00, 0x11, 0x22])
})

test('parseHexPadded: left-aligned, zero-filled, at most size bytes', () => {
  assert.equal([...parseHexPadded('0102', 4, 'rd')], [1, 2, 0, 0])
  assert.is(codeOf(() => parseHexPadded('0102030405', 4, 'rd')), 'BAD_LENGTH')
})

test('decodeBinary: hex text and base64 text decode; binary and other text stay raw', () => {
  assert.equal([...decodeBinary(Buffer.from('0x0a0b\n'))], [0x0a, 0x0b])
  assert.equal([...decodeBinary(Buffer.from('AQID'))], [1, 2, 3]) // base64 of 01 02 03
  assert.equal([...decodeBinary(Buffer.from('-_8'))], [0xfb, 0xff]) // base64url
  const raw = Buffer.from([0x00, 0xff, 0x41])
  assert.is(decodeBinary(raw), raw)
  const text = Buffer.from('not base64!')
  assert.is(decodeBinary(text), text)
  // an odd number of hex digits is not hex; it is still valid base64 text
  assert.equal([...decodeBinary(Buffer.from('abc'))], [...Buffer.from('abc', 'base64')])
})

test('encodeBinary and hex/isZero', () => {
  const b = new Uint8Array([0xab, 0x01])
  assert.is(encodeBinary(b, 'hex'), 'ab01\n')
  assert.is(encodeBinary(b, 'base64'), 'qwE=\n')
  assert.equal([...(encodeBinary(b, 'bin') as Buffer)], [0xab, 0x01])
  assert.is(hex(new Uint8Array([1, 2, 255]).subarray(1)), '02ff')
  assert.ok(isZero(new Uint8Array(4)))
  assert.not.ok(isZero(new Uint8Array([0, 0, 1])))
})

test.run()
