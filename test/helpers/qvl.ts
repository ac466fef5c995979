/**
 * Intel's Quote Verification Library as a test oracle: ../shared/oracles/intel-qvl (or TDXKIT_QVL_ORACLE),
 * copied to a temp dir before use (its converter writes next to itself; ../shared is read-only under CI),
 * run through its run-case.sh with a small pool. Absent → tests skip with a message; CI=true → they fail.
 */
import {execFile, spawnSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import type {Test} from 'uvu'
import {REPO_ROOT, VECTORS_DIR, vectorsPresent} from './vectors.js'

export const QVL_DIR = process.env.TDXKIT_QVL_ORACLE ? resolve(process.env.TDXKIT_QVL_ORACLE) : resolve(REPO_ROOT, '../shared/oracles/intel-qvl')

/** One oracle run: the combined status (first non-OK of the four steps, in this order) and each step's. */
export interface QvlVerdict {
  combined: string
  pck: string
  tcb: string
  qe: string
  quote: string
}
export const QVL_STEPS = ['pck', 'tcb', 'qe', 'quote'] as const

let missing: {reason?: string} | undefined

/** Why the oracle cannot run here, or undefined when it can (checked once per process). */
export function qvlMissing(): string | undefined {
  missing ??= {reason: findMissing()}
  return missing.reason
}

function findMissing(): string | undefined {
  if (!existsSync(join(QVL_DIR, 'run-case.sh'))) return `Intel QVL oracle not found at ${QVL_DIR}`
  const py = spawnSync('python3', ['-c', 'pass'], {timeout: 10_000})
  if (py.status !== 0) return 'python3 (needed by the oracle converter) is not runnable'
  return undefined
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TestFn = Test<any>

/**
 * Register a test that needs the oracle (and, with `vectors`, the real vectors): runs, skips with a
 * message, or fails under CI=true.
 */
export function oracleTest(test: TestFn, name: string, fn: () => void | Promise<void>, opts: {vectors?: boolean} = {}): void {
  const missing = qvlMissing() ?? (opts.vectors && !vectorsPresent() ? `test vectors not found at ${VECTORS_DIR}` : undefined)
  if (!missing) {
    test(name, fn)
  } else if (process.env.CI === 'true' || process.env.CI === '1') {
    test(name, () => {
      throw new Error(`${missing} (required under CI)`)
    })
  } else {
    console.log(`  skip: ${name} (${missing})`)
    test.skip(name, fn)
  }
}

/** A private, writable copy of the oracle folder (directories made writable so it can be removed). */
export function copyOracle(): string {
  const dest = mkdtempSync(join(tmpdir(), 'tdxkit-qvl-'))
  cpSync(QVL_DIR, dest, {recursive: true})
  makeTreeWritable(dest)
  mkdirSync(join(dest, 'tmp'))
  return dest
}

function makeTreeWritable(dir: string): void {
  chmodSync(dir, 0o755)
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) makeTreeWritable(p)
  }
}

const LINE = /^(STATUS_\w+) pck=(STATUS_\w+) tcb=(STATUS_\w+) qe=(STATUS_\w+) quote=(STATUS_\w+)\s*$/m
/** Bound on one oracle run (it takes well under a second; this only stops a hang). */
const QVL_TIMEOUT_MS = 60_000

/** Run the copied oracle on one quote + QuoteCollateralV3 JSON at `at` (unix seconds). */
export function runQvl(copy: string, quote: string, collateral: string, at: number, root?: string): Promise<QvlVerdict> {
  const args = [quote, collateral, String(at), ...(root ? ['--root', root] : [])]
  const env = {...process.env, TMPDIR: join(copy, 'tmp')}
  return new Promise((ok, fail) => {
    execFile(join(copy, 'run-case.sh'), args, {cwd: copy, env, timeout: QVL_TIMEOUT_MS}, (error, stdout, stderr) => {
      const m = LINE.exec(stdout)
      if (error || !m) return fail(new Error(`intel-qvl ${args.join(' ')}: ${(stdout + stderr).trim() || error?.message}`))
      ok({combined: m[1], pck: m[2], tcb: m[3], qe: m[4], quote: m[5]})
    })
  })
}

/** Workers for oracle and CLI runs: small, the machine is shared (TDXKIT_QVL_POOL overrides). */
export const POOL_SIZE = Math.max(1, Number(process.env.TDXKIT_QVL_POOL) || Math.min(2, availableParallelism()))

/** Map over items with at most `size` promises in flight; results in input order. */
export async function mapPool<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(size, items.length)}, worker))
  return out
}
