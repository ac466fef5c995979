/**
 * The REPORTDATA flags shared by `report` and `quote generate`: hex (--report-data), raw bytes from
 * a file (--report-data-file, '-' for stdin), base64 (--report-data-base64), or a fresh random
 * --nonce (64 bytes, printed so the verifier can expect it: `quote verify --expect report_data=…`).
 * At most 64 bytes, zero-padded on the right; one of them at a time.
 */
import {randomBytes} from 'node:crypto'
import {REPORT_DATA_SIZE} from '../abi/tdreport.js'
import {readRawInput} from '../app/files.js'
import {InputError} from '../errors.js'
import {parseHexPadded} from '../util/bytes.js'
import {Flags} from './oclif.js'

export const REPORT_DATA_FLAG_NAMES = ['report-data', 'report-data-file', 'report-data-base64', 'nonce'] as const

/** The four ways to give REPORTDATA (spread into a command's flags), each exclusive of the others and of `also`. */
export const reportDataFlags = (also: string[] = []) => {
  const others = (me: string) => [...REPORT_DATA_FLAG_NAMES.filter((n) => n !== me), ...also]
  return {
    'report-data': Flags.string({summary: 'REPORTDATA as hex (≤ 64 bytes, zero-padded).', exclusive: others('report-data')}),
    'report-data-file': Flags.string({summary: 'REPORTDATA: the raw bytes of this file (≤ 64, zero-padded; - for stdin).', exclusive: others('report-data-file')}),
    'report-data-base64': Flags.string({summary: 'REPORTDATA as base64 or base64url (≤ 64 bytes, zero-padded).', exclusive: others('report-data-base64')}),
    nonce: Flags.boolean({summary: 'REPORTDATA: 64 fresh random bytes, printed (and in --json as "nonce").', exclusive: others('nonce')}),
  }
}

export interface ReportDataFlagValues {
  'report-data'?: string
  'report-data-file'?: string
  'report-data-base64'?: string
  nonce?: boolean
}

export interface ReportDataChoice {
  /** The 64 bytes. */
  bytes: Buffer
  /** Set when they are a fresh --nonce. */
  nonce?: Buffer
}

const B64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/** Zero-pad to 64 bytes, refusing more. */
function padded(b: Buffer, what: string): Buffer {
  if (b.length > REPORT_DATA_SIZE) throw new InputError('BAD_LENGTH', `${what}: at most ${REPORT_DATA_SIZE} bytes, got ${b.length}`)
  return Buffer.concat([b, Buffer.alloc(REPORT_DATA_SIZE - b.length)])
}

/** The REPORTDATA the flags give, or undefined when none of them is given. */
export function reportDataFromFlags(f: ReportDataFlagValues): ReportDataChoice | undefined {
  if (f['report-data'] !== undefined) return {bytes: parseHexPadded(f['report-data'], REPORT_DATA_SIZE, '--report-data')}
  if (f['report-data-file'] !== undefined) return {bytes: padded(readRawInput(f['report-data-file'], '--report-data-file', REPORT_DATA_SIZE), '--report-data-file')}
  if (f['report-data-base64'] !== undefined) {
    const text = f['report-data-base64'].trim()
    if (!B64.test(text)) throw new InputError('BAD_BASE64', '--report-data-base64: not base64 (A-Z a-z 0-9 + / or - _, = padding)')
    return {bytes: padded(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'), '--report-data-base64')}
  }
  if (f.nonce) {
    const nonce = randomBytes(REPORT_DATA_SIZE)
    return {bytes: nonce, nonce}
  }
  return undefined
}
