/**
 * The shared base of every tdxkit command: `--state-dir` (env TDXKIT_STATE_DIR), `--json`, and the
 * mapping of errors to the exit codes of the CLI contract (identical with and without --json, which
 * @oclif/core 4 does not do on its own). User errors are one line, never a stack trace; a stack is
 * printed only for internal errors and only with TDXKIT_DEBUG=1.
 */
import {Command, Flags, Interfaces} from './oclif.js'
import {ExitCode, TdxkitError} from '../errors.js'
import type {StateStore} from '../app/platform.js'

/** The app module that opens the state directory (it brings the whole simulated platform with it). */
type PlatformApp = typeof import('../app/platform.js')
const loadPlatformApp = (): Promise<PlatformApp> => import('../app/platform.js')

type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof TdxCommand)['baseFlags'] & T['flags']>
type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class TdxCommand<T extends typeof Command = typeof Command> extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    'state-dir': Flags.string({
      summary: 'Directory holding the simulated platform state.',
      description: 'Defaults to $TDXKIT_STATE_DIR, else $XDG_STATE_HOME/tdxkit (~/.local/state/tdxkit).',
      env: 'TDXKIT_STATE_DIR',
      helpGroup: 'GLOBAL',
    }),
  }

  /**
   * Whether the command reads the state directory through the synchronous `store()`: then the
   * platform modules are loaded while the command starts. A command that needs the state only
   * sometimes sets this false and calls `openStateStore()` when it does (`quote verify` needs it
   * only for --root-ca sim and --pccs-url), so it does not load the simulator to verify a quote.
   */
  static usesState = true

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  private platformApp?: PlatformApp
  /** Set by a command's --quiet: no notices and no error line; the exit code alone carries the result. */
  protected quiet = false

  public override async init(): Promise<void> {
    await super.init()
    if ((this.ctor as typeof TdxCommand).usesState) this.platformApp = await loadPlatformApp()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof TdxCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  /** The state store for --state-dir / TDXKIT_STATE_DIR / XDG default. */
  protected store(): StateStore {
    if (!this.platformApp) throw new Error(`${this.id ?? 'this command'} sets usesState = false: open the state with openStateStore()`)
    return this.platformApp.openStore(this.flags['state-dir'])
  }

  /** The state store, loading the platform modules first if the command has not (see usesState). */
  protected async openStateStore(): Promise<StateStore> {
    this.platformApp ??= await loadPlatformApp()
    return this.store()
  }

  /** A note for the human on stderr (kept even under --json, since stdout then carries JSON only). */
  protected notice(message: string): void {
    if (this.quiet) return
    process.stderr.write(`tdxkit: ${message}\n`)
  }

  /** Write raw bytes or text to stdout, bypassing oclif's line-oriented logger. */
  protected writeStdout(data: string | Uint8Array): void {
    process.stdout.write(data)
  }

  /** True when a progress display may be drawn (stderr is a TTY, not --json, not CI). */
  protected progressAllowed(): boolean {
    return Boolean(process.stderr.isTTY) && !this.jsonEnabled() && !process.env.CI
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}; code?: string}): Promise<void> {
    // oclif's own control-flow errors (this.exit(), --help, --version) keep their behaviour.
    if (err?.oclif?.exit === 0 || err?.name === 'ExitError') throw err
    // A flag error thrown from parse() leaves oclif thinking the command never parsed; it would
    // then add an "UnparsedCommand" warning (outside production) to our one-line error.
    ;(this as unknown as {parsed: boolean}).parsed = true
    let exit: number
    let payload: Record<string, unknown>
    if (err instanceof TdxkitError) {
      exit = err.exit
      payload = err.toJSON()
    } else if (err?.oclif?.exit !== undefined) {
      // Flag / argument parsing errors from oclif: usage errors.
      exit = err.oclif.exit === 1 ? ExitCode.USAGE : err.oclif.exit
      // oclif's messages can span lines ("The following error occurred:\n  --x requires --y"): keep
      // every informative line, folded into one.
      const message = String(err.message)
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !/^See more help with --help$/.test(l) && l !== 'The following error occurred:' && l !== 'The following errors occurred:')
        .join('; ')
      payload = {code: 'USAGE', message, exit_code: exit}
    } else {
      exit = ExitCode.INTERNAL
      payload = {code: 'INTERNAL', message: `internal error: ${err?.message ?? String(err)}`, exit_code: exit}
      if (process.env.TDXKIT_DEBUG) process.stderr.write(`${err?.stack ?? err}\n`)
    }
    if (this.quiet) {
      // --quiet: the exit code is the whole answer.
    } else if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({error: payload}, null, 2) + '\n')
    } else {
      const msg = String(payload.message).replace(/\s*\n\s*/g, ' ')
      process.stderr.write(`tdxkit: error: ${msg}\n`)
    }
    process.exitCode = exit
  }
}
