/**
 * PEM: certificate chains read strictly (a quote's certification data) or loosely (collateral),
 * certificate files a user gives (roots, trust anchors, identities), and DER written as PEM.
 */
import {X509Error} from './cert.js'

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\n((?:[A-Za-z0-9+/=]+\n)+)-----END CERTIFICATE-----/y
const PEM_LOOSE = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g
/** Base64 characters per PEM line (RFC 7468 §2). */
const PEM_LINE = 64

const BASE64_VALUE: Readonly<Record<string, number>> = Object.fromEntries([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]))
/** Low bits of the last data character that a canonical encoding leaves zero, by the number of '=' (RFC 4648 §3.5). */
const UNUSED_BITS = [0, 0x03, 0x0f]

/**
 * Whether `b64` (base64 characters and '=' only) is the canonical encoding of the `n` bytes it
 * decoded to: a multiple of 4 characters, '=' only as the last one or two, no bits set beyond the
 * data, and nothing Buffer.from skipped. Checked by arithmetic, not by re-encoding.
 */
function canonicalBase64(b64: string, n: number): boolean {
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0
  if (n === 0 || b64.length % 4 !== 0 || b64.indexOf('=') !== (pad ? b64.length - pad : -1)) return false
  return n === (b64.length / 4) * 3 - pad && (BASE64_VALUE[b64[b64.length - 1 - pad]] & UNUSED_BITS[pad]) === 0
}

/**
 * Certificates from a PEM chain. `strict` (the quote's own certification data): blocks separated by
 * single newlines, 64-column-free base64 lines of only base64 characters, canonical base64, and
 * nothing after the last block but an optional newline and one NUL. Loose (collateral issuer
 * chains): any whitespace. Throws X509Error on anything else.
 */
export function parsePemChain(text: string, strict: boolean): Buffer[] {
  const out: Buffer[] = []
  const decode = (b64raw: string) => out.push(decodeBlock(b64raw))
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

/** One block's base64 (any whitespace inside) as DER; throws X509Error unless it is canonical base64. */
function decodeBlock(b64raw: string): Buffer {
  const b64 = b64raw.replace(/\s+/g, '')
  const der = Buffer.from(b64, 'base64')
  if (!canonicalBase64(b64, der.length)) throw new X509Error('malformed', 'PEM certificate is not canonical base64')
  return der
}

/**
 * The certificates of a PEM file a user gives (a trusted root, a trust anchor, an identity chain):
 * every CERTIFICATE block in order, each canonical base64; text outside the blocks is explanatory
 * (RFC 7468 §2: openssl's `subject=` lines) and ignored. Throws X509Error without a block.
 */
export function pemCertificates(text: string): Buffer[] {
  const ders = [...text.matchAll(PEM_LOOSE)].map((m) => decodeBlock(m[1]))
  if (ders.length === 0) throw new X509Error('malformed', 'no PEM CERTIFICATE block')
  return ders
}

/** DER as a PEM block with 64-character lines. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der).toString('base64')
  return `-----BEGIN ${label}-----\n${b64.match(new RegExp(`.{1,${PEM_LINE}}`, 'g'))!.join('\n')}\n-----END ${label}-----\n`
}

/** All DER blobs of a PEM text with the given label, in order (no validation: for the simulator's own output and tests). */
export function pemToDers(pem: string, label = 'CERTIFICATE'): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g')
  return [...pem.matchAll(re)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'))
}
