/**
 * The spdm-emu socket server (the emulator wire protocol of shared/oracles/spdm-emu/README.md §4.1)
 * with the PCI_DOE binding: one SPDM responder per connection, TEST hello, NORMAL frames answered
 * strictly one for one, SHUTDOWN / CONTINUE echoed then the connection closed. Bounded everywhere:
 * payload size, connections, per-connection idle time, and the time a response may take.
 */
import {createServer, type Server, type Socket} from 'node:net'
import type {AddressInfo} from 'node:net'
import {InputError} from '../errors.js'
import {DoeType, EMU_MAX_PAYLOAD, EMU_SERVER_HELLO, EmuCommand, EmuTransport, encodeEmuFrame} from '../abi/doe.js'
import {SPDM_VERSION_10, SpdmErrorCode} from '../abi/spdm.js'
import {errorMessage} from '../spdm/context.js'
import {FrameReader, encodeDoe} from '../spdm/transport.js'
import type {EmuFrame} from '../abi/doe.js'

export interface ConnectionHandler {
  /** one DOE data object in, one out */
  handle(payload: Buffer): Buffer
  /** runs after each handled frame, before the answer is written (e.g. persist device state) */
  settle?(): Promise<void>
}

export interface SpdmServerOptions {
  host?: string
  port?: number
  /** a fresh handler per connection */
  connection: () => ConnectionHandler
  max_connections?: number
  /** a connection that sends nothing for this long is closed */
  idle_timeout_ms?: number
  /** stop listening after the first connection that ends with SHUTDOWN */
  once?: boolean
  on_log?: (e: ServerLog) => void
}

export interface ServerLog {
  kind: 'connect' | 'close' | 'refused' | 'frame-error' | 'shutdown'
  peer: string
  detail?: string
}

export interface SpdmServer {
  port: number
  host: string
  /** resolves when the server stops (close(), or `once` and a SHUTDOWN) */
  done: Promise<void>
  close(): Promise<void>
}

export const DEFAULT_MAX_CONNECTIONS = 16
/** Frames of one connection waiting for an answer before reading pauses (a client that pipelines). */
const MAX_PENDING_FRAMES = 32
/** Answers a client may leave unread before the connection is dropped. */
const MAX_UNREAD_BYTES = 1 << 20
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000

/** The ERROR a malformed frame gets, as a PCI_DOE SPDM data object. */
const doeError = (code: number): Buffer => encodeDoe(DoeType.SPDM, errorMessage(SPDM_VERSION_10, code))

function serveConnection(sock: Socket, handler: ConnectionHandler, opts: SpdmServerOptions, onShutdown: () => void): void {
  const peer = `${sock.remoteAddress}:${sock.remotePort}`
  const log = (kind: ServerLog['kind'], detail?: string) => opts.on_log?.({kind, peer, detail})
  const reader = new FrameReader(EMU_MAX_PAYLOAD)
  let queue: Promise<void> = Promise.resolve()
  const send = (f: EmuFrame) => {
    if (sock.destroyed) return
    sock.write(encodeEmuFrame(f))
    if (sock.writableLength > MAX_UNREAD_BYTES) {
      log('close', 'the client does not read its answers')
      sock.destroy()
    }
  }
  let pending = 0
  const end = () => {
    if (!sock.destroyed) sock.end()
  }
  const one = async (f: EmuFrame): Promise<void> => {
    if (sock.destroyed) return
    switch (f.command) {
      case EmuCommand.TEST:
        return send({command: EmuCommand.TEST, transport: f.transport, payload: EMU_SERVER_HELLO})
      case EmuCommand.NORMAL: {
        const out = f.transport === EmuTransport.PCI_DOE ? handler.handle(f.payload) : doeError(SpdmErrorCode.InvalidRequest)
        if (f.transport !== EmuTransport.PCI_DOE) log('frame-error', `transport type ${f.transport} is not PCI_DOE (2)`)
        await handler.settle?.()
        return send({command: EmuCommand.NORMAL, transport: EmuTransport.PCI_DOE, payload: out})
      }
      case EmuCommand.SHUTDOWN:
      case EmuCommand.CONTINUE:
        send({command: f.command, transport: f.transport, payload: Buffer.alloc(0)})
        if (f.command === EmuCommand.SHUTDOWN) {
          log('shutdown')
          sock.once('close', onShutdown)
        }
        return end()
      default:
        log('frame-error', `unknown socket command 0x${f.command.toString(16)}`)
        send({command: EmuCommand.UNKNOWN, transport: f.transport, payload: Buffer.alloc(0)})
        return end()
    }
  }
  sock.setNoDelay(true)
  sock.setTimeout(opts.idle_timeout_ms ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
    log('close', 'idle timeout')
    sock.destroy()
  })
  sock.on('data', (chunk: Buffer) => {
    for (const ev of reader.push(chunk)) {
      if (ev.kind === 'oversize') {
        log('frame-error', `frame of ${ev.size} bytes exceeds ${EMU_MAX_PAYLOAD}`)
        queue = queue.then(() => send({command: EmuCommand.NORMAL, transport: EmuTransport.PCI_DOE, payload: doeError(SpdmErrorCode.RequestTooLarge)})).then(end)
        return
      }
      if (++pending >= MAX_PENDING_FRAMES) sock.pause()
      queue = queue
        .then(() => one(ev.frame))
        .catch((error: unknown) => {
          log('frame-error', (error as Error).message)
          sock.destroy()
        })
        .finally(() => {
          if (--pending < MAX_PENDING_FRAMES && !sock.destroyed) sock.resume()
        })
    }
  })
  sock.on('error', (e) => log('close', e.message))
  sock.on('close', () => log('close'))
}

/** Listen (port 0 = any free port) and serve until closed. */
export async function startSpdmServer(opts: SpdmServerOptions): Promise<SpdmServer> {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let resolveDone!: () => void
  const done = new Promise<void>((r) => (resolveDone = r))
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server?.close(() => {
        resolveDone()
        resolve()
      })
    })
  server = createServer((sock) => {
    const peer = `${sock.remoteAddress}:${sock.remotePort}`
    if (sockets.size >= (opts.max_connections ?? DEFAULT_MAX_CONNECTIONS)) {
      opts.on_log?.({kind: 'refused', peer, detail: 'connection limit reached'})
      sock.destroy()
      return
    }
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    opts.on_log?.({kind: 'connect', peer})
    serveConnection(sock, opts.connection(), opts, () => {
      if (opts.once) void close()
    })
  })
  const host = opts.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server!.once('error', (e: NodeJS.ErrnoException) => reject(new InputError('LISTEN_FAILED', `cannot listen on ${host}:${opts.port ?? 0}: ${e.code ?? e.message}`)))
    server!.listen(opts.port ?? 0, host, () => resolve())
  })
  const addr = server.address() as AddressInfo
  return {port: addr.port, host: addr.address, done, close}
}
