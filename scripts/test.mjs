#!/usr/bin/env node
// Runs the uvu suite (TypeScript through tsx) and prints the closing line CI reads:
// "N passed, N failed, N skipped". uvu prints Total/Passed/Skipped only; failed = total - passed.
import {spawn} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {dirname, join} from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pattern = process.argv[2] ?? '\\.test\\.ts$'
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), 'test', pattern, '--no-color'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {...process.env, FORCE_COLOR: '0'},
})
let out = ''
child.stdout.on('data', (d) => {
  out += d
  process.stdout.write(d)
})
child.on('close', (code) => {
  const num = (label) => {
    const m = out.match(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm'))
    return m ? Number(m[1]) : undefined
  }
  const total = num('Total')
  const passed = num('Passed') ?? 0
  const skipped = num('Skipped') ?? 0
  let failed = total === undefined ? 1 : total - passed
  if (code !== 0 && failed === 0) failed = 1 // runner died or exited early
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
  process.exit(code === 0 && failed === 0 ? 0 : 1)
})
