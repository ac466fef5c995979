/**
 * Real third-party test vectors live outside the project (../shared/testvectors, or TDXKIT_VECTORS).
 * When absent, tests that need them skip with a message; under CI=true they fail instead.
 */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const VECTORS_DIR = process.env.TDXKIT_VECTORS ? resolve(process.env.TDXKIT_VECTORS) : resolve(REPO_ROOT, '../shared/testvectors')
export const vectorsPresent = (): boolean => existsSync(VECTORS_DIR)

export const vectorPath = (...parts: string[]): string => join(VECTORS_DIR, ...parts)
export const readVector = (...parts: string[]): Buffer => readFileSync(vectorPath(...parts))

import type {Test} from 'uvu'

type TestFn = Test<any>

/** Register a test that needs the real vectors: runs, skips (say so), or fails under CI. */
export function vectorTest(test: TestFn, name: string, fn: () => void | Promise<void>): void {
  if (vectorsPresent()) {
    test(name, fn)
  } else if (process.env.CI === 'true' || process.env.CI === '1') {
    test(name, () => {
      throw new Error(`test vectors missing at ${VECTORS_DIR} (required under CI)`)
    })
  } else {
    console.log(`  skip: ${name} (test vectors not found at ${VECTORS_DIR})`)
    test.skip(name, fn)
  }
}
