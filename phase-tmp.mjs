import {createRequire} from 'node:module'
import {readFileSync} from 'node:fs'
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const p = (l) => process.stderr.write(`${l} ${performance.now().toFixed(1)}\n`)
p('start')
const oc = await import('./dist/src/cli/oclif.js')
p('oclif')
const {Config} = createRequire(import.meta.url)('./dist/vendor/oclif-core.cjs')
const pjson = JSON.parse(readFileSync('./package.json', 'utf8'))
pjson.oclif.plugins = []
const config = await Config.load({root: process.cwd(), pjson})
p('config')
const cmd = config.findCommand(process.argv[2])
const C = await cmd.load()
p('cmdload')
await C.run(process.argv.slice(3), config)
p('run')
process.on('exit', () => p('exit'))
