/**
 * Typed errors. Every failure a user can cause is a TdxkitError carrying a stable `code`, the
 * exit code of the CLI contract (docs/ARCHITECTURE.md §3) and, for verification, the step that
 * failed. Commands never print a stack trace for these; anything else is an internal error (exit 1).
 */

export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  AUTHENTICITY: 3,
  COLLATERAL: 4,
  TCB: 5,
  POLICY: 6,
  REFUSED: 7,
  /** The collateral service (PCS / PCCS) could not be reached or kept failing (network, timeout, HTTP 5xx). */
  UNREACHABLE: 8,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface TdxkitErrorOptions {
  exit?: ExitCode
  step?: string
  detail?: Record<string, unknown>
  cause?: unknown
}

export class TdxkitError extends Error {
  readonly code: string
  readonly exit: ExitCode
  readonly step?: string
  readonly detail?: Record<string, unknown>

  constructor(code: string, message: string, opts: TdxkitErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = new.target.name
    this.code = code
    this.exit = opts.exit ?? ExitCode.USAGE
    this.step = opts.step
    this.detail = opts.detail
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      exit_code: this.exit,
      ...(this.step ? {step: this.step} : {}),
      ...(this.detail ? {detail: this.detail} : {}),
    }
  }
}

/** Bad flags, malformed or unreadable input (exit 2). */
export class InputError extends TdxkitError {
  constructor(code: string, message: string, opts: Omit<TdxkitErrorOptions, 'exit'> = {}) {
    super(code, message, {...opts, exit: ExitCode.USAGE})
  }
}

/** A binary structure that does not parse (exit 2). */
export class ParseError extends TdxkitError {
  constructor(code: string, message: string, opts: Omit<TdxkitErrorOptions, 'exit'> = {}) {
    super(code, message, {...opts, exit: ExitCode.USAGE})
  }
}

/** The state directory is corrupt, locked, or from a newer tdxkit (exit 2). */
export class StateError extends TdxkitError {
  constructor(code: string, message: string, opts: Omit<TdxkitErrorOptions, 'exit'> = {}) {
    super(code, message, {...opts, exit: ExitCode.USAGE})
  }
}

/**
 * Simulated hardware refused an operation (exit 7): a TDCALL / SEAMCALL / TDVMCALL returned an
 * error status, or a TDISP transition is not allowed. `status` is the raw 64-bit status.
 */
export class RefusedError extends TdxkitError {
  readonly status?: bigint
  constructor(code: string, message: string, opts: Omit<TdxkitErrorOptions, 'exit'> & {status?: bigint} = {}) {
    super(code, message, {...opts, exit: ExitCode.REFUSED})
    this.status = opts.status
  }
}

export function isTdxkitError(e: unknown): e is TdxkitError {
  return e instanceof TdxkitError
}
