/**
 * The DMTF spdm-emu oracle (libspdm's emulators and the SPDM Responder Validator) lives outside the
 * project (../shared/oracles/spdm-emu, or TDXKIT_ORACLES/spdm-emu). Absent → the tests skip with a
 * message; under CI=true they fail. Each run works in a private copy (the emulators write files in
 * their working directory and read their sample keys by relative path).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {copySpdmEmu, runOracle} from '../../src/app/spdm-oracle.js'
import {join, resolve} from 'node:path'
import type {Test} from 'uvu'
import {REPO_ROOT} from './vectors.js'
import {tempDir} from './cli.js'

export const ORACLES_DIR = process.env.TDXKIT_ORACLES ? resolve(process.env.TDXKIT_ORACLES) : resolve(REPO_ROOT, '../shared/oracles')
export const SPDM_EMU_DIR = join(ORACLES_DIR, 'spdm-emu')
export const spdmEmuPresent = (): boolean => existsSync(join(SPDM_EMU_DIR, 'spdm_requester_emu'))

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type TestFn = Test<any>

/** Register a test that needs the spdm-emu oracle: runs, skips (say so), or fails under CI. */
export function oracleTest(test: TestFn, name: string, fn: () => void | Promise<void>): void {
  if (spdmEmuPresent()) test(name, fn)
  else if (process.env.CI === 'true' || process.env.CI === '1') {
    test(name, () => {
      throw new Error(`spdm-emu oracle missing at ${SPDM_EMU_DIR} (required under CI)`)
    })
  } else {
    console.log(`  skip: ${name} (spdm-emu oracle not found at ${SPDM_EMU_DIR})`)
    test.skip(name, fn)
  }
}

/** A private, writable copy of the oracle folder (binaries + sample keys). */
export function emuCopy(): string {
  return copySpdmEmu(SPDM_EMU_DIR, tempDir('tdxkit-spdm-emu-'))
}

export interface Run {
  code: number | null
  output: string
}

/** Run one oracle binary in `cwd` to completion (killed after `timeoutMs`). */
export const runEmu = (cwd: string, bin: string, args: string[], timeoutMs = 120_000): Promise<Run> => runOracle(cwd, bin, args, timeoutMs)

/** Start an oracle binary in the background (a responder); stop() kills it if still running. */
export function startEmu(cwd: string, bin: string, args: string[]): {child: ChildProcess; exited: Promise<Run>; stop: () => void; output: () => string} {
  const child = spawn(join(cwd, bin), args, {cwd, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<Run>((r) => child.on('close', (code) => r({code, output})))
  return {child, exited, stop: () => child.kill('SIGKILL'), output: () => output}
}

/** A free TCP port for an emulator (which cannot listen on port 0 and report it). */
export async function freePort(): Promise<number> {
  const {createServer} = await import('node:net')
  return new Promise((r) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as {port: number}).port
      s.close(() => r(p))
    })
  })
}

/** Wait until something listens on 127.0.0.1:port (read from /proc/net/tcp: a probing connection would end an emulator). */
export async function waitForListen(port: number, timeoutMs = 10_000): Promise<void> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  const LISTEN = '0A'
  const until = Date.now() + timeoutMs
  for (;;) {
    const rows = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) => (existsSync(f) ? readFileSync(f, 'latin1').split('\n').slice(1) : []))
    if (rows.some((r) => {
      const cols = r.trim().split(/\s+/)
      return cols[1]?.endsWith(`:${hex}`) && cols[3] === LISTEN
    })) return
    if (Date.now() > until) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
