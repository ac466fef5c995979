/**
 * Every completion-status path of the modelled TDCALLs and SEAMCALLs. Expected statuses are written
 * out as literals (module 1.5 values), not built from the module's own constants.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import {Platform, createPlatformDoc, type ProfileName} from '../../src/module/platform.js'
import {encodeLeaf} from '../../src/abi/tdcall.js'
import {decodeMetadataList} from '../../src/abi/metadata.js'
import {describeStatus, statusName} from '../../src/abi/status.js'
import {MemoryFault} from '../../src/machine/memory.js'
import {acceptPages, getTdReport} from '../../src/guest/tdx-guest.js'
import {RefusedError} from '../../src/errors.js'

const SUCCESS = 0n
const INVALID_RAX = 0xc000010000000000n
const INVALID_RCX = 0xc000010000000001n
const INVALID_RDX = 0xc000010000000002n
const INVALID_R8 = 0xc000010000000008n
const BUSY_RCX = 0x8000020000000001n
const BUSY_RTMR = 0x80000200000000a8n
const ALREADY_4K = 0x00000b0a00000000n
const ALREADY_2M = 0x00000b0a00000001n
const SIZE_MISMATCH_2M = 0xc0000b0b00000001n
const FIELD_ID_INCORRECT = 0xc0000c0000000000n
const NOT_READABLE = 0xc0000c0200000000n
const FIRST_FIELD = 0x00000c0b00000000n
const NO_VE_INFO = 0xc000070400000000n
const NA = 0xffffffffffffffffn

const SHARED = 1n << 51n // GPAW 52
const PAGE = 0x200000n // a private, 2M-aligned scratch area
const platform = (profile: ProfileName = 'tdx-1.5') => new Platform(createPlatformDoc({profile, seed: 'tdcall'}))
const call = (p: Platform, leaf: number, regs: Record<string, bigint> = {}, version = 0) => p.module.tdcall(encodeLeaf(leaf, version), regs)

test('RAX checks: reserved bits, versions, unknown leaf', () => {
  const p = platform()
  assert.is(p.module.tdcall(1n | (1n << 24n)).status, INVALID_RAX)
  assert.is(call(p, 1, {}, 1).status, INVALID_RAX, 'TDG.VP.INFO has no version 1')
  assert.is(call(p, 99).status, INVALID_RAX)
  assert.is(call(p, 7, {rdx: 0x9100000000000010n}, 1).status, SUCCESS, 'TDG.VM.RD v1 is accepted')
  assert.is(call(p, 7, {rdx: 0x9100000000000010n}, 2).status, INVALID_RAX)
})

test('TDG.VP.INFO returns GPAW, attributes, vCPUs and SYS.RD availability', () => {
  const p = platform()
  const {status, regs} = call(p, 1)
  assert.is(status, SUCCESS)
  assert.is(regs.rcx, 52n)
  assert.is(regs.rdx, 0x10000000n)
  assert.is(regs.r8, 2n | (2n << 32n))
  assert.is(regs.r10, 1n)
  const old = platform('tdx-1.0')
  const r = call(old, 1).regs
  assert.is(r.rcx, 48n)
  assert.is(r.r10, 0n, 'no TDG.SYS.RD on the 1.0 profile')
})

test('TDG.MR.RTMR.EXTEND: alignment, private-only, range, index, busy, success', () => {
  const p = platform()
  const digest = Buffer.alloc(48, 3)
  p.memory.write(PAGE, digest)
  assert.is(call(p, 2, {rcx: PAGE + 8n, rdx: 0n}).status, INVALID_RCX, 'misaligned')
  assert.is(call(p, 2, {rcx: PAGE | SHARED, rdx: 0n}).status, INVALID_RCX, 'shared GPA')
  assert.is(call(p, 2, {rcx: 1n << 52n, rdx: 0n}).status, INVALID_RCX, 'beyond GPAW')
  assert.is(call(p, 2, {rcx: 0x80000000n, rdx: 0n}).status, INVALID_RCX, 'beyond guest RAM')
  assert.is(call(p, 2, {rcx: PAGE, rdx: 4n}).status, INVALID_RDX, 'RTMR index 4')
  p.module.contention.rtmr = true
  assert.is(call(p, 2, {rcx: PAGE, rdx: 0n}).status, BUSY_RTMR)
  p.module.contention.rtmr = false
  assert.is(p.doc.td.rtmr[3], '00'.repeat(48), 'failed calls change nothing')
  assert.is(call(p, 2, {rcx: PAGE, rdx: 3n}).status, SUCCESS)
  assert.is(p.doc.td.rtmr[3], createHash('sha384').update(Buffer.alloc(48)).update(digest).digest('hex'))
  // A pending page as the digest operand is a #VE, not a status.
  p.module.augPages(0x400000n, 1)
  assert.throws(() => call(p, 2, {rcx: 0x400000n, rdx: 0n}), (e: MemoryFault) => e.code === 'PAGE_PENDING')
})

test('TDG.MR.REPORT: RCX/RDX alignment, subtype, busy, shared output buffer', () => {
  const p = platform()
  assert.is(call(p, 4, {rcx: PAGE + 512n, rdx: PAGE + 0x400n}).status, INVALID_RCX)
  assert.is(call(p, 4, {rcx: PAGE, rdx: PAGE + 0x401n}).status, INVALID_RDX)
  assert.is(call(p, 4, {rcx: PAGE, rdx: 1n << 52n}).status, INVALID_RDX)
  assert.is(call(p, 4, {rcx: PAGE, rdx: PAGE + 0x400n, r8: 1n}).status, INVALID_R8)
  p.module.contention.rtmr = true
  assert.is(call(p, 4, {rcx: PAGE, rdx: PAGE + 0x400n}).status, BUSY_RTMR)
  p.module.contention.rtmr = false
  assert.is(call(p, 4, {rcx: 0x7ffffc00n + 0x400n, rdx: PAGE + 0x400n}).status, INVALID_RCX, 'output beyond guest RAM')
  p.memory.write(PAGE + 0x400n, Buffer.alloc(64, 0xee))
  assert.is(call(p, 4, {rcx: PAGE, rdx: PAGE + 0x400n}).status, SUCCESS)
  assert.ok(p.memory.read(PAGE + 128n, 64).equals(Buffer.alloc(64, 0xee)))
  // Output to a shared page through its shared alias is allowed (private or shared).
  p.memory.setState(0x600000n, 1, 'shared')
  assert.is(call(p, 4, {rcx: 0x600000n | SHARED, rdx: PAGE + 0x400n}).status, SUCCESS)
  assert.is(p.memory.hostRead(0x600000n, 1)[0], 0x81)
  // getTdReport maps a refusal to a RefusedError carrying the status.
  p.module.contention.rtmr = true
  assert.throws(() => getTdReport(p, Buffer.alloc(64)), (e: RefusedError) => e instanceof RefusedError && e.status === BUSY_RTMR && e.exit === 7)
})

test('TDG.MEM.PAGE.ACCEPT: operand checks (reserved bits, 1G, alignment, shared, busy)', () => {
  const p = platform()
  p.module.augPages(PAGE, 512)
  assert.is(call(p, 6, {rcx: PAGE | 0x8n}).status, INVALID_RCX, 'RCX[11:3] reserved')
  assert.is(call(p, 6, {rcx: PAGE | (1n << 60n)}).status, INVALID_RCX, 'RCX[63:52] reserved')
  assert.is(call(p, 6, {rcx: 0x40000000n | 2n}).status, INVALID_RCX, '1G rejected by module 1.5')
  assert.is(call(p, 6, {rcx: 0x40000000n | 3n}).status, INVALID_RCX, 'level 3')
  assert.is(call(p, 6, {rcx: (PAGE + 0x1000n) | 1n}).status, INVALID_RCX, '2M request on a 4K-aligned GPA')
  assert.is(call(p, 6, {rcx: PAGE | SHARED}).status, INVALID_RCX, 'shared GPA')
  p.module.contention.sept = true
  assert.is(call(p, 6, {rcx: PAGE}).status, BUSY_RCX)
  p.module.contention.sept = false
})

test('TDG.MEM.PAGE.ACCEPT: 4K pending → SUCCESS (zeroed), again → ALREADY_ACCEPTED|4K, 2M over 4K leaves → SIZE_MISMATCH|2M', () => {
  const p = platform()
  p.memory.write(PAGE, Buffer.from('old contents'))
  p.module.augPages(PAGE, 512)
  assert.is(p.memory.state(PAGE), 'pending')
  assert.is(call(p, 6, {rcx: PAGE | 1n}).status, SIZE_MISMATCH_2M)
  assert.is(call(p, 6, {rcx: PAGE}).status, SUCCESS)
  assert.is(p.memory.state(PAGE), 'private')
  assert.ok(p.memory.read(PAGE, 16).every((b) => b === 0), 'accepted page is zeroed')
  assert.is(call(p, 6, {rcx: PAGE}).status, ALREADY_4K)
  assert.is(describeStatus(ALREADY_4K), 'TDX_PAGE_ALREADY_ACCEPTED (level 4K)')
  // A shared page has no private mapping: EPT violation to the host, not a status.
  p.memory.setState(0x800000n, 1, 'shared')
  assert.throws(() => call(p, 6, {rcx: 0x800000n}), (e: MemoryFault) => e.code === 'EPT_VIOLATION')
})

test('TDG.MEM.PAGE.ACCEPT: 2M AUG → 2M accept SUCCESS, then ALREADY_ACCEPTED|2M for 2M and 4K; 4K into pending 2M → EPT violation', () => {
  const p = platform()
  p.module.augPages(PAGE, 512, 1)
  assert.throws(() => call(p, 6, {rcx: PAGE + 0x3000n}), (e: MemoryFault) => e.code === 'EPT_VIOLATION')
  assert.is(call(p, 6, {rcx: PAGE | 1n}).status, SUCCESS)
  assert.is(p.memory.census().pending, 0)
  assert.is(call(p, 6, {rcx: PAGE | 1n}).status, ALREADY_2M)
  assert.is(call(p, 6, {rcx: PAGE + 0x5000n}).status, ALREADY_2M)
})

test('acceptPages follows Linux: 2M first, 4K fallback; counts TDCALLs; a 4K failure is an error', () => {
  const p = platform()
  p.module.augPages(PAGE, 512, 1)
  assert.equal(acceptPages(p, PAGE, 512), {tdcalls: 1})
  const q = platform()
  q.module.augPages(PAGE, 512)
  assert.equal(acceptPages(q, PAGE, 512), {tdcalls: 1 + 512}, 'SIZE_MISMATCH at 2M, then 512 × 4K')
  assert.equal(acceptPages(q, PAGE + 0x200000n - 0x1000n, 0), {tdcalls: 0})
  assert.throws(() => acceptPages(q, PAGE, 1), (e: RefusedError) => e.status === ALREADY_4K)
})

test('TDG.VM.RD: v0/v1, VM index, unknown / malformed / null field ids', () => {
  const p = platform()
  let r = call(p, 7, {rdx: 0x1110000300000016n})
  assert.is(r.status, SUCCESS)
  assert.is(r.regs.r8, 2n, 'CONFIG_FLAGS: FLEXIBLE_PENDING_VE')
  assert.is(r.regs.rdx, 0x1110000300000016n, 'v0 leaves RDX')
  r = call(p, 7, {rdx: 0x1110000300000016n}, 1)
  assert.is(r.regs.rdx, 0x1110000300000017n, 'v1 returns the next field id')
  assert.is(call(p, 7, {rcx: 1n, rdx: 0x1110000300000016n}).status, INVALID_RCX)
  assert.is(call(p, 7, {rdx: 0x1110000300000099n}).status, FIELD_ID_INCORRECT)
  assert.is(call(p, 7, {rdx: 0x1110000301000016n}).status, FIELD_ID_INCORRECT, 'reserved bits 31:24')
  r = call(p, 7, {rdx: NA})
  assert.is(r.status, FIRST_FIELD)
  assert.is(r.regs.rdx, 0x1110000300000016n)
})

test('TDG.SYS.RD / RDALL: guest read mask, absent fields, first-field query; absent on 1.0', () => {
  const p = platform()
  let r = call(p, 11, {rdx: 0x0800000100000004n})
  assert.is(r.status, SUCCESS)
  assert.is(r.regs.r8, 1n, 'MAJOR_VERSION')
  assert.is(r.regs.rdx, 0x0800000200000000n, 'next guest-readable id after MAJOR_VERSION is VENDOR_ID')
  assert.is(call(p, 11, {rdx: 0x8800000200000001n}).status, NOT_READABLE, 'BUILD_DATE is host-only')
  // Issue 16: the 1.5 profile has MAX_VCPUS_PER_TD (the kernel reads it unconditionally); it is host-only.
  assert.is(call(p, 11, {rdx: 0x9900000100000008n}).status, NOT_READABLE, 'MAX_VCPUS_PER_TD is host-only')
  assert.is(call(p, 11, {rdx: 0x9900000100000099n}).status, FIELD_ID_INCORRECT, 'a field the module lacks')
  r = call(p, 11, {rdx: NA})
  assert.is(r.status, FIRST_FIELD)
  assert.is(r.regs.rdx, 0x0800000100000003n, 'MINOR_VERSION is the lowest guest-readable id')
  // RDALL into a private page
  assert.is(call(p, 12, {rdx: PAGE + 8n, r8: NA}).status, INVALID_RDX)
  assert.is(call(p, 12, {rdx: PAGE | SHARED, r8: NA}).status, INVALID_RDX)
  r = call(p, 12, {rdx: PAGE, r8: NA})
  assert.is(r.status, SUCCESS)
  assert.is(r.regs.r8, NA)
  const list = decodeMetadataList(p.memory.read(PAGE, 4096))
  assert.is(list.get(0x0a00000300000008n), BigInt(p.doc.module.tdx_features0))
  assert.is(list.get(0x0800000000000000n | 0x0000000200000000n), 0x8086n, 'VENDOR_ID')
  assert.not.ok(list.has(0x8800000200000001n), 'no host-only fields')
  assert.not.ok(list.has(0x9100000100000008n), 'no MAX_TDMRS')
  assert.is(call(platform('tdx-1.0'), 11, {rdx: 0x0800000100000004n}).status, INVALID_RAX)
  assert.is(call(platform('tdx-1.0'), 12, {rdx: PAGE, r8: NA}).status, INVALID_RAX)
})

test('TDG.VP.VEINFO.GET without a #VE → TDX_NO_VALID_VE_INFO', () => {
  assert.is(call(platform(), 3).status, NO_VE_INFO)
  assert.is(statusName(NO_VE_INFO), 'TDX_NO_VALID_VE_INFO')
})

test('TDG.VP.VMCALL: expose bitmap checks (RAX/RCX/RSP, RBP with NO_RBP_MOD, bits 63:32); handler sees only exposed GPRs', () => {
  const p = platform()
  for (const bad of [1n, 2n, 1n << 4n, 1n << 5n, 1n << 32n]) assert.is(call(p, 0, {rcx: bad | 0xffccn}).status, INVALID_RCX, `bitmap 0x${bad.toString(16)}`)
  let r = call(p, 0, {rcx: 0xffccn, r11: 0x10000n})
  assert.is(r.status, SUCCESS)
  assert.is(r.regs.r10, 0x8000000000000003n, 'no GHCI handler: SUBFUNC_UNSUPPORTED')
  let seen: bigint[] = []
  p.module.setVmcallHandler((regs) => {
    seen = [regs.r11, regs.r12, regs.r13, regs.rsi]
    return {r10: 0n, r11: 42n, r13: 99n}
  })
  r = call(p, 0, {rcx: (1n << 10n) | (1n << 11n) | (1n << 12n), r11: 0x10000n, r12: 5n, r13: 6n, rsi: 7n})
  assert.equal(seen, [0x10000n, 5n, 0n, 0n], 'R13 and RSI not exposed')
  assert.is(r.regs.r10, 0n)
  assert.is(r.regs.r11, 42n)
  assert.is(r.regs.r13, 6n, 'non-exposed output register untouched')
  // A module without NO_RBP_MOD lets RBP be exposed.
  const old = new Platform(createPlatformDoc({profile: 'tdx-1.5', seed: 'x', features0: 0n}))
  assert.is(call(old, 0, {rcx: 0xffccn | (1n << 5n)}).status, SUCCESS)
})

test('SEAMCALL TDH.SYS.RD (34) / TDH.SYS.RDALL (37): host mask, absent field, alignment, continuation', () => {
  const p = platform()
  const sys = (leaf: number, regs: Record<string, bigint>) => p.module.seamcall(BigInt(leaf), regs)
  let r = sys(34, {rdx: 0x8800000200000001n})
  assert.is(r.status, SUCCESS)
  assert.is(r.regs.r8, 20240725n, 'BUILD_DATE readable by the host')
  // Issue 16: MAX_VCPUS_PER_TD is in the 1.5 profile (576, the module constant); a 1.0 module lacks it.
  assert.is(sys(34, {rdx: 0x9900000100000008n}).regs.r8, 576n)
  assert.is(platform('tdx-1.0').module.seamcall(34n, {rdx: 0x9900000100000008n}).status, FIELD_ID_INCORRECT)
  assert.is(sys(34, {rdx: 0x9900000100000008n | (1n << 38n)}).status, FIELD_ID_INCORRECT, 'sequence bits set')
  assert.is(sys(35, {}).status, INVALID_RAX)
  assert.is(sys(37, {rdx: 0x1000n + 8n, r8: NA}).status, INVALID_RDX)
  // Walk with TDH.SYS.RD via next ids: visits every field once, ends with all ones.
  let id = sys(34, {rdx: NA}).regs.rdx
  const walked: bigint[] = []
  while (id !== NA) {
    walked.push(id)
    id = sys(34, {rdx: id}).regs.rdx
  }
  r = sys(37, {rdx: 0x1000n, r8: NA})
  const all = decodeMetadataList(p.module.hostMemory.read(0x1000n, 4096))
  assert.equal([...all.keys()].sort(), [...walked].sort())
  assert.is(r.regs.r8, NA)
  // Continue from the middle: only ids from there on.
  const mid = walked[Math.floor(walked.length / 2)]
  sys(37, {rdx: 0x2000n, r8: mid})
  const rest = decodeMetadataList(p.module.hostMemory.read(0x2000n, 4096))
  assert.is(rest.size, walked.length - walked.indexOf(mid))
  assert.is(sys(37, {rdx: 0x2000n, r8: 0x9900000100000099n}).status, FIELD_ID_INCORRECT, 'RDALL from a field the module lacks')
})

test('an accept of an unmapped pending page takes its EPT-violation exit to the registered host, once per 4K page', () => {
  const p = platform()
  p.module.augPages(PAGE, 2)
  const exits: bigint[] = []
  p.module.setAcceptExitHandler((gpa) => exits.push(gpa))
  assert.is(call(p, 6, {rcx: PAGE}).status, SUCCESS)
  assert.is(call(p, 6, {rcx: PAGE + 0x1000n}).status, SUCCESS)
  assert.equal(exits, [PAGE, PAGE + 0x1000n])
  assert.is(call(p, 6, {rcx: PAGE}).status, ALREADY_4K)
  assert.is(exits.length, 2, 'no exit for a page that is already accepted')
})

test.run()
