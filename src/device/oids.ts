/** Compatibility path: the device layer's object identifiers are the certificate stack's (src/x509/oids.ts). */
export * from '../x509/oids.js'
