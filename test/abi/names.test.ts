/** codeName (src/abi/names.ts): the table key for a known code, the code in hex otherwise. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {codeName} from '../../src/abi/names.js'

test('known codes give their key; unknown codes their hex value', () => {
  const T = {QUERY: 0x00, QUERY_RESP: 0x01, KEY_PROG: 0x02} as const
  assert.is(codeName(T, 0x01), 'QUERY_RESP')
  assert.is(codeName(T, 0x00), 'QUERY')
  assert.is(codeName(T, 0xfe), '0xfe')
})

test.run()
