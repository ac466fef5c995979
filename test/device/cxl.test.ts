/**
 * The CXL Type-3 memory device model: CXL IDE_KM and CXL TSP messages against the device side, the
 * TSP state machine kept in the device record, and the routing rule that only a CXL model answers
 * the CXL vendor (0x1E98) while PCIe models refuse it. Sizes and bytes are hand-computed from
 * libspdm's cxl_tsp.h / cxl_idekm.h structures.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {DeviceRuntime} from '../../src/device/device.js'
import {addDevice, type DevicesSection} from '../../src/device/registry.js'
import {CxlIdeKmPort} from '../../src/device/cxl-ide-km.js'
import {TE_RANGES_MAX, applyTeState} from '../../src/device/cxl-tsp.js'
import {modelSpec} from '../../src/device/models.js'
import {deviceResponder} from '../../src/device/spdm-responder.js'
import {leafKeyFromChain} from '../../src/device/remote.js'
import {SpdmRequester} from '../../src/spdm/requester.js'
import {SpdmRegistry} from '../../src/abi/spdm.js'
import {readNum} from '../../src/abi/layout.js'
import {
  CXL_TSP_CAPABILITIES_RSP,
  CXL_TSP_CONFIGURATION_REPORT,
  CXL_TSP_ERROR_RSP,
  CXL_TSP_GET_CONFIGURATION_RSP,
  CXL_TSP_MEMORY_RANGE,
  CXL_TSP_SET_CONFIGURATION_REQ,
  CXL_TSP_SET_TE_STATE_REQ,
  CxlTspErrorCode,
  TspMemEncAlgorithm,
  TspTeFeature,
} from '../../src/abi/cxl-tsp.js'
import {CXL_IDE_KM_KEY_BUFFER, CXL_IDE_KM_KEY_PROG_SIZE, CXL_IDE_KM_QUERY_RESP, cxlVendorId} from '../../src/abi/cxl-ide-km.js'
import {pciSigVendorId} from '../../src/abi/doe.js'

const SEED = 'cxl-seed'
const fresh = (model = 'cxl-mem') => {
  const s: DevicesSection = {version: 1, devices: []}
  return new DeviceRuntime(SEED, addDevice(s, SEED, {model, bdf: 'be:1d.7'}))
}
const ide = (d: DeviceRuntime) => new CxlIdeKmPort(d.rec.function_id, d.spec.cxl!, (n) => Buffer.alloc(n, 0xa5))
const tsp = (d: DeviceRuntime, hex: string) => d.cxlTsp(ide(d)).handle(Buffer.from(hex, 'hex'))
const tspError = (rsp: Buffer) => {
  assert.is(rsp.length, CXL_TSP_ERROR_RSP.size)
  assert.is(rsp[1], 0x7f)
  return readNum(CXL_TSP_ERROR_RSP, rsp, 'error_code')
}

/** The configuration spdm-emu's requester sets: AES-XTS-256, read access control, implicit + explicit in-band TE change, entry 0 = index 0, others unused. */
function requesterConfiguration(over: Partial<{algo: number; te: number; validity: number}> = {}): Buffer {
  const b = Buffer.alloc(CXL_TSP_SET_CONFIGURATION_REQ.size)
  const f = CXL_TSP_SET_CONFIGURATION_REQ.fields
  b[0] = 0x10
  b[1] = 0x83
  b.writeUInt16LE(1, f.memory_encryption_features_enable.offset)
  b.writeUInt32LE(over.algo ?? TspMemEncAlgorithm.AES_XTS_256, f.memory_encryption_algorithm_select.offset)
  b.writeUInt16LE(over.te ?? 0x16, f.te_state_change_and_access_control_features_enable.offset)
  b.writeUInt16LE(1, f.configuration_features_enable.offset)
  for (let i = 1; i < 8; i++) b[f.explicit_ib_te_state_granularity_entry.offset + i * 16 + 8] = 0xff
  b.writeUInt16LE(over.validity ?? 0, f.configuration_validity_flags.offset)
  return b
}

function teState(te: number, ranges: Array<[bigint, bigint]>): Buffer {
  const b = Buffer.alloc(CXL_TSP_SET_TE_STATE_REQ.size + ranges.length * CXL_TSP_MEMORY_RANGE.size)
  b[0] = 0x10
  b[1] = 0x8d
  b[2] = te
  b[3] = ranges.length
  ranges.forEach(([s, l], i) => {
    b.writeBigUInt64LE(s, 16 + i * 16)
    b.writeBigUInt64LE(l, 24 + i * 16)
  })
  return b
}

test('layout sizes match libspdm cxl_tsp.h / cxl_idekm.h (packed structs, counted by hand)', () => {
  assert.is(CXL_TSP_CAPABILITIES_RSP.size, 52)
  assert.is(CXL_TSP_SET_CONFIGURATION_REQ.size, 352)
  assert.is(CXL_TSP_GET_CONFIGURATION_RSP.size, 192)
  assert.is(CXL_TSP_CONFIGURATION_REPORT.size, 4 + 0x3c + 0x20 + 0x38 + 0x10 + 0x10 + 0x24)
  assert.is(CXL_TSP_ERROR_RSP.size, 12)
  assert.is(CXL_IDE_KM_QUERY_RESP.size, 8)
  assert.is(CXL_IDE_KM_KEY_BUFFER.size, 44)
  assert.is(CXL_IDE_KM_KEY_PROG_SIZE, 51)
  assert.is(cxlVendorId().toString('hex'), '981e')
})

test('cxl-mem model: default id mem0, a CXL record in CONFIG_UNLOCKED; PCIe models have none', () => {
  const s: DevicesSection = {version: 1, devices: []}
  const rec = addDevice(s, SEED, {model: 'cxl-mem'})
  assert.is(rec.id, 'mem0')
  assert.equal(rec.cxl, {tsp_state: 'CONFIG_UNLOCKED', tsp_lock_generation: 0})
  assert.is(addDevice(s, SEED, {model: 'nic'}).cxl, undefined)
  assert.ok(modelSpec('cxl-mem')!.cxl)
  assert.is(modelSpec('nvme')!.cxl, undefined)
})

test('TSP: version and capabilities bytes', () => {
  const d = fresh()
  assert.is(tsp(d, '10810000').toString('hex'), '1001000001' + '10')
  const caps = tsp(d, '10820000')
  assert.is(caps.length, 52)
  assert.is(caps.subarray(0, 2).toString('hex'), '1002')
  assert.is(readNum(CXL_TSP_CAPABILITIES_RSP, caps, 'memory_encryption_algorithms_supported'), TspMemEncAlgorithm.AES_XTS_256)
  assert.is(readNum(CXL_TSP_CAPABILITIES_RSP, caps, 'te_state_change_and_access_control_features_supported'), TspTeFeature.READ_ACCESS_CONTROL | TspTeFeature.IMPLICIT_TE_STATE_CHANGE | TspTeFeature.EXPLICIT_IB_TE_STATE_CHANGE)
  assert.is(readNum(CXL_TSP_CAPABILITIES_RSP, caps, 'number_of_secondary_sessions'), 0)
  // wrong version, short request, unsupported opcode (SET_TARGET_CKID_SPECIFIC_KEY)
  assert.is(tspError(tsp(d, '11810000')), CxlTspErrorCode.VERSION_MISMATCH)
  assert.is(tspError(tsp(d, '108100')), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(tspError(tsp(d, '10870000')), CxlTspErrorCode.UNSUPPORTED_REQUEST)
})

test('TSP state machine: configure → lock → TE state; locked refuses configuration and a second lock', () => {
  const d = fresh()
  const t = d.cxlTsp(ide(d))
  // TE state needs a locked target
  assert.is(tspError(t.handle(teState(1, [[0x100000n, 0x10000n]]))), CxlTspErrorCode.INVALID_SECURITY_STATE)
  // configurations the device cannot honour
  assert.is(tspError(t.handle(requesterConfiguration({algo: TspMemEncAlgorithm.AES_XTS_128}))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(tspError(t.handle(requesterConfiguration({algo: 3}))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(tspError(t.handle(requesterConfiguration({te: TspTeFeature.WRITE_ACCESS_CONTROL}))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(tspError(t.handle(requesterConfiguration({validity: 1}))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(d.rec.cxl!.tsp_configuration, undefined)
  assert.is(t.handle(requesterConfiguration()).toString('hex'), '10030000')
  assert.is(d.rec.cxl!.tsp_configuration!.memory_encryption_algorithm, TspMemEncAlgorithm.AES_XTS_256)
  const got = t.handle(Buffer.from('10840000', 'hex'))
  assert.is(got.length, 192)
  assert.is(readNum(CXL_TSP_GET_CONFIGURATION_RSP, got, 'te_state_change_and_access_control_features_enabled'), 0x16)
  assert.is(readNum(CXL_TSP_GET_CONFIGURATION_RSP, got, 'current_tsp_state'), 0)
  assert.is(t.handle(Buffer.from('10860000', 'hex')).toString('hex'), '10060000')
  assert.is(d.rec.cxl!.tsp_state, 'CONFIG_LOCKED')
  assert.is(d.rec.cxl!.tsp_lock_generation, 1)
  assert.is(readNum(CXL_TSP_GET_CONFIGURATION_RSP, t.handle(Buffer.from('10840000', 'hex')), 'current_tsp_state'), 1)
  assert.is(tspError(t.handle(Buffer.from('10860000', 'hex'))), CxlTspErrorCode.ALREADY_LOCKED)
  assert.is(tspError(t.handle(requesterConfiguration())), CxlTspErrorCode.INVALID_SECURITY_STATE)
  // TE state: 64-byte granules inside the 64 GiB of device memory
  assert.is(t.handle(teState(1, [[0x100000n, 0x10000n]])).toString('hex'), '100d0000')
  assert.equal(d.rec.cxl!.te_ranges, [{start: '0x100000', length: '0x10000'}])
  assert.is(tspError(t.handle(teState(1, [[0x100020n, 0x40n]]))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(tspError(t.handle(teState(1, [[64n << 30n, 0x40n]]))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(tspError(t.handle(teState(2, [[0n, 0x40n]]))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(tspError(t.handle(teState(1, []))), CxlTspErrorCode.INVALID_REQUEST)
  assert.is(t.handle(teState(0, [[0x104000n, 0x1000n]])).toString('hex'), '100d0000')
  assert.equal(d.rec.cxl!.te_ranges, [
    {start: '0x100000', length: '0x4000'},
    {start: '0x105000', length: '0xb000'},
  ])
})

test('TE range bookkeeping: union, difference, merge of neighbours, bounded', () => {
  assert.equal(applyTeState([], [[0n, 64n], [64n, 128n]], true), [[0n, 128n]])
  assert.equal(applyTeState([[0n, 1024n]], [[256n, 512n]], false), [[0n, 256n], [512n, 1024n]])
  assert.equal(applyTeState([[0n, 256n], [512n, 1024n]], [[128n, 640n]], true), [[0n, 1024n]])
  assert.equal(applyTeState([[0n, 64n]], [[0n, 64n]], false), [])
  const d = fresh()
  const t = d.cxlTsp(ide(d))
  t.handle(requesterConfiguration())
  t.handle(Buffer.from('10860000', 'hex'))
  const spaced = (base: bigint): Array<[bigint, bigint]> => Array.from({length: 32}, (_, i): [bigint, bigint] => [base + BigInt(i) * 256n, 64n])
  assert.is(TE_RANGES_MAX, 64)
  assert.is(t.handle(teState(1, spaced(0n))).toString('hex'), '100d0000')
  assert.is(t.handle(teState(1, spaced(0x100000n))).toString('hex'), '100d0000')
  assert.is(d.rec.cxl!.te_ranges!.length, 64)
  // a 65th disjoint range is refused and nothing changes
  assert.is(tspError(t.handle(teState(1, [[0x200000n, 64n]]))), CxlTspErrorCode.UNSPECIFIED)
  assert.is(d.rec.cxl!.te_ranges!.length, 64)
})

test('TSP configuration report comes in portions of at most 0x40 bytes and carries the IDE registers', () => {
  const d = fresh()
  const t = d.cxlTsp(ide(d))
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const req = Buffer.from('1085000000000002', 'hex')
    req.writeUInt16LE(offset, 4)
    const rsp = t.handle(req)
    assert.is(rsp.subarray(0, 2).toString('hex'), '1005')
    const portion = rsp.readUInt16LE(4)
    assert.ok(portion <= 0x40)
    parts.push(rsp.subarray(8))
    offset += portion
    if (rsp.readUInt16LE(6) === 0) break
  }
  const report = Buffer.concat(parts)
  assert.is(report.length, 220)
  assert.is(report[0], 1)
  assert.is(report.readUInt16LE(4 + 4), 0x1e98) // DVSEC vendor: CXL
  assert.is(report.readUInt32LE(4), 0x23) // PCIe extended capability id: DVSEC
  assert.is(report.readUInt32LE(4 + 4) >>> 16, 2 | (0x3c << 4)) // DVSEC revision 2, length 0x3c
  assert.is(report.readUInt16LE(4 + 8), 0) // DVSEC id 0: PCIe DVSEC for CXL Devices
  assert.is(report.readUInt16LE(4 + 10), 0x14) // CXL Capability: Mem_Capable, HDM_Count 1
  assert.is(report.readUInt32LE(184) & 1, 1) // CXL IDE Capable
  const past = Buffer.from('1085000000000002', 'hex')
  past.writeUInt16LE(220, 4)
  assert.is(tspError(t.handle(past)), CxlTspErrorCode.INVALID_REQUEST)
})

test('CXL IDE_KM: query, device-generated key, program RX/TX, go (skid), stop; bad targets refused', () => {
  const d = fresh()
  const port = ide(d)
  const q = port.handle(Buffer.from('000000', 'hex'))
  assert.is(q.length, 8 + 9 * 4)
  assert.is(q.subarray(0, 8).toString('hex'), '01' + '00' + '00' + 'ef' + 'be' + '00' + '00' + '71')
  assert.throws(() => port.handle(Buffer.from('000001', 'hex')), /port 1/)
  const key = port.handle(Buffer.from('07000000008000', 'hex'))
  assert.is(key.toString('hex'), '08000000008000' + 'a5'.repeat(44))
  const prog = (sub: number, stream = 0) => Buffer.concat([Buffer.from([2, 0, 0, stream, 0, sub, 0]), Buffer.alloc(44, 7)])
  assert.is(port.handle(prog(0x88)).toString('hex'), '03000000008800')
  assert.is(port.handle(prog(0x82)).toString('hex'), '03000000008200')
  assert.is(port.handle(prog(0x12))[4], 1, 'not the CXL sub-stream → KP_ACK INVALID')
  assert.is(port.handle(prog(0x82, 3))[4], 1, 'stream 3 → KP_ACK INVALID')
  assert.equal(port.keys.get('0/rx')!.iv, Buffer.from('000000800000000001000000', 'hex'), 'IV_DEFAULT')
  assert.equal(port.keys.get('0/tx')!.iv, Buffer.alloc(12, 7))
  assert.is(port.registers().readUInt32LE(8), 0x44, 'both directions insecure before K_SET_GO')
  assert.is(port.handle(Buffer.from('04000000008000', 'hex')).toString('hex'), '06000000008000')
  assert.is(port.handle(Buffer.from('04000000008a00', 'hex')).toString('hex'), '06000000008a00')
  assert.is(port.registers().readUInt32LE(8), 0x12, 'rx skid (2), tx containment (1)')
  port.handle(Buffer.from('05000000008000', 'hex'))
  assert.is(port.keys.get('0/rx')!.active, false)
  port.reset()
  assert.throws(() => port.handle(Buffer.from('04000000008000', 'hex')), /never programmed/)
})

test('routing: a cxl-mem device answers CXL TSP in a session; a PCIe NIC answers UnsupportedRequest', async () => {
  for (const [model, ok] of [['cxl-mem', true], ['nic', false]] as const) {
    const dev = fresh(model)
    const rsp = deviceResponder(dev)
    const req = new SpdmRequester({exchange: async (p) => rsp.handleDoe(p)}, {leaf_key: leafKeyFromChain})
    await req.negotiate()
    await req.getCertificate()
    const s = await req.startSession()
    const answer = await req.vendor(s, {standard_id: SpdmRegistry.PCISIG, vendor_id: cxlVendorId(), payload: Buffer.from('0110810000', 'hex')}).then(
      (b) => b.toString('hex'),
      (e: Error) => e.message,
    )
    if (ok) assert.is(answer, '01' + '1001000001' + '10')
    else assert.match(answer, /UnsupportedRequest/)
    // PCI-SIG TDISP still works on both
    const v = await req.vendor(s, {standard_id: SpdmRegistry.PCISIG, vendor_id: pciSigVendorId(), payload: Buffer.concat([Buffer.from([1]), Buffer.from('10810000', 'hex'), Buffer.from([0xef, 0xbe, 0, 0]), Buffer.alloc(8)])})
    assert.is(v[2], 0x01, `${model}: TDISP_VERSION`)
  }
})

test.run()
