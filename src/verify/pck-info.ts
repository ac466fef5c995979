/**
 * What a quote's PCK certificate chain says, decoded but NOT verified (`quote show`): each
 * certificate's names, serial, validity and digest, the PCK CA type, and the leaf's SGX extension
 * (FMSPC, PCE-ID, TCB components, PCESVN, CPUSVN, SGX type, platform instance and configuration).
 * This is what a relying party needs to pick collateral (FMSPC + CA type) or to read a platform's
 * TCB before asking for a verdict.
 */
import {parsePckExtension, sgxExtensionOf, SGX_TYPE} from '../abi/pck-extension.js'
import {CERT_DATA_TYPE_PCK_CHAIN, TEE_TYPE_TDX, type ParsedQuote} from '../abi/quote.js'
import type {PckCa} from '../abi/pcs.js'
import {InputError, TdxkitError} from '../errors.js'
import {parseCert, parsePemChain, type Cert} from '../x509/dcap.js'

/** Subject CN markers of the PCK chain (Intel PCK certificate profile). */
export const CN_PCK_LEAF = 'SGX PCK Certificate'
export const CN_PCK_PLATFORM_CA = 'SGX PCK Platform CA'
export const CN_PCK_PROCESSOR_CA = 'SGX PCK Processor CA'

/** The PCK CA type (Intel's PCS `ca=` parameter) named by a CA's CN: the intermediate's subject, or a PCK CRL's issuer. */
const pckCaOfName = (cn: string): PckCa => (cn.includes(CN_PCK_PROCESSOR_CA) ? 'processor' : 'platform')
const pckCaOf = (intermediate: Cert): PckCa => pckCaOfName(intermediate.subjectCN)

/** What selects a quote's collateral on Intel's PCS: TEE, FMSPC and PCK CA type. */
export interface CollateralKey {
  fmspc: string
  ca: PckCa
  tee: 'sgx' | 'tdx'
}

/** `tdx/b0c06f000000/platform`: a CollateralKey as one string (map keys, messages). */
export const collateralKeyString = (k: CollateralKey): string => `${k.tee}/${k.fmspc}/${k.ca}`

/** The collateral key of a quote, from the PCK certificate in its certification data. */
export function quoteCollateralKey(q: ParsedQuote): CollateralKey {
  if (q.pck_cert_data_type !== CERT_DATA_TYPE_PCK_CHAIN || !q.pck_chain_pem) {
    throw new InputError('NO_PCK_CHAIN', 'the quote carries no PCK certificate chain (certification data type 5); cannot look up collateral')
  }
  const certs = parsePemChain(q.pck_chain_pem, false).map((d) => parseCert(d))
  if (certs.length < 2) throw new InputError('NO_PCK_CHAIN', 'the quote PCK chain has fewer than 2 certificates')
  const ext = parsePckExtension(sgxExtensionOf(certs[0].extensions))
  return {fmspc: ext.fmspc.toString('hex'), ca: pckCaOf(certs[1]), tee: q.header.tee_type === TEE_TYPE_TDX ? 'tdx' : 'sgx'}
}

const SGX_TYPE_NAME: Record<number, string> = {
  [SGX_TYPE.STANDARD]: 'Standard',
  [SGX_TYPE.SCALABLE]: 'Scalable',
  [SGX_TYPE.SCALABLE_WITH_INTEGRITY]: 'ScalableWithIntegrity',
}

export interface PckCertInfo {
  subject_cn: string
  issuer_cn: string
  serial: string
  not_before: string
  not_after: string
  is_ca: boolean
  sha256: string
}

export interface PckChainInfo {
  certificates: PckCertInfo[]
  ca?: PckCa
  sgx_extension?: {
    fmspc: string
    pceid: string
    pcesvn: number
    cpusvn: string
    tcb_components: number[]
    sgx_type: number
    sgx_type_name: string
    ppid: string
    platform_instance_id?: string
    configuration?: Record<string, boolean>
  }
  /** Why the chain (or the leaf's extension) could not be decoded; the fields above hold what could. */
  error?: {code: string; message: string}
}

const iso = (ms: number) => new Date(ms).toISOString()

/** Decode a PCK chain PEM (never throws: a decoding failure is reported in `error`). */
export function describePckChain(pem: string): PckChainInfo {
  const out: PckChainInfo = {certificates: []}
  try {
    const certs = parsePemChain(pem, false).map((d) => parseCert(d))
    out.certificates = certs.map((c) => ({
      subject_cn: c.subjectCN,
      issuer_cn: c.issuerCN,
      serial: c.serial,
      not_before: iso(c.notBefore),
      not_after: iso(c.notAfter),
      is_ca: c.isCA,
      sha256: c.fingerprint,
    }))
    if (certs.length >= 2) out.ca = pckCaOf(certs[1])
    const e = parsePckExtension(sgxExtensionOf(certs[0].extensions))
    out.sgx_extension = {
      fmspc: e.fmspc.toString('hex'),
      pceid: e.pceid.toString('hex'),
      pcesvn: e.pcesvn,
      cpusvn: e.cpusvn.toString('hex'),
      tcb_components: e.tcb_components,
      sgx_type: e.sgx_type,
      sgx_type_name: SGX_TYPE_NAME[e.sgx_type] ?? `unknown (${e.sgx_type})`,
      ppid: e.ppid.toString('hex'),
      ...(e.platform_instance_id ? {platform_instance_id: e.platform_instance_id.toString('hex')} : {}),
      ...(e.configuration ? {configuration: {...e.configuration}} : {}),
    }
  } catch (err) {
    if (!(err instanceof TdxkitError)) throw err
    out.error = {code: err.code, message: err.message}
  }
  return out
}
