/** Kept failing inputs: test/helpers/fuzz/regressions/<target>/<name>.hex ('#' lines are comments). */
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import {REPO_ROOT} from '../vectors.js'

const REGRESSIONS_DIR = join(REPO_ROOT, 'test/helpers/fuzz/regressions')

interface Regression {
  target: string
  name: string
  input: Buffer
}

export function loadRegressions(dir = REGRESSIONS_DIR): Regression[] {
  if (!existsSync(dir)) return []
  const out: Regression[] = []
  for (const target of readdirSync(dir).sort()) {
    const td = join(dir, target)
    let files: string[]
    try {
      files = readdirSync(td).filter((f) => f.endsWith('.hex')).sort()
    } catch {
      continue
    }
    for (const f of files) {
      const hex = readFileSync(join(td, f), 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('')
        .replace(/\s+/g, '')
      out.push({target, name: f.replace(/\.hex$/, ''), input: Buffer.from(hex, 'hex')})
    }
  }
  return out
}

/** Keep a failing input (named by its hash); returns the path. */
export function saveRegression(target: string, input: Buffer, note: string, dir = REGRESSIONS_DIR): string {
  const td = join(dir, target)
  mkdirSync(td, {recursive: true})
  const path = join(td, `${createHash('sha256').update(input).digest('hex').slice(0, 16)}.hex`)
  const body = input.toString('hex').replace(/(.{96})/g, '$1\n')
  writeFileSync(path, `# ${note.replace(/\n/g, ' ').slice(0, 300)}\n${body}\n`)
  return path
}
