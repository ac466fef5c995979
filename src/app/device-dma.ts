/**
 * `device dma`: one DMA from a simulated device into the TD's memory through the TDX Connect IOMMU
 * model (src/machine/dma.ts). The device may send TEE-TLPs (T=1) only after lock → verify → accept
 * (src/device dmaTrust); untrusted (T=0) DMA reaches only shared memory, and a blocked access is an
 * exit-7 refusal that says what the device, the TD and the host each saw.
 */
import {InputError, RefusedError} from '../errors.js'
import {Iommu, type DmaDirection, type DmaFaultReason, type DmaOutcome} from '../machine/dma.js'
import {PAGE_SIZE, type GuestMemory} from '../machine/memory.js'
import {findDevice} from '../device/registry.js'
import {dmaTrust, summarize, type DeviceSummary} from '../device/service.js'
import {withDevices} from './device.js'
import type {StateStore} from '../state/store.js'

/** Largest DMA one command moves (a bounded model, not a benchmark). */
export const DMA_MAX_BYTES = 1 << 20
/** What the device writes unless told otherwise, and what the TD puts in a buffer the device reads. */
const DEVICE_PATTERN = Buffer.from('tdxkit device DMA ', 'ascii')
const TD_PATTERN = Buffer.from('TD private data  ', 'ascii')
const PREVIEW_BYTES = 16

export interface DmaOptions {
  device: string
  /** the DMA address; the shared bit (GPAW-1) set means the shared alias */
  gpa: bigint
  bytes: number
  direction: DmaDirection
  /** the buffer is shared memory: the TD converts it and hands the device its shared-alias address */
  shared?: boolean
  /** write: bytes to write (repeated to `bytes`); default a fixed pattern */
  data?: Buffer
}

export interface DmaResult {
  device: DeviceSummary
  direction: DmaDirection
  gpa: string
  alias: 'private' | 'shared'
  bytes: number
  pages: number
  tlp: 'T=1' | 'T=0'
  trusted: boolean
  why: string
  /** write: the TD reads back what the device wrote; read: the device got what the TD had stored */
  verified: boolean
  preview: string
}

const repeatTo = (pattern: Buffer, n: number): Buffer => Buffer.alloc(n, pattern.length ? pattern : DEVICE_PATTERN)

/** The DMA address checked against the TD's memory: page range inside guest RAM. */
function checkRange(mem: GuestMemory, gpa: bigint, bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > DMA_MAX_BYTES) throw new InputError('BAD_DMA_SIZE', `--bytes must be 1-${DMA_MAX_BYTES}, got ${bytes}`)
  if (gpa < 0n || gpa >= 1n << BigInt(mem.gpaw)) throw new InputError('BAD_GPA', `GPA 0x${gpa.toString(16)} is beyond the TD's ${mem.gpaw}-bit guest-physical address width`)
  const end = mem.strip(gpa) + BigInt(bytes)
  if (end > BigInt(mem.sizeBytes)) throw new InputError('BAD_GPA', `GPA range 0x${mem.strip(gpa).toString(16)}+${bytes} leaves the TD's ${mem.sizeBytes}-byte guest RAM`)
}

/** A shared buffer exists because the TD converted it (MapGPA), as dma_alloc_coherent / SWIOTLB buffers are. */
function shareBuffer(mem: GuestMemory, base: bigint, bytes: number): void {
  const page = BigInt(PAGE_SIZE)
  const first = (base / page) * page
  const pages = Number((base + BigInt(bytes) - first + page - 1n) / page)
  mem.setState(first, pages, 'shared')
}

const REASON_TEXT: Record<DmaFaultReason, string> = {
  UNTRUSTED_TO_PRIVATE: 'may reach shared memory only (TDX Connect TEE-IO Device Guide, Table A-8)',
  NO_SHARED_MAPPING: 'names a page the TD has not converted to shared',
  NO_PRIVATE_MAPPING: 'names a page that is not accepted private memory',
}

/** What gets this device to T=1, from where its TDI is. */
function trustHint(id: string, tdiState: string): string {
  if (tdiState === 'CONFIG_UNLOCKED') return `; T=1 needs lock → verify → accept ('tdxkit device lock ${id}', then 'tdxkit device accept ${id}')`
  if (tdiState === 'CONFIG_LOCKED') return `; T=1 needs verify → accept ('tdxkit device accept ${id}')`
  return `; T=1 needs a fresh lock → verify → accept ('tdxkit device reset ${id}' first)`
}

function blocked(id: string, tdiState: string, o: DmaOutcome, why: string, unchanged: boolean): RefusedError {
  const f = o.faults[0]
  const seen = o.direction === 'write' ? `the device saw nothing (posted write, no completion)${unchanged ? ", the TD's memory is unchanged" : ''}` : 'the device got an error completion, no TD data'
  return new RefusedError(
    'DMA_BLOCKED',
    `IOMMU blocked ${id}'s DMA ${o.direction} of ${o.bytes} bytes at ${o.alias} GPA 0x${o.gpa.toString(16)}: ${o.tlp} traffic (${why}) ${REASON_TEXT[f.reason]}; ${seen}, the IOMMU logged the fault${f.reason === 'UNTRUSTED_TO_PRIVATE' ? trustHint(id, tdiState) : ''}`,
    {
      detail: {
        reason: f.reason,
        tlp: o.tlp,
        alias: o.alias,
        gpa: '0x' + o.gpa.toString(16),
        bytes: o.bytes,
        bytes_done: o.bytes_done,
        faults: o.faults.map((x) => ({gpa: '0x' + x.gpa.toString(16), page_state: x.page_state, reason: x.reason, device_sees: x.device_sees})),
        td_memory_unchanged: unchanged,
      },
    },
  )
}

/** One DMA by a device into (or out of) the TD's memory; RefusedError (exit 7) when the IOMMU blocks it. */
export async function deviceDma(store: StateStore, opts: DmaOptions) {
  return withDevices(store, (ctx, p): DmaResult => {
    const rec = findDevice(ctx.section, opts.device)
    const mem = p.memory
    checkRange(mem, opts.gpa, opts.bytes)
    const {trusted, why} = dmaTrust(rec)
    const base = mem.strip(opts.gpa)
    const shared = opts.shared === true || mem.isSharedAlias(opts.gpa)
    if (shared) shareBuffer(mem, base, opts.bytes)
    const target = shared ? mem.sharedAlias(base) : base
    const tdData = repeatTo(TD_PATTERN, opts.bytes)
    if (opts.direction === 'read') mem.write(target, tdData)
    const data = opts.direction === 'write' ? repeatTo(opts.data ?? DEVICE_PATTERN, opts.bytes) : undefined
    const before = mem.read(target, opts.bytes)
    const out = new Iommu(mem).dma({requester: {id: rec.id, trusted}, gpa: target, direction: opts.direction, data, bytes: opts.bytes})
    const tdView = mem.read(target, opts.bytes)
    if (out.faults.length) throw blocked(rec.id, rec.tdi.state, out, why, tdView.equals(before))
    const moved = opts.direction === 'write' ? tdView : out.data!
    return {
      device: summarize(rec),
      direction: opts.direction,
      gpa: '0x' + target.toString(16),
      alias: out.alias,
      bytes: out.bytes,
      pages: out.pages,
      tlp: out.tlp,
      trusted,
      why,
      verified: opts.direction === 'write' ? tdView.equals(data!) : moved.equals(tdData),
      preview: moved.subarray(0, PREVIEW_BYTES).toString('hex'),
    }
  })
}
