import {Args, Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {kv} from '../../src/cli/render.js'
import {InputError} from '../../src/errors.js'
import {ghciCall, parseSubfunction, type GhciCallResult} from '../../src/app/ghci.js'
import type {VmcallRegs} from '../../src/ghci/dispatcher.js'

const REGS = ['rcx', 'rdx', 'rbx', 'rsi', 'rdi', 'r8', 'r9', 'r12', 'r13', 'r14', 'r15'] as const

function parseReg(name: string, text: string): bigint {
  const t = text.trim()
  if (!/^(0x[0-9a-f_]+|\d+)$/i.test(t)) throw new InputError('BAD_REGISTER', `--${name}: not a number: '${text}' (decimal or 0x hex)`)
  const v = BigInt(t.replace(/_/g, ''))
  if (v >= 1n << 64n) throw new InputError('BAD_REGISTER', `--${name}: ${text} does not fit 64 bits`)
  return v
}

export default class GhciCall extends TdxCommand<typeof GhciCall> {
  static summary = 'Issue one raw TDG.VP.VMCALL and show the registers with status names.'
  static description = `LEAF is a GHCI sub-function name (GetQuote, MapGPA, GetTdVmCallInfo, SetupEventNotifyInterrupt, ReportFatalError, Service ...) or its number. R10 is 0 (standard GHCI), R11 the sub-function; other registers come from the flags; RCX defaults to Linux's 0xFFCC expose bitmap.
The call runs against a fresh view of the TD's memory in which only the dma-pool of earlier runs is shared (see 'ghci info'); memory changes are not kept. A non-SUCCESS R10 (or a refused TDCALL) exits with code 7 and names the status.`
  static examples = [
    '<%= config.bin %> ghci call GetTdVmCallInfo --r12 1',
    '<%= config.bin %> ghci call MapGPA --r12 0x1000800 --r13 0x1000   # ALIGN_ERROR',
    '<%= config.bin %> ghci call GetQuote --r12 0x1000000 --r13 0x2000  # private GPA: INVALID_OPERAND',
  ]
  static args = {
    leaf: Args.string({description: 'Sub-function name or number.', required: true}),
  }
  static flags = Object.fromEntries(REGS.map((r) => [r, Flags.string({summary: `${r.toUpperCase()} input (decimal or 0x hex).`})])) as Record<
    (typeof REGS)[number],
    ReturnType<typeof Flags.string>
  >

  async run(): Promise<GhciCallResult> {
    const subfn = parseSubfunction(this.args.leaf)
    const regs: VmcallRegs = {}
    const flags = this.flags as Record<string, string | undefined>
    for (const r of REGS) if (flags[r] !== undefined) regs[r] = parseReg(r, flags[r]!)
    const res = await ghciCall(this.store(), (m) => this.notice(m), subfn, regs)
    if (!this.jsonEnabled()) {
      this.log(`${res.subfunction_name} (R11 ${res.subfunction})`)
      this.log(kv([
        ['RAX', `${res.tdcall_status} ${res.tdcall_status_name}`],
        ['R10', `${res.r10} ${res.r10_name}`],
        ['R11', res.r11],
        ['R12', res.r12],
        ['R13', res.r13],
        ['R14', res.r14],
        ['R15', res.r15],
        ...(res.quote_buffer ? ([['buffer status', `${res.quote_buffer.status} ${res.quote_buffer.status_name} (out_len ${res.quote_buffer.out_len})`]] as Array<[string, string]>) : []),
        ...(res.fatal ? ([['TD shut down', `code ${res.fatal.error_code}: "${res.fatal.message}"`]] as Array<[string, string]>) : []),
      ]))
    }
    return res
  }
}
