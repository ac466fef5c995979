/** Every distinct certificate and CRL in the real DCAP vectors (quotes' PCK chains, collateral issuer chains and CRLs, loose DER files). */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {parseQuote} from '../../src/abi/quote.js'
import {parsePemChain} from '../../src/x509/pem.js'
import {vectorPath, vectorsPresent} from './vectors.js'

interface RealX509 {
  /** By hex of the DER. */
  certs: Map<string, Buffer>
  crls: Map<string, Buffer>
}

function collect(): RealX509 {
  const certs = new Map<string, Buffer>()
  const crls = new Map<string, Buffer>()
  const root = vectorPath('real')
  const addChain = (pem: string) => parsePemChain(pem, false).forEach((d) => certs.set(d.toString('hex'), d))
  for (const dir of readdirSync(root)) {
    const d = join(root, dir)
    if (!statSync(d).isDirectory()) continue
    for (const f of readdirSync(d)) {
      const p = join(d, f)
      if (f === 'collateral.json') {
        const c = JSON.parse(readFileSync(p, 'utf8')) as Record<string, string>
        for (const k of ['pck_crl_issuer_chain', 'tcb_info_issuer_chain', 'qe_identity_issuer_chain']) if (c[k]) addChain(c[k])
        for (const k of ['root_ca_crl', 'pck_crl']) if (c[k]) crls.set(c[k], Buffer.from(c[k], 'hex'))
      } else if (f.endsWith('.bin') && f.startsWith('quote')) {
        try {
          const q = parseQuote(readFileSync(p))
          if (q.pck_chain_pem) addChain(q.pck_chain_pem)
        } catch {
          // not every .bin is a parseable quote (e.g. deliberately broken ones)
        }
      } else if (f.endsWith('.der') || f.endsWith('.crt')) {
        certs.set(readFileSync(p).toString('hex'), readFileSync(p))
      }
    }
  }
  return {certs, crls}
}

let cached: RealX509 | undefined
/** The real certificates and CRLs (empty maps when the vectors are absent). */
export function realX509(): RealX509 {
  cached ??= vectorsPresent() ? collect() : {certs: new Map(), crls: new Map()}
  return cached
}
