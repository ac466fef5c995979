/** What the campaign's main thread and its worker share. */
export interface WorkerJob {
  targets: Array<{name: string; runs: number}>
  seed: number
  budgetMs: number
  shared: SharedArrayBuffer
}

/** Shared memory header: Int32 [0] inputs started, [1] index of the running target, [2] input length. */
export const SHARED_HEADER = 16
