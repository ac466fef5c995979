#!/usr/bin/env node
// `npm run fuzz -- --runs N [--seed S] [--tamper] [--targets a,b]`: the long campaigns over the
// simulator / device / event-log parsers (bench/fuzz) and over the quote verifier
// (bench/verify-fuzz) and over the SPDM responder (bench/spdm-fuzz). --runs and --seed go to all;
// the other flags to the first. Says so when the real test vectors are missing (fewer seeds), and
// fails then under CI=true.
import {spawnSync} from 'node:child_process'
import {vectorsNotice} from './fuzz-vectors.mjs'

const args = process.argv.slice(2)
const pick = (name) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? [`--${name}`, args[i + 1]] : []
}
const missing = vectorsNotice()
if (missing) {
  console.error(missing.message)
  if (missing.fail) process.exit(1)
}
let failed = false
for (const [script, argv] of [
  ['bench/fuzz/run.ts', args],
  ['bench/verify-fuzz/run.ts', [...pick('runs'), ...pick('seed')]],
  ['bench/spdm-fuzz/run.ts', [...pick('runs'), ...pick('seed')]],
]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...argv], {stdio: 'inherit'})
  if (r.status !== 0) failed = true
}
if (missing) console.error(missing.message)
process.exit(failed ? 1 : 0)
