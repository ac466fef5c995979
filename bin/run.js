#!/usr/bin/env node
// The Node version is checked here in one line; oclif's own check loads semver for it (~20 ms of
// every start-up) and is switched off.
if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`tdxkit: needs Node.js 20 or later (this is ${process.versions.node})\n`)
  process.exit(1)
}
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {execute} = await import('@oclif/core')

await execute({dir: import.meta.url})
