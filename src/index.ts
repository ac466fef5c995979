/** tdxkit as a library: every capability the CLI exposes, importable. */
export * from './errors.js'
export * from './state/store.js'
export * from './abi/layout.js'
export * from './util/bytes.js'
