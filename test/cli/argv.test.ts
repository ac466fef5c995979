/**
 * Repeatable flags take one value per occurrence (oclif multipleNonGreedy), so a positional
 * argument after one is an argument, not one more value: `quote verify --root-ca sim --expect
 * report_data=HEX quote.bin` works (it was "Missing 1 required arg"). Checked for every
 * repeatable flag of every command, by definition, through oclif's parser, and end to end.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Parser} from '@oclif/core'
import {TdxCommand} from '../../src/cli/base.js'
import {splitFileArgs} from '../../src/cli/argv.js'
import {cli, tempDir} from '../helpers/cli.js'
import {REPO_ROOT} from '../helpers/vectors.js'

interface FlagDef {
  type: string
  multiple?: boolean
  multipleNonGreedy?: boolean
  options?: readonly string[]
  char?: string
  required?: boolean
}
interface CommandClass {
  flags?: Record<string, FlagDef>
  args?: Record<string, {required?: boolean}>
  strict?: boolean
}

function commandFiles(dir = join(REPO_ROOT, 'commands')): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? commandFiles(p) : n.endsWith('.ts') ? [p] : []
  })
}

async function commands(): Promise<Array<{id: string; cls: CommandClass}>> {
  const out = []
  for (const file of commandFiles()) {
    const mod = (await import(pathToFileURL(file).href)) as {default: CommandClass}
    out.push({id: relative(join(REPO_ROOT, 'commands'), file).replace(/\.ts$/, '').replace(/\//g, ' '), cls: mod.default})
  }
  return out
}

/** A value the flag accepts (its first option, else a word). */
const valueOf = (f: FlagDef) => f.options?.[0] ?? 'value=1'

test('every repeatable flag of every command is non-greedy (one value per occurrence)', async () => {
  const all = await commands()
  const repeatable = all.flatMap(({id, cls}) => Object.entries(cls.flags ?? {}).filter(([, f]) => f.multiple).map(([name, f]) => ({id, name, f})))
  assert.ok(repeatable.length >= 7, `found ${repeatable.length}`)
  assert.equal(repeatable.filter((r) => !r.f.multipleNonGreedy).map((r) => `${r.id} --${r.name}`), [])
  console.log(`  repeatable flags: ${repeatable.map((r) => `${r.id} --${r.name}`).join(', ')}`)
})

test("oclif's parser: `--FLAG VALUE ARG` gives FLAG=[VALUE] and the argument, for every repeatable flag of a command with arguments", async () => {
  const saved = process.env.TDXKIT_STATE_DIR
  delete process.env.TDXKIT_STATE_DIR
  let checked = 0
  try {
    for (const {id, cls} of await commands()) {
      const argNames = Object.keys(cls.args ?? {})
      if (argNames.length === 0) continue
      const flags = {...TdxCommand.baseFlags, ...cls.flags}
      for (const [name, f] of Object.entries(cls.flags ?? {}).filter(([, x]) => x.multiple)) {
        const v = valueOf(f)
        const required = Object.entries(cls.flags ?? {}).filter(([n, x]) => x.required && n !== name).flatMap(([n, x]) => [`--${n}`, valueOf(x)])
        const argv = [...required, `--${name}`, v, 'positional-1', `--${name}`, v]
        const r = await Parser.parse(argv, {flags: flags as never, args: cls.args as never, strict: cls.strict ?? true})
        assert.equal((r.flags as Record<string, unknown>)[name], [v, v], `${id} --${name}`)
        assert.is((r.args as Record<string, unknown>)[argNames[0]], 'positional-1', `${id} --${name}: the argument stays an argument`)
        checked++
      }
    }
  } finally {
    if (saved !== undefined) process.env.TDXKIT_STATE_DIR = saved
  }
  assert.ok(checked >= 4, `checked ${checked}`)
})

test("quote verify's own fast split agrees: files after a repeatable flag's value are files", async () => {
  const QuoteVerify = (await import('../../commands/quote/verify.js')).default
  const split = splitFileArgs(['--root-ca', 'sim', '--expect', 'report_data=00', 'q.bin', '--allow-advisory', 'INTEL-SA-1', 'r.bin'], {...TdxCommand.baseFlags, ...QuoteVerify.flags}, true)
  assert.equal(split, {flagArgv: ['--root-ca', 'sim', '--expect', 'report_data=00', '--allow-advisory', 'INTEL-SA-1'], files: ['q.bin', 'r.bin']})
})

test('CLI: quote verify --root-ca sim --expect report_data=HEX quote.bin (the natural order) verifies', () => {
  const state = tempDir()
  const q = join(state, 'quote.bin')
  const gen = cli(['quote', 'generate', '--report-data', 'ab', '-o', q], {stateDir: state})
  assert.is(gen.code, 0, gen.stderr)
  const ok = cli(['quote', 'verify', '--root-ca', 'sim', '--expect', `report_data=ab${'00'.repeat(63)}`, q], {stateDir: state})
  assert.is(ok.code, 0, ok.stderr)
  const wrong = cli(['quote', 'verify', '--root-ca', 'sim', '--expect', `report_data=${'cd'.repeat(64)}`, '--allow-advisory', 'INTEL-SA-00001', q, '--json'], {stateDir: state})
  assert.is(wrong.code, 6, wrong.stderr)
})

test.run()
