/** Compatibility path: the verifier's X.509 reader now lives in src/x509 (DCAP profile binding in src/x509/dcap.ts). */
export * from '../x509/dcap.js'
