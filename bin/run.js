#!/usr/bin/env node
// The Node version is checked here in one line; oclif's own check loads semver for it (~20 ms of
// every start-up) and is switched off.
if (Number(process.versions.node.split('.')[0]) < 20) {
  process.stderr.write(`tdxkit: needs Node.js 20 or later (this is ${process.versions.node})\n`)
  process.exit(1)
}
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'

// `--version` is static (package name and version, platform, architecture, Node), so it is answered
// without loading oclif, in exactly oclif's words (config.userAgent). Anything unusual (a possible
// WSL kernel, which oclif names "wsl", or a deleted working directory, which it warns about) takes
// the full path.
const {readFileSync, existsSync} = await import('node:fs')
const os = await import('node:os')
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
const versionFlags = ['--version', ...(pjson.oclif?.additionalVersionFlags ?? [])]
if (versionFlags.includes(process.argv[2]) && plainHost()) {
  const arch = os.arch() === 'ia32' ? 'x86' : os.arch()
  process.stdout.write(`${pjson.name}/${pjson.version} ${os.platform()}-${arch} node-${process.version}\n`)
} else {
  // oclif as the build bundled it (src/cli/oclif.ts), the same copy the commands use.
  const {execute} = await import('../dist/src/cli/oclif.js')
  // A command of this package needs none of the plugins (help, autocomplete): loading their
  // manifests was ~10 ms of every start-up. Anything else (a plugin's command, help, an unknown
  // command, which oclif answers with suggestions) loads them as usual.
  const root = new URL('..', import.meta.url)
  await execute(ownCommand(root) ? {loadOptions: {root: root.pathname, pjson: {...pjson, oclif: {...pjson.oclif, plugins: []}}}} : {dir: import.meta.url})
}

/** Whether the command line names one of this package's own commands (dist/commands/<topic>/<name>.js or <topic>/index.js), without asking for help. */
function ownCommand(root) {
  const words = []
  for (const a of process.argv.slice(2)) {
    if (a === '--help' || a === '-h' || a === 'help') return false
    if (a.startsWith('-')) break
    words.push(a)
  }
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const path = `dist/commands/${words.slice(0, n).join('/')}`
    if (existsSync(new URL(`${path}.js`, root)) || existsSync(new URL(`${path}/index.js`, root))) return !process.argv.slice(2).some((a) => a === '--help' || a === '-h')
  }
  return false
}

/** No trace of WSL (oclif's is-wsl: kernel release, /proc/version, WSL paths) and a working directory that exists. */
function plainHost() {
  try {
    process.cwd()
  } catch {
    return false
  }
  if (process.platform !== 'linux') return true
  const marker = (text) => text.toLowerCase().includes('microsoft')
  let version = ''
  try {
    version = readFileSync('/proc/version', 'utf8')
  } catch {
    // no /proc: nothing says WSL
  }
  return !marker(os.release()) && !marker(version) && !existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') && !existsSync('/run/WSL')
}
