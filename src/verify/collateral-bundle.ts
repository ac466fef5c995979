/**
 * Collateral bundles from text: the QuoteCollateralV3 JSON shape (see src/abi/collateral.ts), plus
 * the conversion from Intel PCS response bodies (`{"tcbInfo":{…},"signature":"…"}`) that keeps the
 * exact signed JSON text. Reading a bundle file is src/app/collateral-file.ts.
 */
import {COLLATERAL_FIELDS, type QuoteCollateralV3} from '../abi/collateral.js'
import {ExitCode, InputError, TdxkitError} from '../errors.js'
import {JsonPosError, parseJsonWithPositions} from '../util/json-pos.js'

/** Check the shape of a collateral object (every field a string; hex where hex is due). */
export function checkCollateralBundle(v: unknown, what = 'collateral'): QuoteCollateralV3 {
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new TdxkitError('COLLATERAL_MALFORMED', `${what}: not a JSON object with the QuoteCollateralV3 fields`, {exit: ExitCode.COLLATERAL, step: 'tcb_info'})
  }
  const o = v as Record<string, unknown>
  for (const f of COLLATERAL_FIELDS) {
    if (typeof o[f] !== 'string' || o[f] === '') {
      throw new TdxkitError('COLLATERAL_MALFORMED', `${what}: field "${f}" is missing or not a string`, {exit: ExitCode.COLLATERAL, step: 'tcb_info'})
    }
  }
  for (const f of ['root_ca_crl', 'pck_crl', 'tcb_info_signature', 'qe_identity_signature'] as const) {
    if (!/^[0-9a-fA-F]+$/.test(o[f] as string)) {
      throw new TdxkitError('COLLATERAL_MALFORMED', `${what}: field "${f}" is not hex`, {exit: ExitCode.COLLATERAL, step: 'tcb_info'})
    }
  }
  return o as unknown as QuoteCollateralV3
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
