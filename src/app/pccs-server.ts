/**
 * A local collateral service on Intel's PCS v4 paths, serving one QuoteCollateralV3 bundle, so CI
 * can run the fetch-and-verify flow offline. Loopback by default; malformed requests get 400,
 * unknown paths 404, other methods 405.
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
import {parseCrl} from '../verify/x509.js'

export interface PccsServerOptions {
  collateral: QuoteCollateralV3
  /** FMSPC served (default: the TCB info's). */
  fmspc?: string
  host?: string
  port?: number
  /** Called once per request (for logging). */
  onRequest?: (r: {method: string; path: string; status: number}) => void
}

export interface PccsServer {
  url: string
  close(): Promise<void>
}

export async function startPccsServer(opts: PccsServerOptions): Promise<PccsServer> {
  const c = checkCollateralBundle(opts.collateral)
  let tcbJson: {id?: string; fmspc?: string}
  try {
    tcbJson = JSON.parse(c.tcb_info)
  } catch {
    throw new InputError('COLLATERAL_JSON', 'collateral tcb_info is not JSON')
  }
  const fmspc = (opts.fmspc ?? tcbJson.fmspc ?? '').toLowerCase()
  const tee: 'sgx' | 'tdx' = tcbJson.id === TCB_INFO_ID_SGX ? 'sgx' : 'tdx'
  let ca: PckCa = 'platform'
  try {
    ca = pckCaOfName(parseCrl(Buffer.from(c.pck_crl, 'hex')).issuerCN)
  } catch {
    // An unparsable CRL is still served as given; clients will reject it.
  }
  const pckCrl = Buffer.from(c.pck_crl, 'hex')
  const rootCrl = Buffer.from(c.root_ca_crl, 'hex')
  const tcbBody = `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`
  const qeBody = `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`
  const enc = (pem: string) => encodeURIComponent(pem)

  const handle = (req: IncomingMessage, res: ServerResponse): number => {
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
      if (want !== ca) return error(404, `no CRL for ca=${want}`)
      const body = encoding === 'der' ? pckCrl : `-----BEGIN X509 CRL-----\n${pckCrl.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`
      return send(200, body, {'Content-Type': encoding === 'der' ? 'application/pkix-crl' : 'application/x-pem-file', [PCS_HEADERS.pckCrlChain]: enc(c.pck_crl_issuer_chain)})
    }
    if (p === PCS_PATHS.rootcacrl) return send(200, rootCrl, {'Content-Type': 'application/pkix-crl'})
    for (const t of ['sgx', 'tdx'] as const) {
      if (p === PCS_PATHS.tcb(t)) {
        const f = u.searchParams.get('fmspc')
        if (!f || !/^[0-9a-fA-F]{12}$/.test(f)) return error(400, 'fmspc must be 12 hex digits')
        if (t !== tee || f.toLowerCase() !== fmspc) return error(404, `no ${t.toUpperCase()} TCB info for FMSPC ${f}`)
        return send(200, tcbBody, {'Content-Type': 'application/json', [PCS_HEADERS.tcbInfoChain]: enc(c.tcb_info_issuer_chain)})
      }
      if (p === PCS_PATHS.qeIdentity(t)) {
        const up = u.searchParams.get('update')
        if (up !== null && up !== 'standard' && up !== 'early') return error(400, 'update must be "standard" or "early"')
        if (t !== tee) return error(404, `no ${t.toUpperCase()} QE identity`)
        return send(200, qeBody, {'Content-Type': 'application/json', [PCS_HEADERS.qeIdentityChain]: enc(c.qe_identity_issuer_chain)})
      }
    }
    return error(404, `unknown path ${p}`)
  }

  const server = createServer((req, res) => {
    let status = 500
    try {
      status = handle(req, res)
    } catch {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    }
    opts.onRequest?.({method: req.method ?? '?', path: req.url ?? '', status})
  })
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
