/**
 * oclif `command_not_found` hook (package.json oclif.hooks; oclif imports it only when a command is
 * not found, so normal start-up never loads it): "did you mean `quote verify`?" for a typo, one line
 * on stderr, exit 2; under --json the documented {"error": {...}} object on stdout, exit 2. oclif
 * also lands here when a command that takes no positional arguments is given one (it folds the
 * extra word into the command id): that is said as an unexpected argument, as oclif says it for a
 * command with arguments (code USAGE).
 */
import {ExitCode} from '../errors.js'

/** The part of oclif's hook options used here. */
export interface NotFoundOptions {
  id: string
  argv?: string[]
  config: {bin: string; commandIDs: string[]; topicSeparator?: string}
}

/** Edit distance (insert, delete, substitute, each 1; a swap of neighbours counts 1 too). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({length: a.length + 1}, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/**
 * The closest command to what was typed: each command id (k words) is compared with the first k
 * typed words (oclif folds every word before the first flag into the id it could not find). A
 * suggestion needs a distance of at most a quarter of its length (at least 1): "quote verfy" and "devcie lsit" get one, "quote frob" does not.
 */
export function closestCommand(typedWords: string[], commandIds: string[]): {command: string; typed: string} | undefined {
  let best: {command: string; typed: string; distance: number} | undefined
  for (const id of commandIds) {
    const words = id.split(':')
    if (words.length > typedWords.length) continue
    const typed = typedWords.slice(0, words.length).join(' ')
    const command = words.join(' ')
    const distance = editDistance(typed, command)
    if (distance <= Math.max(1, Math.floor(command.length / 4)) && (!best || distance < best.distance)) best = {command, typed, distance}
  }
  return best && {command: best.command, typed: best.typed}
}

/**
 * The command that is exactly the first words typed, with words left over (oclif folds the words
 * given to a command without positional arguments into the id it then cannot find).
 */
export function exactPrefixCommand(typedWords: string[], commandIds: string[]): {command: string; args: string[]} | undefined {
  let exact: string[] | undefined
  for (const id of commandIds) {
    const words = id.split(':')
    if (words.length < typedWords.length && words.length > (exact?.length ?? 0) && words.every((w, i) => w === typedWords[i])) exact = words
  }
  return exact && {command: exact.join(' '), args: typedWords.slice(exact.length)}
}

/** The words the user typed as the command: the longest known topic prefix and the word after it. */
function shownCommand(typedWords: string[], commandIds: string[]): string {
  const topics = new Set<string>()
  for (const id of commandIds) {
    const parts = id.split(':')
    for (let i = 1; i < parts.length; i++) topics.add(parts.slice(0, i).join(':'))
  }
  let n = 0
  while (n < typedWords.length && topics.has(typedWords.slice(0, n + 1).join(':'))) n++
  return typedWords.slice(0, n + 1).join(' ')
}

/** One line for the error, and the JSON error object's fields. */
function notFoundError(words: string[], ids: string[], bin: string): {message: string; code: string; did_you_mean?: string; shown: string} {
  const extra = exactPrefixCommand(words, ids)
  // A longer command close to what was typed is a typo of it ("report shwo"); else the words are arguments.
  const longer = extra && closestCommand(words, ids.filter((id) => id.split(':').length > extra.command.split(' ').length))
  if (extra && !longer) {
    const quoted = extra.args.map((a) => `'${a}'`).join(', ')
    const message = `unexpected argument${extra.args.length > 1 ? 's' : ''} ${quoted} for '${extra.command}' (it takes no arguments; see '${bin} ${extra.command} --help')`
    return {message, code: 'USAGE', shown: extra.command}
  }
  const match = longer || closestCommand(words, ids)
  const shown = match?.typed ?? shownCommand(words, ids)
  const topic = match?.command.includes(' ') ? ` ${match.command.split(' ')[0]}` : ''
  const message = match
    ? `'${shown}' is not a ${bin} command; did you mean '${match.command}'? (see '${bin} help${topic}')`
    : `'${shown}' is not a ${bin} command (see '${bin} help' for the list)`
  return {message, code: 'UNKNOWN_COMMAND', shown, ...(match ? {did_you_mean: match.command} : {})}
}

const hook = async function (opts: NotFoundOptions): Promise<{unknown_command: string}> {
  const words = opts.id.split(':').filter(Boolean)
  const bin = opts.config.bin
  const {message, code, did_you_mean, shown} = notFoundError(words, opts.config.commandIDs, bin)
  const json = [...(opts.argv ?? []), ...words].includes('--json')
  if (json) {
    const error = {code, message, exit_code: ExitCode.USAGE, ...(did_you_mean ? {did_you_mean} : {})}
    process.stdout.write(JSON.stringify({error}, null, 2) + '\n')
  } else process.stderr.write(`${bin}: error: ${message}\n`)
  process.exitCode = ExitCode.USAGE
  return {unknown_command: shown}
}

export default hook
