/** Sysinfo per profile: the table-driven reader, rd vs rdall, absent fields, freezing, NO_RBP_MOD. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {Platform, createPlatformDoc, type ProfileName} from '../../src/module/platform.js'
import {getSysInfo, readSysInfo, sysInfoToJson, SYSINFO_MEMBERS} from '../../src/guest/sysinfo.js'
import {RefusedError} from '../../src/errors.js'

const platform = (profile: ProfileName, features0?: bigint) => new Platform(createPlatformDoc({profile, seed: 'sysinfo', features0}))

// SEAMCALLs the kernel-style reader needs, counted by hand per profile:
// 6 version + 1 features + 5 tdmr + 3 td_ctrl + 6 td_conf scalars (incl. the max_vcpus_per_td attempt)
// + N cpuid leaves + 2N cpuid values + 1 num_cmrs (+ 2 × 2 CMR entries when present).
const EXPECTED: Record<ProfileName, {rd: number; absent: string[]; cpuid: number; version: string}> = {
  'tdx-1.0': {rd: 6 + 1 + 5 + 3 + 6 + 6 * 3 + 1, absent: ['td_conf.max_vcpus_per_td', 'cmr.num_cmrs', 'cmr.cmr_base', 'cmr.cmr_size'], cpuid: 6, version: '1.0.3'},
  // Issue 16: MAX_VCPUS_PER_TD is mandatory for Linux v6.16+; the 1.5 profile now has it.
  'tdx-1.5': {rd: 6 + 1 + 5 + 3 + 6 + 12 * 3 + 1 + 4, absent: [], cpuid: 12, version: '1.5.6'},
  'tdx-connect': {rd: 6 + 1 + 5 + 3 + 6 + 14 * 3 + 1 + 4, absent: [], cpuid: 14, version: '2.0.1'},
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
  // Every table member is in the JSON.
  for (const m of SYSINFO_MEMBERS) {
    const [g, k] = m.path.split('.')
    assert.ok(k in j[g], m.path)
  }
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

test('a module without NO_RBP_MOD is rejected (both methods), with a clear error', () => {
  const p = platform('tdx-1.5', 0x3dn)
  for (const method of ['rd', 'rdall'] as const) {
    try {
      readSysInfo(p.module, method)
      assert.unreachable()
    } catch (e) {
      assert.instance(e, RefusedError)
      assert.is((e as RefusedError).code, 'NO_RBP_MOD')
      assert.is((e as RefusedError).exit, 7)
      assert.match((e as Error).message, /NO_RBP_MOD/)
    }
  }
})

test.run()
