import {Flags} from '../src/cli/oclif.js'
import {TdxCommand} from '../src/cli/base.js'
import {bold, kv} from '../src/cli/render.js'
import {platformSysInfo} from '../src/app/sysinfo.js'
import {sysInfoToJson, type SysInfoMethod} from '../src/guest/sysinfo.js'

export default class Sysinfo extends TdxCommand<typeof Sysinfo> {
  static summary = 'Read the TDX module global metadata into the read-only sysinfo and print it.'
  static description =
    'Reads every field of the kernel-style sysinfo table with TDH.SYS.RD (one SEAMCALL per element, as Linux does) or TDH.SYS.RDALL (metadata lists), and reports how many SEAMCALLs that took. Fields the module profile lacks are reported absent, not zero; fields Linux v6.16+ reads unconditionally (MAX_VCPUS_PER_TD included) are required. The ext and connect groups (TDX Module Extensions, TDX Connect) are read only when TDX_FEATURES0 has EXT / TDXCONNECT, and are then required (null in --json otherwise). A module without NO_RBP_MOD is rejected, as the kernel does.'
  static examples = ['<%= config.bin %> sysinfo', '<%= config.bin %> sysinfo --method rdall --json']
  static flags = {
    method: Flags.string({summary: 'How to read the metadata.', options: ['rd', 'rdall'], default: 'rd'}),
  }

  async run() {
    const {profile, read: r} = await platformSysInfo(this.store(), (m) => this.notice(m), this.flags.method as SysInfoMethod)
    const json = {method: r.method, seamcalls: r.seamcalls, profile, ...sysInfoToJson(r.sysinfo), absent: r.absent, ...(r.kernel_refuses ? {kernel_refuses: r.kernel_refuses} : {})}
    if (!this.jsonEnabled()) this.log(render(json as unknown as SysinfoJson))
    return json
  }
}

interface SysinfoJson {
  method: string
  seamcalls: number
  profile: string
  version: Record<string, number | null>
  features: {tdx_features0: string; tdx_features0_names: string[]}
  tdmr: Record<string, number>
  td_ctrl: Record<string, number>
  td_conf: Record<string, unknown> & {cpuid_config_leaves: string[]; cpuid_config_values: string[][]}
  cmr: {num_cmrs: number | null; cmr_base: string[] | null; cmr_size: string[] | null}
  ext: Record<string, number> | null
  connect: Record<string, number> | null
  absent: string[]
  kernel_refuses?: string
}

const show = (v: unknown): string => (v === null || v === undefined ? 'absent' : String(v))

function render(j: SysinfoJson): string {
  const v = j.version
  const out: string[] = []
  out.push(bold(`TDX module ${v.major_version}.${v.minor_version}.${String(v.update_version).padStart(2, '0')}`) + ` (profile ${j.profile})`)
  out.push(kv([
    ['internal_version', show(v.internal_version)],
    ['build_num', show(v.build_num)],
    ['build_date', show(v.build_date)],
  ]))
  out.push(bold('features'))
  out.push(kv([['tdx_features0', `${j.features.tdx_features0}  ${j.features.tdx_features0_names.join(' ')}`]]))
  out.push(bold('tdmr'))
  out.push(kv(Object.entries(j.tdmr).map(([k, x]) => [k, show(x)])))
  out.push(bold('cmr'))
  if (j.cmr.num_cmrs === null) out.push('  absent')
  else {
    const rows: Array<[string, string]> = [['num_cmrs', String(j.cmr.num_cmrs)]]
    for (let i = 0; i < j.cmr.num_cmrs; i++) {
      const base = BigInt(j.cmr.cmr_base?.[i] ?? 0)
      const size = BigInt(j.cmr.cmr_size?.[i] ?? 0)
      rows.push([`cmr[${i}]`, `[0x${base.toString(16)}, 0x${(base + size).toString(16)})`])
    }
    out.push(kv(rows))
  }
  out.push(bold('td_ctrl'))
  out.push(kv(Object.entries(j.td_ctrl).map(([k, x]) => [k, show(x)])))
  out.push(bold('td_conf'))
  const c = j.td_conf
  out.push(kv([
    ['attributes_fixed0', show(c.attributes_fixed0)],
    ['attributes_fixed1', show(c.attributes_fixed1)],
    ['xfam_fixed0', show(c.xfam_fixed0)],
    ['xfam_fixed1', show(c.xfam_fixed1)],
    ['num_cpuid_config', show(c.num_cpuid_config)],
    ['max_vcpus_per_td', show(c.max_vcpus_per_td)],
    ['cpuid_config_leaves', c.cpuid_config_leaves.map((l) => {
      const x = BigInt(l)
      const sub = x >> 32n
      return `0x${(x & 0xffffffffn).toString(16)}${sub === 0xffffffffn ? '' : `.${sub}`}`
    }).join(' ')],
  ]))
  // The conditional groups appear only when the module enumerates their feature.
  for (const [name, group] of [['ext', j.ext], ['connect', j.connect]] as const) {
    if (group === null) continue
    out.push(bold(name))
    out.push(kv(Object.entries(group).map(([k, x]) => [k, show(x)])))
  }
  if (j.absent.length) out.push(`absent (not in this module): ${j.absent.join(', ')}`)
  if (j.kernel_refuses) out.push(`note: ${j.kernel_refuses}`)
  out.push(`read with TDH.SYS.${j.method === 'rd' ? 'RD' : 'RDALL'}: ${j.seamcalls} SEAMCALL${j.seamcalls === 1 ? '' : 's'}`)
  return out.join('\n')
}
