import {Flags} from '../../src/cli/oclif.js'
import {TdxCommand} from '../../src/cli/base.js'
import {createdMessage} from '../../src/app/platform.js'
import {generateQuote} from '../../src/app/quote.js'
import {generateQuoteTsm, tsmRoot} from '../../src/app/tsm-client.js'
import {TSM_REPORT_PRIVLEVEL_MAX} from '../../src/app/tsm-report.js'
import {kv} from '../../src/cli/render.js'
import {parseSize} from '../../src/cost/units.js'
import {InputError} from '../../src/errors.js'
import {STRATEGY_NAMES_ACCEPTED, type StrategySpec} from '../../src/guest/alloc/interface.js'
import {UPSTREAM_KERNELS, type UpstreamKernel} from '../../src/guest/alloc/upstream.js'
import {eventToJson, formatEvent, type TraceCounters} from '../../src/machine/trace.js'
import {DEFAULT_STRATEGY, type Completion} from '../../src/guest/quote.js'
import {QGS_MODES, type QgsMode} from '../../src/host/qgs.js'
import {encodeBinary, type BinaryFormat} from '../../src/util/bytes.js'
import {REPORT_DATA_FLAG_NAMES, reportDataFlags, reportDataFromFlags} from '../../src/cli/report-data.js'
import {readBinaryInput} from '../../src/app/files.js'
import {humanLines, OutputTarget} from '../../src/cli/output.js'
import {traceSequenceSvg} from '../../src/cli/trace-svg.js'

/** Counters worth a line in the text summary (all of them are in --json). */
const SUMMARY: Array<[keyof TraceCounters, string]> = [
  ['tdcalls', 'TDCALLs'],
  ['tdvmcalls', 'TDVMCALLs'],
  ['mapgpa_calls', 'MapGPA calls'],
  ['pages_to_shared', 'pages → shared'],
  ['pages_to_private', 'pages → private'],
  ['pages_accepted', 'pages accepted'],
  ['sept_changes', 'S-EPT changes'],
  ['forced_exits', 'forced vCPU exits'],
  ['dm_splits_1g', 'direct-map 1G splits'],
  ['dm_splits_2m', 'direct-map 2M splits'],
  ['bounce_bytes', 'bytes bounced'],
  ['polls', 'status polls'],
  ['notifies', 'notify interrupts'],
]

/** Flags of the simulated TD path: configfs-tsm decides these itself. */
const SIM_ONLY_FLAGS = ['tdreport', 'allocator', 'quote-version', 'pool-size', 'buffer-size', 'notify', 'poll', 'qgs', 'trace', 'trace-svg'] as const
/** Flags that only mean something to a configfs-tsm client. */
const TSM_ONLY_FLAGS = ['tsm-root', 'privlevel', 'aux-output'] as const

export default class QuoteGenerate extends TdxCommand<typeof QuoteGenerate> {
  static summary = 'Generate a DCAP quote through the simulated TD path (TDREPORT → shared buffer → GetQuote → QGS/QE).'
  static description = `Walks the path a Linux TD takes: TDG.MR.REPORT, a shared buffer from the chosen allocator, the GetQuote TDVMCALL, then polling (or the event-notify interrupt) until the host's quote generation service has written the quote.

Allocators (docs/guide/alloc.md): preshared-pool (default, formerly dma-pool: a pool converted to shared once at driver init and kept in the state directory), upstream (the merged tdx-guest driver: one buffer decrypted once, one request at a time), swiotlb (streaming DMA through the SWIOTLB pool converted at boot: slot search and bounce copies, no conversion per request), dma-coherent (dma_alloc_coherent: decrypts direct-map pages per request) or vmap-mapgpa (per-request MapGPA to shared and back, with accepts).
--trace prints every TDCALL / TDVMCALL with its status name and the host's page-conversion work; --trace-svg FILE draws the same as a sequence diagram.
Without -o the quote goes to stdout (hex unless --format says otherwise) and the summary to stderr.
--provider tsm asks Linux configfs-tsm instead (a TDX guest's /sys/kernel/config/tsm/report, or a \`tsm mount\` DIR/report given by --tsm-root or TDXKIT_TSM_ROOT): provider checked, generation race retried, auxblob read when shown, --privlevel written when the provider has it. Flags of the simulated path (--allocator, --qgs, --trace, …) are refused with it.`
  static examples = [
    '<%= config.bin %> quote generate --report-data 00112233 -o quote.bin',
    '<%= config.bin %> quote generate --report-data 00 --allocator vmap-mapgpa --trace -o quote.bin',
    '<%= config.bin %> quote generate --report-data 00 --allocator dma-pool --pool-size 8KiB --notify --json',
  ]
  static flags = {
    ...reportDataFlags(['tdreport']),
    tdreport: Flags.string({summary: 'Quote this TDREPORT file (raw/hex/base64, or - for stdin) instead of making one.', exclusive: [...REPORT_DATA_FLAG_NAMES]}),
    allocator: Flags.string({summary: 'Shared-buffer strategy (dma-pool = preshared-pool).', options: [...STRATEGY_NAMES_ACCEPTED], default: DEFAULT_STRATEGY}),
    'upstream-kernel': Flags.string({summary: "upstream allocator: the kernel whose GET_QUOTE_BUF_SIZE the driver buffer has (6.7: 8 KiB, 7.0: 128 KiB; default: the existing buffer's, else 7.0).", options: [...UPSTREAM_KERNELS]}),
    'quote-version': Flags.string({summary: 'Quote version (default: the profile\'s, 4 for tdx-1.0, 5 otherwise).', options: ['4', '5']}),
    'pool-size': Flags.string({summary: 'preshared-pool size, e.g. 8KiB (one buffer, like Linux) or 1MiB (default 64KiB, or the existing pool).'}),
    'buffer-size': Flags.string({summary: 'GetQuote buffer size (default 8KiB, Linux\'s GET_QUOTE_BUF_SIZE).'}),
    notify: Flags.boolean({summary: 'Wait for the event-notify interrupt (SetupEventNotifyInterrupt).', exclusive: ['poll']}),
    poll: Flags.boolean({summary: 'Poll the status word (default, as Linux does).', exclusive: ['notify']}),
    qgs: Flags.string({summary: 'Simulated host quote service: up, down (SERVICE_UNAVAILABLE), stall (times out), error.', options: [...QGS_MODES], default: 'up'}),
    provider: Flags.string({summary: 'sim (the simulated TD) or tsm (Linux configfs-tsm: a TDX guest or a tsm mount).', options: ['sim', 'tsm'], default: 'sim'}),
    'tsm-root': Flags.string({summary: 'configfs-tsm report directory for --provider tsm (default $TDXKIT_TSM_ROOT, else /sys/kernel/config/tsm/report).'}),
    privlevel: Flags.integer({summary: 'With --provider tsm: privilege level to write (only providers with a privlevel attribute).', min: 0, max: TSM_REPORT_PRIVLEVEL_MAX}),
    'aux-output': Flags.string({summary: "With --provider tsm: write the provider's auxblob to this file (- for stdout)."}),
    trace: Flags.boolean({summary: 'Print every TDCALL / TDVMCALL and host operation.'}),
    'trace-svg': Flags.string({summary: 'Write the trace as an SVG sequence diagram (guest → module → GHCI → VMM → QGS → QE and back) to this file (- for stdout).'}),
    output: Flags.string({char: 'o', summary: 'Write the quote to this file (- for stdout).'}),
    format: Flags.string({summary: 'Output encoding (default: bin for -o, hex for stdout).', options: ['bin', 'hex', 'base64']}),
  }

  async run() {
    const f = this.flags
    const choice = reportDataFromFlags(f)
    if (!choice && f.tdreport === undefined) {
      throw new InputError('MISSING_REPORT_DATA', 'give --report-data HEX (or --report-data-file FILE, --report-data-base64 B64, --nonce, --tdreport FILE)')
    }
    const target = OutputTarget.of(f.output, '--output', {json: this.jsonEnabled()})
    const traceSvg = OutputTarget.of(f['trace-svg'], '--trace-svg', {json: this.jsonEnabled(), stdoutTakenBy: target.file ? undefined : 'the quote'})
    const aux = OutputTarget.of(f['aux-output'], '--aux-output', {json: this.jsonEnabled(), stdoutTakenBy: target.file ? undefined : 'the quote'})
    const out = target.file
    const format = (f.format ?? (target.given ? 'bin' : 'hex')) as BinaryFormat
    const reportData = choice?.bytes
    const nonce = choice?.nonce ? {nonce: choice.nonce.toString('hex')} : {}
    this.refuseFlagsOf(f.provider === 'tsm' ? SIM_ONLY_FLAGS : TSM_ONLY_FLAGS, f.provider)
    if (f.provider === 'tsm') {
      if (!reportData) throw new InputError('BAD_FLAGS', '--provider tsm needs --report-data (or --report-data-file, --report-data-base64, --nonce)')
      const r = await generateQuoteTsm(reportData, {root: f['tsm-root'] ?? tsmRoot(), privlevel: f.privlevel})
      if (f['aux-output'] && !r.auxblob) throw new InputError('BAD_FLAGS', `--aux-output does not apply: provider ${r.provider} at ${r.root} has no auxblob`)
      aux.write(r.auxblob!)
      this.emit(r.quote, target, format)
      if (choice?.nonce && !this.jsonEnabled()) this.notice(`nonce ${choice.nonce.toString('hex')}`)
      return {
        provider: 'tsm',
        ...nonce,
        tsm_provider: r.provider,
        tsm_root: r.root,
        generation: Number(r.generation),
        attempts: r.attempts,
        size: r.quote.length,
        ...(r.privlevel !== undefined ? {privlevel: r.privlevel} : {}),
        ...(r.auxblob ? {auxblob_size: r.auxblob.length, ...(aux.file ? {aux_output: aux.file} : {})} : {}),
        ...(out ? {output: out, format} : {quote: r.quote.toString('hex')}),
      }
    }
    const poolBytes = f['pool-size'] !== undefined ? parseSize(f['pool-size'], '--pool-size') : undefined
    const bufferBytes = f['buffer-size'] !== undefined ? parseSize(f['buffer-size'], '--buffer-size') : undefined
    if (bufferBytes !== undefined && (bufferBytes <= 0 || bufferBytes % 4096 !== 0)) {
      throw new InputError('BAD_BUFFER_SIZE', `--buffer-size must be a positive multiple of 4096 bytes (GetQuote needs 4 KiB-aligned buffers), got ${bufferBytes}`)
    }
    const completion: Completion = f.notify ? 'notify' : 'poll'
    const store = this.store()
    const r = await generateQuote(
      store,
      {
        input: reportData ? {reportData} : {tdreport: readBinaryInput(f.tdreport!, '--tdreport')},
        strategy: f.allocator as StrategySpec,
        upstreamKernel: f['upstream-kernel'] as UpstreamKernel | undefined,
        quoteVersion: f['quote-version'] ? (Number(f['quote-version']) as 4 | 5) : undefined,
        poolBytes,
        bufferBytes,
        completion,
        qgsMode: f.qgs as QgsMode,
      },
      (doc) => this.notice(createdMessage(doc, store.dir)),
    )
    this.emit(r.quote, target, format)
    traceSvg.write(traceSequenceSvg(r.events, `quote generate: ${r.strategy} (${r.completion}), quote v${r.quote_version}`))
    if (!this.jsonEnabled()) this.summarise(r, {target, traceSvg, trace: f.trace, nonce: choice?.nonce})
    return {
      provider: 'sim',
      ...nonce,
      allocator: r.strategy,
      completion: r.completion,
      quote_version: r.quote_version,
      size: r.quote.length,
      buffer_bytes: r.buffer_bytes,
      ...(r.pool ? {pool: r.pool} : {}),
      ...(r.driver_buffer ? {driver_buffer: r.driver_buffer} : {}),
      ...(r.swiotlb ? {swiotlb: r.swiotlb} : {}),
      counters: r.request,
      run_counters: r.total,
      ...(f.trace ? {trace: r.events.map(eventToJson)} : {}),
      ...(traceSvg.file ? {trace_svg: traceSvg.file} : {}),
      ...(out ? {output: out, format} : {quote: r.quote.toString('hex')}),
    }
  }

  /** The human summary of a simulated quote (on stderr when the quote goes to stdout). */
  private summarise(r: Awaited<ReturnType<typeof generateQuote>>, how: {target: OutputTarget; traceSvg: OutputTarget; trace: boolean; nonce?: Buffer}): void {
    const say = how.target.given ? humanLines(how.target, how.traceSvg) : (s: string) => this.notice(s)
    if (how.trace) for (const e of r.events) say(formatEvent(e))
    if (how.nonce) say(`nonce ${how.nonce.toString('hex')} (REPORTDATA; verify with --expect report_data=<nonce>)`)
    say(`quote v${r.quote_version}, ${r.quote.length} bytes via ${r.strategy} (${r.completion})${how.target.file ? ` → ${how.target.file}` : ''}`)
    if (r.pool) say(`preshared-pool: ${r.pool.slots} × ${r.pool.slot_bytes} bytes (${r.pool.pool_bytes} bytes shared${r.pool.restored ? ', reused from an earlier run' : ', converted now'})`)
    if (r.driver_buffer) say(`upstream (tdx-guest ${r.driver_buffer.kernel}): one ${r.driver_buffer.buffer_bytes}-byte buffer${r.driver_buffer.restored ? ', reused from an earlier run' : ', decrypted now (driver init)'}`)
    if (r.swiotlb) say(`swiotlb: ${r.swiotlb.pool_bytes} bytes, ${r.swiotlb.slots} slots in ${r.swiotlb.areas} areas${r.swiotlb.restored ? ', converted at boot' : ', converted now (boot)'}`)
    say('this request:\n' + kv(SUMMARY.map(([k, label]) => [label, String(r.request[k])])))
  }

  /** A one-line usage error for any flag given on the command line that the chosen provider does not use. */
  private refuseFlagsOf(names: readonly string[], provider: string): void {
    const given = names.find((n) => this.argv.some((a) => a === `--${n}` || a.startsWith(`--${n}=`)))
    if (given) throw new InputError('BAD_FLAGS', `--${given} does not apply to --provider ${provider}`)
  }

  private emit(quote: Buffer, target: OutputTarget, format: BinaryFormat): void {
    if (target.given) target.write(encodeBinary(quote, format))
    else if (!this.jsonEnabled()) this.writeStdout(encodeBinary(quote, format))
  }
}
