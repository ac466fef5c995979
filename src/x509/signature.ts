/**
 * Certificate and CRL signature algorithms (ECDSA, RSA PKCS #1 v1.5, RSASSA-PSS, EdDSA, SM2) checked with
 * Node's crypto. A signature is accepted only with a key of the algorithm's family, like OpenSSL's
 * X509_verify: an "ecdsa-with-SHA256" signature never verifies against an RSA key.
 */
import {constants, verify as cryptoVerify, type KeyObject} from 'node:crypto'
import {DER_TAG, decodeCanonicalDer, derChildren, derExplicit, derOid, derSmallInt, isContext} from '../abi/der.js'
import {
  OID_ECDSA_SHA256,
  OID_ECDSA_SHA384,
  OID_ECDSA_SHA512,
  OID_ED25519,
  OID_ED448,
  OID_MGF1,
  OID_RSA_SHA256,
  OID_RSA_SHA384,
  OID_RSA_SHA512,
  OID_RSASSA_PSS,
  OID_SHA1,
  OID_SHA256,
  OID_SHA384,
  OID_SHA512,
  OID_SM2_SM3,
} from './oids.js'

/** An AlgorithmIdentifier: the OID and, when present, the DER of its parameters. */
export interface AlgorithmId {
  oid: string
  params?: Buffer
}

/** Key families by Node's asymmetricKeyType; Node leaves SM2 keys unnamed. */
type KeyFamily = 'ec' | 'rsa' | 'ed25519' | 'ed448' | 'sm2'

interface SignatureAlgorithm {
  /** Display name (OpenSSL's long name). */
  name: string
  family: KeyFamily
  /** Digest for Node's verify (null: EdDSA hashes internally; PSS takes it from the parameters). */
  hash: string | null
}

/** The signature algorithms the reader verifies, by OID. */
const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithm>> = {
  [OID_ECDSA_SHA256]: {name: 'ecdsa-with-SHA256', family: 'ec', hash: 'sha256'},
  [OID_ECDSA_SHA384]: {name: 'ecdsa-with-SHA384', family: 'ec', hash: 'sha384'},
  [OID_ECDSA_SHA512]: {name: 'ecdsa-with-SHA512', family: 'ec', hash: 'sha512'},
  [OID_RSA_SHA256]: {name: 'sha256WithRSAEncryption', family: 'rsa', hash: 'sha256'},
  [OID_RSA_SHA384]: {name: 'sha384WithRSAEncryption', family: 'rsa', hash: 'sha384'},
  [OID_RSA_SHA512]: {name: 'sha512WithRSAEncryption', family: 'rsa', hash: 'sha512'},
  [OID_RSASSA_PSS]: {name: 'rsassaPss', family: 'rsa', hash: null},
  [OID_ED25519]: {name: 'ED25519', family: 'ed25519', hash: null},
  [OID_ED448]: {name: 'ED448', family: 'ed448', hash: null},
  [OID_SM2_SM3]: {name: 'SM2-with-SM3', family: 'sm2', hash: 'sm3'},
}

const DIGEST_OF_OID: Readonly<Record<string, string>> = {[OID_SHA1]: 'sha1', [OID_SHA256]: 'sha256', [OID_SHA384]: 'sha384', [OID_SHA512]: 'sha512'}

/** RSASSA-PSS-params defaults (RFC 4055 §3.1): SHA-1, MGF1 with SHA-1, salt 20, trailer 1. */
const PSS_DEFAULT = {hash: 'sha1', mgf1Hash: 'sha1', saltLength: 20, trailer: 1}

/**
 * RSASSA-PSS-params ::= SEQUENCE { [0] hashAlgorithm, [1] maskGenAlgorithm, [2] saltLength,
 * [3] trailerField } (all EXPLICIT, with defaults). Undefined when the parameters do not decode.
 */
function pssParams(params: Buffer | undefined): typeof PSS_DEFAULT | undefined {
  if (!params) return undefined
  try {
    const out = {...PSS_DEFAULT}
    for (const field of derChildren(decodeCanonicalDer(params, 'RSASSA-PSS parameters'), 'RSASSA-PSS parameters', 0, 4)) {
      const inner = derExplicit(field, 'RSASSA-PSS parameter')
      if (isContext(field, 0)) out.hash = DIGEST_OF_OID[derOid(derChildren(inner, 'PSS hash', 1, 2)[0], 'PSS hash')] ?? ''
      else if (isContext(field, 1)) {
        const [mgf, mgfHash] = derChildren(inner, 'PSS mask generation', 2, 2)
        if (derOid(mgf, 'PSS mask generation') !== OID_MGF1) return undefined
        out.mgf1Hash = DIGEST_OF_OID[derOid(derChildren(mgfHash, 'MGF1 hash', 1, 2)[0], 'MGF1 hash')] ?? ''
      } else if (isContext(field, 2)) out.saltLength = derSmallInt(inner, 'PSS salt length')
      else if (isContext(field, 3)) out.trailer = derSmallInt(inner, 'PSS trailer')
      else return undefined
    }
    return out
  } catch {
    return undefined
  }
}

/** Node's key type for a key family ('rsa-pss' keys verify PSS signatures too). */
function keyFits(family: KeyFamily, key: KeyObject, pss: boolean): boolean {
  const t = key.asymmetricKeyType
  return t === family || (pss && t === 'rsa-pss') || (family === 'sm2' && t === undefined)
}

/** Whether `sig` is a signature over `data` by `key` under algorithm `alg`. Never throws. */
export function verifySignature(alg: AlgorithmId, data: Uint8Array, sig: Uint8Array, key: KeyObject): boolean {
  const a = SIGNATURE_ALGORITHMS[alg.oid]
  if (!a) return false
  const pss = alg.oid === OID_RSASSA_PSS
  if (!keyFits(a.family, key, pss)) return false
  try {
    if (a.family === 'ec') return cryptoVerify(a.hash, data, {key, dsaEncoding: 'der'}, sig)
    if (a.family === 'sm2') return alg.params === undefined && cryptoVerify(a.hash, data, key, sig)
    if (a.family === 'rsa' && !pss) return (alg.params === undefined || isNullParams(alg.params)) && cryptoVerify(a.hash, data, key, sig)
    if (pss) {
      const p = pssParams(alg.params)
      if (!p || !p.hash || p.hash !== p.mgf1Hash || p.trailer !== 1) return false
      return cryptoVerify(p.hash, data, {key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength}, sig)
    }
    return alg.params === undefined && cryptoVerify(null, data, key, sig)
  } catch {
    return false
  }
}

const DER_NULL = Buffer.from([DER_TAG.NULL, 0])
const isNullParams = (p: Buffer): boolean => p.equals(DER_NULL)

/** Whether `key` is of the family `alg` signs with (OpenSSL's check_sig_alg_match in X509_check_issued). */
export function signatureFitsKey(alg: AlgorithmId, key: KeyObject): boolean {
  const a = SIGNATURE_ALGORITHMS[alg.oid]
  return a !== undefined && keyFits(a.family, key, alg.oid === OID_RSASSA_PSS)
}
