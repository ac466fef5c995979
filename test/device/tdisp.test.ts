/** TDISP messages against the device model: header/codes, state machine, nonce, report chunking. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {DeviceRuntime} from '../../src/device/device.js'
import {addDevice, type DevicesSection} from '../../src/device/registry.js'
import {tsmFetchReport, tsmLock, tsmReadState} from '../../src/device/tsm.js'
import {TDISP_ERROR_RSP, TDISP_NONCE_MSG, TdispErrorCode, TdispRequest, TdispResponse, decodeTdiReport, functionIdFromBdf, bdfFromFunctionId, tdispHeader, MmioRangeAttr} from '../../src/abi/tdisp.js'
import {readNum} from '../../src/abi/layout.js'
import {CONNECT_METADATA} from '../../src/module/profiles.js'

/** The tdx-connect profile's TSM limits (what the app layer takes from sysinfo). */
const LIMITS = {spdm_max_dev_info_pages: CONNECT_METADATA.spdm_max_dev_info_pages}

const fresh = () => {
  const s: DevicesSection = {version: 1, devices: []}
  return new DeviceRuntime('tdisp-seed', addDevice(s, 'tdisp-seed', {model: 'nic', bdf: '3a:1f.2'}))
}
const errorCode = (rsp: Buffer) => {
  assert.is(rsp[1], TdispResponse.TDISP_ERROR)
  return readNum(TDISP_ERROR_RSP, rsp, 'error_code')
}

test('FUNCTION_ID is the requester id bus[15:8] dev[7:3] fn[2:0]; header is 16 bytes with version 0x10', () => {
  assert.is(functionIdFromBdf(0x3a, 0x1f, 2), 0x3afa)
  assert.is(bdfFromFunctionId(0x3afa), '3a:1f.2')
  const d = fresh()
  assert.is(d.rec.function_id, 0x3afa)
  const h = tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_STATE, 0x3afa)
  assert.is(h.toString('hex'), '10850000' + 'fa3a0000' + '00'.repeat(8))
})

test('state machine: report refused while UNLOCKED; lock; START with a wrong nonce → INVALID_NONCE; right nonce → RUN; STOP', () => {
  const d = fresh()
  const fid = d.rec.function_id
  const getReport = tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_REPORT, fid, 20)
  assert.is(errorCode(d.tdisp(getReport)), TdispErrorCode.INVALID_INTERFACE_STATE)
  assert.is(errorCode(d.tdisp(tdispHeader(TdispRequest.START_INTERFACE_REQUEST, fid, TDISP_NONCE_MSG.size))), TdispErrorCode.INVALID_INTERFACE_STATE)
  assert.is(errorCode(d.tdisp(tdispHeader(TdispRequest.STOP_INTERFACE_REQUEST, fid))), TdispErrorCode.INVALID_INTERFACE_STATE)
  assert.is(errorCode(d.tdisp(tdispHeader(TdispRequest.GET_DEVICE_INTERFACE_STATE, fid + 1))), TdispErrorCode.INVALID_INTERFACE)
  assert.is(errorCode(d.tdisp(tdispHeader(TdispRequest.VDM_REQUEST, fid))), TdispErrorCode.UNSUPPORTED_REQUEST)
  tsmLock(d, LIMITS)
  assert.is(tsmReadState(d), 1)
  const start = tdispHeader(TdispRequest.START_INTERFACE_REQUEST, fid, TDISP_NONCE_MSG.size)
  assert.is(errorCode(d.tdisp(start)), TdispErrorCode.INVALID_NONCE)
  assert.is(d.rec.tdi.state, 'CONFIG_LOCKED')
  Buffer.from(d.rec.tdi.start_nonce!, 'hex').copy(start, TDISP_NONCE_MSG.fields.start_interface_nonce.offset)
  assert.is(d.tdisp(start)[1], TdispResponse.START_INTERFACE_RESPONSE)
  assert.is(tsmReadState(d), 2)
  d.hostClearBme()
  assert.is(tsmReadState(d), 3)
  assert.is(d.tdisp(tdispHeader(TdispRequest.STOP_INTERFACE_REQUEST, fid))[1], TdispResponse.STOP_INTERFACE_RESPONSE)
  assert.is(tsmReadState(d), 0)
})

test('report comes back in portions and reassembles to the full report; ranges map to BARs', () => {
  const d = fresh()
  tsmLock(d, LIMITS)
  const whole = d.report()
  assert.ok(tsmFetchReport(d).equals(whole))
  assert.ok(whole.length > 64) // needed several 64-byte portions
  const r = decodeTdiReport(whole)
  assert.equal([...new Set(r.mmio_ranges.map((x) => x.range_id))], [0, 2])
  assert.ok(r.mmio_ranges.some((x) => x.range_attributes & MmioRangeAttr.MSIX_TABLE))
  assert.ok(r.mmio_ranges.some((x) => x.range_attributes & MmioRangeAttr.IS_NON_TEE_MEM))
  assert.is(r.device_specific_info.toString(), 'simnet queues=64')
  // pages per BAR add up to the BAR size
  for (const bar of d.rec.bars) {
    const pages = r.mmio_ranges.filter((x) => x.range_id === bar.index).reduce((a, x) => a + x.number_of_pages, 0)
    assert.is(BigInt(pages) * 4096n, BigInt(bar.size), `BAR ${bar.index}`)
  }
})

test.run()
