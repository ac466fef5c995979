// Whether `npm run fuzz` has the real test vectors to seed from, and what to say when it has not:
// without them the verifier campaign seeds from the 2 simulated quotes only (17 real quotes with
// them) and the parser campaigns from simulator artefacts only. Under CI=true that is a failure,
// as for the tests (test/helpers/vectors.ts resolves the directory the same way).
import {existsSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** $TDXKIT_VECTORS, else ../shared/testvectors next to the repository. */
export const vectorsDir = (env = process.env) => (env.TDXKIT_VECTORS ? resolve(env.TDXKIT_VECTORS) : resolve(root, '../shared/testvectors'))

/** undefined when the vectors are there; else the message and whether the run must fail (CI). */
export function vectorsNotice(env = process.env) {
  const dir = vectorsDir(env)
  if (existsSync(dir)) return undefined
  const ci = env.CI === 'true' || env.CI === '1'
  return {
    fail: ci,
    message:
      `fuzz: real test vectors not found at ${dir}: the verifier campaign seeds from the 2 simulated quotes ` +
      `instead of 17 real + 2, the parser campaigns from simulator artefacts only ` +
      `(set TDXKIT_VECTORS; see the README, "Real test vectors")${ci ? '; required under CI' : ''}`,
  }
}
