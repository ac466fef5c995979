/** Names of protocol codes for logs and errors: the key of a code table, or the code in hex when no entry has it. */

/** The name `code` has in `table` (e.g. {QUERY: 0x00, ...}), or "0x…" for an unknown code. */
export function codeName(table: Readonly<Record<string, number>>, code: number): string {
  for (const [k, v] of Object.entries(table)) if (v === code) return k
  return `0x${code.toString(16)}`
}
