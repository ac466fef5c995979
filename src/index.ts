/**
 * tdxkit as a library: every capability the CLI exposes, importable. Areas are exported as
 * namespaces (no name clashes between layers); the most used entry points are also top level.
 *
 *   import {platform, guest, verify} from 'tdxkit'
 */
export * from './errors.js'
export * from './state/store.js'
export * from './abi/layout.js'
export * from './util/bytes.js'
export type {QuoteCollateralV3} from './abi/collateral.js'

// Binary layouts (pure, no I/O).
export * as tdreportAbi from './abi/tdreport.js'
export * as quoteAbi from './abi/quote.js'
export * as statusAbi from './abi/status.js'
export * as tdcallAbi from './abi/tdcall.js'
export * as fieldsAbi from './abi/fields.js'
export * as ghciAbi from './abi/ghci.js'
export * as tdispAbi from './abi/tdisp.js'
export * as spdmAbi from './abi/spdm.js'
export * as ccelAbi from './abi/ccel.js'
export * as tcgAbi from './abi/tcg.js'

// The simulated platform: module, machine, guest, GHCI, host.
export * as platform from './module/platform.js'
export * as tdxModule from './module/tdcall.js'
export * as machine from './machine/machine.js'
export * as memory from './machine/memory.js'
export * as guest from './guest/tdx-guest.js'
export * as sysinfo from './guest/sysinfo.js'
export * as quoteDriver from './guest/quote.js'
export * as ghci from './ghci/dispatcher.js'
export * as qe from './host/qe.js'
export * as simCollateral from './app/sim-collateral.js'

// Use cases on a state directory (the composition roots the CLI uses).
export * as platformState from './app/platform.js'
export * as session from './app/session.js'
export * as quoteGen from './app/quote.js'

// Verification and appraisal (pure: bytes, collateral and time in; result out).
export * as verify from './verify/verifier.js'
export * as appraise from './appraise/appraise.js'
export * as policy from './appraise/policy.js'
export * as collateral from './verify/collateral-bundle.js'

// Device evidence, event logs, allocator costs.
export * as device from './app/device.js'
export * as deviceOps from './device/service.js'
export * as deviceVerifier from './device/verifier.js'
export * as eventlog from './eventlog/index.js'
export * as cost from './cost/compare.js'
