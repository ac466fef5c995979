/**
 * The quote's PCK certificate chain (leaf ‖ PCK Platform/Processor CA ‖ root), verified to a pinned
 * root in Intel's order: three certificates, root pinned by the digest of its DER before anything
 * else is trusted, CN phrases, issuer names and CA flags, the three signatures, validity at the
 * verification time, then the leaf's SGX extension (FMSPC, PCE-ID, TCB components).
 */
import {parsePckExtension, PckExtensionError, sgxExtensionOf, type PckExtension} from '../abi/pck-extension.js'
import {CERT_DATA_TYPE_PCK_CHAIN, type ParsedQuote} from '../abi/quote.js'
import {checkValidity, x509Fail} from './chain.js'
import {fail} from './errors.js'
import {CN_PCK_LEAF, CN_PCK_PLATFORM_CA, CN_PCK_PROCESSOR_CA} from './pck-info.js'
import {fingerprintOf} from './roots.js'
import {certSignedBy, parseCert, parsePemChain, type Cert} from '../x509/dcap.js'

/** Certificates in a PCK chain: PCK leaf, PCK CA, root. */
const PCK_CHAIN_LENGTH = 3

export interface PckChain {
  leaf: Cert
  intermediate: Cert
  root: Cert
  ext: PckExtension
  /** QE reports already verified with this PCK key: the report bytes by their signature (binary string). */
  verifiedQeReports: Map<string, Buffer>
}

/** The quote's certification data, which must be a PCK chain (type 5 is the only kind a verifier can use). */
export function pckChainBytesOf(q: ParsedQuote): Buffer {
  // `pck_chain_pem` is present exactly for type 5 (it is decoded only when read: `in`, not a read).
  if (q.pck_cert_data_type !== CERT_DATA_TYPE_PCK_CHAIN || !('pck_chain_pem' in q) || q.pck_cert_data === undefined) {
    fail('PCK_CHAIN_MISSING', `certification data type ${q.pck_cert_data_type} carries no PCK chain (only type 5 is supported)`)
  }
  return q.pck_cert_data
}

/** The PEM chain of the quote's certification data (type 5 is the only kind a verifier can use). */
export function pckChainPemOf(q: ParsedQuote): string {
  pckChainBytesOf(q)
  return q.pck_chain_pem!
}

/** The chain's DER certificates: strict PEM, exactly three. */
export function splitPckChain(pem: string): Buffer[] {
  let ders: Buffer[] = []
  try {
    ders = parsePemChain(pem, true)
  } catch (e) {
    x509Fail(e, 'PCK_CHAIN_MALFORMED', 'PCK chain')
  }
  if (ders.length !== PCK_CHAIN_LENGTH) fail('PCK_CHAIN_LENGTH', `PCK chain has ${ders.length} certificates, expected 3 (PCK, CA, root)`)
  return ders
}

/** The root is pinned by the digest of its DER, before anything in the chain is parsed or trusted. */
export function checkPinnedRoot(rootDer: Buffer, roots: ReadonlySet<string>): void {
  const rootFp = fingerprintOf(rootDer)
  if (roots.has(rootFp)) return
  let cn = '(unparsable certificate)'
  try {
    cn = parseCert(rootDer).subjectCN
  } catch {
    // named by digest only
  }
  fail('PCK_CHAIN_UNTRUSTED_ROOT', `PCK chain ends at "${cn}" (sha256 ${rootFp}), not a trusted root`)
}

/** Leaf and CA carry the CN phrases Intel's PCK certificate profile gives them. */
export function checkPckNames(leaf: Cert, inter: Cert): void {
  if (!leaf.subjectCN.includes(CN_PCK_LEAF)) fail('PCK_CHAIN_BAD_NAME', `PCK leaf "${leaf.subjectCN}" is not a PCK certificate`)
  if (!inter.subjectCN.includes(CN_PCK_PLATFORM_CA) && !inter.subjectCN.includes(CN_PCK_PROCESSOR_CA)) fail('PCK_CHAIN_BAD_NAME', `"${inter.subjectCN}" is not a PCK Platform/Processor CA`)
}

/** Issuer names chain leaf → CA → self-issued root, and both issuers are CA certificates. */
export function checkPckIssuers(leaf: Cert, inter: Cert, root: Cert): void {
  if (!leaf.issuerName.equals(inter.subjectName) || !inter.issuerName.equals(root.subjectName) || !root.issuerName.equals(root.subjectName)) {
    fail('PCK_CHAIN_ISSUER_MISMATCH', 'PCK chain issuer names do not chain')
  }
  if (!inter.isCA || !root.isCA) fail('PCK_CHAIN_ISSUER_MISMATCH', 'PCK chain issuers are not CA certificates')
}

/** Root self-signature, CA signed by the root, leaf signed by the CA. */
export function checkPckSignatures(leaf: Cert, inter: Cert, root: Cert): void {
  if (!certSignedBy(root, root)) fail('PCK_CHAIN_BAD_SIGNATURE', 'root certificate self-signature does not verify')
  if (!certSignedBy(inter, root)) fail('PCK_CHAIN_BAD_SIGNATURE', `"${inter.subjectCN}" signature does not verify with the root key`)
  if (!certSignedBy(leaf, inter)) fail('PCK_CHAIN_BAD_SIGNATURE', `PCK certificate signature does not verify with "${inter.subjectCN}"`)
}

/** The leaf's SGX extension (FMSPC, PCE-ID, TCB components, PCESVN). */
export function pckExtensionOf(leaf: Cert): PckExtension {
  try {
    return parsePckExtension(sgxExtensionOf(leaf.extensions))
  } catch (e) {
    if (e instanceof PckExtensionError) fail('PCK_EXTENSION_MALFORMED', `PCK SGX extension: ${e.message}`)
    throw e
  }
}

/** Verify a PCK chain PEM to one of `roots` at `nowMs`. */
export function verifyPckChain(pem: string, roots: ReadonlySet<string>, nowMs: number): PckChain {
  const ders = splitPckChain(pem)
  checkPinnedRoot(ders[PCK_CHAIN_LENGTH - 1], roots)
  let certs: Cert[] = []
  try {
    certs = ders.map((d) => parseCert(d))
  } catch (e) {
    x509Fail(e, 'PCK_CHAIN_MALFORMED', 'PCK chain')
  }
  const [leaf, inter, root] = certs
  checkPckNames(leaf, inter)
  if (!roots.has(root.fingerprint)) fail('PCK_CHAIN_UNTRUSTED_ROOT', `PCK chain ends at "${root.subjectCN}" (sha256 ${root.fingerprint}), not a trusted root`)
  checkPckIssuers(leaf, inter, root)
  checkPckSignatures(leaf, inter, root)
  for (const c of certs) checkValidity(c, nowMs, 'PCK_CERT_EXPIRED', 'certificate')
  return {leaf, intermediate: inter, root, ext: pckExtensionOf(leaf), verifiedQeReports: new Map()}
}
