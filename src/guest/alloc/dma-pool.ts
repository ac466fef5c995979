/** The pre-issue-16 module name of the pre-shared pool (now src/guest/alloc/preshared-pool.ts). */
export * from './preshared-pool.js'
