/**
 * The `tdx_guest` provider of the configfs-tsm report interface, after Linux's tdx-guest driver:
 * which attributes it shows, the inblob length rule, and the errno for each way a quote request
 * fails. Quote generation itself is injected (the simulated TD path, tsm-backend.ts), so this
 * module stays pure and unit-testable.
 *
 * Source: drivers/virt/coco/tdx-guest/tdx-guest.c, v6.16 (tdx_report_new_locked after the tsm-mr
 * rework) plus the v7.0-rc6 fixes ("Handle GetQuote request error code": status != SUCCESS →
 * EIO; "Fix handling of host controlled 'quote' buffer length": out_len > TDX_QUOTE_MAX_LEN →
 * EFBIG). Visibility callbacks tdx_report_attr_visible / tdx_report_bin_attr_visible since v6.10
 * (v6.7–v6.9 used the default item type with the same four attributes).
 */
import {GET_QUOTE_BUF_SIZE, GET_QUOTE_HEADER_SIZE} from '../abi/ghci.js'
import {REPORT_DATA_SIZE} from '../abi/tdreport.js'
import {TdxkitError} from '../errors.js'
import {TsmErrno, type TsmAttribute, type TsmErrnoName, type TsmProvider, type TsmReportBlobs, type TsmReportDesc} from './tsm-report.js'

/** KBUILD_MODNAME of the driver: what `provider` shows. */
export const TSM_PROVIDER_TDX = 'tdx_guest'

/** tdx-guest.c (v7.0) TDX_QUOTE_MAX_LEN: the 8 KiB GetQuote buffer less its header. */
export const TDX_QUOTE_MAX_LEN = GET_QUOTE_BUF_SIZE - GET_QUOTE_HEADER_SIZE

/** tdx_report_attr_visible + tdx_report_bin_attr_visible: generation, provider, inblob, outblob. */
export const TDX_VISIBLE_ATTRIBUTES: readonly TsmAttribute[] = ['generation', 'provider', 'inblob', 'outblob']

/**
 * What a failed quote request returns to the reader of outblob, by the simulated path's error
 * code (tdx_report_new_locked, v7.0):
 * - the previous request timed out and its buffer is still IN_FLIGHT → EBUSY (here: every
 *   dma-pool slot was abandoned to the host, POOL_EXHAUSTED);
 * - TDG.VP.VMCALL<GetQuote> itself failed → EIO;
 * - no completion within the wait (30 × 1 s in the driver) → ETIMEDOUT;
 * - completed with a status other than SUCCESS → EIO;
 * - out_len larger than the buffer holds → EFBIG.
 * The state lock held elsewhere for too long has no kernel analogue; it is EBUSY (try again).
 * Anything else is EIO (and the mount logs the cause).
 */
const ERRNO_OF_CODE: Readonly<Record<string, TsmErrnoName>> = {
  POOL_EXHAUSTED: 'EBUSY',
  GETQUOTE_FAILED: 'EIO',
  GETQUOTE_TIMEOUT: 'ETIMEDOUT',
  QGS_UNAVAILABLE: 'EIO',
  GETQUOTE_ERROR: 'EIO',
  QUOTE_TOO_LARGE: 'EFBIG',
  STATE_LOCKED: 'EBUSY',
}

export function errnoForQuoteError(error: unknown): TsmErrnoName {
  if (error instanceof TsmErrno) return error.errno
  if (error instanceof TdxkitError) return ERRNO_OF_CODE[error.code] ?? 'EIO'
  return 'EIO'
}

export interface TdxProviderOptions {
  /** Show every attribute of the report core (a provider without visibility callbacks). */
  allAttributes?: boolean
  /** privlevel_floor (meaningful with allAttributes; TDX has no privilege levels). */
  privlevelFloor?: number
  /** Called after each request with its outcome (for logging). */
  onRequest?: (r: {desc: TsmReportDesc; quote?: Buffer; error?: unknown; errno?: TsmErrnoName}) => void
}

/** A tdx_guest provider whose quotes come from `quote` (TDG.MR.REPORT → GetQuote, simulated). */
export function tdxGuestProvider(quote: (reportData: Buffer, desc: TsmReportDesc) => Promise<Buffer>, opts: TdxProviderOptions = {}): TsmProvider {
  return {
    name: TSM_PROVIDER_TDX,
    privlevelFloor: opts.privlevelFloor ?? 0,
    visible: opts.allAttributes ? undefined : (attr) => TDX_VISIBLE_ATTRIBUTES.includes(attr),
    async reportNew(desc): Promise<TsmReportBlobs> {
      try {
        // tdx_report_new_locked: REPORTDATA is exactly TDX_REPORTDATA_LEN bytes, else EINVAL.
        if (desc.inblob.length !== REPORT_DATA_SIZE) {
          throw new TsmErrno('EINVAL', `tdx_guest needs exactly ${REPORT_DATA_SIZE} bytes of inblob, got ${desc.inblob.length}`)
        }
        const q = await quote(desc.inblob, desc)
        if (q.length > TDX_QUOTE_MAX_LEN) throw new TsmErrno('EFBIG', `quote of ${q.length} bytes exceeds TDX_QUOTE_MAX_LEN (${TDX_QUOTE_MAX_LEN})`)
        opts.onRequest?.({desc, quote: q})
        return {outblob: q}
      } catch (error) {
        const errno = errnoForQuoteError(error)
        opts.onRequest?.({desc, error, errno})
        if (error instanceof TsmErrno) throw error
        throw new TsmErrno(errno, (error as Error)?.message ?? String(error))
      }
    },
  }
}
