/** Intel PCS v4 URL paths, response headers and the PCK CA type (shared by the PCS client and the local PCCS server). */

const PCS_API_VERSION = 'v4'
const pcsPath = (tee: 'sgx' | 'tdx', rest: string) => `/${tee}/certification/${PCS_API_VERSION}/${rest}`

export const PCS_PATHS = {
  pckcrl: pcsPath('sgx', 'pckcrl'),
  rootcacrl: pcsPath('sgx', 'rootcacrl'),
  /** PCCS API 3.1: a CRL by its distribution point, `crl?uri=…` (raw DER). */
  crl: pcsPath('sgx', 'crl'),
  tcb: (tee: 'sgx' | 'tdx') => pcsPath(tee, 'tcb'),
  qeIdentity: (tee: 'sgx' | 'tdx') => pcsPath(tee, 'qe/identity'),
} as const

/** Path of the Intel SGX Root CA's CRL distribution point (certificates.trustedservices.intel.com/IntelSGXRootCA.der). */
export const ROOT_CA_CRL_CDP_PATH = '/IntelSGXRootCA.der'

export const PCS_HEADERS = {
  pckCrlChain: 'SGX-PCK-CRL-Issuer-Chain',
  tcbInfoChain: 'TCB-Info-Issuer-Chain',
  /** v3 name of the TCB info chain header (accepted by the client). */
  tcbInfoChainV3: 'SGX-TCB-Info-Issuer-Chain',
  qeIdentityChain: 'SGX-Enclave-Identity-Issuer-Chain',
} as const

/** `ca` parameter of pckcrl: from the PCK issuer's CN. */
export type PckCa = 'platform' | 'processor'

/** Strip a trailing /sgx|tdx/certification/v4 and slashes, so either form of base URL works. */
export function normalizeBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/(sgx|tdx)\/certification\/v4$/, '')
}

/** Client defaults (src/app/pcs-client.ts, the --timeout / --retries flags): per-request timeout (ms), retries after a transient failure. */
export const PCS_TIMEOUT_MS = 15_000
export const PCS_RETRIES = 2
