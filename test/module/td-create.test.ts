/**
 * TD creation as KVM does it (arch/x86/kvm/vmx/tdx.c, Linux v6.16: tdx_td_init → setup_tdparams →
 * TDH.MNG.INIT), decided from the frozen sysinfo alone: the refusals in KVM's order with KVM's
 * errno and the module's status (operand ids from the TDX module ABI: ATTRIBUTES 64, XFAM 65,
 * MAX_VCPUS 68, CPUID_CONFIG 69 in the low bits of TDX_OPERAND_INVALID 0xC000010000000000), and the
 * consumers' SEAMCALL count: sysinfo is read once, creation adds none.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {getSysInfo, readSysInfo} from '../../src/guest/sysinfo.js'
import {createTdOnPlatform, initPlatformWithTd} from '../../src/app/platform.js'
import {guestDriverFactory} from '../../src/app/cost.js'
import {openSession} from '../../src/app/session.js'
import {compareStrategies} from '../../src/cost/compare.js'
import {builtinProfile} from '../../src/cost/profiles.js'
import {parseWorkload} from '../../src/cost/workload.js'
import {Platform, createPlatformDoc, type ProfileName} from '../../src/module/platform.js'
import {TdCreateError, createTd, parseAttributes, parseCpuidEntry, type TdConfig} from '../../src/module/td-create.js'
import {StateStore} from '../../src/state/store.js'
import {cli, tempDir} from '../helpers/cli.js'

const platform = (profile: ProfileName = 'tdx-1.5') => new Platform(createPlatformDoc({profile, seed: 'td-create'}))
const base: TdConfig = {vcpus: 2, attributes: 1n << 28n, xfam: 0x618e7n, memory_bytes: 2 * 1024 ** 3, gpaw: 52}

function refusal(fn: () => unknown): TdCreateError {
  try {
    fn()
  } catch (error) {
    assert.instance(error, TdCreateError)
    return error as TdCreateError
  }
  throw new Error('expected a TD-creation refusal')
}

test('a request over MAX_VCPUS_PER_TD is refused at TDH.MNG.INIT with TDX_OPERAND_INVALID | MAX_VCPUS (0xC000010000000044), -EINVAL, exit 7', () => {
  const si = getSysInfo(platform().module)
  assert.is(si.td_conf.max_vcpus_per_td, 576)
  assert.is(createTd(si, {...base, vcpus: 576}).max_vcpus, 576, 'at the limit: accepted')
  const e = refusal(() => createTd(si, {...base, vcpus: 577}))
  assert.is(e.module_status, 0xc000010000000044n)
  assert.is(e.errno, 'EINVAL')
  assert.is(e.exit, 7)
  assert.is(e.detail?.hw_error, '0xC000010000000044')
  assert.is(e.detail?.step, 'TDH.MNG.INIT')
  assert.is(refusal(() => createTd(si, {...base, vcpus: 1, max_vcpus: 0})).module_status, 0xc000010000000044n, 'max_vcpus 0')
  assert.is(refusal(() => createTd(si, {...base, vcpus: 3, max_vcpus: 2})).detail?.step, 'KVM_CREATE_VCPU')
})

test("refusals in KVM's order, each with its errno and, where the module refuses too, its status", () => {
  const si = getSysInfo(platform().module)
  const cpuid = (n: number) => Array.from({length: n}, () => parseCpuidEntry('0x1=0'))
  // 1. too many CPUID entries → -E2BIG (before anything else, even with bad attributes)
  let e = refusal(() => createTd(si, {...base, attributes: 1n << 4n, cpuid: cpuid(257)}))
  assert.equal([e.errno, e.module_status], ['E2BIG', undefined])
  // 2. attributes: a bit outside attributes_fixed0 (HGS_PLUS_PROF, bit 4) — the module refuses it too
  e = refusal(() => createTd(si, {...base, attributes: (1n << 28n) | (1n << 4n), xfam: 1n << 40n}))
  assert.equal([e.detail?.step, e.module_status], ['attributes', 0xc000010000000040n])
  // … a bit the module allows but KVM does not (DEBUG: KVM_SUPPORTED_TD_ATTRS is SEPT_VE_DISABLE only)
  e = refusal(() => createTd(si, {...base, attributes: (1n << 28n) | 1n}))
  assert.equal([e.detail?.step, e.refused_by, e.module_status], ['attributes', 'kvm', undefined])
  // 3. XFAM outside xfam_fixed0 (0x6dbe7): bit 40 → TDX_OPERAND_INVALID | XFAM
  e = refusal(() => createTd(si, {...base, xfam: 0x618e7n | (1n << 40n), vcpus: 9999}))
  assert.equal([e.detail?.step, e.module_status], ['xfam', 0xc000010000000041n])
  // 4. CPUID: a leaf with no module slot (KVM), a non-configurable bit (module, CPUID_CONFIG)
  e = refusal(() => createTd(si, {...base, cpuid: [parseCpuidEntry('0x2=1')]}))
  assert.equal([e.detail?.step, e.refused_by, e.module_status], ['cpuid', 'kvm', undefined])
  e = refusal(() => createTd(si, {...base, cpuid: [parseCpuidEntry('0x7.0=0xffffffff')]}))
  assert.equal([e.detail?.step, e.module_status, e.detail?.leaf, e.detail?.subleaf], ['cpuid', 0xc000010000000045n, 7, 0])
  // a value within the module's configurable mask is accepted
  const [mask] = si.td_conf.cpuid_config_values[si.td_conf.cpuid_config_leaves.indexOf(7n)]
  assert.is(createTd(si, {...base, cpuid: [{leaf: 7, subleaf: 0, eax: Number(mask & 0xffffffffn), ebx: 0, ecx: 0, edx: 0}]}).cpuid_configs, 1)
  // 7. memory: reaching the shared bit (GPAW 48: 2^47 bytes of private GPA space)
  e = refusal(() => createTd(si, {...base, gpaw: 48, memory_bytes: 2 ** 47 + 4096}))
  assert.is(e.detail?.step, 'memslot')
})

test('TD_PARAMS: fixed1 bits forced on, NO_RBP_MOD config flag, control pages from td_ctrl', () => {
  const si = getSysInfo(platform().module)
  const p = createTd(si, {...base, vcpus: 4})
  assert.is(p.xfam, 0x618e7n | si.td_conf.xfam_fixed1)
  assert.is(p.config_flags.no_rbp_mod, true)
  // tdx-1.5: TDR 4 KiB, TDCS 4 pages, TDVPS 6 pages per vCPU → 1 + 4 + 4·6
  assert.equal(p.control_pages, {tdr: 1, tdcs: 4, tdvps_per_vcpu: 6, total: 29})
})

test('a 1.0 module (no MAX_VCPUS_PER_TD) only refuses max_vcpus 0, and says a v6.16 kernel would not take it', () => {
  const p = platform('tdx-1.0')
  const r = readSysInfo(p.module)
  assert.ok(r.absent.includes('td_conf.max_vcpus_per_td'))
  assert.match(r.kernel_refuses ?? '', /MAX_VCPUS_PER_TD/)
  assert.is(createTd(r.sysinfo, {...base, gpaw: 48, vcpus: 1000}).max_vcpus, 1000)
  assert.is(refusal(() => createTd(r.sysinfo, {...base, gpaw: 48, vcpus: 1, max_vcpus: 0})).module_status, 0xc000010000000044n)
})

test('the consumers read sysinfo, not the module: one read (62 SEAMCALLs), TD creation, sessions and alloc compare add none', () => {
  const p = platform()
  assert.is(p.module.counts.seamcall, 0)
  const si = getSysInfo(p.module)
  const afterRead = p.module.counts.seamcall
  assert.is(afterRead, 62)
  for (let i = 0; i < 5; i++) createTd(si, {...base, vcpus: 1 + i})
  createTdOnPlatform(p.doc) // a new Platform over the same document: its own module, read once there
  openSession(p)
  openSession(p, {vcpus: 64})
  assert.is(p.module.counts.seamcall, afterRead, 'no consumer issued a SEAMCALL')
  assert.is(getSysInfo(p.module), si, 'the same frozen object')
  const refused = refusal(() => openSession(p, {vcpus: 600}))
  assert.is(refused.module_status, 0xc000010000000044n)
  assert.is(p.module.counts.seamcall, afterRead)
})

test('module init: the TD is created from sysinfo; a refused TD writes nothing; alloc compare over the limit exits 7', async () => {
  const store = new StateStore(tempDir())
  const ok = await initPlatformWithTd(store, {seed: 'tdc', td: {vcpus: 8, memory_bytes: 4 * 1024 ** 3}})
  assert.is(ok.td.params?.max_vcpus, 8)
  assert.is(ok.doc.td.num_vcpus, 8)
  assert.is(ok.td.sysinfo_seamcalls, 62)
  const empty = new StateStore(tempDir())
  try {
    await initPlatformWithTd(empty, {seed: 'tdc', td: {vcpus: 600}})
    assert.unreachable()
  } catch (error) {
    assert.instance(error, TdCreateError)
  }
  assert.is(empty.exists(), false, 'nothing written')
  // the comparison's TD is created the same way
  const w = parseWorkload({requests: 1, vcpus: 600, strategies: 'upstream'})
  assert.throws(() => compareStrategies(w, builtinProfile('granite-rapids')!, {driverFactory: guestDriverFactory()}), (e: unknown) => e instanceof TdCreateError)

  const d = tempDir()
  const r = cli(['module', 'init', '--seed', 'x', '--vcpus', '600', '--json'], {stateDir: d})
  assert.is(r.code, 7)
  const err = JSON.parse(r.stdout).error
  assert.is(err.code, 'TD_CREATE_REFUSED')
  assert.is(err.detail.hw_error, '0xC000010000000044')
  assert.is(err.detail.errno, 'EINVAL')
  const good = cli(['module', 'init', '--seed', 'x', '--vcpus', '16', '--attributes', 'SEPT_VE_DISABLE', '--cpuid', '0x7.0=0', '--json'], {stateDir: d})
  assert.is(good.code, 0, good.stderr)
  const j = JSON.parse(good.stdout)
  assert.is(j.td.num_vcpus, 16)
  assert.is(j.td_create.params.max_vcpus, 16)
  assert.is(j.td_create.sysinfo_seamcalls, 62)
  const cmp = cli(['alloc', 'compare', '--requests', '5', '--vcpus', '600', '--strategies', 'upstream'], {stateDir: d})
  assert.is(cmp.code, 7)
  assert.match(cmp.stderr, /MAX_VCPUS_PER_TD 576/)
  assert.is(cli(['module', 'init', '--seed', 'x', '--attributes', 'NOPE', '--force'], {stateDir: d}).code, 2)
})

test('TD config parsing: attribute names or hex, CPUID entries', () => {
  assert.is(parseAttributes('SEPT_VE_DISABLE|debug'), (1n << 28n) | 1n)
  assert.is(parseAttributes('0x10000000'), 1n << 28n)
  assert.equal(parseCpuidEntry('0x80000008=0x3030:0:0:0'), {leaf: 0x80000008, eax: 0x3030, ebx: 0, ecx: 0, edx: 0})
  assert.equal(parseCpuidEntry('7.0'), {leaf: 7, subleaf: 0, eax: 0, ebx: 0, ecx: 0, edx: 0})
  assert.throws(() => parseCpuidEntry('0x7=1:2:3:4:5'), /at most four/)
})

test.run()
