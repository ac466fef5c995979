/**
 * A client for the spdm-emu socket protocol (the requester side): connect, TEST hello, NORMAL
 * request/response pairs with one outstanding at a time, SHUTDOWN or CONTINUE at the end. Every wait
 * is bounded by a timeout; frames are reassembled across TCP segments and oversized ones refused.
 */
import {connect, type Socket} from 'node:net'
import {InputError, TdxkitError, ExitCode} from '../errors.js'
import {EMU_CLIENT_HELLO, EMU_MAX_PAYLOAD, EmuCommand, EmuTransport, encodeEmuFrame, type EmuFrame} from '../abi/doe.js'
import {FrameReader} from '../spdm/transport.js'
import type {DoePort} from '../spdm/requester.js'

export const DEFAULT_CLIENT_TIMEOUT_MS = 10_000

/** The peer did not answer in time, closed the connection or broke the framing (exit 7). */
export class TransportError extends TdxkitError {
  constructor(code: string, message: string) {
    super(code, message, {exit: ExitCode.REFUSED})
  }
}

export interface EmuClient extends DoePort {
  /** finish: SHUTDOWN (the emulator exits) or CONTINUE (it keeps its context), then close */
  end(command?: 'shutdown' | 'continue'): Promise<void>
  destroy(): void
}

/** Parse HOST:PORT (IPv4, name, or [IPv6]:PORT). */
export function parseHostPort(text: string): {host: string; port: number} {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text)
  const port = m ? Number(m[3]) : NaN
  if (!m || port < 1 || port > 65535) throw new InputError('BAD_ADDRESS', `--connect: '${text}' is not HOST:PORT`)
  return {host: m[1] ?? m[2], port}
}

export async function connectEmu(host: string, port: number, opts: {timeout_ms?: number; transport?: number} = {}): Promise<EmuClient> {
  const timeout = opts.timeout_ms ?? DEFAULT_CLIENT_TIMEOUT_MS
  const transport = opts.transport ?? EmuTransport.PCI_DOE
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = connect({host, port})
    const t = setTimeout(() => {
      s.destroy()
      reject(new TransportError('CONNECT_TIMEOUT', `no connection to ${host}:${port} within ${timeout} ms`))
    }, timeout)
    s.once('connect', () => {
      clearTimeout(t)
      resolve(s)
    })
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t)
      reject(new TransportError('CONNECT_FAILED', `cannot connect to ${host}:${port}: ${e.code ?? e.message}`))
    })
  })
  sock.setNoDelay(true)
  const reader = new FrameReader(EMU_MAX_PAYLOAD)
  const inbox: EmuFrame[] = []
  let waiter: ((f: EmuFrame | Error) => void) | undefined
  let broken: Error | undefined
  const deliver = (x: EmuFrame | Error) => {
    if (x instanceof Error) broken = x
    else inbox.push(x)
    if (waiter) {
      const w = waiter
      waiter = undefined
      w(x instanceof Error ? x : inbox.shift()!)
    }
  }
  sock.on('data', (chunk: Buffer) => {
    for (const ev of reader.push(chunk)) {
      if (ev.kind === 'oversize') deliver(new TransportError('FRAME_TOO_LARGE', `the peer sent a ${ev.size}-byte frame (limit ${EMU_MAX_PAYLOAD})`))
      else deliver(ev.frame)
    }
  })
  sock.on('close', () => deliver(new TransportError('PEER_CLOSED', `${host}:${port} closed the connection`)))
  sock.on('error', (e) => deliver(new TransportError('SOCKET_ERROR', `${host}:${port}: ${e.message}`)))
  const next = (what: string): Promise<EmuFrame> =>
    new Promise((resolve, reject) => {
      if (inbox.length) return resolve(inbox.shift()!)
      if (broken) return reject(broken)
      const t = setTimeout(() => {
        waiter = undefined
        reject(new TransportError('RESPONSE_TIMEOUT', `no answer to ${what} within ${timeout} ms`))
      }, timeout)
      waiter = (x) => {
        clearTimeout(t)
        if (x instanceof Error) reject(x)
        else resolve(x)
      }
    })
  const roundTrip = async (command: number, payload: Buffer, what: string): Promise<EmuFrame> => {
    sock.write(encodeEmuFrame({command, transport, payload}))
    const f = await next(what)
    if (f.command !== command) throw new TransportError('UNEXPECTED_FRAME', `${what}: the peer answered socket command 0x${f.command.toString(16)}`)
    return f
  }
  try {
    await roundTrip(EmuCommand.TEST, EMU_CLIENT_HELLO, 'the TEST hello')
  } catch (error) {
    sock.destroy()
    throw error
  }
  return {
    exchange: async (payload) => (await roundTrip(EmuCommand.NORMAL, payload, 'an SPDM request')).payload,
    end: async (command = 'shutdown') => {
      try {
        await roundTrip(command === 'shutdown' ? EmuCommand.SHUTDOWN : EmuCommand.CONTINUE, Buffer.alloc(0), command.toUpperCase())
      } finally {
        sock.destroy()
      }
    },
    destroy: () => sock.destroy(),
  }
}
