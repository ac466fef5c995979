import {Args, Flags} from '../../src/cli/oclif.js'
import {splitFileArgs} from '../../src/cli/argv.js'
import {TdxCommand} from '../../src/cli/base.js'
import {InputError} from '../../src/errors.js'
import {dim} from '../../src/cli/render.js'
import {eventLogFromFlags, policyFromFlags, quoteFilesFromFlags, resolveVerifySetup} from '../../src/app/verify-setup.js'
import {defaultJobs} from '../../src/app/verify-batch.js'
import {verifyAndReport} from '../../src/cli/verify-output.js'
import {fetchFlags} from '../../src/cli/fetch-flags.js'
import {policyPinFlags, policyPinsOf} from '../../src/cli/policy-flags.js'

export default class QuoteVerify extends TdxCommand<typeof QuoteVerify> {
  static summary = "Verify DCAP quotes by Intel's rules, then appraise them against a policy."
  static description = `Checks the PCK chain to a pinned root, both CRLs, TCB info and QE identity (signatures over the exact JSON, validity at --at), the QE report signature and key binding, the quote signature, the TDX module identity and the TCB level with Intel's status convergence; then the policy (default: no debug TD, SEPT_VE_DISABLE required, no PERFMON, MR_SERVICETD zero).
Exit codes: 0 ok, 2 bad input, 3 authenticity, 4 collateral, 5 TCB, 6 policy (also a TCB status worse than --min-tcb-status), 8 collateral service unreachable (--pccs-url). With several quotes the exit code is the lowest non-zero code among them; --json then prints one JSON object per line (NDJSON), with the step list only for quotes that did not pass (--steps: for all).
--files-from FILE (or - for stdin) reads quote paths, one per line, as the batch goes: any number of quotes, no argument list.
--root-ca sim trusts the simulated platform's root and, without --collateral/--pccs-url, uses its collateral.
--eventlog F [--eventlog-table T] replays the event log and checks the quote's RTMR0-3 against it as an extra step (also with --signatures-only); a mismatch names the first divergent event and exits 3.`
  static examples = [
    '<%= config.bin %> quote verify quote.bin --collateral collateral.json --at 2025-07-19T10:00:34Z',
    '<%= config.bin %> quote verify quote.bin --root-ca sim',
    '<%= config.bin %> quote verify q/*.bin --pccs-url http://127.0.0.1:8081 --jobs 2 --json',
    'find q -name "*.bin" | <%= config.bin %> quote verify --files-from - --collateral collateral.json --json > results.ndjson',
    '<%= config.bin %> quote verify quote.bin --signatures-only --at 1720000000',
    '<%= config.bin %> quote verify quote.bin --root-ca sim --eventlog ccel.bin',
  ]
  static strict = false
  static usesState = false
  static args = {
    file: Args.string({description: 'quote file(s) (raw, hex or base64), or - for stdin'}),
  }
  static flags = {
    collateral: Flags.string({summary: 'Collateral: a QuoteCollateralV3 JSON bundle (hex or dcap-qvl byte arrays) or a directory of raw PCS responses.', exclusive: ['pccs-url']}),
    'pccs-url': Flags.string({summary: 'Fetch collateral from a PCS v4 / PCCS service (cached on disk until nextUpdate).'}),
    ...fetchFlags,
    'signatures-only': Flags.boolean({summary: 'No collateral: check signatures and the PCK chain only (no CRLs, no TCB status).', default: false}),
    'root-ca': Flags.string({summary: 'Trusted root: intel (default), sim, a SHA-256 fingerprint, or a PEM (bundle) / DER certificate file; repeatable (any of).', multiple: true, multipleNonGreedy: true, default: ['intel']}),
    at: Flags.string({summary: 'Verification time: unix seconds or ISO 8601 (default: now).'}),
    policy: Flags.string({summary: 'Policy file (JSON; see `policy draft`).'}),
    'allow-debug': Flags.boolean({summary: 'Accept debug TDs / enclaves.', default: false}),
    'allow-missing-sept-ve-disable': Flags.boolean({summary: 'Accept TDs without SEPT_VE_DISABLE.', default: false}),
    'allow-perfmon': Flags.boolean({summary: 'Accept TDs with PERFMON.', default: false}),
    'allow-service-td': Flags.boolean({summary: 'Accept a non-zero MR_SERVICETD.', default: false}),
    expect: Flags.string({summary: 'Expected measurement FIELD=HEX (mrtd, mrconfigid, mrowner, mrownerconfig, rtmr0-3, report_data, ...); repeatable.', multiple: true, multipleNonGreedy: true}),
    'min-tcb-status': Flags.string({summary: 'Worst acceptable TCB status (e.g. UpToDate, SWHardeningNeeded, OutOfDate).'}),
    'allow-advisory': Flags.string({summary: 'Accept this advisory ID (repeatable); any other advisory is a violation.', multiple: true, multipleNonGreedy: true}),
    jobs: Flags.integer({char: 'j', summary: 'Threads for many quotes (the main thread plus jobs-1 workers; default one per CPU, up to 8).', min: 1, max: 64}),
    'files-from': Flags.string({summary: 'Read quote paths from this file (- for stdin), one per line, as the batch goes.'}),
    steps: Flags.boolean({summary: 'With several quotes and --json: the step list on passing quotes too (always there for the others).', default: false}),
    ...policyPinFlags,
    quiet: Flags.boolean({char: 'q', summary: 'Print nothing; the result is the exit code only.', default: false}),
    eventlog: Flags.string({summary: "Replay this CCEL / TCG2 event log and check RTMR0-3 against each quote (mismatch: exit 3, naming the first divergent event)."}),
    'eventlog-table': Flags.string({summary: 'ACPI CCEL table for --eventlog (bounds the log area).'}),
    'allow-rtmr3-runtime': Flags.boolean({summary: 'With --eventlog: an RTMR3 mismatch (runtime extends not in the log) does not fail.'}),
  }

  private files: string[] = []

  /**
   * Keep the parsed positional arguments (several quote files with strict = false). oclif's parser
   * is quadratic in their number, so simple command lines have their files split off first (see
   * splitFileArgs) and oclif parses only the flags and the first file.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  protected override async parse(options?: any, argv: string[] = this.argv): Promise<any> {
    // Without a file argument oclif would read stdin as one; with --files-from, stdin may be the list.
    if (options?.args?.file && argv.some((a) => a === '--files-from' || a.startsWith('--files-from='))) {
      options = {...options, args: {...options.args, file: {...options.args.file, ignoreStdin: true}}}
    }
    const split = options?.flags ? splitFileArgs(argv, {...options.baseFlags, ...options.flags}, options.enableJsonFlag === true) : undefined
    if (!split) {
      const out = await super.parse(options, argv)
      this.files = (out.argv as string[]).map(String)
      return out
    }
    // The first file goes first: after a repeatable flag oclif would take it as one more value.
    const out = await super.parse(options, [...split.files.slice(0, 1), ...split.flagArgv])
    this.files = split.files
    return {...out, argv: split.files}
  }

  async run() {
    if (this.flags.quiet && this.jsonEnabled()) throw new InputError('USAGE', '--quiet and --json exclude each other')
    this.quiet = this.flags.quiet
    // --pccs-url looks up every quote's platform before verifying: it needs the whole list first.
    const files = quoteFilesFromFlags(this.files, this.flags['files-from'], [this.flags.eventlog, this.flags['eventlog-table']], this.flags['pccs-url'] !== undefined)
    const setup = await resolveVerifySetup(
      {files: Array.isArray(files) ? files : [], rootCa: this.flags['root-ca'], collateral: this.flags.collateral, pccsUrl: this.flags['pccs-url'], signaturesOnly: this.flags['signatures-only'], at: this.flags.at, timeoutMs: this.flags.timeout, retries: this.flags.retries},
      () => this.openStateStore(),
    )
    for (const n of setup.notes) this.notice(n)
    const policy = policyFromFlags({
      policy: this.flags.policy,
      allowDebug: this.flags['allow-debug'],
      allowMissingSeptVeDisable: this.flags['allow-missing-sept-ve-disable'],
      allowPerfmon: this.flags['allow-perfmon'],
      allowServiceTd: this.flags['allow-service-td'],
      expect: this.flags.expect,
      minTcbStatus: this.flags['min-tcb-status'],
      allowAdvisory: this.flags['allow-advisory'],
      ...policyPinsOf(this.flags),
    })
    const eventlog = eventLogFromFlags({eventlog: this.flags.eventlog, eventlogTable: this.flags['eventlog-table'], allowRtmr3Runtime: this.flags['allow-rtmr3-runtime']}, this.files)
    const json = this.jsonEnabled()
    const quiet = this.quiet
    if (!json && !quiet) this.log(dim(`root: ${setup.root_source}; collateral: ${setup.collateral_source}`))
    process.exitCode = await verifyAndReport(
      {
        files,
        options: setup.options,
        ...(setup.collateralSet ? {collateralSet: setup.collateralSet} : {}),
        policy,
        ...(eventlog ? {eventlog} : {}),
        jobs: this.flags.jobs ?? defaultJobs(),
      },
      quiet
        ? {json: false, steps: false, progress: false, log: () => {}, writeStdout: () => {}}
        : {json, steps: this.flags.steps, progress: this.progressAllowed(), log: (l) => this.log(l), writeStdout: (d) => this.writeStdout(d)},
    )
  }
}
