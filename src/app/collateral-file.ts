/**
 * Collateral on disk: a bundle file (QuoteCollateralV3 JSON, hex strings or dcap-qvl's byte arrays)
 * or a directory of raw PCS responses, read with the bounded readers of src/app/files.ts; and the
 * writer of such a directory (`collateral fetch --dir`).
 *
 * Directory layout (go-tdx-guest's testdata names; trustee's names are accepted too):
 *   tcbinfo_response_<fmspc>.json   (or tcb_info_response.json, tcbInfo.json)   the PCS tcb body
 *   qe_identity_response.json       (or enclaveIdentity.json)                   the PCS qe/identity body
 *   pck_<platform|processor>_crl.der (or pck_crl.der, pck_platform_crl_*.der)   DER, hex or PEM
 *   root_ca_crl.der                                                              DER, hex or PEM
 *   tcb_info_issuer_chain.pem, qe_identity_issuer_chain.pem, pck_crl_issuer_chain.pem
 *                                   the issuer chains PCS sends as headers
 */
import {mkdirSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import type {PckCa} from '../abi/pcs.js'
import {ExitCode, InputError, TdxkitError} from '../errors.js'
import {MAX_CERT_FILE_BYTES, readRawInput, readTextInput, writeOutputFile} from './files.js'
import {bundleFromResponses, parseCollateralText, responsesFromBundle} from '../verify/collateral-bundle.js'

/** Largest raw response file read from a collateral directory (a TCB info body is tens of KiB). */
const MAX_RESPONSE_FILE_BYTES = 16 * 1024 * 1024

/** File names of a collateral directory, in the order they are looked for (first match wins). */
export const COLLATERAL_DIR_FILES = {
  tcbInfo: [/^tcbinfo_response_[0-9a-fA-F]{12}\.json$/, /^tcb_info_response\.json$/, /^tcbInfo\.json$/],
  qeIdentity: [/^qe_identity_response\.json$/, /^enclaveIdentity\.json$/],
  pckCrl: [/^pck_(platform|processor)_crl\.der$/, /^pck_crl\.der$/, /^pck_(platform|processor)_crl_.*\.der$/],
  rootCaCrl: [/^root_ca_crl\.der$/],
  tcbInfoIssuerChain: [/^tcb_info_issuer_chain\.pem$/],
  qeIdentityIssuerChain: [/^qe_identity_issuer_chain\.pem$/],
  pckCrlIssuerChain: [/^pck_crl_issuer_chain\.pem$/],
} as const

const isDirectory = (path: string): boolean => {
  try {
    return path !== '-' && statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * `--collateral PATH`: a bundle file, or a directory of raw PCS responses. Unreadable or not JSON →
 * exit 2; wrong shape or a missing response in a directory → exit 4.
 */
export function loadCollateralFile(path: string): QuoteCollateralV3 {
  if (isDirectory(path)) return loadCollateralDir(path)
  return parseCollateralText(readTextInput(path, 'collateral'), path)
}

/** A directory of raw PCS responses as a bundle. */
export function loadCollateralDir(dir: string): QuoteCollateralV3 {
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch (e) {
    throw new InputError('UNREADABLE_INPUT', `collateral: cannot list ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  const find = (key: keyof typeof COLLATERAL_DIR_FILES): string => {
    for (const re of COLLATERAL_DIR_FILES[key]) {
      const hit = names.find((n) => re.test(n))
      if (hit) return join(dir, hit)
    }
    throw new TdxkitError('COLLATERAL_MALFORMED', `collateral directory ${dir} has no ${COLLATERAL_DIR_FILES[key][0].source.replace(/[\\^$]/g, '')}`, {exit: ExitCode.COLLATERAL, step: 'tcb_info'})
  }
  const text = (key: keyof typeof COLLATERAL_DIR_FILES, limit = MAX_RESPONSE_FILE_BYTES) => readTextInput(find(key), 'collateral', limit)
  const bytes = (key: keyof typeof COLLATERAL_DIR_FILES) => readRawInput(find(key), 'collateral', MAX_RESPONSE_FILE_BYTES)
  return bundleFromResponses({
    tcbInfoBody: text('tcbInfo'),
    qeIdentityBody: text('qeIdentity'),
    pckCrl: bytes('pckCrl'),
    rootCaCrl: bytes('rootCaCrl'),
    tcbInfoIssuerChain: text('tcbInfoIssuerChain', MAX_CERT_FILE_BYTES),
    qeIdentityIssuerChain: text('qeIdentityIssuerChain', MAX_CERT_FILE_BYTES),
    pckCrlIssuerChain: text('pckCrlIssuerChain', MAX_CERT_FILE_BYTES),
  })
}

/**
 * Write a bundle as a directory of raw PCS responses (the layout above, DER CRLs). The directory is
 * created if missing (its parent must exist); existing files of the same names are replaced atomically.
 * Returns the files written.
 */
export function writeCollateralDir(dir: string, c: QuoteCollateralV3, platform: {fmspc: string; ca: PckCa}): string[] {
  try {
    mkdirSync(dir)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !isDirectory(dir)) {
      throw new InputError('UNWRITABLE_OUTPUT', `cannot create directory ${dir} (--dir): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
  }
  const r = responsesFromBundle(c)
  const files: Array<[string, string | Uint8Array]> = [
    [`tcbinfo_response_${platform.fmspc.toLowerCase()}.json`, r.tcbInfoBody],
    ['qe_identity_response.json', r.qeIdentityBody],
    [`pck_${platform.ca}_crl.der`, r.pckCrl],
    ['root_ca_crl.der', r.rootCaCrl],
    ['tcb_info_issuer_chain.pem', r.tcbInfoIssuerChain],
    ['qe_identity_issuer_chain.pem', r.qeIdentityIssuerChain],
    ['pck_crl_issuer_chain.pem', r.pckCrlIssuerChain],
  ]
  for (const [name, data] of files) writeOutputFile(join(dir, name), data, '--dir')
  return files.map(([name]) => join(dir, name))
}
