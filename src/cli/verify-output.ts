/**
 * The output of `quote verify` over its files: a checklist per quote (or, with --json, one pretty
 * object for one quote and NDJSON lines for several, written in BATCH_CHUNK-line writes), a
 * progress display on a TTY, the closing count, and the exit code (the lowest non-zero one).
 * The files may be a stream (`--files-from`): whether there are several is known after two names.
 */
import {BATCH_CHUNK, runBatch, type BatchJob, type FileSource, type QuoteOutcome} from '../app/verify-batch.js'
import {outcomeJson, outcomeText} from './verify-render.js'
import {collateralValidity} from '../verify/validity.js'

/** Where the output goes (the command's logger and stdout) and how. */
interface VerifyOutput {
  json: boolean
  /** NDJSON lines carry `steps` for passing quotes too (--steps); they always do for the others. */
  steps?: boolean
  /** Draw a progress display on stderr (a TTY, several quotes, not --json). */
  progress: boolean
  log: (line: string) => void
  writeStdout: (data: string) => void
}

/** Width of the progress bar, in characters. */
const PROGRESS_WIDTH = 30

/** The first two names of a source, and the whole source again (those two first). */
async function peekTwo(files: FileSource): Promise<{first: string[]; all: FileSource}> {
  if (Array.isArray(files)) return {first: files.slice(0, 2), all: files}
  const it = (Symbol.asyncIterator in files ? files[Symbol.asyncIterator]() : (files as Iterable<string>)[Symbol.iterator]()) as AsyncIterator<string> | Iterator<string>
  const first: string[] = []
  while (first.length < 2) {
    const r = await it.next()
    if (r.done) return {first, all: first}
    first.push(r.value)
  }
  async function* rest(): AsyncGenerator<string> {
    yield* first
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value
  }
  return {first, all: rest()}
}

/** Verify the batch, writing each outcome as it is delivered; resolves with the exit code. */
export async function verifyAndReport(job: Omit<BatchJob, 'onOutcome' | 'onLine'>, out: VerifyOutput): Promise<number> {
  const {first, all} = await peekTwo(job.files)
  const total = Array.isArray(job.files) ? job.files.length : undefined
  const many = first.length > 1
  const progress = out.progress && many
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
        files: all,
        lineOptions: {steps: out.steps ? 'always' : 'unless-ok'},
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
      files: all,
      onOutcome: (o) => {
        tally(o.exit_code)
        if (progress) process.stderr.write('\r\u001B[K')
        if (out.json) single = o
        else for (const l of outcomeText(o, validity)) out.log(l)
        if (progress) process.stderr.write(total ? progressBar(done, total) : `${done} verified`)
      },
    })
  }
  if (progress) process.stderr.write('\r\u001B[K')
  if (single) out.writeStdout(JSON.stringify(outcomeJson(single), null, 2) + '\n')
  if (!out.json && many) out.log(`${done} quotes: ${counts.ok} ok, ${counts.failed} failed`)
  return exit
}

const progressBar = (done: number, total: number): string => {
  const fill = Math.round((done / total) * PROGRESS_WIDTH)
  return `[${'#'.repeat(fill)}${' '.repeat(PROGRESS_WIDTH - fill)}] ${done}/${total}`
}
