/**
 * Event data decoding (src/eventlog/decode.ts) on records built by hand from the TCG PC Client
 * spec: EFI GUID text order, EV_SEPARATOR values, the StartupLocality EV_NO_ACTION event.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {decodeEventData, formatGuid} from '../../src/eventlog/decode.js'

const EV_NO_ACTION = 0x3
const EV_SEPARATOR = 0x4

test('EFI GUID: data1..data3 little-endian, data4 as bytes (EFI_GLOBAL_VARIABLE)', () => {
  // 8BE4DF61-93CA-11D2-AA0D-00E098032B8C in its in-memory byte order
  const b = Buffer.from('61dfe48bca93d211aa0d00e098032b8c', 'hex')
  assert.is(formatGuid(b), '8BE4DF61-93CA-11D2-AA0D-00E098032B8C')
})

test('EV_SEPARATOR: 0 and the error separator 0xFFFFFFFF', () => {
  assert.equal(decodeEventData(EV_SEPARATOR, Buffer.alloc(4))?.fields, {value: 0})
  assert.match(decodeEventData(EV_SEPARATOR, Buffer.from('ffffffff', 'hex'))!.summary, /error separator/)
  assert.is(decodeEventData(EV_SEPARATOR, Buffer.alloc(0)), undefined)
})

test('EV_NO_ACTION StartupLocality: 16-byte signature "StartupLocality\\0" then the locality byte', () => {
  const data = Buffer.concat([Buffer.from('StartupLocality\0', 'latin1'), Buffer.from([3])])
  assert.equal(decodeEventData(EV_NO_ACTION, data), {summary: 'StartupLocality 3', fields: {signature: 'StartupLocality', locality: 3}})
  assert.equal(decodeEventData(EV_NO_ACTION, Buffer.from('not a known signature')), {summary: '21 bytes'})
})

test.run()
