#!/usr/bin/env -S node --import tsx --no-warnings
// Development entry: runs the TypeScript sources through tsx (no build step). oclif always prefers
// the build manifest (oclif.manifest.json), which points at the compiled dist/ commands, so warn when
// one is present: remove it (or rebuild) to run the sources.
import {existsSync} from 'node:fs'
import {execute} from '@oclif/core'

if (existsSync(new URL('../oclif.manifest.json', import.meta.url))) {
  process.stderr.write('tdxkit dev: oclif.manifest.json exists, so commands load from dist/ (rm it to run the sources)\n')
}
await execute({development: true, dir: import.meta.url})
