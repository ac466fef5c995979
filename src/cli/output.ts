/**
 * THE output writer of every command flag that names a file (-o/--output, --chart, --aux-output,
 * --signer-key-out, --trace-svg): the path is checked when the command starts, before any work or
 * state change (a directory, a missing parent: one-line usage error, exit 2; parents are never
 * created), the write is atomic (src/app/files.ts writeOutputFile), and `-` means stdout, in which
 * case the command's human summary goes to stderr so stdout carries only the data.
 *
 *   const out = OutputTarget.of(this.flags.output, '--output', {json: this.jsonEnabled()})
 *   ... work ...
 *   out.write(bytes)
 *   out.say(`wrote ${bytes.length} bytes to ${out.name}`)
 */
import {checkOutputPath, writeOutputFile} from '../app/files.js'
import {InputError} from '../errors.js'

/** The spelling of stdout as an output path. */
export const STDOUT_PATH = '-'

export class OutputTarget {
  private constructor(
    /** The path as given (undefined: the flag was not given). */
    readonly path: string | undefined,
    readonly flag: string,
  ) {}

  /**
   * Check an output flag's value now. `-` is stdout, refused under --json (stdout carries the JSON
   * document then) and when something else already takes stdout (`stdoutTakenBy`, e.g. "--output -").
   */
  static of(path: string | undefined, flag = '--output', opts: {json?: boolean; stdoutTakenBy?: string} = {}): OutputTarget {
    if (path === STDOUT_PATH) {
      if (opts.json) throw new InputError('UNWRITABLE_OUTPUT', `${flag} -: stdout carries the --json document; name a file`)
      if (opts.stdoutTakenBy) throw new InputError('UNWRITABLE_OUTPUT', `${flag} -: stdout already carries ${opts.stdoutTakenBy}; name a file`)
    } else if (path !== undefined) checkOutputPath(path, flag)
    return new OutputTarget(path, flag)
  }

  /** A file or stdout was asked for. */
  get given(): boolean {
    return this.path !== undefined
  }

  /** `-`: the data goes to stdout. */
  get toStdout(): boolean {
    return this.path === STDOUT_PATH
  }

  /** The file to name in JSON results (undefined for stdout or not given). */
  get file(): string | undefined {
    return this.toStdout ? undefined : this.path
  }

  /** How to name the destination in a human line: the path, or "stdout". */
  get name(): string {
    return this.toStdout ? 'stdout' : (this.path ?? 'stdout')
  }

  /** Write the data: atomically to the file, or to stdout for `-`. Nothing when the flag was not given. */
  write(data: string | Uint8Array): void {
    if (this.path === undefined) return
    if (this.toStdout) process.stdout.write(typeof data === 'string' ? Buffer.from(data) : data)
    else writeOutputFile(this.path, data, this.flag)
  }

  /** A human line about the output: stdout normally, stderr when the data itself went to stdout. */
  say(line: string): void {
    humanLines(this)(line)
  }
}

/** Where a command's human lines go: stderr when any of its outputs writes to stdout, else stdout. */
export function humanLines(...targets: OutputTarget[]): (line: string) => void {
  const stream = targets.some((t) => t.toStdout) ? process.stderr : process.stdout
  return (line) => void stream.write(line.endsWith('\n') ? line : `${line}\n`)
}
