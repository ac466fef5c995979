/**
 * Measurements the way the TDX module computes them.
 *
 * - MRTD: an incremental SHA-384 over 128-byte blocks. TDH.MEM.PAGE.ADD appends one block
 *   ("MEM.PAGE.ADD" zero-padded to 16 bytes, the page GPA as u64 LE, 104 zero bytes); TDH.MR.EXTEND
 *   appends, per 256-byte chunk, a block ("MR.EXTEND", chunk GPA) followed by the 256 content bytes.
 *   TDH.MR.FINALIZE closes the hash. The TD image is simulated: its pages are derived from the seed.
 * - RTMR[i] = SHA-384(RTMR[i] ‖ 48-byte digest), starting from 48 zero bytes.
 * - REPORTMAC: real CPUs MAC the REPORTMACSTRUCT with an undisclosed, CPU-internal key and
 *   algorithm. The simulator uses HMAC-SHA-256 under a per-platform key (module.reportmac_key) over
 *   the REPORTMACSTRUCT's first 224 bytes: all the quoting enclave needs is to check that a TDREPORT
 *   came from this platform's module, which it does with the same key (verifyTdReportMac).
 */
import {createHash, createHmac, timingSafeEqual, type Hash} from 'node:crypto'
import {MEASUREMENT_SIZE, REPORTMAC_INPUT_SIZE, REPORTMACSTRUCT} from '../abi/tdreport.js'
import {deriveBytes} from '../util/seed.js'

const MRTD_BLOCK_SIZE = 128
const MR_EXTEND_CHUNK = 256
const MRTD_TAG_SIZE = 16
const MEM_PAGE_ADD_TAG = 'MEM.PAGE.ADD'
const MR_EXTEND_TAG = 'MR.EXTEND'
const TD_PAGE_SIZE = 4096

/** One 128-byte MRTD block: tag (zero-padded to 16) ‖ GPA (u64 LE) ‖ zeros. */
export function mrtdBlock(tag: string, gpa: bigint): Buffer {
  const b = Buffer.alloc(MRTD_BLOCK_SIZE)
  b.write(tag, 0, MRTD_TAG_SIZE, 'ascii')
  b.writeBigUInt64LE(gpa, MRTD_TAG_SIZE)
  return b
}

/** MRTD being built with TDH.MEM.PAGE.ADD / TDH.MR.EXTEND, finalized with TDH.MR.FINALIZE. */
class MrtdBuilder {
  private readonly hash: Hash = createHash('sha384')
  pagesAdded = 0
  chunksExtended = 0

  memPageAdd(gpa: bigint): void {
    this.hash.update(mrtdBlock(MEM_PAGE_ADD_TAG, gpa))
    this.pagesAdded++
  }

  /** TDH.MR.EXTEND of one 256-byte chunk at a 256-aligned GPA. */
  mrExtend(gpa: bigint, chunk: Uint8Array): void {
    if (chunk.length !== MR_EXTEND_CHUNK || gpa % BigInt(MR_EXTEND_CHUNK) !== 0n) throw new Error('MR.EXTEND needs a 256-byte chunk at a 256-aligned GPA')
    this.hash.update(mrtdBlock(MR_EXTEND_TAG, gpa))
    this.hash.update(chunk)
    this.chunksExtended++
  }

  finalize(): Buffer {
    return this.hash.digest()
  }
}

interface TdImagePage {
  gpa: bigint
  content: Buffer
  /** Whether the page's content is measured with TDH.MR.EXTEND (TDVF marks some regions unmeasured). */
  measured: boolean
}

/** A small simulated TD image (firmware volume + config pages) just below 4 GiB, derived from the seed. */
const TD_IMAGE_PAGES = 8
const TD_IMAGE_BASE = 0x1_0000_0000n - BigInt(TD_IMAGE_PAGES * TD_PAGE_SIZE)

export function simulatedTdImage(seed: string): TdImagePage[] {
  return Array.from({length: TD_IMAGE_PAGES}, (_, i) => ({
    gpa: TD_IMAGE_BASE + BigInt(i * TD_PAGE_SIZE),
    content: deriveBytes(seed, `td-image/page-${i}`, TD_PAGE_SIZE),
    // The first page stands for the TD HOB / mailbox area: added but not extended, like TDVF's.
    measured: i !== 0,
  }))
}

/** MRTD of an image: PAGE.ADD every page, MR.EXTEND every 256-byte chunk of measured pages. */
export function computeMrtd(image: readonly TdImagePage[]): Buffer {
  const b = new MrtdBuilder()
  for (const page of image) {
    b.memPageAdd(page.gpa)
    if (!page.measured) continue
    for (let off = 0; off < page.content.length; off += MR_EXTEND_CHUNK) {
      b.mrExtend(page.gpa + BigInt(off), page.content.subarray(off, off + MR_EXTEND_CHUNK))
    }
  }
  return b.finalize()
}

/** RTMR extend: SHA-384(old ‖ digest). */
export function rtmrExtend(old: Uint8Array, digest: Uint8Array): Buffer {
  if (old.length !== MEASUREMENT_SIZE || digest.length !== MEASUREMENT_SIZE) throw new Error('RTMR extend needs two 48-byte values')
  return createHash('sha384').update(old).update(digest).digest()
}

/** REPORTMAC over REPORTMACSTRUCT bytes 0..223. */
export function reportMac(key: Uint8Array, reportMacStruct: Uint8Array): Buffer {
  return createHmac('sha256', key).update(reportMacStruct.subarray(0, REPORTMAC_INPUT_SIZE)).digest()
}

/** Check a report's MAC with the platform key (constant time). */
export function checkReportMac(key: Uint8Array, report: Uint8Array): boolean {
  if (report.length < REPORTMACSTRUCT.size) return false
  const expected = reportMac(key, report)
  const mac = report.subarray(REPORTMACSTRUCT.fields.mac.offset, REPORTMACSTRUCT.fields.mac.offset + REPORTMACSTRUCT.fields.mac.size)
  return timingSafeEqual(expected, mac)
}
