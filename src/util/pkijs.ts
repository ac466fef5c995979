/**
 * pkijs and asn1js, loaded through require(). Both ship a CommonJS main; imported from ESM, Node 20
 * first runs cjs-module-lexer over them to find their named exports (pkijs's build is 800 KB), which
 * made `import * as pkijs from 'pkijs'` cost 140-185 ms at start-up against 50-65 ms for require().
 * Types come from `import type` (erased), so nothing else changes for callers.
 */
import {createRequire} from 'node:module'
import type * as Asn1js from 'asn1js'
import type * as Pkijs from 'pkijs'

const require = createRequire(import.meta.url)
export const asn1js = require('asn1js') as typeof Asn1js
export const pkijs = require('pkijs') as typeof Pkijs
export type {Asn1js, Pkijs}
