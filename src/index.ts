/**
 * tdxkit as a library: every capability the CLI exposes, importable. Areas are exported as
 * namespaces (no name clashes between layers) that load on first use: importing the root costs the
 * errors, the state store and the byte/layout helpers (exported by name), not the ~110 modules
 * behind every area. A relying party that only verifies can
 * import `tdxkit/verify` (and `tdxkit/appraise`) directly; the root's `verify` and `appraise` areas
 * are those same modules.
 *
 *   import {platform, guest, verify} from 'tdxkit'
 *   verify.verifyQuote(bytes, {...verify.defaultOptions(now), collateral})   // loads the verifier here
 *
 * An area is loaded synchronously with require(), which reads ES modules from Node 20.19 on
 * (package.json "engines"). The areas' types are the modules' own: `typeof import(...)`; type-only
 * names (e.g. VerifyResult) come from the subpath entries or the modules.
 */
import {createRequire} from 'node:module'
import {TdxkitError} from './errors.js'

export * from './errors.js'
export * from './state/store.js'
export * from './abi/layout.js'
export * from './util/bytes.js'
export type {QuoteCollateralV3} from './abi/collateral.js'

const require = createRequire(import.meta.url)

/** The built bundle of a library entry (dist/verify.js), else (TypeScript sources, tests) its module. */
function entry(bundle: string, source: string): () => unknown {
  return () => {
    try {
      return require(bundle)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e
      return require(source)
    }
  }
}

/**
 * A namespace whose module is loaded when one of its names is first read. It behaves as the
 * module's namespace for reads, `in`, Object.keys and spreading.
 */
function area<T extends object>(load: () => unknown): T {
  let mod: T | undefined
  const get = (): T => {
    if (mod) return mod
    if (!process.features.require_module) {
      throw new TdxkitError('NODE_TOO_OLD', `tdxkit's root entry loads its areas with require(esm), which needs Node 20.19 or later (this is ${process.versions.node}); import the area's module directly`)
    }
    return (mod = load() as T)
  }
  return new Proxy({} as T, {
    get: (_t, p) => Reflect.get(get(), p),
    has: (_t, p) => Reflect.has(get(), p),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_t, p) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), p)
      return d && {...d, configurable: true}
    },
  })
}

// Binary layouts (pure, no I/O).
export const tdreportAbi: typeof import('./abi/tdreport.js') = area(() => require('./abi/tdreport.js'))
export const quoteAbi: typeof import('./abi/quote.js') = area(() => require('./abi/quote.js'))
export const statusAbi: typeof import('./abi/status.js') = area(() => require('./abi/status.js'))
export const tdcallAbi: typeof import('./abi/tdcall.js') = area(() => require('./abi/tdcall.js'))
export const fieldsAbi: typeof import('./abi/fields.js') = area(() => require('./abi/fields.js'))
export const ghciAbi: typeof import('./abi/ghci.js') = area(() => require('./abi/ghci.js'))
export const tdispAbi: typeof import('./abi/tdisp.js') = area(() => require('./abi/tdisp.js'))
export const spdmAbi: typeof import('./abi/spdm.js') = area(() => require('./abi/spdm.js'))
export const ccelAbi: typeof import('./abi/ccel.js') = area(() => require('./abi/ccel.js'))
export const tcgAbi: typeof import('./abi/tcg.js') = area(() => require('./abi/tcg.js'))

// The simulated platform: module, machine, guest, GHCI, host.
export const platform: typeof import('./module/platform.js') = area(() => require('./module/platform.js'))
export const tdxModule: typeof import('./module/tdcall.js') = area(() => require('./module/tdcall.js'))
export const machine: typeof import('./machine/machine.js') = area(() => require('./machine/machine.js'))
export const memory: typeof import('./machine/memory.js') = area(() => require('./machine/memory.js'))
export const guest: typeof import('./guest/tdx-guest.js') = area(() => require('./guest/tdx-guest.js'))
export const sysinfo: typeof import('./guest/sysinfo.js') = area(() => require('./guest/sysinfo.js'))
export const quoteDriver: typeof import('./guest/quote.js') = area(() => require('./guest/quote.js'))
export const ghci: typeof import('./ghci/dispatcher.js') = area(() => require('./ghci/dispatcher.js'))
export const qe: typeof import('./host/qe.js') = area(() => require('./host/qe.js'))
export const simCollateral: typeof import('./app/sim-collateral.js') = area(() => require('./app/sim-collateral.js'))

// Use cases on a state directory (the composition roots the CLI uses).
export const platformState: typeof import('./app/platform.js') = area(() => require('./app/platform.js'))
export const session: typeof import('./app/session.js') = area(() => require('./app/session.js'))
export const quoteGen: typeof import('./app/quote.js') = area(() => require('./app/quote.js'))

// Verification and appraisal (pure: bytes, collateral and time in; result out): tdxkit/verify, tdxkit/appraise.
export const verify: typeof import('./verify/index.js') = area(entry('../verify.js', './verify/index.js'))
export const appraise: typeof import('./appraise/index.js') = area(entry('../appraise.js', './appraise/index.js'))
export const policy: typeof import('./appraise/policy.js') = area(() => require('./appraise/policy.js'))
export const collateral: typeof import('./verify/collateral-bundle.js') = area(() => require('./verify/collateral-bundle.js'))

// Device evidence, event logs, allocator costs.
export const device: typeof import('./app/device.js') = area(() => require('./app/device.js'))
export const deviceOps: typeof import('./device/service.js') = area(() => require('./device/service.js'))
export const deviceVerifier: typeof import('./device/verifier.js') = area(() => require('./device/verifier.js'))
export const eventlog: typeof import('./eventlog/index.js') = area(() => require('./eventlog/index.js'))
export const cost: typeof import('./cost/compare.js') = area(() => require('./cost/compare.js'))
