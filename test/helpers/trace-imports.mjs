// `node --import ./test/helpers/trace-imports.mjs …`: appends every ES module URL the process
// resolves to $TRACE_IMPORTS_FILE (one per line), to check what a command loads.
import {register} from 'node:module'

const hooks = `import {appendFileSync} from 'node:fs'
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  if (process.env.TRACE_IMPORTS_FILE) appendFileSync(process.env.TRACE_IMPORTS_FILE, r.url + '\\n')
  return r
}`
register('data:text/javascript,' + encodeURIComponent(hooks))
