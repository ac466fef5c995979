/** Small text-rendering helpers for human output (colour only on a TTY without NO_COLOR). */
import {stripVTControlCharacters} from 'node:util'

const useColor = (): boolean => Boolean(process.stdout.isTTY) && !process.env.NO_COLOR

const wrap = (code: string) => (s: string) => (useColor() ? `\u001B[${code}m${s}\u001B[0m` : s)
export const bold = wrap('1')
export const dim = wrap('2')
export const green = wrap('32')
export const red = wrap('31')
export const yellow = wrap('33')

/** Visible length (ignores ANSI colour codes). */
const vlen = (s: string) => stripVTControlCharacters(s).length
const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - vlen(s)))

/** A left-aligned table with a header rule. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(vlen(h), ...rows.map((r) => vlen(r[i] ?? ''))))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => pad(c ?? '', widths[i]))
      .join('  ')
      .trimEnd()
  return [bold(line(headers)), dim(widths.map((w) => '─'.repeat(w)).join('  ')), ...rows.map(line)].join('\n')
}

/** Aligned "key  value" lines. */
export function kv(pairs: Array<[string, string]>, indent = 2): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length))
  return pairs.map(([k, v]) => `${' '.repeat(indent)}${pad(k, w)}  ${v}`).join('\n')
}

export const check = (ok: boolean) => (ok ? green('✔') : red('✘'))

