/** Sysinfo per profile: the table-driven reader, rd vs rdall, absent fields, conditional groups, freezing, NO_RBP_MOD. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {Platform, createPlatformDoc, type ProfileName} from '../../src/module/platform.js'
import {getSysInfo, readSysInfo, sysInfoToJson, SYSINFO_MEMBERS} from '../../src/guest/sysinfo.js'
import {RefusedError, TdxkitError} from '../../src/errors.js'
import {GLOBAL_FIELDS, TDX_FEATURES0_EXT, TDX_FEATURES0_TDXCONNECT, type GlobalFieldName} from '../../src/abi/fields.js'
import {SeamcallLeaf} from '../../src/abi/tdcall.js'

const platform = (profile: ProfileName, features0?: bigint) => new Platform(createPlatformDoc({profile, seed: 'sysinfo', features0}))

// SEAMCALLs the kernel-style reader needs, counted by hand per profile:
// 6 version + 1 features + 5 tdmr + 3 td_ctrl + 6 td_conf scalars (incl. the max_vcpus_per_td attempt)
// + N cpuid leaves + 2N cpuid values + 1 num_cmrs (+ 2 × 2 CMR entries when present)
// (+ 2 ext + 4 connect fields when TDX_FEATURES0 has EXT / TDXCONNECT: tdx-connect only).
const EXPECTED: Record<ProfileName, {rd: number; absent: string[]; cpuid: number; version: string}> = {
  'tdx-1.0': {rd: 6 + 1 + 5 + 3 + 6 + 6 * 3 + 1, absent: ['td_conf.max_vcpus_per_td', 'cmr.num_cmrs', 'cmr.cmr_base', 'cmr.cmr_size'], cpuid: 6, version: '1.0.3'},
  // Issue 16: MAX_VCPUS_PER_TD is mandatory for Linux v6.16+; the 1.5 profile now has it.
  'tdx-1.5': {rd: 6 + 1 + 5 + 3 + 6 + 12 * 3 + 1 + 4, absent: [], cpuid: 12, version: '1.5.6'},
  'tdx-connect': {rd: 6 + 1 + 5 + 3 + 6 + 14 * 3 + 1 + 4 + 2 + 4, absent: [], cpuid: 14, version: '2.0.1'},
}

for (const profile of Object.keys(EXPECTED) as ProfileName[]) {
  test(`${profile}: rd and rdall read the same sysinfo; SEAMCALL counts; absent members`, () => {
    const e = EXPECTED[profile]
    const p = platform(profile)
    const rd = readSysInfo(p.module, 'rd')
    const all = readSysInfo(p.module, 'rdall')
    assert.is(rd.seamcalls, e.rd)
    assert.is(all.seamcalls, 1)
    assert.equal(rd.absent, e.absent)
    assert.equal(all.absent, e.absent)
    assert.equal(sysInfoToJson(rd.sysinfo), sysInfoToJson(all.sysinfo))
    const s = rd.sysinfo
    assert.is(`${s.version.major_version}.${s.version.minor_version}.${s.version.update_version}`, e.version)
    assert.is(s.features.tdx_features0, BigInt(p.doc.module.tdx_features0))
    assert.is(s.td_conf.num_cpuid_config, e.cpuid)
    assert.is(s.td_conf.cpuid_config_leaves.length, e.cpuid)
    assert.is(s.td_conf.cpuid_config_values.length, e.cpuid)
    assert.is(s.td_conf.cpuid_config_values[0].length, 2)
    assert.is(s.td_conf.xfam_fixed0, 0x6dbe7n)
    assert.is(s.tdmr.max_tdmrs, 64)
    for (const path of e.absent) {
      const [g, m] = path.split('.')
      assert.is((s as any)[g][m], undefined, `${path} absent, not zero`)
      assert.is((sysInfoToJson(s) as any)[g][m], null)
    }
  })
}

test('JSON uses kernel member names; 64-bit values are hex strings; feature names', () => {
  const j = sysInfoToJson(readSysInfo(platform('tdx-1.5').module).sysinfo) as any
  assert.is(j.version.major_version, 1)
  assert.is(j.td_conf.attributes_fixed0, '0x8000000070000001')
  assert.ok(j.features.tdx_features0_names.includes('NO_RBP_MOD'))
  assert.is(j.cmr.num_cmrs, 2)
  assert.is(j.cmr.cmr_base[1], '0x0000000100000000')
  // Every unconditional table member is in the JSON; the groups a 1.5 module has no bit for are null.
  for (const m of SYSINFO_MEMBERS) {
    const [g, k] = m.path.split('.')
    if (m.onlyIf === undefined) assert.ok(k in j[g], m.path)
    else assert.is(j[g], null, `${g}: not read without its feature bit`)
  }
  const c = sysInfoToJson(readSysInfo(platform('tdx-connect').module).sysinfo) as any
  for (const m of SYSINFO_MEMBERS) {
    const [g, k] = m.path.split('.')
    assert.ok(k in c[g], m.path)
  }
  assert.ok(c.features.tdx_features0_names.includes('TDXCONNECT') && c.features.tdx_features0_names.includes('EXT'))
})

test('sysinfo is deep-frozen and read once per module', () => {
  const p = platform('tdx-1.5')
  const a = getSysInfo(p.module)
  const calls = p.module.counts.seamcall
  const b = getSysInfo(p.module)
  assert.is(a, b)
  assert.is(p.module.counts.seamcall, calls, 'second get does no SEAMCALL')
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.td_conf) && Object.isFrozen(a.td_conf.cpuid_config_values[0]))
  assert.throws(() => {
    ;(a.tdmr as any).max_tdmrs = 1
  })
})

/** Both readers refuse this module with `code`, exit 7 and a one-line message matching `message`. */
function assertRefusedByBothReaders(p: ReturnType<typeof platform>, code: string, message: RegExp, type: typeof TdxkitError = TdxkitError): void {
  for (const method of ['rd', 'rdall'] as const) {
    try {
      readSysInfo(p.module, method)
      assert.unreachable()
    } catch (e) {
      assert.instance(e, type)
      assert.is((e as TdxkitError).code, code)
      assert.is((e as TdxkitError).exit, 7)
      assert.match((e as Error).message, message)
      assert.not.match((e as Error).message, /\n/)
    }
  }
}

test('a module without NO_RBP_MOD is rejected (both methods), with a clear error', () => {
  assertRefusedByBothReaders(platform('tdx-1.5', 0x3dn), 'NO_RBP_MOD', /NO_RBP_MOD/, RefusedError)
})

const EXT_FIELDS: GlobalFieldName[] = ['MEMORY_POOL_REQUIRED_PAGES', 'EXT_REQUIRED']
const CONNECT_FIELDS: GlobalFieldName[] = ['IDE_MT_PAGE_COUNT', 'SPDM_MT_PAGE_COUNT', 'IOMMU_MT_PAGE_COUNT', 'SPDM_MAX_DEV_INFO_PAGES']
const idsOf = (names: GlobalFieldName[]): bigint[] => names.map((n) => GLOBAL_FIELDS[n].id)
const CONNECT_FEATURES0 = BigInt(platform('tdx-connect').doc.module.tdx_features0)

/** The field ids one `rd` read asks the module for (TDH.SYS.RD RDX), in order. */
function rdFieldIds(p: ReturnType<typeof platform>): bigint[] {
  const ids: bigint[] = []
  p.module.onCall = (t) => {
    if (t.kind === 'SEAMCALL' && t.leaf === SeamcallLeaf.SYS_RD) ids.push(t.in.rdx)
  }
  readSysInfo(p.module, 'rd')
  p.module.onCall = undefined
  return ids
}

test('ext and connect: read only when TDX_FEATURES0 has EXT / TDXCONNECT, with the values the module holds', () => {
  assert.is(TDX_FEATURES0_TDXCONNECT, 0x40n) // bit 6 (asm/tdx.h, TDX Connect host series)
  assert.is(TDX_FEATURES0_EXT, 0x8000000000n) // bit 39
  const cases: Array<{name: string; features0: bigint; ext: boolean; connect: boolean; rd: number}> = [
    {name: 'both bits', features0: CONNECT_FEATURES0, ext: true, connect: true, rd: EXPECTED['tdx-connect'].rd},
    {name: 'no TDXCONNECT', features0: CONNECT_FEATURES0 & ~TDX_FEATURES0_TDXCONNECT, ext: true, connect: false, rd: EXPECTED['tdx-connect'].rd - 4},
    {name: 'no EXT', features0: CONNECT_FEATURES0 & ~TDX_FEATURES0_EXT, ext: false, connect: true, rd: EXPECTED['tdx-connect'].rd - 2},
    {name: 'neither', features0: CONNECT_FEATURES0 & ~(TDX_FEATURES0_EXT | TDX_FEATURES0_TDXCONNECT), ext: false, connect: false, rd: EXPECTED['tdx-connect'].rd - 6},
  ]
  for (const c of cases) {
    const p = platform('tdx-connect', c.features0)
    // The module has all six fields either way: "not read" is the reader's choice, not an absent field.
    for (const id of idsOf([...EXT_FIELDS, ...CONNECT_FIELDS])) assert.ok(p.module.metadata.has(id), c.name)
    const ids = rdFieldIds(p)
    assert.is(ids.length, c.rd, `${c.name}: TDH.SYS.RD count`)
    for (const id of idsOf(EXT_FIELDS)) assert.is(ids.filter((x) => x === id).length, c.ext ? 1 : 0, `${c.name}: ext field 0x${id.toString(16)}`)
    for (const id of idsOf(CONNECT_FIELDS)) assert.is(ids.filter((x) => x === id).length, c.connect ? 1 : 0, `${c.name}: connect field 0x${id.toString(16)}`)
    for (const method of ['rd', 'rdall'] as const) {
      const r = readSysInfo(p.module, method)
      assert.equal(r.absent, [], `${c.name} ${method}: nothing absent`)
      assert.equal(r.sysinfo.ext, c.ext ? {memory_pool_required_pages: 12800, ext_required: 1} : undefined, `${c.name} ${method}: ext`)
      assert.equal(
        r.sysinfo.connect,
        c.connect ? {ide_mt_page_count: 1, spdm_mt_page_count: 2, iommu_mt_page_count: 4, spdm_max_dev_info_pages: 4} : undefined,
        `${c.name} ${method}: connect`,
      )
      const j = sysInfoToJson(r.sysinfo) as any
      assert.is(j.connect === null, !c.connect)
      assert.is(j.ext === null, !c.ext)
    }
  }
})

test('the 1.0 and 1.5 modules have neither bit nor field, and no rd asks for them', () => {
  for (const profile of ['tdx-1.0', 'tdx-1.5'] as const) {
    const p = platform(profile)
    const f0 = BigInt(p.doc.module.tdx_features0)
    assert.is(f0 & (TDX_FEATURES0_TDXCONNECT | TDX_FEATURES0_EXT), 0n, profile)
    for (const id of idsOf([...EXT_FIELDS, ...CONNECT_FIELDS])) assert.not.ok(p.module.metadata.has(id), `${profile} 0x${id.toString(16)}`)
    const ids = rdFieldIds(p)
    assert.not.ok(ids.some((id) => idsOf([...EXT_FIELDS, ...CONNECT_FIELDS]).includes(id)), profile)
  }
})

test('with TDXCONNECT set the connect fields are mandatory: a module without them is refused (both methods)', () => {
  const p = platform('tdx-1.5', BigInt(platform('tdx-1.5').doc.module.tdx_features0) | TDX_FEATURES0_TDXCONNECT)
  assertRefusedByBothReaders(p, 'SYSINFO_FIELD_MISSING', /IDE_MT_PAGE_COUNT .*TDXCONNECT/)
})

test.run()
