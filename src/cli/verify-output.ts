/**
 * The output of `quote verify` over its files: a checklist per quote (or, with --json, one pretty
 * object for one quote and NDJSON lines for several, written in BATCH_CHUNK-line writes), a
 * progress bar on a TTY, the closing count, and the exit code (the lowest non-zero one).
 */
import {BATCH_CHUNK, runBatch, type BatchJob, type QuoteOutcome} from '../app/verify-batch.js'
import {outcomeJson, outcomeText} from './verify-render.js'
import {collateralValidity} from '../verify/validity.js'

/** Where the output goes (the command's logger and stdout) and how. */
export interface VerifyOutput {
  json: boolean
  /** Draw a progress bar on stderr (a TTY, several quotes, not --json). */
  progress: boolean
  log: (line: string) => void
  writeStdout: (data: string) => void
}

/** Width of the progress bar, in characters. */
const PROGRESS_WIDTH = 30

/** Verify the batch, writing each outcome as it is delivered; resolves with the exit code. */
export async function verifyAndReport(job: Omit<BatchJob, 'onOutcome' | 'onLine'>, out: VerifyOutput): Promise<number> {
  const total = job.files.length
  const many = total > 1
  let exit = 0
  let done = 0
  let single: QuoteOutcome | undefined
  const counts = {ok: 0, failed: 0}
  // One bundle for every quote (not per-platform --pccs-url sets): its timeline goes under each checklist.
  const validity = !out.json && job.options.collateral ? collateralValidity(job.options.collateral) : undefined
  const tally = (code: number) => {
    done++
    if (code === 0) counts.ok++
    else {
      counts.failed++
      exit = exit === 0 ? code : Math.min(exit, code)
    }
  }
  if (out.json && many) {
    // NDJSON: each thread renders the lines of the quotes it verified; here they are only written,
    // gathered into one write per BATCH_CHUNK lines.
    let buffered: string[] = []
    const flush = () => {
      if (buffered.length) out.writeStdout(buffered.join(''))
      buffered = []
    }
    try {
      await runBatch({
        ...job,
        onLine: (line, code) => {
          tally(code)
          buffered.push(line + '\n')
          if (buffered.length >= BATCH_CHUNK) flush()
        },
      })
    } finally {
      flush()
    }
  } else {
    await runBatch({
      ...job,
      onOutcome: (o) => {
        tally(o.exit_code)
        if (out.progress) process.stderr.write('\r\u001B[K')
        if (out.json) single = o
        else for (const l of outcomeText(o, validity)) out.log(l)
        if (out.progress) {
          const fill = Math.round((done / total) * PROGRESS_WIDTH)
          process.stderr.write(`[${'#'.repeat(fill)}${' '.repeat(PROGRESS_WIDTH - fill)}] ${done}/${total}`)
        }
      },
    })
  }
  if (out.progress) process.stderr.write('\r\u001B[K')
  if (single) out.writeStdout(JSON.stringify(outcomeJson(single), null, 2) + '\n')
  if (!out.json && many) out.log(`${total} quotes: ${counts.ok} ok, ${counts.failed} failed`)
  return exit
}
