/**
 * DMTF's spdm-emu binaries as an outside peer (for the demo): find the oracle folder
 * (TDXKIT_ORACLES/spdm-emu or <repo>/../shared/oracles/spdm-emu), copy it to a scratch directory
 * (the emulators read sample keys by relative path and write files in their working directory) and
 * run libspdm's requester against a port, bounded by a timeout.
 */
import {spawn} from 'node:child_process'
import {chmodSync, cpSync, existsSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** Where the oracle folder is, or undefined when it is not there. */
export function locateSpdmEmu(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url))
  const candidates = [process.env.TDXKIT_ORACLES ? join(resolve(process.env.TDXKIT_ORACLES), 'spdm-emu') : '', resolve(here, '../../../../shared/oracles/spdm-emu'), resolve(here, '../../../shared/oracles/spdm-emu')]
  return candidates.find((c) => c && existsSync(join(c, 'spdm_requester_emu')))
}

function makeWritable(dir: string): void {
  chmodSync(dir, 0o755)
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) makeWritable(p)
    else chmodSync(p, statSync(p).mode | 0o200)
  }
}

/** A writable copy of the oracle folder under `parent`. */
export function copySpdmEmu(from: string, parent: string): string {
  const dir = join(parent, 'spdm-emu')
  if (!existsSync(dir)) {
    cpSync(from, dir, {recursive: true})
    makeWritable(dir)
  }
  return dir
}

/** Run one oracle binary in `dir` to completion (killed after `timeoutMs`): exit code and output. */
export function runOracle(dir: string, bin: string, args: string[], timeoutMs = 120_000): Promise<{code: number | null; output: string}> {
  return new Promise((done) => {
    const child = spawn(join(dir, bin), args, {cwd: dir, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(t)
      done({code, output})
    })
  })
}

/** Run libspdm's spdm_requester_emu (PCI_DOE) against 127.0.0.1:port. */
export const runLibspdmRequester = (dir: string, port: number, extra: string[], timeoutMs?: number) =>
  runOracle(dir, 'spdm_requester_emu', ['--trans', 'PCI_DOE', '--port', String(port), ...extra], timeoutMs)
