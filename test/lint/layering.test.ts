/**
 * The lint rules bite: a copy of src/ and commands/ with one forbidden import per rule planted in
 * it is cruised with the project's own .dependency-cruiser.cjs, and each plant must be reported
 * under the rule that names it (an upward import, a folder cycle, guest → host, I/O below app, …).
 * ESLint's clock rule is checked the same way on a planted `Date.now()` below src/app.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {ESLint} from 'eslint'
import {tempDir} from '../helpers/cli.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')

/** file → source planted into the copy; each breaks the rules listed in EXPECTED. */
const PLANTS: Record<string, string> = {
  'src/guest/zz-host.ts': "import {Vmm} from '../host/vmm.js'\nexport const a = Vmm\n",
  'src/module/zz-host.ts': "import {Vmm} from '../host/vmm.js'\nexport const a = Vmm\n",
  'src/verify/zz-state.ts': "import {StateStore} from '../state/store.js'\nexport const a = StateStore\n",
  'src/verify/zz-cli.ts': "import {bold} from '../cli/render.js'\nexport const a = bold\n",
  'src/verify/zz-host.ts': "import {Vmm} from '../host/vmm.js'\nexport const a = Vmm\n",
  'src/verify/zz-fs.ts': "import {readFileSync} from 'node:fs'\nexport const a = readFileSync\n",
  'src/abi/zz-x509.ts': "import * as cert from '../x509/cert.js'\nexport const a = cert\n",
  'src/abi/zz-thread.ts': "import {Worker} from 'node:worker_threads'\nexport const a = Worker\n",
  'src/guest/zz-spawn.ts': "import {spawn} from 'child_process'\nexport const a = spawn\n",
  'src/cli/zz-state.ts': "import {StateStore} from '../state/store.js'\nexport const a = StateStore\n",
  'commands/zz-state.ts': "import {StateStore} from '../src/state/store.js'\nexport const a = StateStore\n",
  'src/x509/zz-up.ts': "import * as device from '../device/device.js'\nexport const a = device\n",
  'src/app/zz-command.ts': "import Demo from '../../commands/demo.js'\nexport const a = Demo\n",
  // a cycle between two folders: util → machine → util
  'src/util/zz-cycle.ts': "import {b} from '../machine/zz-cycle.js'\nexport const a = () => b\n",
  'src/machine/zz-cycle.ts': "import {a} from '../util/zz-cycle.js'\nexport const b = () => a\n",
  'src/util/zz-typo.ts': "import {nothing} from './no-such-file.js'\nexport const a = nothing\n",
  // a control: a downward import is fine
  'src/guest/zz-ok.ts': "import {GuestMemory} from '../machine/memory.js'\nexport const a = GuestMemory\n",
}

const EXPECTED: Array<[string, string]> = [
  ['src/guest/zz-host.ts', 'no-guest-to-host'],
  ['src/guest/zz-host.ts', 'floor-guest'],
  ['src/module/zz-host.ts', 'no-module-to-host'],
  ['src/module/zz-host.ts', 'floor-module'],
  ['src/verify/zz-state.ts', 'no-verify-to-state'],
  ['src/verify/zz-state.ts', 'state-only-from-app'],
  ['src/verify/zz-cli.ts', 'no-verify-to-cli'],
  ['src/verify/zz-cli.ts', 'floor-verify'],
  ['src/verify/zz-host.ts', 'no-verify-to-host'],
  ['src/verify/zz-fs.ts', 'no-io-below-app'],
  ['src/abi/zz-x509.ts', 'abi-only-util-errors'],
  ['src/abi/zz-x509.ts', 'floor-abi'],
  ['src/abi/zz-thread.ts', 'no-io-below-app'],
  ['src/guest/zz-spawn.ts', 'no-io-below-app'],
  ['src/cli/zz-state.ts', 'state-only-from-app'],
  ['commands/zz-state.ts', 'state-only-from-app'],
  ['src/x509/zz-up.ts', 'floor-x509'],
  ['src/app/zz-command.ts', 'entry-points-on-top'],
  ['src/util/zz-cycle.ts', 'floor-util'],
  // a cycle is reported once, from whichever of its files the cruiser meets first
  ['src/util/zz-cycle.ts|src/machine/zz-cycle.ts', 'no-folder-cycle'],
  ['src/util/zz-typo.ts', 'not-to-unresolvable'],
]

interface Violation {
  rule: string
  from: string
  to: string
}

/** Cruise a copy of the tree with the plants in it, exactly as `npm run lint` does (text report). */
function cruisePlanted(): {status: number | null; violations: Violation[]} {
  const dir = tempDir('tdxkit-lint-')
  try {
    for (const d of ['src', 'commands']) cpSync(join(ROOT, d), join(dir, d), {recursive: true})
    for (const f of ['tsconfig.json', 'package.json', '.dependency-cruiser.cjs']) cpSync(join(ROOT, f), join(dir, f))
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    for (const [file, source] of Object.entries(PLANTS)) {
      mkdirSync(dirname(join(dir, file)), {recursive: true})
      writeFileSync(join(dir, file), source)
    }
    const bin = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs')
    const r = spawnSync(process.execPath, [bin, '--config', '.dependency-cruiser.cjs', 'src', 'commands'], {cwd: dir, maxBuffer: 64 * 1024 * 1024})
    // "  error RULE: FROM → TO" (a cycle continues "→ NEXT" on the following lines)
    const violations = [...r.stdout.toString().matchAll(/^\s*error (\S+): (\S+) \u2192\s+(\S+)/gm)].map(([, rule, from, to]) => ({rule, from, to}))
    return {status: r.status, violations}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

test('dependency-cruiser fails on every planted import, under the rule that forbids it, and on nothing else', () => {
  const {status, violations} = cruisePlanted()
  assert.is.not(status, 0, 'the lint exits non-zero')
  const seen = new Set(violations.map((v) => `${v.from} ${v.rule}`))
  for (const [froms, rule] of EXPECTED) {
    const hit = froms.split('|').some((from) => seen.has(`${from} ${rule}`))
    assert.ok(hit, `${rule} not reported for ${froms}; got:\n${[...seen].join('\n')}`)
  }
  for (const v of violations) assert.ok(v.from in PLANTS, `unplanted file reported: ${v.from} → ${v.to} (${v.rule}); run npm run lint`)
  assert.not.ok(
    violations.some((v) => v.from === 'src/guest/zz-ok.ts'),
    'a downward import is allowed',
  )
})

test('ESLint refuses a clock read below src/app, and allows it in src/app', async () => {
  const eslint = new ESLint({cwd: ROOT})
  const code = '/** planted */\nexport const now = (): number => Date.now()\nexport const d = (): Date => new Date()\n'
  const [below] = await eslint.lintText(code, {filePath: join(ROOT, 'src/verify/zz-clock.ts')})
  const rules = below.messages.map((m) => m.ruleId)
  assert.equal(rules, ['no-restricted-properties', 'no-restricted-syntax'], JSON.stringify(below.messages))
  const [app] = await eslint.lintText(code, {filePath: join(ROOT, 'src/app/zz-clock.ts')})
  assert.equal(app.messages, [])
})

test.run()
