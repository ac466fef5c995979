/**
 * TD creation as the host kernel does it — the first consumer of sysinfo (Linux v6.16 KVM TDX,
 * arch/x86/kvm/vmx/tdx.c: tdx_td_init → setup_tdparams → __tdx_td_init → TDH.MNG.INIT). It reads
 * ONLY the frozen sysinfo it is given (KVM keeps tdx_get_sysinfo()'s pointer and issues no
 * TDH.SYS.RD of its own) and refuses, in KVM's order, what the module does not support:
 *
 *  1. more CPUID entries than KVM_MAX_CPUID_ENTRIES                  → -E2BIG
 *  2. attributes outside the supported set                           → -EINVAL
 *     supported = KVM_SUPPORTED_TD_ATTRS (SEPT_VE_DISABLE) ∩ attributes_fixed0, provided
 *     attributes_fixed1 ⊆ KVM_SUPPORTED_TD_ATTRS (else KVM disables TDX at bring-up); a bit outside
 *     attributes_fixed0 is also what TDH.MNG.INIT refuses: TDX_OPERAND_INVALID | ATTRIBUTES
 *  3. XFAM outside xfam_fixed0 (KVM: -EINVAL; module: TDX_OPERAND_INVALID | XFAM)
 *  4. a CPUID entry with no slot among cpuid_config_leaves (KVM: -EINVAL), a value with bits the
 *     module does not let the VMM configure (module: TDX_OPERAND_INVALID | CPUID_CONFIG, with the
 *     leaf / sub-leaf, surfaced by KVM as -EINVAL and hw_error)
 *  5. TDH.MNG.INIT: max_vcpus == 0 or > MAX_VCPUS_PER_TD → TDX_OPERAND_INVALID | MAX_VCPUS
 *     (0xC000010000000044); KVM returns -EINVAL and copies the status to cmd->hw_error. A 1.0
 *     module (no MAX_VCPUS_PER_TD) only refuses 0.
 *  6. vCPUs beyond max_vcpus: KVM_CREATE_VCPU → -EINVAL.
 *  7. memory (the memslots that follow): whole pages, below the shared bit; and — a simulator-only
 *     check — within the convertible memory the module reports (CMRs), when it reports them.
 *
 * Control structures are sized from td_ctrl as __tdx_td_init does (TDR 1 page, TDCS
 * tdcs_base_size / 4 KiB pages, TDVPS tdvps_base_size / 4 KiB pages per vCPU). Not modelled: the
 * host's CPU count (KVM caps max_vcpus at num_present_cpus()), host XCR0/XSS, TSX/WAITPKG bits,
 * GPAW 52 without 5-level EPT, HKID allocation.
 */
import {TD_ATTRIBUTE_BITS, TD_ATTR_SEPT_VE_DISABLE, TDX_FEATURES0_NO_RBP_MOD} from '../abi/fields.js'
import {OperandId, TDX_OPERAND_INVALID, describeStatus, statusHex, withOperand} from '../abi/status.js'
import {InputError, RefusedError} from '../errors.js'
import {PAGE_SIZE} from '../machine/memory.js'
import {cpuidConfigKey, type TdxSysInfo} from './sysinfo.js'

/** KVM_MAX_CPUID_ENTRIES (arch/x86/include/asm/kvm_host.h). */
const KVM_MAX_CPUID_ENTRIES = 256
/** KVM_SUPPORTED_TD_ATTRS in Linux v6.16 (arch/x86/kvm/vmx/tdx.c): SEPT_VE_DISABLE only. */
const KVM_SUPPORTED_TD_ATTRS = TD_ATTR_SEPT_VE_DISABLE

/** Linux errno values KVM returns. */
const Errno = {EINVAL: -22, E2BIG: -7, ENOMEM: -12} as const
type ErrnoName = keyof typeof Errno

export interface CpuidEntry {
  leaf: number
  /** Omit for a leaf without sub-leaves. */
  subleaf?: number
  eax: number
  ebx: number
  ecx: number
  edx: number
}

/** What the VMM asks for (KVM_TDX_INIT_VM + vCPU creation + memslots). */
export interface TdConfig {
  /** vCPUs created. */
  vcpus: number
  /** TD_PARAMS.max_vcpus (default: vcpus). */
  max_vcpus?: number
  attributes: bigint
  xfam: bigint
  memory_bytes: number
  gpaw: 48 | 52
  cpuid?: readonly CpuidEntry[]
}

/** TD_PARAMS as KVM hands them to TDH.MNG.INIT, plus the control-structure pages it allocates. */
export interface TdParams {
  max_vcpus: number
  /** Requested attributes with attributes_fixed1 forced on. */
  attributes: bigint
  /** Requested XFAM with xfam_fixed1 forced on. */
  xfam: bigint
  config_flags: {no_rbp_mod: boolean}
  gpaw: 48 | 52
  cpuid_configs: number
  control_pages: {tdr: number; tdcs: number; tdvps_per_vcpu: number; total: number}
}

/** Where a refusal comes from: KVM's own check, or the TDX module's (TDH.MNG.INIT status). */
type RefusedBy = 'kvm' | 'module' | 'simulator'

/** A refused TD creation: KVM's errno, the module's status when the module refuses it too. */
export class TdCreateError extends RefusedError {
  readonly errno: ErrnoName
  readonly refused_by: RefusedBy
  readonly module_status?: bigint
  constructor(step: string, errno: ErrnoName, by: RefusedBy, message: string, moduleStatus?: bigint, extra: Record<string, unknown> = {}) {
    const st = moduleStatus === undefined ? '' : ` — TDH.MNG.INIT ${describeStatus(moduleStatus)} ${statusHex(moduleStatus)}`
    super('TD_CREATE_REFUSED', `TD creation refused at ${step}: ${message} (${errno} ${Errno[errno]})${st}`, {
      ...(moduleStatus === undefined ? {} : {status: moduleStatus}),
      detail: {
        step,
        errno,
        errno_value: Errno[errno],
        refused_by: by,
        ...(moduleStatus === undefined ? {} : {hw_error: statusHex(moduleStatus), hw_error_name: describeStatus(moduleStatus)}),
        ...extra,
      },
    })
    this.errno = errno
    this.refused_by = by
    if (moduleStatus !== undefined) this.module_status = moduleStatus
  }
}

const hex = (v: bigint) => '0x' + v.toString(16)
const attrNames = (bits: bigint): string => {
  const names: string[] = []
  for (let b = 0; b < 64; b++) if ((bits >> BigInt(b)) & 1n) names.push(TD_ATTRIBUTE_BITS[b] ?? `bit${b}`)
  return names.join('|')
}

/** tdx_get_supported_attrs(): KVM's set within the module's, or 0 when the module forces a bit KVM lacks. */
function supportedAttributes(si: Readonly<TdxSysInfo>): bigint {
  const c = si.td_conf
  if ((KVM_SUPPORTED_TD_ATTRS & c.attributes_fixed1) !== c.attributes_fixed1) return 0n
  return KVM_SUPPORTED_TD_ATTRS & c.attributes_fixed0
}

function checkAttributes(si: Readonly<TdxSysInfo>, attributes: bigint): void {
  const c = si.td_conf
  const supported = supportedAttributes(si)
  if (supported === 0n) {
    throw new TdCreateError('KVM bring-up', 'EINVAL', 'kvm', `the module forces TD attributes ${hex(c.attributes_fixed1)} that KVM does not support; KVM disables TDX`)
  }
  const extra = attributes & ~supported
  if (extra === 0n) return
  const moduleRefuses = attributes & ~c.attributes_fixed0
  if (moduleRefuses !== 0n) {
    throw new TdCreateError('attributes', 'EINVAL', 'module', `attributes ${attrNames(moduleRefuses)} (${hex(moduleRefuses)}) are outside the module's attributes_fixed0 ${hex(c.attributes_fixed0)}`, withOperand(TDX_OPERAND_INVALID, OperandId.ATTRIBUTES))
  }
  throw new TdCreateError('attributes', 'EINVAL', 'kvm', `attributes ${attrNames(extra)} (${hex(extra)}) are allowed by the module but not by KVM (KVM_SUPPORTED_TD_ATTRS = SEPT_VE_DISABLE)`)
}

function checkXfam(si: Readonly<TdxSysInfo>, xfam: bigint): void {
  const c = si.td_conf
  const extra = xfam & ~c.xfam_fixed0
  if (extra === 0n) return
  throw new TdCreateError('xfam', 'EINVAL', 'module', `XFAM bits ${hex(extra)} are outside the module's xfam_fixed0 ${hex(c.xfam_fixed0)}`, withOperand(TDX_OPERAND_INVALID, OperandId.XFAM))
}

/** The module's configurable masks of one CPUID leaf, or undefined when it has no slot for it. */
function cpuidSlot(si: Readonly<TdxSysInfo>, e: CpuidEntry): {eaxEbx: bigint; ecxEdx: bigint} | undefined {
  const key = cpuidConfigKey(BigInt(e.leaf >>> 0), e.subleaf === undefined ? undefined : BigInt(e.subleaf >>> 0))
  const i = si.td_conf.cpuid_config_leaves.indexOf(key)
  if (i < 0) return undefined
  const [eaxEbx, ecxEdx] = si.td_conf.cpuid_config_values[i]
  return {eaxEbx, ecxEdx}
}

const leafName = (e: CpuidEntry) => `0x${(e.leaf >>> 0).toString(16)}${e.subleaf === undefined ? '' : `.${e.subleaf}`}`

function checkCpuid(si: Readonly<TdxSysInfo>, entries: readonly CpuidEntry[]): void {
  const slots = entries.map((e) => ({e, slot: cpuidSlot(si, e)}))
  const noSlot = slots.find((x) => !x.slot)
  if (noSlot) throw new TdCreateError('cpuid', 'EINVAL', 'kvm', `CPUID leaf ${leafName(noSlot.e)} is not one the module lets the VMM configure (not in cpuid_config_leaves)`)
  for (const {e, slot} of slots) {
    const eaxEbx = BigInt(e.eax >>> 0) | (BigInt(e.ebx >>> 0) << 32n)
    const ecxEdx = BigInt(e.ecx >>> 0) | (BigInt(e.edx >>> 0) << 32n)
    const bad = (eaxEbx & ~slot!.eaxEbx) | (ecxEdx & ~slot!.ecxEdx)
    if (bad !== 0n) {
      throw new TdCreateError('cpuid', 'EINVAL', 'module', `CPUID leaf ${leafName(e)} sets bits the module does not let the VMM configure`, withOperand(TDX_OPERAND_INVALID, OperandId.CPUID_CONFIG), {
        leaf: e.leaf >>> 0,
        subleaf: e.subleaf ?? null,
      })
    }
  }
}

function checkMaxVcpus(si: Readonly<TdxSysInfo>, maxVcpus: number): void {
  const limit = si.td_conf.max_vcpus_per_td
  if (maxVcpus === 0 || (limit !== undefined && maxVcpus > limit)) {
    const why = maxVcpus === 0 ? 'max_vcpus is 0' : `max_vcpus ${maxVcpus} exceeds the module's MAX_VCPUS_PER_TD ${limit}`
    throw new TdCreateError('TDH.MNG.INIT', 'EINVAL', 'module', why, withOperand(TDX_OPERAND_INVALID, OperandId.MAX_VCPUS), {max_vcpus: maxVcpus, max_vcpus_per_td: limit ?? null})
  }
}

function checkMemory(si: Readonly<TdxSysInfo>, cfg: TdConfig): void {
  const m = cfg.memory_bytes
  if (!Number.isSafeInteger(m) || m <= 0 || m % PAGE_SIZE !== 0) throw new TdCreateError('memslot', 'EINVAL', 'kvm', `TD memory must be a positive multiple of ${PAGE_SIZE} bytes, got ${m}`)
  const limit = 2 ** (cfg.gpaw - 1)
  if (m > limit) throw new TdCreateError('memslot', 'EINVAL', 'kvm', `TD memory of ${m} bytes reaches the shared bit (GPA bit ${cfg.gpaw - 1}; ${limit} bytes of private GPA space)`)
  const sizes = si.cmr.cmr_size
  if (sizes) {
    const convertible = sizes.reduce((a, b) => a + b, 0n)
    if (BigInt(m) > convertible) throw new TdCreateError('memslot', 'ENOMEM', 'simulator', `TD memory of ${m} bytes exceeds the ${convertible} bytes of convertible memory the module reports (CMRs)`)
  }
}

/**
 * KVM_TDX_INIT_VM + TDH.MNG.INIT + vCPU creation + memslots for `cfg`, decided from `sysinfo`
 * alone. Returns the TD_PARAMS on success; throws TdCreateError (exit 7) on the first refusal.
 */
export function createTd(sysinfo: Readonly<TdxSysInfo>, cfg: TdConfig): TdParams {
  const cpuid = cfg.cpuid ?? []
  if (cpuid.length > KVM_MAX_CPUID_ENTRIES) throw new TdCreateError('KVM_TDX_INIT_VM', 'E2BIG', 'kvm', `${cpuid.length} CPUID entries, more than KVM_MAX_CPUID_ENTRIES (${KVM_MAX_CPUID_ENTRIES})`)
  checkAttributes(sysinfo, cfg.attributes)
  checkXfam(sysinfo, cfg.xfam)
  checkCpuid(sysinfo, cpuid)
  const maxVcpus = cfg.max_vcpus ?? cfg.vcpus
  checkMaxVcpus(sysinfo, maxVcpus)
  if (!Number.isInteger(cfg.vcpus) || cfg.vcpus < 1 || cfg.vcpus > maxVcpus) {
    throw new TdCreateError('KVM_CREATE_VCPU', 'EINVAL', 'kvm', `${cfg.vcpus} vCPUs requested but the TD was created for at most ${maxVcpus}`)
  }
  checkMemory(sysinfo, cfg)
  const tc = sysinfo.td_ctrl
  const tdcs = Math.ceil(tc.tdcs_base_size / PAGE_SIZE)
  const tdvps = Math.ceil(tc.tdvps_base_size / PAGE_SIZE)
  return {
    max_vcpus: maxVcpus,
    attributes: cfg.attributes | sysinfo.td_conf.attributes_fixed1,
    xfam: cfg.xfam | sysinfo.td_conf.xfam_fixed1,
    config_flags: {no_rbp_mod: (sysinfo.features.tdx_features0 & TDX_FEATURES0_NO_RBP_MOD) !== 0n},
    gpaw: cfg.gpaw,
    cpuid_configs: cpuid.length,
    control_pages: {tdr: Math.ceil(tc.tdr_base_size / PAGE_SIZE), tdcs, tdvps_per_vcpu: tdvps, total: Math.ceil(tc.tdr_base_size / PAGE_SIZE) + tdcs + tdvps * cfg.vcpus},
  }
}

/** TD_PARAMS as JSON (64-bit values as hex strings). */
export function tdParamsJson(p: TdParams): Record<string, unknown> {
  return {...p, attributes: hex(p.attributes), xfam: hex(p.xfam)}
}

// ---------------------------------------------------------------- parsing user text (module init flags)

const HEX64 = /^0x[0-9a-f]{1,16}$/i

/** "0x10000000", or attribute names joined by | or , ("SEPT_VE_DISABLE|DEBUG"). */
export function parseAttributes(text: string): bigint {
  const t = text.trim()
  if (HEX64.test(t)) return BigInt(t)
  let v = 0n
  for (const name of t.split(/[|,]/).map((x) => x.trim().toUpperCase()).filter((x) => x !== '')) {
    const bit = Object.entries(TD_ATTRIBUTE_BITS).find(([, n]) => n === name)
    if (!bit) throw new InputError('BAD_TD_CONFIG', `--attributes: unknown attribute '${name}' (known: ${Object.values(TD_ATTRIBUTE_BITS).join(', ')}, or a 0x… value)`)
    v |= 1n << BigInt(bit[0])
  }
  return v
}

/** "0x618e7" (XFAM is a bitmap of XSAVE components). */
export function parseXfam(text: string): bigint {
  const t = text.trim()
  if (!HEX64.test(t)) throw new InputError('BAD_TD_CONFIG', `--xfam: expected a 0x… value of up to 64 bits, got '${text}'`)
  return BigInt(t)
}

const u32 = (s: string, what: string): number => {
  if (!/^(0x[0-9a-f]{1,8}|\d+)$/i.test(s)) throw new InputError('BAD_TD_CONFIG', `--cpuid: ${what} '${s}' is not a 32-bit number`)
  const v = Number(s)
  if (v > 0xffffffff) throw new InputError('BAD_TD_CONFIG', `--cpuid: ${what} '${s}' does not fit 32 bits`)
  return v
}

/** "LEAF[.SUBLEAF]=EAX:EBX:ECX:EDX", e.g. "0x7.0=0:0x20000000:0:0" (values default to 0). */
export function parseCpuidEntry(text: string): CpuidEntry {
  const m = /^\s*([0-9a-fx]+)(?:\.([0-9a-fx]+))?\s*(?:=\s*(.*))?$/i.exec(text)
  if (!m) throw new InputError('BAD_TD_CONFIG', `--cpuid expects LEAF[.SUBLEAF]=EAX:EBX:ECX:EDX, got '${text}'`)
  const regs = (m[3] ?? '').split(':').filter((x, i, a) => !(a.length === 1 && x === ''))
  if (regs.length > 4) throw new InputError('BAD_TD_CONFIG', `--cpuid: at most four registers (EAX:EBX:ECX:EDX), got '${m[3]}'`)
  const [eax, ebx, ecx, edx] = [0, 1, 2, 3].map((i) => (regs[i] === undefined || regs[i] === '' ? 0 : u32(regs[i].trim(), ['EAX', 'EBX', 'ECX', 'EDX'][i])))
  return {leaf: u32(m[1], 'leaf'), ...(m[2] !== undefined ? {subleaf: u32(m[2], 'sub-leaf')} : {}), eax, ebx, ecx, edx}
}
