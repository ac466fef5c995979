/**
 * A local collateral service on Intel's PCS v4 paths, serving one QuoteCollateralV3 bundle, so CI
 * can run the fetch-and-verify flow offline. Loopback by default; malformed requests get 400,
 * unknown paths 404, other methods 405. Connections are capped (a newcomer over the cap displaces the
 * oldest connection that has no request in flight) and every wait is bounded, so clients that
 * connect and stall cannot hold the service from the others.
 *
 * Each CRL is served in the form each kind of client expects (Intel PCS v4 and PCCS API documents):
 *   GET /sgx/certification/v4/pckcrl?ca=platform|processor   hex text of the DER CRL (PCCS form)
 *       …&encoding=der | &encoding=pem                          raw DER (PCS, dcap-qvl, go-tdx-guest) | PEM (PCS default)
 *     `ca` is case-insensitive and both values are answered with the one PCK CRL the bundle holds
 *     (dcap-qvl 0.3.9 always asks for ca=processor); any other value is 400.
 *   GET /sgx/certification/v4/rootcacrl                      hex text of the DER Root CA CRL (PCCS API 3.0;
 *                                                            dcap-qvl and QPL hex-decode it)
 *   GET /IntelSGXRootCA.der, /sgx/certification/v4/crl?uri=…  raw DER (the root CA's CRL distribution
 *                                                            point, and PCCS API 3.1's crl?uri=)
 *   GET /{sgx|tdx}/certification/v4/tcb?fmspc=HEX12          body as PCS sends it (compact, signed bytes)
 *   GET /{sgx|tdx}/certification/v4/qe/identity[?update=standard|early]
 * Issuer chains go in the PCS headers, percent-encoded (both the v4 and v3 TCB info header names).
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {TCB_INFO_ID_SGX} from '../abi/tcb-info.js'
import {InputError} from '../errors.js'
import {checkCollateralBundle, responsesFromBundle} from '../verify/collateral-bundle.js'
import {PCS_HEADERS, PCS_PATHS, ROOT_CA_CRL_CDP_PATH} from '../abi/pcs.js'

/** Open connections at once; one more closes the oldest idle or stalled one (see capConnections). */
export const PCCS_MAX_CONNECTIONS = 64
/** A request's headers, and the whole request, must arrive within this (ms); else 408 and close. */
export const PCCS_REQUEST_TIMEOUT_MS = 10_000
/** An idle keep-alive connection is closed after this (ms). */
export const PCCS_KEEP_ALIVE_MS = 5_000
/** How often incomplete requests are checked against the request timeout (ms; Node's default is 30 s). */
const PCCS_CHECK_INTERVAL_MS = 1_000

interface PccsServerOptions {
  collateral: QuoteCollateralV3
  /** FMSPC served (default: the TCB info's). */
  fmspc?: string
  host?: string
  port?: number
  /** Called once per request (for logging). */
  onRequest?: (r: {method: string; path: string; status: number}) => void
  /** Default PCCS_MAX_CONNECTIONS. */
  maxConnections?: number
  /** Default PCCS_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number
  /** Default PCCS_KEEP_ALIVE_MS. */
  keepAliveTimeoutMs?: number
}

interface PccsServer {
  url: string
  close(): Promise<void>
}

/** The bundle as the service serves it: platform (TEE, FMSPC) and each response body. */
interface Served {
  c: QuoteCollateralV3
  tee: 'sgx' | 'tdx'
  fmspc: string
  pckCrl: Buffer
  rootCrl: Buffer
  tcbBody: string
  qeBody: string
}

function servedCollateral(opts: PccsServerOptions): Served {
  const c = checkCollateralBundle(opts.collateral)
  const r = responsesFromBundle(c)
  let tcbJson: {id?: string; fmspc?: string}
  try {
    tcbJson = JSON.parse(c.tcb_info)
  } catch {
    throw new InputError('COLLATERAL_JSON', 'collateral tcb_info is not JSON')
  }
  return {
    c,
    fmspc: (opts.fmspc ?? tcbJson.fmspc ?? '').toLowerCase(),
    tee: tcbJson.id === TCB_INFO_ID_SGX ? 'sgx' : 'tdx',
    pckCrl: Buffer.from(r.pckCrl),
    rootCrl: Buffer.from(r.rootCaCrl),
    tcbBody: r.tcbInfoBody,
    qeBody: r.qeIdentityBody,
  }
}

/** Answer one request on the PCS v4 paths; returns the HTTP status sent. */
function answer(s: Served, req: IncomingMessage, res: ServerResponse): number {
  const {c} = s
  const enc = (pem: string) => encodeURIComponent(pem)
  const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
    res.writeHead(status, {'Content-Length': Buffer.byteLength(body), ...headers})
    res.end(body)
    return status
  }
  const error = (status: number, msg: string) => send(status, JSON.stringify({error: msg}) + '\n', {'Content-Type': 'application/json'})
  if (req.method !== 'GET' && req.method !== 'HEAD') return error(405, 'only GET is supported')
  let u: URL
  try {
    u = new URL(req.url ?? '/', 'http://pccs.local')
  } catch {
    return error(400, 'malformed request URL')
  }
  const p = u.pathname.replace(/\/+$/, '')
  const known = new Set(['ca', 'encoding', 'fmspc', 'update', 'uri'])
  for (const k of u.searchParams.keys()) if (!known.has(k)) return error(400, `unknown query parameter "${k}"`)
  const crlChain = {[PCS_HEADERS.pckCrlChain]: enc(c.pck_crl_issuer_chain)}
  if (p === PCS_PATHS.pckcrl) {
    const want = (u.searchParams.get('ca') ?? '').toLowerCase()
    if (want !== 'platform' && want !== 'processor') return error(400, 'ca must be "platform" or "processor"')
    const encoding = u.searchParams.get('encoding')?.toLowerCase()
    if (encoding !== undefined && encoding !== 'der' && encoding !== 'pem') return error(400, 'encoding must be "der" or "pem"')
    const {body, type} = crlForm(s.pckCrl, encoding ?? 'hex')
    return send(200, body, {'Content-Type': type, ...crlChain})
  }
  if (p === PCS_PATHS.rootcacrl) return send(200, s.rootCrl.toString('hex'), {'Content-Type': 'application/x-pem-file'})
  if (p === ROOT_CA_CRL_CDP_PATH) return send(200, s.rootCrl, {'Content-Type': 'application/pkix-crl'})
  if (p === PCS_PATHS.crl) {
    const uri = u.searchParams.get('uri') ?? ''
    if (/\/IntelSGXRootCA\.(der|crl)$/i.test(uri)) return send(200, s.rootCrl, {'Content-Type': 'application/pkix-crl'})
    if (/\/pckcrl\?/.test(uri)) return send(200, s.pckCrl, {'Content-Type': 'application/pkix-crl', ...crlChain})
    return error(404, 'uri names no CRL served here')
  }
  for (const t of ['sgx', 'tdx'] as const) {
    if (p === PCS_PATHS.tcb(t)) {
      const f = u.searchParams.get('fmspc')
      if (!f || !/^[0-9a-fA-F]{12}$/.test(f)) return error(400, 'fmspc must be 12 hex digits')
      if (t !== s.tee || f.toLowerCase() !== s.fmspc) return error(404, `no ${t.toUpperCase()} TCB info for FMSPC ${f}`)
      const chain = enc(c.tcb_info_issuer_chain)
      return send(200, s.tcbBody, {'Content-Type': 'application/json', [PCS_HEADERS.tcbInfoChain]: chain, [PCS_HEADERS.tcbInfoChainV3]: chain})
    }
    if (p === PCS_PATHS.qeIdentity(t)) {
      const up = u.searchParams.get('update')
      if (up !== null && up !== 'standard' && up !== 'early') return error(400, 'update must be "standard" or "early"')
      if (t !== s.tee) return error(404, `no ${t.toUpperCase()} QE identity`)
      return send(200, s.qeBody, {'Content-Type': 'application/json', [PCS_HEADERS.qeIdentityChain]: enc(c.qe_identity_issuer_chain)})
    }
  }
  return error(404, `unknown path ${p}`)
}

/**
 * At most `cap` open connections. One over the cap closes the oldest connection with no request in
 * flight (a client still trickling its headers, or an idle keep-alive one) — so clients that connect
 * and stall cannot lock well-behaved ones out — and only when every connection is busy the newcomer.
 */
function capConnections(server: Server, cap: number, busy: ReadonlySet<Socket>): void {
  const open = new Set<Socket>()
  server.on('connection', (sock: Socket) => {
    open.add(sock)
    sock.once('close', () => open.delete(sock))
    if (open.size <= cap) return
    let victim: Socket = sock
    for (const s of open) {
      if (s !== sock && !busy.has(s)) {
        victim = s
        break
      }
    }
    open.delete(victim)
    victim.destroy()
  })
}

/** A DER CRL in one of the three body forms: hex text (PCCS), DER, PEM. */
function crlForm(der: Buffer, form: 'hex' | 'der' | 'pem'): {body: string | Buffer; type: string} {
  if (form === 'der') return {body: der, type: 'application/pkix-crl'}
  if (form === 'hex') return {body: der.toString('hex'), type: 'application/x-pem-file'}
  return {body: `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END X509 CRL-----\n`, type: 'application/x-pem-file'}
}

export async function startPccsServer(opts: PccsServerOptions): Promise<PccsServer> {
  const served = servedCollateral(opts)
  const handle = (req: IncomingMessage, res: ServerResponse): number => answer(served, req, res)

  const timeout = opts.requestTimeoutMs ?? PCCS_REQUEST_TIMEOUT_MS
  const keepAlive = opts.keepAliveTimeoutMs ?? PCCS_KEEP_ALIVE_MS
  const busy = new Set<Socket>()
  const server = createServer({requestTimeout: timeout, headersTimeout: timeout, keepAliveTimeout: keepAlive, connectionsCheckingInterval: Math.min(PCCS_CHECK_INTERVAL_MS, timeout)}, (req, res) => {
    busy.add(req.socket)
    res.once('close', () => busy.delete(req.socket))
    let status = 500
    try {
      status = handle(req, res)
    } catch {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    }
    opts.onRequest?.({method: req.method ?? '?', path: req.url ?? '', status})
  })
  capConnections(server, opts.maxConnections ?? PCCS_MAX_CONNECTIONS, busy)
  // No socket idle timeout on top: Node applies headersTimeout from the moment a connection opens,
  // so one that sends nothing at all gets its 408 and is closed like a stalled request.
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new InputError('LISTEN_FAILED', `cannot listen on ${host}:${opts.port ?? 0}: ${e.code ?? e.message}`)),
    )
    server.listen(opts.port ?? 0, host, () => resolve())
  })
  const addr = server.address() as AddressInfo
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  return {
    url: `http://${hostPart}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}
