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
import {bundleFromResponses, crlDer, splitSignedBody} from '../verify/collateral-bundle.js'

import {PCS_HEADERS, PCS_PATHS, PCS_RETRIES, PCS_TIMEOUT_MS, normalizeBaseUrl, type PckCa} from '../abi/pcs.js'

interface PcsClientOptions {
  baseUrl: string
  /** Directory for cached responses (none: no cache). */
  cacheDir?: string
  /** Clock for cache freshness, ms (default Date.now). */
  clock?: () => number
  /** Per-request timeout (default PCS_TIMEOUT_MS). */
  timeoutMs?: number
  /** Further attempts after a network failure, a timeout or an HTTP 5xx / 429 (default PCS_RETRIES). */
  retries?: number
  /** Wait before the first retry, doubled each time up to PCS_MAX_RETRY_DELAY_MS (default PCS_RETRY_DELAY_MS). */
  retryDelayMs?: number
}

/** First back-off delay (ms) and its cap. */
const PCS_RETRY_DELAY_MS = 500
const PCS_MAX_RETRY_DELAY_MS = 8_000
/** Largest PCS response body read (TCB info is tens of KiB; a CRL of a busy CA a few MiB). */
const MAX_PCS_BODY_BYTES = 16 * 1024 * 1024

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
/** The service could not be reached, timed out, or kept answering 5xx / 429: exit 8, not "bad collateral". */
const unreachable = (code: string, msg: string) => new TdxkitError(code, msg, {exit: ExitCode.UNREACHABLE, step: 'tcb_info'})
/** A failed attempt: retried when transient. */
class AttemptError extends Error {
  constructor(
    readonly error: TdxkitError,
    readonly transient: boolean,
  ) {
    super(error.message)
  }
}
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
    const header = (r: {headers: Record<string, string>}, ...names: string[]) => {
      for (const n of names) {
        const v = r.headers[n.toLowerCase()]
        if (v) return decodeURIComponent(v)
      }
      throw collateralError('COLLATERAL_MALFORMED', `PCCS response lacks the ${names[0]} header`)
    }
    const collateral = bundleFromResponses({
      tcbInfoBody: tcb.body.toString('utf8'),
      qeIdentityBody: qe.body.toString('utf8'),
      pckCrl: pck.body,
      rootCaCrl: root.body,
      tcbInfoIssuerChain: header(tcb, PCS_HEADERS.tcbInfoChain, PCS_HEADERS.tcbInfoChainV3),
      qeIdentityIssuerChain: header(qe, PCS_HEADERS.qeIdentityChain),
      pckCrlIssuerChain: header(pck, PCS_HEADERS.pckCrlChain),
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
    const {headers, body} = await this.fetchWithRetries(url)
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

  /** GET with the timeout, retrying transient failures (network, timeout, 5xx, 429) with doubling back-off. */
  private async fetchWithRetries(url: string): Promise<{headers: Record<string, string>; body: Buffer}> {
    const retries = Math.max(0, this.opts.retries ?? PCS_RETRIES)
    let delay = this.opts.retryDelayMs ?? PCS_RETRY_DELAY_MS
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fetchOnce(url)
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e
        if (!e.transient || attempt >= retries) {
          if (!e.transient || attempt === 0) throw e.error
          throw new TdxkitError(e.error.code, `${e.error.message} (after ${attempt + 1} attempts)`, {exit: e.error.exit, step: 'tcb_info'})
        }
      }
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(delay * 2, PCS_MAX_RETRY_DELAY_MS)
    }
  }

  /** One GET: status checked, headers lower-cased, body read up to MAX_PCS_BODY_BYTES. */
  private async fetchOnce(url: string): Promise<{headers: Record<string, string>; body: Buffer}> {
    const timeoutMs = this.opts.timeoutMs ?? PCS_TIMEOUT_MS
    const signal = AbortSignal.timeout(timeoutMs)
    const why = (e: unknown) => {
      const err = e as Error
      if (err.name === 'TimeoutError' || signal.aborted) return `no answer within ${timeoutMs} ms`
      return err.cause instanceof Error ? err.cause.message : err.message
    }
    let res: Response
    try {
      res = await fetch(url, {signal})
    } catch (e) {
      throw new AttemptError(unreachable('PCCS_UNREACHABLE', `cannot fetch ${url}: ${why(e)}`), true)
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      const transient = res.status >= 500 || res.status === 429
      const err = transient ? unreachable('PCCS_UNAVAILABLE', `${url}: HTTP ${res.status}`) : collateralError('PCCS_HTTP_ERROR', `${url}: HTTP ${res.status}`)
      throw new AttemptError(err, transient)
    }
    const headers: Record<string, string> = {}
    res.headers.forEach((v, k) => {
      headers[k.toLowerCase()] = v
    })
    try {
      return {headers, body: await readBodyBounded(res, MAX_PCS_BODY_BYTES)}
    } catch (e) {
      if (e instanceof TdxkitError) throw e
      throw new AttemptError(unreachable('PCCS_UNREACHABLE', `${url}: response cut off: ${why(e)}`), true)
    }
  }
}

/** A response body, refused (exit 4) once it passes `limit` bytes instead of buffering it whole. */
async function readBodyBounded(res: Response, limit: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  const tooLarge = () => collateralError('PCCS_RESPONSE_TOO_LARGE', `${res.url}: response larger than ${limit} bytes`)
  if (declared > limit) {
    await res.body?.cancel().catch(() => {})
    throw tooLarge()
  }
  const chunks: Buffer[] = []
  let total = 0
  if (!res.body) return Buffer.alloc(0)
  const reader = res.body.getReader()
  for (;;) {
    const {done, value} = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > limit) {
      await reader.cancel().catch(() => {})
      throw tooLarge()
    }
    chunks.push(Buffer.from(value))
  }
  return Buffer.concat(chunks)
}
