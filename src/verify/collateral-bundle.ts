/**
 * Collateral bundles from text: the QuoteCollateralV3 JSON shape (see src/abi/collateral.ts), plus
 * the conversion from Intel PCS response bodies (`{"tcbInfo":{…},"signature":"…"}`) that keeps the
 * exact signed JSON text. Reading a bundle file is src/app/collateral-file.ts.
 */
import {COLLATERAL_BYTE_FIELDS, COLLATERAL_FIELDS, type QuoteCollateralV3} from '../abi/collateral.js'
import {ExitCode, InputError, TdxkitError} from '../errors.js'
import {JsonPosError, parseJsonWithPositions} from '../util/json-pos.js'
import {pemToDers} from '../x509/pem.js'

const malformed = (what: string, msg: string) => new TdxkitError('COLLATERAL_MALFORMED', `${what}: ${msg}`, {exit: ExitCode.COLLATERAL, step: 'tcb_info'})

/** A byte field as hex: a hex string as is, or an array of numbers 0–255 (dcap-qvl's `Array.from(Buffer)`). */
function byteFieldHex(v: unknown, f: string, what: string): string {
  if (typeof v === 'string') {
    if (v !== '' && /^[0-9a-fA-F]+$/.test(v)) return v
    throw malformed(what, `field "${f}" is not hex`)
  }
  if (Array.isArray(v) && v.length > 0 && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 0xff)) return Buffer.from(v as number[]).toString('hex')
  throw malformed(what, `field "${f}" is missing or neither hex nor an array of bytes`)
}

/**
 * Check the shape of a collateral object and return it in QuoteCollateralV3 form. Text fields must be
 * non-empty strings; byte fields hex strings or byte arrays (the object dcap-qvl's getCollateral
 * returns); `pck_certificate_chain` a PEM string, or null / absent.
 */
export function checkCollateralBundle(v: unknown, what = 'collateral'): QuoteCollateralV3 {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw malformed(what, 'not a JSON object with the QuoteCollateralV3 fields')
  const o = v as Record<string, unknown>
  const out: Record<string, string> = {}
  const bytes: readonly string[] = COLLATERAL_BYTE_FIELDS
  for (const f of COLLATERAL_FIELDS) {
    if (bytes.includes(f)) out[f] = byteFieldHex(o[f], f, what)
    else if (typeof o[f] !== 'string' || o[f] === '') throw malformed(what, `field "${f}" is missing or not a string`)
    else out[f] = o[f] as string
  }
  const chain = o.pck_certificate_chain
  if (typeof chain === 'string' && chain !== '') out.pck_certificate_chain = chain
  else if (chain !== undefined && chain !== null && chain !== '') throw malformed(what, 'field "pck_certificate_chain" is not a PEM string')
  return out as unknown as QuoteCollateralV3
}

/** Parse collateral JSON text: not JSON → exit 2; wrong shape → exit 4. */
export function parseCollateralText(text: string, what = 'collateral'): QuoteCollateralV3 {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new InputError('COLLATERAL_JSON', `${what}: not valid JSON (${(e as Error).message})`)
  }
  return checkCollateralBundle(v, what)
}

/**
 * Split an Intel PCS body `{"<key>":{…},"signature":"hex"}` into the exact signed text of `<key>`
 * and the signature, without re-serialising.
 */
export function splitSignedBody(body: string, key: 'tcbInfo' | 'enclaveIdentity'): {signed: string; signature: string} {
  let doc
  try {
    doc = parseJsonWithPositions(body)
  } catch (e) {
    throw new TdxkitError('COLLATERAL_MALFORMED', `${key} response is not JSON${e instanceof JsonPosError ? ` (line ${e.loc.line}: ${e.message})` : ''}`, {exit: ExitCode.COLLATERAL})
  }
  const span = doc.spanAt.get(`/${key}`)
  const sig = (doc.value as Record<string, unknown> | null)?.signature
  if (!span || typeof sig !== 'string') throw new TdxkitError('COLLATERAL_MALFORMED', `response has no "${key}" object and "signature"`, {exit: ExitCode.COLLATERAL})
  return {signed: body.slice(span[0], span[1]), signature: sig}
}

/** CRL bytes from a response body or file: DER, hex text of the DER (PCCS), or PEM. */
export function crlDer(body: Uint8Array): Buffer {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const text = buf.toString('latin1').trim()
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex')
  const [pem] = pemToDers(text, 'X509 CRL')
  return pem ?? buf
}

/** The raw PCS responses of one platform: the four bodies and the three issuer chains (PEM, decoded from the headers). */
export interface PcsResponses {
  tcbInfoBody: string
  qeIdentityBody: string
  pckCrl: Uint8Array
  rootCaCrl: Uint8Array
  tcbInfoIssuerChain: string
  qeIdentityIssuerChain: string
  pckCrlIssuerChain: string
}

/** A QuoteCollateralV3 bundle from raw PCS responses (the signed JSON text kept byte for byte). */
export function bundleFromResponses(r: PcsResponses): QuoteCollateralV3 {
  const tcb = splitSignedBody(r.tcbInfoBody, 'tcbInfo')
  const qe = splitSignedBody(r.qeIdentityBody, 'enclaveIdentity')
  return checkCollateralBundle({
    pck_crl_issuer_chain: r.pckCrlIssuerChain,
    root_ca_crl: crlDer(r.rootCaCrl).toString('hex'),
    pck_crl: crlDer(r.pckCrl).toString('hex'),
    tcb_info_issuer_chain: r.tcbInfoIssuerChain,
    tcb_info: tcb.signed,
    tcb_info_signature: tcb.signature,
    qe_identity_issuer_chain: r.qeIdentityIssuerChain,
    qe_identity: qe.signed,
    qe_identity_signature: qe.signature,
  })
}

/** The inverse of bundleFromResponses: the PCS response bodies of a bundle (compact, the signed text as is). */
export function responsesFromBundle(c: QuoteCollateralV3): PcsResponses {
  return {
    tcbInfoBody: `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`,
    qeIdentityBody: `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`,
    pckCrl: Buffer.from(c.pck_crl, 'hex'),
    rootCaCrl: Buffer.from(c.root_ca_crl, 'hex'),
    tcbInfoIssuerChain: c.tcb_info_issuer_chain,
    qeIdentityIssuerChain: c.qe_identity_issuer_chain,
    pckCrlIssuerChain: c.pck_crl_issuer_chain,
  }
}
