/** Run the built CLI (bin/run.js over dist/) as a real child process. */
import {spawnSync, spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO_ROOT} from './vectors.js'

export const BIN = join(REPO_ROOT, 'bin/run.js')
/**
 * TDXKIT_TEST_DEV=1 runs the TypeScript sources through bin/dev.js (no build needed, slower start);
 * otherwise the built bin/run.js over dist/ (what `npm test` does after building).
 */
const ARGV0 = process.env.TDXKIT_TEST_DEV ? ['--import', 'tsx', join(REPO_ROOT, 'bin/dev.js')] : [BIN]

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  stdoutBuf: Buffer
}

export function tempDir(prefix = 'tdxkit-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export function cli(args: string[], opts: {stateDir?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv} = {}): CliResult {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...opts.env}
  delete env.TDXKIT_STATE_DIR
  if (opts.stateDir) env.TDXKIT_STATE_DIR = opts.stateDir
  const r = spawnSync(process.execPath, [...ARGV0, ...args], {env, input: opts.input, maxBuffer: 64 * 1024 * 1024})
  return {code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString(), stdoutBuf: r.stdout}
}

export function cliAsync(args: string[], opts: {stateDir?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv} = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', ...opts.env}
  delete env.TDXKIT_STATE_DIR
  if (opts.stateDir) env.TDXKIT_STATE_DIR = opts.stateDir
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...ARGV0, ...args], {env})
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    child.stdin.end(opts.input ?? '')
    child.on('close', (code) => {
      const stdoutBuf = Buffer.concat(out)
      resolve({code: code ?? -1, stdout: stdoutBuf.toString(), stderr: Buffer.concat(err).toString(), stdoutBuf})
    })
  })
}
