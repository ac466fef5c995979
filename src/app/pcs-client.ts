/**
 * Collateral from an Intel PCS v4-shaped service (Intel PCS, a PCCS, or `tdxkit pccs serve`), with an
 * on-disk cache: each response is kept until its own nextUpdate (TCB info / QE identity JSON, CRL
 * nextUpdate), then fetched again.
 */
import {createHash} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {parseQuote, type ParsedQuote} from '../abi/quote.js'
import {ExitCode, InputError, ParseError, TdxkitError} from '../errors.js'
import {readFileBounded, writeFileAtomic} from './files.js'
import {quoteCollateralKey} from '../verify/pck-info.js'
import {parseCrl} from '../x509/dcap.js'
import {checkCollateralBundle, splitSignedBody} from '../verify/collateral-bundle.js'
import {PCS_HEADERS, PCS_PATHS, normalizeBaseUrl, type PckCa} from '../abi/pcs.js'

interface PcsClientOptions {
  baseUrl: string
  /** Directory for cached responses (none: no cache). */
  cacheDir?: string
  /** Clock for cache freshness, ms (default Date.now). */
  clock?: () => number
  timeoutMs?: number
}

export interface FetchedCollateral {
  collateral: QuoteCollateralV3
  fmspc: string
  ca: PckCa
  sources: Array<{url: string; cached: boolean; next_update?: string}>
}

interface CachedResponse {
  url: string
  fetched_at: string
  next_update: string
  headers: Record<string, string>
  body_base64: string
}

const collateralError = (code: string, msg: string) => new TdxkitError(code, msg, {exit: ExitCode.COLLATERAL, step: 'tcb_info'})
/** Largest PCCS cache entry read (a TCB info response is tens of KiB; a symlink to /dev/zero is refused). */
const MAX_CACHE_ENTRY_BYTES = 16 * 1024 * 1024

export class PcsClient {
  private readonly base: string
  constructor(private readonly opts: PcsClientOptions) {
    let u: URL
    try {
      u = new URL(opts.baseUrl)
    } catch {
      throw new InputError('BAD_URL', `not a URL: ${opts.baseUrl}`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError('BAD_URL', `PCCS URL must be http(s): ${opts.baseUrl}`)
    this.base = normalizeBaseUrl(opts.baseUrl)
  }

  async fetchForQuote(quote: Uint8Array | ParsedQuote): Promise<FetchedCollateral> {
    const q = quote instanceof Uint8Array ? parseQuote(quote) : quote
    const key = quoteCollateralKey(q)
    return this.fetch(key.tee, key.fmspc, key.ca)
  }

  async fetch(tee: 'sgx' | 'tdx', fmspc: string, ca: PckCa): Promise<FetchedCollateral> {
    const sources: FetchedCollateral['sources'] = []
    const get = async (path: string, nextUpdateOf: (r: {headers: Record<string, string>; body: Buffer}) => number) => {
      const r = await this.get(path, nextUpdateOf)
      sources.push({url: r.url, cached: r.cached, ...(r.next_update ? {next_update: r.next_update} : {})})
      return r
    }
    const jsonNext = (key: 'tcbInfo' | 'enclaveIdentity') => (r: {body: Buffer}) => {
      const {signed} = splitSignedBody(r.body.toString('utf8'), key)
      const t = Date.parse((JSON.parse(signed) as {nextUpdate?: string}).nextUpdate ?? '')
      if (Number.isNaN(t)) throw collateralError('COLLATERAL_MALFORMED', `${key} has no nextUpdate`)
      return t
    }
    const crlNext = (r: {body: Buffer}) => parseCrl(crlDer(r.body)).nextUpdate ?? 0

    const tcb = await get(`${PCS_PATHS.tcb(tee)}?fmspc=${fmspc}`, jsonNext('tcbInfo'))
    const qe = await get(`${PCS_PATHS.qeIdentity(tee)}?update=standard`, jsonNext('enclaveIdentity'))
    const pck = await get(`${PCS_PATHS.pckcrl}?ca=${ca}&encoding=der`, crlNext)
    const root = await get(PCS_PATHS.rootcacrl, crlNext)
    const tcbSplit = splitSignedBody(tcb.body.toString('utf8'), 'tcbInfo')
    const qeSplit = splitSignedBody(qe.body.toString('utf8'), 'enclaveIdentity')
    const header = (r: {headers: Record<string, string>}, ...names: string[]) => {
      for (const n of names) {
        const v = r.headers[n.toLowerCase()]
        if (v) return decodeURIComponent(v)
      }
      throw collateralError('COLLATERAL_MALFORMED', `PCCS response lacks the ${names[0]} header`)
    }
    const collateral = checkCollateralBundle({
      pck_crl_issuer_chain: header(pck, PCS_HEADERS.pckCrlChain),
      root_ca_crl: crlDer(root.body).toString('hex'),
      pck_crl: crlDer(pck.body).toString('hex'),
      tcb_info_issuer_chain: header(tcb, PCS_HEADERS.tcbInfoChain, PCS_HEADERS.tcbInfoChainV3),
      tcb_info: tcbSplit.signed,
      tcb_info_signature: tcbSplit.signature,
      qe_identity_issuer_chain: header(qe, PCS_HEADERS.qeIdentityChain),
      qe_identity: qeSplit.signed,
      qe_identity_signature: qeSplit.signature,
    })
    return {collateral, fmspc, ca, sources}
  }

  private cachePath(url: string): string | undefined {
    if (!this.opts.cacheDir) return undefined
    return join(this.opts.cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 32) + '.json')
  }

  private async get(
    path: string,
    nextUpdateOf: (r: {headers: Record<string, string>; body: Buffer}) => number,
  ): Promise<{url: string; cached: boolean; headers: Record<string, string>; body: Buffer; next_update?: string}> {
    const url = this.base + path
    const now = (this.opts.clock ?? Date.now)()
    const cp = this.cachePath(url)
    if (cp) {
      try {
        const c = JSON.parse(readFileBounded(cp, {limit: MAX_CACHE_ENTRY_BYTES, what: 'PCCS cache entry', regularOnly: true}).toString('utf8')) as CachedResponse
        if (c.url === url && Date.parse(c.next_update) > now) {
          return {url, cached: true, headers: c.headers, body: Buffer.from(c.body_base64, 'base64'), next_update: c.next_update}
        }
      } catch {
        // Missing or unreadable cache entry: fetch.
      }
    }
    let res: Response
    try {
      res = await fetch(url, {signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000)})
    } catch (e) {
      throw collateralError('PCCS_UNREACHABLE', `cannot fetch ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`)
    }
    if (!res.ok) throw collateralError('PCCS_HTTP_ERROR', `${url}: HTTP ${res.status}`)
    const body = Buffer.from(await res.arrayBuffer())
    const headers: Record<string, string> = {}
    res.headers.forEach((v, k) => {
      headers[k.toLowerCase()] = v
    })
    let next: number
    try {
      next = nextUpdateOf({headers, body})
    } catch (e) {
      // A response body that does not parse (CRL, JSON) is unusable collateral (exit 4), not bad user input.
      if (e instanceof TdxkitError && !(e instanceof ParseError)) throw e
      throw collateralError('COLLATERAL_MALFORMED', `${url}: response does not parse (${(e as Error).message})`)
    }
    const next_update = new Date(next).toISOString()
    if (cp) {
      mkdirSync(this.opts.cacheDir!, {recursive: true})
      const entry: CachedResponse = {url, fetched_at: new Date(now).toISOString(), next_update, headers, body_base64: body.toString('base64')}
      writeFileAtomic(cp, JSON.stringify(entry))
    }
    return {url, cached: false, headers, body, next_update}
  }
}

/** CRL bytes from a response: DER, or hex text (some PCCS versions), or PEM. */
export function crlDer(body: Buffer): Buffer {
  const text = body.toString('latin1').trim()
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex')
  const pem = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(text)
  if (pem) return Buffer.from(pem[1].replace(/\s+/g, ''), 'base64')
  return body
}
