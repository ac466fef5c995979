/**
 * A local collateral service on Intel's PCS v4 paths, serving one QuoteCollateralV3 bundle, so CI
 * can run the fetch-and-verify flow offline. Loopback by default; malformed requests get 400,
 * unknown paths 404, other methods 405. Connections are capped and every wait is bounded, so a
 * client that connects and stalls cannot hold the service from the others.
 *
 *   GET /sgx/certification/v4/pckcrl?ca=platform|processor[&encoding=der|pem]
 *   GET /sgx/certification/v4/rootcacrl
 *   GET /{sgx|tdx}/certification/v4/tcb?fmspc=HEX12
 *   GET /{sgx|tdx}/certification/v4/qe/identity
 */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {TCB_INFO_ID_SGX} from '../abi/tcb-info.js'
import {InputError} from '../errors.js'
import {checkCollateralBundle} from '../verify/collateral-bundle.js'
import {PCS_HEADERS, PCS_PATHS, type PckCa} from '../abi/pcs.js'
import {pckCaOfName} from '../verify/pck-info.js'
import {parseCrl} from '../x509/dcap.js'

/** Open connections served at once (more are closed on arrival). */
export const PCCS_MAX_CONNECTIONS = 64
/** A request's headers, and the whole request, must arrive within this (ms); else 408 and close. */
export const PCCS_REQUEST_TIMEOUT_MS = 10_000
/** An idle keep-alive connection is closed after this (ms). */
export const PCCS_KEEP_ALIVE_MS = 5_000

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
}

interface PccsServer {
  url: string
  close(): Promise<void>
}

/** The bundle as the service serves it: platform (TEE, FMSPC, CA type) and each response body. */
interface Served {
  c: QuoteCollateralV3
  tee: 'sgx' | 'tdx'
  fmspc: string
  ca: PckCa
  pckCrl: Buffer
  rootCrl: Buffer
  tcbBody: string
  qeBody: string
}

function servedCollateral(opts: PccsServerOptions): Served {
  const c = checkCollateralBundle(opts.collateral)
  let tcbJson: {id?: string; fmspc?: string}
  try {
    tcbJson = JSON.parse(c.tcb_info)
  } catch {
    throw new InputError('COLLATERAL_JSON', 'collateral tcb_info is not JSON')
  }
  let ca: PckCa = 'platform'
  try {
    ca = pckCaOfName(parseCrl(Buffer.from(c.pck_crl, 'hex')).issuerCN)
  } catch {
    // An unparsable CRL is still served as given; clients will reject it.
  }
  return {
    c,
    fmspc: (opts.fmspc ?? tcbJson.fmspc ?? '').toLowerCase(),
    tee: tcbJson.id === TCB_INFO_ID_SGX ? 'sgx' : 'tdx',
    ca,
    pckCrl: Buffer.from(c.pck_crl, 'hex'),
    rootCrl: Buffer.from(c.root_ca_crl, 'hex'),
    tcbBody: `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`,
    qeBody: `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`,
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
  const known = new Set(['ca', 'encoding', 'fmspc', 'update'])
  for (const k of u.searchParams.keys()) if (!known.has(k)) return error(400, `unknown query parameter "${k}"`)
  if (p === PCS_PATHS.pckcrl) {
    const want = u.searchParams.get('ca')
    if (want !== 'platform' && want !== 'processor') return error(400, 'ca must be "platform" or "processor"')
    const encoding = u.searchParams.get('encoding') ?? 'der'
    if (encoding !== 'der' && encoding !== 'pem') return error(400, 'encoding must be "der" or "pem"')
    if (want !== s.ca) return error(404, `no CRL for ca=${want}`)
    const body = encoding === 'der' ? s.pckCrl : `-----BEGIN X509 CRL-----\n${s.pckCrl.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`
    return send(200, body, {'Content-Type': encoding === 'der' ? 'application/pkix-crl' : 'application/x-pem-file', [PCS_HEADERS.pckCrlChain]: enc(c.pck_crl_issuer_chain)})
  }
  if (p === PCS_PATHS.rootcacrl) return send(200, s.rootCrl, {'Content-Type': 'application/pkix-crl'})
  for (const t of ['sgx', 'tdx'] as const) {
    if (p === PCS_PATHS.tcb(t)) {
      const f = u.searchParams.get('fmspc')
      if (!f || !/^[0-9a-fA-F]{12}$/.test(f)) return error(400, 'fmspc must be 12 hex digits')
      if (t !== s.tee || f.toLowerCase() !== s.fmspc) return error(404, `no ${t.toUpperCase()} TCB info for FMSPC ${f}`)
      return send(200, s.tcbBody, {'Content-Type': 'application/json', [PCS_HEADERS.tcbInfoChain]: enc(c.tcb_info_issuer_chain)})
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

export async function startPccsServer(opts: PccsServerOptions): Promise<PccsServer> {
  const served = servedCollateral(opts)
  const handle = (req: IncomingMessage, res: ServerResponse): number => answer(served, req, res)

  const timeout = opts.requestTimeoutMs ?? PCCS_REQUEST_TIMEOUT_MS
  const server = createServer({requestTimeout: timeout, headersTimeout: timeout, keepAliveTimeout: PCCS_KEEP_ALIVE_MS, connectionsCheckingInterval: Math.min(1000, timeout)}, (req, res) => {
    let status = 500
    try {
      status = handle(req, res)
    } catch {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    }
    opts.onRequest?.({method: req.method ?? '?', path: req.url ?? '', status})
  })
  server.maxConnections = opts.maxConnections ?? PCCS_MAX_CONNECTIONS
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
