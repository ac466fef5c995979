/**
 * The CC measurement-register indexes of the CCEL log (src/abi/ccel.ts), as the UEFI CC measurement
 * protocol numbers them for TDX: MR index 0 = MRTD, 1..4 = RTMR0..RTMR3; anything else is no RTMR.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {CCEL_TABLE, ACPI_TABLE_HEADER, ccMrIndexToRtmr, ccMrName, rtmrToCcMrIndex} from '../../src/abi/ccel.js'

test('MR index ↔ RTMR index', () => {
  assert.equal([0, 1, 2, 3, 4, 5].map(ccMrIndexToRtmr), [null, 0, 1, 2, 3, null])
  assert.equal([0, 1, 2, 3].map(rtmrToCcMrIndex), [1, 2, 3, 4])
  assert.match(ccMrName(0), /MRTD/)
  assert.match(ccMrName(1), /RTMR0/)
  assert.match(ccMrName(4), /RTMR3/)
})

test('the ACPI CCEL table is the 36-byte ACPI header plus CC type, subtype, reserved, LAML (u64) and LASA (u64): 56 bytes', () => {
  assert.is(ACPI_TABLE_HEADER.size, 36)
  assert.is(CCEL_TABLE.size, 56)
})

test.run()
