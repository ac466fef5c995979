/**
 * GHCI TDVMCALLs end to end through the module's TDG.VP.VMCALL: sub-function numbers, R10 status
 * codes and validation order as in KVM/QEMU (shared/reference/tdx-abi.md §2), the GetQuote buffer
 * header byte layout, notify interrupts, ReportFatalError and the Service TDVMCALL.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {
  GET_QUOTE_HEADER,
  GetQuoteStatus,
  SERVICE_CMD_HEADER,
  SERVICE_GUID_QUERY,
  SERVICE_GUID_TDXKIT_QUOTE,
  SERVICE_QUERY_CMD,
  SERVICE_QUERY_RSP,
  SERVICE_QUOTE_CMD,
  SERVICE_QUOTE_RSP,
  SERVICE_RSP_HEADER,
  ServiceStatus,
  TdVmCall,
  guidFromBytes,
  guidToBytes,
  parseTdvmcallName,
} from '../../src/abi/ghci.js'
import {readNum, readUint, writeField} from '../../src/abi/layout.js'
import {parseQuote} from '../../src/abi/quote.js'
import {getTdReport} from '../../src/guest/tdx-guest.js'
import {freshTd} from '../helpers/guest.js'

// Independent truth: the numbers as printed in Linux asm/shared/tdx.h / QEMU tdx.h.
const SUCCESS = 0n
const RETRY = 1n
const INVALID_OPERAND = 0x8000000000000000n
const ALIGN_ERROR = 0x8000000000000002n
const SUBFUNC_UNSUPPORTED = 0x8000000000000003n

/** A shared, header-initialised GetQuote buffer of `pages` pages. */
function sharedBuffer(td: ReturnType<typeof freshTd>['td'], pages: number): {gpa: bigint; shared: bigint} {
  const gpa = td.memory.gpaOf(td.memory.pages.allocContiguous(pages))
  td.memory.setState(gpa, pages, 'shared')
  return {gpa, shared: td.memory.sharedAlias(gpa)}
}

test('sub-function numbers and names', () => {
  assert.is(TdVmCall.GET_TD_VM_CALL_INFO, 0x10000n)
  assert.is(TdVmCall.MAP_GPA, 0x10001n)
  assert.is(TdVmCall.GET_QUOTE, 0x10002n)
  assert.is(TdVmCall.REPORT_FATAL_ERROR, 0x10003n)
  assert.is(TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT, 0x10004n)
  assert.is(TdVmCall.SERVICE, 0x10005n)
  assert.is(parseTdvmcallName('getquote'), 0x10002n)
  assert.is(parseTdvmcallName('MapGPA'), 0x10001n)
  assert.is(parseTdvmcallName('0x10004'), 0x10004n)
  assert.is(parseTdvmcallName('cpuid'), 0x0an)
  assert.is(parseTdvmcallName('nope'), undefined)
})

test('GetTdVmCallInfo: leaf 0 all zero, leaf 1 bitmap with SetupEventNotifyInterrupt (bit 1), leaf 2 INVALID_OPERAND', () => {
  const {td} = freshTd()
  const l0 = td.ghci.call(TdVmCall.GET_TD_VM_CALL_INFO, {r12: 0n, r13: 5n})
  assert.equal([l0.r10, l0.r11, l0.r12, l0.r13, l0.r14], [SUCCESS, 0n, 0n, 0n, 0n])
  const l1 = td.ghci.call(TdVmCall.GET_TD_VM_CALL_INFO, {r12: 1n})
  assert.is(l1.r10, SUCCESS)
  assert.is(l1.r11, 2n)
  assert.is(td.ghci.call(TdVmCall.GET_TD_VM_CALL_INFO, {r12: 2n}).r10, INVALID_OPERAND)
})

test('unknown sub-functions are SUBFUNC_UNSUPPORTED; a bad RCX bitmap is refused by the module itself', () => {
  const {td} = freshTd()
  assert.is(td.ghci.call(TdVmCall.CPUID, {r12: 0n}).r10, SUBFUNC_UNSUPPORTED)
  assert.is(td.ghci.call(0x12345n).r10, SUBFUNC_UNSUPPORTED)
  const bad = td.ghci.call(TdVmCall.GET_QUOTE, {rcx: 1n}) // exposing RAX
  assert.is(bad.tdcall_status, 0xc000010000000001n)
  // R11 not exposed: the host sees sub-function 0
  assert.is(td.ghci.call(TdVmCall.GET_TD_VM_CALL_INFO, {rcx: 0xf7ccn}).r10, SUBFUNC_UNSUPPORTED)
})

test('MapGPA validation: operand errors before alignment, R11 = start on error', () => {
  const {td} = freshTd()
  const S = td.memory.sharedBit
  const call = (r12: bigint, r13: bigint) => td.ghci.call(TdVmCall.MAP_GPA, {r12, r13})
  const a = call(0x1000800n, 0x1000n)
  assert.equal([a.r10, a.r11], [ALIGN_ERROR, 0x1000800n])
  assert.is(call(0x1000000n, 0x800n).r10, ALIGN_ERROR)
  assert.is(call(0x1000000n, 0n).r10, INVALID_OPERAND)
  // start shared, end private (range crosses the shared bit)
  assert.is(call(S - 0x1000n, 0x2000n).r10, INVALID_OPERAND)
  // beyond GPAW
  assert.is(call(1n << 52n, 0x1000n).r10, INVALID_OPERAND)
  // misaligned but also crossing → INVALID_OPERAND wins (KVM checks operands first)
  assert.is(call(S - 0x800n, 0x1000n).r10, INVALID_OPERAND)
  const ok = call(S | 0x1000000n, 0x2000n)
  assert.is(ok.r10, SUCCESS)
  assert.is(td.memory.state(0x1001000n), 'shared')
})

test('GetQuote buffer header: 24 bytes, little-endian, version/status/in_len/out_len at 0/8/16/20', () => {
  const hdr = Buffer.alloc(GET_QUOTE_HEADER.size)
  writeField(GET_QUOTE_HEADER, hdr, 'version', 1n)
  writeField(GET_QUOTE_HEADER, hdr, 'status', GetQuoteStatus.IN_FLIGHT)
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', 1024)
  writeField(GET_QUOTE_HEADER, hdr, 'out_len', 0x1234)
  assert.is(hdr.toString('hex'), '0100000000000000' + 'ffffffffffffffff' + '00040000' + '34120000')
  assert.is(readUint(GET_QUOTE_HEADER, hdr, 'status'), 0xffffffffffffffffn)
  assert.is(readNum(GET_QUOTE_HEADER, hdr, 'out_len'), 0x1234)
  assert.is(GetQuoteStatus.SUCCESS, 0n)
  assert.is(GetQuoteStatus.ERROR, 0x8000000000000000n)
  assert.is(GetQuoteStatus.SERVICE_UNAVAILABLE, 0x8000000000000001n)
})

test('GetQuote validation and the host round trip: IN_FLIGHT, then quote + out_len + SUCCESS written by the host', () => {
  const {p, td} = freshTd()
  const call = (r12: bigint, r13: bigint) => td.ghci.call(TdVmCall.GET_QUOTE, {r12, r13})
  const {gpa, shared} = sharedBuffer(td, 2)
  assert.is(call(shared, 0n).r10, INVALID_OPERAND)
  assert.is(call(shared + 0x10n, 0x2000n).r10, ALIGN_ERROR)
  assert.is(call(shared, 0x2001n).r10, ALIGN_ERROR)
  assert.is(call(gpa, 0x2000n).r10, INVALID_OPERAND) // no shared bit
  assert.is(call(shared, 0x21000n).r10, INVALID_OPERAND) // > 128 KiB
  assert.is(call(shared, 0x2000n).r10, INVALID_OPERAND) // version 0 (buffer zero)
  const hdr = Buffer.alloc(24)
  writeField(GET_QUOTE_HEADER, hdr, 'version', 1n)
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', 0x2000 - 23)
  td.memory.write(shared, hdr)
  assert.is(call(shared, 0x2000n).r10, INVALID_OPERAND) // in_len does not fit
  const report = getTdReport(p, Buffer.alloc(64, 0xab))
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', report.length)
  td.memory.write(shared, Buffer.concat([hdr, report]))
  assert.is(call(shared, 0x2000n).r10, SUCCESS)
  assert.is(readUint(GET_QUOTE_HEADER, td.memory.read(shared, 24), 'status'), GetQuoteStatus.IN_FLIGHT)
  assert.is(td.runHost(), 1)
  const done = td.memory.read(shared, 24)
  assert.is(readUint(GET_QUOTE_HEADER, done, 'status'), GetQuoteStatus.SUCCESS)
  const outLen = readNum(GET_QUOTE_HEADER, done, 'out_len')
  const q = parseQuote(td.memory.read(shared + 24n, outLen))
  assert.is(q.td!.report_data.toString('hex'), 'ab'.repeat(64))
})

test('GetQuote with no QGS: SUCCESS, buffer status SERVICE_UNAVAILABLE; 16 in flight → RETRY', () => {
  const down = freshTd({qgsMode: 'down'}).td
  const {shared} = sharedBuffer(down, 1)
  const hdr = Buffer.alloc(24)
  writeField(GET_QUOTE_HEADER, hdr, 'version', 1n)
  down.memory.write(shared, hdr)
  assert.is(down.ghci.getQuote(shared, 4096).r10, SUCCESS)
  assert.is(readUint(GET_QUOTE_HEADER, down.memory.read(shared, 24), 'status'), GetQuoteStatus.SERVICE_UNAVAILABLE)

  const stall = freshTd({qgsMode: 'stall'}).td
  const bufs = Array.from({length: 17}, () => sharedBuffer(stall, 1).shared)
  for (const b of bufs) stall.memory.write(b, hdr)
  for (let i = 0; i < 16; i++) assert.is(stall.ghci.getQuote(bufs[i], 4096).r10, SUCCESS)
  assert.is(stall.ghci.getQuote(bufs[16], 4096).r10, RETRY)
})

test('SetupEventNotifyInterrupt: vectors 32–255; the host injects it on GetQuote completion', () => {
  const {p, td} = freshTd()
  assert.is(td.ghci.call(TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT, {r12: 31n}).r10, INVALID_OPERAND)
  assert.is(td.ghci.call(TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT, {r12: 256n}).r10, INVALID_OPERAND)
  assert.is(td.ghci.call(TdVmCall.SETUP_EVENT_NOTIFY_INTERRUPT, {r12: 0xf3n}).r10, SUCCESS)
  const {shared} = sharedBuffer(td, 2)
  const hdr = Buffer.alloc(24)
  writeField(GET_QUOTE_HEADER, hdr, 'version', 1n)
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', 1024)
  td.memory.write(shared, Buffer.concat([hdr, getTdReport(p, Buffer.alloc(64))]))
  td.ghci.getQuote(shared, 8192)
  assert.is(td.cpu.takeInterrupt(), undefined)
  td.runHost()
  assert.is(td.cpu.takeInterrupt(), 0xf3)
})

test('ReportFatalError: error code, 64-byte message from R14,R15,RBX,RDI,RSI,R8,R9,RDX; the TD is shut down', () => {
  const {td} = freshTd()
  assert.is(td.ghci.reportFatalError(0x1234, 'x').r10, INVALID_OPERAND) // non-zero low 16 bits
  const msg = 'kernel panic: attempted to kill init! exitcode=0x0000000b ......'
  assert.is(msg.length, 64)
  assert.is(td.ghci.reportFatalError(0x10000, msg).r10, SUCCESS)
  assert.equal(td.vmm.fatal, {error_code: 0x10000n, message: msg})
  assert.throws(() => td.ghci.call(TdVmCall.GET_TD_VM_CALL_INFO), (e: unknown) => (e as {code: string}).code === 'TD_SHUTDOWN')
  // message register order, checked by hand: "ABCDEFGH" in R14, "IJKLMNOP" in R15, ...
  const {td: td2} = freshTd()
  const le = (s: string) => Buffer.from(s).readBigUInt64LE()
  td2.ghci.call(TdVmCall.REPORT_FATAL_ERROR, {r12: 0n, r14: le('ABCDEFGH'), r15: le('IJKLMNOP'), rbx: le('QRSTUVWX'), rdi: le('YZ012345'), rsi: 0n})
  assert.is(td2.vmm.fatal!.message, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345')
})

test('Service TDVMCALL: GUID-addressed buffers; query, quote service, NOT_SUPPORT, RSP_BUF_TOO_SMALL, alignment', () => {
  const {p, td} = freshTd()
  assert.is(guidFromBytes(guidToBytes(SERVICE_GUID_QUERY)), SERVICE_GUID_QUERY)
  // UEFI byte order: first three fields little-endian
  assert.is(guidToBytes('00112233-4455-6677-8899-aabbccddeeff').toString('hex'), '33221100554477668899aabbccddeeff')
  const cmd = sharedBuffer(td, 1).shared
  const rsp = sharedBuffer(td, 2).shared
  const send = (guid: string, data: Buffer, rspCap = 8192) => {
    const h = Buffer.alloc(24)
    writeField(SERVICE_CMD_HEADER, h, 'guid', guidToBytes(guid))
    writeField(SERVICE_CMD_HEADER, h, 'length', 24 + data.length)
    td.memory.write(cmd, Buffer.concat([h, data]))
    const r = Buffer.alloc(24)
    writeField(SERVICE_RSP_HEADER, r, 'length', rspCap)
    td.memory.write(rsp, r)
    assert.is(td.ghci.service(cmd, rsp).r10, SUCCESS)
    const out = td.memory.read(rsp, 24)
    const len = readNum(SERVICE_RSP_HEADER, out, 'length')
    return {status: readNum(SERVICE_RSP_HEADER, out, 'status'), guid: guidFromBytes(out.subarray(0, 16)), data: td.memory.read(rsp + 24n, len - 24)}
  }
  const q = Buffer.alloc(SERVICE_QUERY_CMD.size)
  writeField(SERVICE_QUERY_CMD, q, 'guid', guidToBytes(SERVICE_GUID_TDXKIT_QUOTE))
  const qr = send(SERVICE_GUID_QUERY, q)
  assert.is(qr.status, ServiceStatus.SUCCESS)
  assert.is(qr.guid, SERVICE_GUID_QUERY)
  assert.is(readNum(SERVICE_QUERY_RSP, qr.data, 'supported'), 0)
  assert.is(send('11111111-2222-3333-4444-555555555555', Buffer.alloc(4)).status, ServiceStatus.NOT_SUPPORT)

  const report = getTdReport(p, Buffer.alloc(64, 0x42))
  const qc = Buffer.alloc(SERVICE_QUOTE_CMD.size)
  writeField(SERVICE_QUOTE_CMD, qc, 'version', 1)
  writeField(SERVICE_QUOTE_CMD, qc, 'quote_version', 4)
  writeField(SERVICE_QUOTE_CMD, qc, 'report_len', report.length)
  const quoteRsp = send(SERVICE_GUID_TDXKIT_QUOTE, Buffer.concat([qc, report]))
  assert.is(quoteRsp.status, ServiceStatus.SUCCESS)
  const qlen = readNum(SERVICE_QUOTE_RSP, quoteRsp.data, 'quote_len')
  const quote = parseQuote(quoteRsp.data.subarray(SERVICE_QUOTE_RSP.size, SERVICE_QUOTE_RSP.size + qlen))
  assert.is(quote.version, 4)
  assert.is(quote.td!.report_data.toString('hex'), '42'.repeat(64))
  assert.is(send(SERVICE_GUID_TDXKIT_QUOTE, Buffer.concat([qc, report]), 100).status, ServiceStatus.RSP_BUF_TOO_SMALL)
  assert.is(td.ghci.call(TdVmCall.SERVICE, {r12: cmd + 8n, r13: rsp}).r10, ALIGN_ERROR)
  assert.is(td.ghci.call(TdVmCall.SERVICE, {r12: td.memory.strip(cmd), r13: rsp}).r10, INVALID_OPERAND)
  assert.is(td.ghci.call(TdVmCall.SERVICE, {r12: cmd, r13: rsp, r14: 7n}).r10, INVALID_OPERAND)
})

test.run()
