/**
 * The package's entries as a consumer imports them (built dist/, by package name): `tdxkit/verify`
 * and `tdxkit/appraise` verify and appraise a real quote to its expected.json outcome; the root
 * entry loads none of its areas until one is used, then the area is the module's own namespace;
 * and a TdxkitError is one class whichever entry threw it.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO_ROOT, readVector, vectorPath, vectorTest} from './helpers/vectors.js'

/** Run an ES module snippet in a fresh node at the repository root (package self-reference), with the ESM loader's debug log on stderr. */
function node(code: string): {stdout: string; loaded: string[]} {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {cwd: REPO_ROOT, env: {...process.env, NODE_DEBUG: 'esm'}, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`node exited ${r.status}: ${r.stderr.split('\n').filter((l) => !l.startsWith('ESM ')).join('\n')}`)
  const loaded = [...new Set([...r.stderr.matchAll(/file:\/\/\S*?\/dist\/(\S+?\.js)/g)].map((m) => m[1]))]
  return {stdout: r.stdout, loaded}
}

test('the root entry loads no area until it is used; the area is then its module', () => {
  const bare = node(`const t = await import('tdxkit'); console.log(typeof t.TdxkitError, typeof t.StateStore, typeof t.defineLayout)`)
  assert.is(bare.stdout.trim(), 'function function function')
  assert.ok(bare.loaded.includes('src/index.js'), `the loader log did not list the root entry: ${bare.loaded.join(', ')}`)
  const areas = bare.loaded.filter((f) => /^(verify|appraise)\.js$|^src\/(verify|x509|guest|host|module|device|app|cost|eventlog)\//.test(f))
  assert.equal(areas, [], 'importing the root loaded area modules')

  const used = node(`const t = await import('tdxkit'); const v = await import('tdxkit/verify'); console.log(JSON.stringify([Object.keys(t.verify).sort().join(), Object.keys(v).sort().join(), t.verify.verifyQuote === v.verifyQuote, 'parseQuote' in t.quoteAbi, typeof t.guest.getTdReport]))`)
  const [rootKeys, entryKeys, same, hasParse, guest] = JSON.parse(used.stdout) as [string, string, boolean, boolean, string]
  assert.is(rootKeys, entryKeys)
  assert.ok(same, "the root's verify area is not tdxkit/verify itself")
  assert.ok(hasParse)
  assert.is(guest, 'function')
})

vectorTest(test, "tdxkit/verify + tdxkit/appraise: a real quote gives its expected.json outcome; errors are the root's TdxkitError", () => {
  const dir = 'dcapqvl-tdx-v4-uptodate'
  const expected = JSON.parse(readVector('real', dir, 'expected.json').toString('utf8')) as {checks: Array<{at_unix: number; expect: {result: string; status: string}}>}
  const check = expected.checks[0]
  const out = node(`
    import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
    const v = await import('tdxkit/verify')
    const a = await import('tdxkit/appraise')
    const root = await import('tdxkit')
    const quote = readFileSync(${JSON.stringify(vectorPath('real', dir, 'quote.bin'))})
    const collateral = v.parseCollateralText(readFileSync(${JSON.stringify(vectorPath('real', dir, 'collateral.json'))}, 'utf8'))
    const r = v.verifyQuote(quote, {...v.defaultOptions(${check.at_unix}), collateral})
    const ap = a.appraise(r, quote, a.defaultPolicy())
    let err
    try { v.verifyQuote(quote, {now: NaN}) } catch (e) { err = e }
    console.log(JSON.stringify({ok: r.ok, status: r.status, steps: r.steps.length, policy: ap.ok, code: err.code, rootClass: err instanceof root.TdxkitError}))
  `)
  const r = JSON.parse(out.stdout) as Record<string, unknown>
  assert.equal(r, {ok: check.expect.result === 'ok', status: check.expect.status, steps: 13, policy: true, code: 'BAD_TIME', rootClass: true})
  assert.ok(out.loaded.includes('verify.js') && out.loaded.includes('appraise.js'), `the entries were not the bundles: ${out.loaded.join(', ')}`)
})

vectorTest(test, "package.json exports the documented entries; the README's library example runs as written", () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {exports: Record<string, unknown>}
  assert.equal(Object.keys(pkg.exports).sort(), ['.', './appraise', './package.json', './verify'])
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Use as a library'))
  const example = /```js\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(example?.includes("from 'tdxkit/verify'"), 'no tdxkit/verify example in "Use as a library"')
  // A consumer's directory: the package installed under node_modules (a link to this checkout).
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-consumer-'))
  try {
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(REPO_ROOT, join(dir, 'node_modules', 'tdxkit'))
    writeFileSync(join(dir, 'verify.mjs'), example!)
    const dirOf = (v: string) => vectorPath('real', v)
    const run = (v: string, at: number) => spawnSync(process.execPath, ['verify.mjs', join(dirOf(v), 'quote.bin'), join(dirOf(v), 'collateral.json'), 'intel', String(at)], {cwd: dir, encoding: 'utf8'})
    const ok = run('dcapqvl-tdx-v4-uptodate', 1752919234)
    assert.is(ok.stdout.trim(), 'UpToDate; policy satisfied', ok.stderr)
    const late = run('dcapqvl-tdx-v4-uptodate', 4102444800) // 2100: the collateral has expired
    assert.match(late.stdout, /^not verified: /, late.stderr)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test.run()
