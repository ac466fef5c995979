/**
 * Command-line helpers for commands that take many positional arguments (quote verify F...).
 */

/** The parts of an oclif flag definition splitFileArgs needs. */
export interface FlagShape {
  type: string
  char?: string
  multiple?: boolean
  /** Each occurrence takes one value (every tdxkit repeatable flag): the words after it are files. */
  multipleNonGreedy?: boolean
}

/**
 * Split a command line into flag tokens and file arguments in one pass, the way oclif would, or
 * undefined when it holds anything but these shapes: `--bool`, `--opt VALUE`, `--opt=VALUE`,
 * `-c VALUE` (known flags), and words (not starting with '-', or '-' for stdin). As in oclif, the
 * words after a greedy repeatable flag's value are more values of that flag until the next option
 * flag; tdxkit's repeatable flags are all multipleNonGreedy (one value per occurrence).
 * Undefined sends the whole line to oclif, which then also produces its usual errors (unknown
 * flag, missing value, `--`, short clusters). oclif's own parser re-filters its token list for
 * every positional argument and sorts argv by indexOf, so 12,000 files cost it over a second (and
 * it regroups repeated files); here they keep their order.
 */
export function splitFileArgs(argv: readonly string[], flags: Record<string, FlagShape>, jsonFlag: boolean): {flagArgv: string[]; files: string[]} | undefined {
  const booleans = new Set(jsonFlag ? ['--json'] : [])
  /** Option flag token → whether it is greedy (repeatable and takes the words after its value). */
  const options = new Map<string, boolean>()
  for (const [name, f] of Object.entries(flags)) {
    if (f.type === 'boolean') booleans.add(`--${name}`)
    else {
      const greedy = f.multiple === true && f.multipleNonGreedy !== true
      options.set(`--${name}`, greedy)
      if (f.char) options.set(`-${f.char}`, greedy)
    }
  }
  const flagArgv: string[] = []
  const files: string[] = []
  const isWord = (a: string) => a === '-' || !a.startsWith('-')
  let greedy = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (isWord(a)) {
      ;(greedy ? flagArgv : files).push(a)
      continue
    }
    if (booleans.has(a)) {
      flagArgv.push(a)
      continue
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1
    const repeatable = options.get(eq > 0 ? a.slice(0, eq) : a)
    if (repeatable === undefined) return undefined
    if (eq > 0) flagArgv.push(a)
    else if (i + 1 < argv.length && isWord(argv[i + 1])) flagArgv.push(a, argv[++i])
    else return undefined
    greedy = repeatable
  }
  return {flagArgv, files}
}
