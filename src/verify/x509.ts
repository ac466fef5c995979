/**
 * X.509 certificates and CRLs for DCAP: parsed with pkijs/asn1js, signatures checked with Node's
 * crypto (ECDSA P-256 / SHA-256). Parsed objects are memoised by DER digest (bounded), because the
 * same Intel certificates and CRLs appear in every quote and collateral bundle and pkijs parsing is
 * far costlier than the signature checks themselves.
 */
import {createHash, createPublicKey, verify as cryptoVerify, X509Certificate, type KeyObject} from 'node:crypto'
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {ParseError} from '../errors.js'

export const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2'
export const OID_COMMON_NAME = '2.5.4.3'
export const OID_BASIC_CONSTRAINTS = '2.5.29.19'

/** A certificate or CRL that does not parse, or uses an algorithm DCAP does not allow (typed, exit 2). */
export class X509Error extends ParseError {
  constructor(
    readonly kind: 'malformed' | 'algorithm',
    message: string,
  ) {
    super(kind === 'algorithm' ? 'X509_ALGORITHM' : 'X509_MALFORMED', message)
  }
}

export interface Cert {
  der: Buffer
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string
  subjectCN: string
  issuerCN: string
  subjectName: Buffer
  issuerName: Buffer
  notBefore: number
  notAfter: number
  /** Serial number, lowercase hex without leading zero bytes. */
  serial: string
  publicKey: KeyObject
  tbs: Buffer
  /** DER-encoded ECDSA signature. */
  signature: Buffer
  isCA: boolean
  pki: pkijs.Certificate
}

export interface Crl {
  der: Buffer
  fingerprint: string
  issuerCN: string
  issuerName: Buffer
  thisUpdate: number
  nextUpdate?: number
  revoked: Set<string>
  tbs: Buffer
  signature: Buffer
}

const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

function normSerial(v: Uint8Array): string {
  let i = 0
  while (i < v.length - 1 && v[i] === 0) i++
  return Buffer.from(v.subarray(i)).toString('hex')
}

function cnOf(name: pkijs.RelativeDistinguishedNames): string {
  const tv = name.typesAndValues.find((t) => t.type === OID_COMMON_NAME)
  return tv ? String((tv.value as {valueBlock: {value: string}}).valueBlock.value) : ''
}

/** Strict DER parse: the whole buffer must be exactly one element. */
function parseDer(der: Uint8Array, what: string): asn1js.AsnType {
  const copy = new Uint8Array(der).slice()
  const asn = asn1js.fromBER(copy)
  if (asn.offset === -1 || asn.offset !== copy.length) throw new X509Error('malformed', `${what}: not a single DER element`)
  return asn.result
}

function sigBits(bits: asn1js.BitString, what: string): Buffer {
  if (bits.valueBlock.unusedBits !== 0) throw new X509Error('malformed', `${what}: signature BIT STRING has unused bits`)
  return Buffer.from(bits.valueBlock.valueHexView)
}

class Lru<V> {
  private m = new Map<string, V>()
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k)
    if (v !== undefined) {
      this.m.delete(k)
      this.m.set(k, v)
    }
    return v
  }
  set(k: string, v: V): void {
    this.m.set(k, v)
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value as string)
  }
  clear(): void {
    this.m.clear()
  }
}

const certMemo = new Lru<Cert>(512)
const nativeMemo = new Lru<X509Certificate | null>(512)
const crlMemo = new Lru<Crl>(64)

/** Drop memoised parses (benchmarks measure cold verification with this). */
export function clearX509Memo(): void {
  certMemo.clear()
  crlMemo.clear()
  keyMemo.clear()
  sigMemo.clear()
  nativeMemo.clear()
}

export function parseCert(der: Uint8Array): Cert {
  const fingerprint = sha256hex(der)
  const hit = certMemo.get(fingerprint)
  if (hit) return hit
  let pki: pkijs.Certificate
  try {
    pki = new pkijs.Certificate({schema: parseDer(der, 'certificate')})
  } catch (e) {
    throw e instanceof X509Error ? e : new X509Error('malformed', `certificate does not parse: ${(e as Error).message}`)
  }
  if (pki.signatureAlgorithm.algorithmId !== OID_ECDSA_WITH_SHA256 || pki.signature.algorithmId !== OID_ECDSA_WITH_SHA256) {
    throw new X509Error('algorithm', `certificate "${cnOf(pki.subject)}" is not signed with ecdsa-with-SHA256`)
  }
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({key: Buffer.from(pki.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki'})
  } catch {
    throw new X509Error('malformed', `certificate "${cnOf(pki.subject)}": unusable public key`)
  }
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new X509Error('algorithm', `certificate "${cnOf(pki.subject)}": key is not ECDSA P-256`)
  }
  // DER must be canonical: the outer structure (signature algorithm, signature) is not covered by
  // the signature, so any re-encoding difference is tampering.
  if (!Buffer.from(pki.toSchema().toBER()).equals(Buffer.from(der))) throw new X509Error('malformed', `certificate "${cnOf(pki.subject)}" is not canonical DER`)
  const bc = pki.extensions?.find((e) => e.extnID === OID_BASIC_CONSTRAINTS)?.parsedValue as pkijs.BasicConstraints | undefined
  const cert: Cert = {
    der: Buffer.from(der),
    fingerprint,
    subjectCN: cnOf(pki.subject),
    issuerCN: cnOf(pki.issuer),
    subjectName: Buffer.from(pki.subject.valueBeforeDecode),
    issuerName: Buffer.from(pki.issuer.valueBeforeDecode),
    notBefore: pki.notBefore.value.getTime(),
    notAfter: pki.notAfter.value.getTime(),
    serial: normSerial(pki.serialNumber.valueBlock.valueHexView),
    publicKey,
    tbs: Buffer.from(pki.tbsView),
    signature: sigBits(pki.signatureValue, 'certificate'),
    isCA: Boolean(bc?.cA),
    pki,
  }
  certMemo.set(fingerprint, cert)
  return cert
}

export function parseCrl(der: Uint8Array): Crl {
  const fingerprint = sha256hex(der)
  const hit = crlMemo.get(fingerprint)
  if (hit) return hit
  let pki: pkijs.CertificateRevocationList
  try {
    pki = new pkijs.CertificateRevocationList({schema: parseDer(der, 'CRL')})
  } catch (e) {
    throw e instanceof X509Error ? e : new X509Error('malformed', `CRL does not parse: ${(e as Error).message}`)
  }
  if (pki.signatureAlgorithm.algorithmId !== OID_ECDSA_WITH_SHA256) throw new X509Error('algorithm', 'CRL is not signed with ecdsa-with-SHA256')
  if (!Buffer.from(pki.toSchema().toBER()).equals(Buffer.from(der))) throw new X509Error('malformed', 'CRL is not canonical DER')
  const crl: Crl = {
    der: Buffer.from(der),
    fingerprint,
    issuerCN: cnOf(pki.issuer),
    issuerName: Buffer.from(pki.issuer.valueBeforeDecode),
    thisUpdate: pki.thisUpdate.value.getTime(),
    nextUpdate: pki.nextUpdate?.value.getTime(),
    revoked: new Set((pki.revokedCertificates ?? []).map((r) => normSerial(r.userCertificate.valueBlock.valueHexView))),
    tbs: Buffer.from(pki.tbsView),
    signature: sigBits(pki.signatureValue, 'CRL'),
  }
  crlMemo.set(fingerprint, crl)
  return crl
}

/** ECDSA P-256 / SHA-256 over `data` with a DER signature (certificates, CRLs). */
export function verifyDerSig(data: Uint8Array, sigDer: Uint8Array, key: KeyObject): boolean {
  try {
    return cryptoVerify('sha256', data, {key, dsaEncoding: 'der'}, sigDer)
  } catch {
    return false
  }
}

/** ECDSA P-256 / SHA-256 with a raw 64-byte r‖s signature (quotes, QE reports, TCB info). */
export function verifyRawSig(data: Uint8Array, sig: Uint8Array, key: KeyObject): boolean {
  if (sig.length !== 64) return false
  try {
    return cryptoVerify('sha256', data, {key, dsaEncoding: 'ieee-p1363'}, sig)
  } catch {
    return false
  }
}

/** A P-256 public key from the 64-byte x‖y form used in quotes. Throws on a point not on the curve. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200' + '04', 'hex')
const keyMemo = new Lru<KeyObject>(1024)
export function keyFromRawXY(xy: Uint8Array): KeyObject {
  if (xy.length !== 64) throw new Error('attestation key must be 64 bytes')
  const id = Buffer.from(xy).toString('hex')
  const hit = keyMemo.get(id)
  if (hit) return hit
  // SPKI DER of an uncompressed P-256 point; OpenSSL rejects points not on the curve.
  const key = createPublicKey({key: Buffer.concat([P256_SPKI_PREFIX, xy]), format: 'der', type: 'spki'})
  keyMemo.set(id, key)
  return key
}

/** Signature results memoised by (signed object digest, signer digest): a pure function of the bytes. */
const sigMemo = new Lru<boolean>(1024)
function memoSig(id: string, check: () => boolean): boolean {
  const hit = sigMemo.get(id)
  if (hit !== undefined) return hit
  const ok = check()
  sigMemo.set(id, ok)
  return ok
}
export const certSignedBy = (child: Cert, parent: Cert): boolean =>
  memoSig(`c:${child.fingerprint}:${parent.fingerprint}`, () => verifyDerSig(child.tbs, child.signature, parent.publicKey))
export const crlSignedBy = (crl: Crl, issuer: Cert): boolean =>
  memoSig(`l:${crl.fingerprint}:${issuer.fingerprint}`, () => verifyDerSig(crl.tbs, crl.signature, issuer.publicKey))

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\n((?:[A-Za-z0-9+/=]+\n)+)-----END CERTIFICATE-----/y
const PEM_LOOSE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g

/**
 * Certificates from a PEM chain. `strict` (the quote's own certification data): blocks separated by
 * single newlines, 64-column-free base64 lines of only base64 characters, canonical base64, and
 * nothing after the last block but an optional newline and one NUL. Loose (collateral issuer
 * chains): any whitespace. Throws X509Error on anything else.
 */
export function parsePemChain(text: string, strict: boolean): Buffer[] {
  const out: Buffer[] = []
  const decode = (b64raw: string) => {
    const b64 = b64raw.replace(/\s+/g, '')
    const der = Buffer.from(b64, 'base64')
    if (der.length === 0 || der.toString('base64') !== b64) throw new X509Error('malformed', 'PEM certificate is not canonical base64')
    out.push(der)
  }
  if (!strict) {
    const rest = text.replace(PEM_LOOSE, (_m, b64: string) => {
      decode(b64)
      return ''
    })
    if (rest.replace(/\0$/, '').trim() !== '') throw new X509Error('malformed', 'unexpected text in PEM chain')
    return out
  }
  let pos = 0
  for (;;) {
    PEM_BLOCK.lastIndex = pos
    const m = PEM_BLOCK.exec(text)
    if (!m) break
    decode(m[1])
    pos = PEM_BLOCK.lastIndex
    if (text[pos] === '\n') pos++
  }
  const tail = text.slice(pos)
  if (out.length === 0 || (tail !== '' && tail !== '\0')) throw new X509Error('malformed', 'PCK chain PEM is malformed')
  return out
}

/**
 * Cheap pre-checks with Node's native (OpenSSL) X.509 parser, run before the costly pkijs parse:
 * a certificate OpenSSL cannot parse, or whose signature does not verify with its issuer's key, is
 * rejected in microseconds. Passing them proves nothing by itself: every certificate still goes
 * through parseCert and the full checks. Results are memoised by DER digest.
 */
function nativeCert(der: Uint8Array, fingerprint = sha256hex(der)): X509Certificate | null {
  let hit = nativeMemo.get(fingerprint)
  if (hit === undefined) {
    try {
      hit = new X509Certificate(der)
    } catch {
      hit = null
    }
    nativeMemo.set(fingerprint, hit)
  }
  return hit
}

/** The subject CN as OpenSSL reads it (for messages about certificates not worth a full parse). */
export function quickSubjectCN(der: Uint8Array): string | undefined {
  const c = nativeCert(der)
  return c?.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3)
}

/** 'malformed' when either DER does not parse natively; else whether child's signature verifies with parent's key. */
export function quickSignedBy(childDer: Uint8Array, parentDer: Uint8Array): boolean | 'malformed' {
  const cf = sha256hex(childDer)
  const pf = sha256hex(parentDer)
  const child = nativeCert(childDer, cf)
  const parent = nativeCert(parentDer, pf)
  if (!child || !parent) return 'malformed'
  return memoSig(`q:${cf}:${pf}`, () => {
    try {
      return child.verify(parent.publicKey)
    } catch {
      return false
    }
  })
}
