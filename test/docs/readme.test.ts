/**
 * The README's console sessions run as written: every ```console block is taken from README.md,
 * each `$ ` line is run in order in one bash (with `tdxkit` on PATH as the built CLI, in a scratch
 * directory, without the caller's TDXKIT_STATE_DIR), and each must exit with the code its comment
 * names (`# exit N`), else 0. (The short session used to need an app.conf nobody created, and its
 * device example failed twice on the default platform.) ```js blocks whose first line names a file
 * (`// verify.mjs …`) are written into each session's directory, where `tdxkit` resolves to this
 * package, so the "Use as a library" example runs as printed.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {BIN, tempDir} from '../helpers/cli.js'
import {REPO_ROOT} from '../helpers/vectors.js'

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')

/** The command lines of every ```console block, with the exit code each expects. */
function sessions(md: string): Array<Array<{line: string; exit: number}>> {
  return [...md.matchAll(/```console\n([\s\S]*?)```/g)].map((m) =>
    m[1]
      .split('\n')
      .filter((l) => l.startsWith('$ '))
      .map((l) => ({line: l.slice(2), exit: Number(/#\s*exit (\d+)/.exec(l)?.[1] ?? 0)})),
  )
}

test('the README has console sessions: the short one and the device one', () => {
  const all = sessions(README)
  assert.ok(all.length >= 2, `found ${all.length}`)
  assert.ok(all.some((s) => s.some((c) => c.line.includes('quote verify'))))
  assert.ok(all.some((s) => s.some((c) => c.line.includes('device evidence'))))
})

/** The ```js blocks that name their file on the first line: [file name, source]. */
function scripts(md: string): Array<[string, string]> {
  return [...md.matchAll(/```js\n\/\/ ([\w.-]+\.mjs)\b[^\n]*\n[\s\S]*?```/g)].map((m) => [m[1], m[0].replace(/^```js\n|```$/g, '')])
}

test('the README has a runnable library example', () => {
  assert.ok(scripts(README).some(([name, src]) => name === 'verify.mjs' && src.includes("from 'tdxkit/verify'")))
  assert.ok(sessions(README).some((s) => s.some((c) => c.line.startsWith('node verify.mjs'))))
})

test('every README console session pastes and runs as written', () => {
  const bin = tempDir('tdxkit-readme-bin-')
  writeFileSync(join(bin, 'tdxkit'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
  chmodSync(join(bin, 'tdxkit'), 0o755)
  const env: NodeJS.ProcessEnv = {...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1'}
  delete env.TDXKIT_STATE_DIR
  for (const [n, session] of sessions(README).entries()) {
    const results = join(tempDir('tdxkit-readme-'), 'results')
    const script = session.map((c, i) => `${c.line}\necho "${i} $?" >> "${results}"`).join('\n')
    const cwd = tempDir('tdxkit-readme-cwd-')
    for (const [name, src] of scripts(README)) writeFileSync(join(cwd, name), src)
    mkdirSync(join(cwd, 'node_modules'))
    symlinkSync(REPO_ROOT, join(cwd, 'node_modules', 'tdxkit'))
    const r = spawnSync('bash', ['-c', script], {cwd, env, timeout: 300_000})
    const got = readFileSync(results, 'utf8').trim().split('\n').map((l) => Number(l.split(' ')[1]))
    const bad = session.flatMap((c, i) => (got[i] === c.exit ? [] : [`session ${n + 1}, \`${c.line}\`: exit ${got[i]} (README says ${c.exit})`]))
    assert.equal(bad, [], r.stderr.toString().slice(-1500))
  }
})

test('the README says where the real test vectors come from and how to point TDXKIT_VECTORS at them', () => {
  assert.match(README, /TDXKIT_VECTORS=/)
  for (const upstream of ['Phala-Network/dcap-qvl', 'google/go-tdx-guest', 'confidential-containers/trustee', 'DMTF/libspdm', 'veraison/corim']) assert.ok(README.includes(upstream), upstream)
  assert.match(README, /PROVENANCE\.md/)
})

test.run()
