/** Helpers shared by the benchmarks. */

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/**
 * Per-call time (ms) of `fn`: the best of `rounds` rounds of `n` calls each. On a shared machine
 * the best round is the one least disturbed by other processes, which is what a comparison of two
 * implementations measured side by side needs.
 */
export function bestOf(rounds: number, n: number, fn: () => void): number {
  let best = Infinity
  for (let r = 0; r < rounds; r++) {
    const t = performance.now()
    for (let i = 0; i < n; i++) fn()
    best = Math.min(best, (performance.now() - t) / n)
  }
  return best
}
