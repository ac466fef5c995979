#!/usr/bin/env node
// The Node version is checked here in one line; oclif's own check loads semver for it (~20 ms of
// every start-up) and is switched off.
if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`tdxkit: needs Node.js 20 or later (this is ${process.versions.node})\n`)
  process.exit(1)
}
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
// oclif as the build bundled it (src/cli/oclif.ts), the same copy the commands use.
const {execute} = await import('../dist/src/cli/oclif.js')

await execute({dir: import.meta.url})
