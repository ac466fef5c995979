/** Spawn the library-level worker (test/safety/fixtures/worker.ts) as a real child process. */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO_ROOT} from '../helpers/vectors.js'

export const WORKER = join(REPO_ROOT, 'test/safety/fixtures/worker.ts')

export interface WorkerRun {
  child: ChildProcess
  done: Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>
  /** resolves when stdout has printed a line matching re */
  waitFor(re: RegExp): Promise<void>
}

export function worker(args: string[]): WorkerRun {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  const waiters: Array<{re: RegExp; resolve: () => void}> = []
  child.stdout!.on('data', (d) => {
    stdout += d
    for (const w of [...waiters]) if (w.re.test(stdout)) (waiters.splice(waiters.indexOf(w), 1), w.resolve())
  })
  child.stderr!.on('data', (d) => (stderr += d))
  const done = new Promise<{code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string}>((resolve) =>
    child.on('close', (code, signal) => resolve({code, signal, stdout, stderr})),
  )
  return {
    child,
    done,
    waitFor: (re) => (re.test(stdout) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({re, resolve}))),
  }
}

/** Tiny deterministic PRNG (mulberry32) for kill delays: the same schedule every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export interface CommandResult {
  id: string
  argv: string[]
  code: number
  stdout: string
  stderr: string
}

/** Run commands (from the sources) in one child process; see fixtures/run-commands.ts. */
export function runCommands(plan: Array<{id: string; argv: string[]}>, opts: {stateDir: string; input?: Buffer; nodeArgs?: string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv}): {results: CommandResult[]; status: number | null; stderr: string} {
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-plan-'))
  const planFile = join(dir, 'plan.json')
  writeFileSync(planFile, JSON.stringify(plan))
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...opts.env, TDXKIT_STATE_DIR: opts.stateDir}
  const r = spawnSync(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', join(REPO_ROOT, 'test/safety/fixtures/run-commands.ts'), planFile], {
    cwd: REPO_ROOT,
    env,
    input: opts.input ?? Buffer.alloc(0),
    maxBuffer: 256 * 1024 * 1024,
    ...(opts.timeoutMs ? {timeout: opts.timeoutMs} : {}),
  })
  const text = r.stdout.toString()
  return {results: text ? (JSON.parse(text) as CommandResult[]) : [], status: r.status, stderr: r.stderr.toString()}
}
