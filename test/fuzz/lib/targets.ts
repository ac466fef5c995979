/**
 * Fuzz targets: one per parser family outside the quote verifier. Each takes bytes (so any failing
 * input can be kept as a regression file), has a structure-aware arbitrary seeded from the corpora,
 * and a `run` that drives the parser and the code consuming its result the way the commands do.
 * The property checked by the harness: `run` returns, or throws a TdxkitError; nothing else.
 */
import fc from 'fast-check'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import type {Corpora} from './seeds.js'
import {FUZZ_AT, FUZZ_NONCE, FUZZ_PLATFORM_SEED} from './seeds.js'
import {applyEdits, edit, garbage, mutant} from './mutate.js'
import {cborTreeMutant, cborValue, encodeCbor} from './cbor.js'
import {stateTextMutant} from './json.js'
import {tempDir} from '../../helpers/cli.js'
import {parseTdReport, tdReportFields, TDREPORT_SIZE} from '../../../src/abi/tdreport.js'
import {quoteTdReport} from '../../../src/host/qe.js'
import {decodeTdiReport, encodeTdiReport, type TdiReport} from '../../../src/abi/tdisp.js'
import {decodeMeasurementRecord, encodeMeasurementRecord, parseGetMeasurements, parseMeasurementsResponse, parseVca, type MeasurementBlock} from '../../../src/abi/spdm.js'
import {appraiseMeasurements, checkInterfaceReport, defaultPolicy, referenceByIndex, splitMeasurementsObject, verifyDeviceEvidence} from '../../../src/device/verifier.js'
import {parseCertChain, verifyCertChain} from '../../../src/device/chain.js'
import {splitDerCerts} from '../../../src/x509/chain.js'
import {decodeCorim} from '../../../src/device/corim.js'
import {decodeEvidence, encodeEvidence, evidenceJson} from '../../../src/device/evidence.js'
import {logAreaFromTable, parseCcelTable, parseEventLog} from '../../../src/eventlog/parse.js'
import {compareToRtmrs, replayTrace} from '../../../src/eventlog/replay.js'
import {eventLogToJson, ccelTableToJson} from '../../../src/eventlog/json.js'
import {encodeEvent2, encodeSpecIdEvent, encodeSpecIdRecord, eventsToCcelLog} from '../../../src/eventlog/encode.js'
import {TPM_ALG} from '../../../src/abi/tcg.js'
import {GET_QUOTE_HEADER, GET_QUOTE_HEADER_SIZE, GET_QUOTE_CMD_VERSION, SERVICE_CMD_HEADER, SERVICE_HEADER_SIZE, SERVICE_QUOTE_CMD, SERVICE_GUID_TDXKIT_QUOTE, SERVICE_RSP_HEADER, TdVmCall, guidToBytes} from '../../../src/abi/ghci.js'
import {writeField} from '../../../src/abi/layout.js'
import {Platform, createPlatformDoc} from '../../../src/module/platform.js'
import {ensurePlatform, withPlatform} from '../../../src/app/platform.js'
import {openSession} from '../../../src/app/session.js'
import {generateQuote} from '../../../src/app/quote.js'
import {getTdReport, extendRtmr} from '../../../src/guest/tdx-guest.js'
import {platformSummary} from '../../../src/module/summary.js'
import {listDevices, lockDevice, unlockDevice, collectEvidence} from '../../../src/app/device.js'
import {StateStore} from '../../../src/state/store.js'
import {PAGE_SIZE} from '../../../src/machine/memory.js'
import {TdxkitError} from '../../../src/errors.js'

export interface Target {
  name: string
  /** what it feeds, for the report */
  what: string
  arbitrary(c: Corpora): fc.Arbitrary<Buffer>
  run(input: Buffer, c: Corpora): unknown | Promise<unknown>
  /** relative weight of this target in long campaigns (slow targets get fewer inputs) */
  weight?: number
}

const bytesOr = (c: readonly Buffer[], extra: fc.Arbitrary<Buffer>[] = []): fc.Arbitrary<Buffer> =>
  fc.oneof({weight: 8, arbitrary: mutant(c)}, {weight: 1, arbitrary: garbage()}, ...extra.map((a) => ({weight: 3, arbitrary: a})))

// ---------------------------------------------------------------- structure generators

const u16 = fc.integer({min: 0, max: 0xffff})
const u32 = fc.integer({min: 0, max: 0xffffffff})

const tdiReport: fc.Arbitrary<TdiReport> = fc.record({
  interface_info: u16,
  msi_x_message_control: u16,
  lnr_control: u16,
  tph_control: u32,
  mmio_ranges: fc.array(
    fc.record({first_4k_page: fc.bigInt({min: 0n, max: (1n << 64n) - 1n}), number_of_pages: u32, range_attributes: u16, range_id: fc.oneof(fc.integer({min: 0, max: 6}), u16)}),
    {maxLength: 8},
  ),
  device_specific_info: fc.uint8Array({maxLength: 32}).map((u) => Buffer.from(u)),
})

const measBlocks: fc.Arbitrary<MeasurementBlock[]> = fc.array(
  fc.record({index: fc.integer({min: 0, max: 255}), spec: fc.constantFrom(1, 0, 2, 0xff), value_type: fc.integer({min: 0, max: 255}), value: fc.oneof(fc.constantFrom(32, 48, 64, 16, 0).map((n) => Buffer.alloc(n, 0x11)), fc.uint8Array({maxLength: 80}).map((u) => Buffer.from(u)))}),
  {maxLength: 8},
)

const tcgEvents: fc.Arbitrary<Buffer> = fc
  .record({
    algs: fc.array(fc.constantFrom(TPM_ALG.SHA384, TPM_ALG.SHA256, TPM_ALG.SHA512, TPM_ALG.SHA1, 0x0099), {minLength: 1, maxLength: 3}),
    events: fc.array(fc.record({mr: fc.integer({min: 0, max: 6}), type: fc.constantFrom(0x3, 0x4, 0x5, 0xd, 0x80000001, 0x80000002, 0x80000003, 0x80000006, 0x80000007, 0x80000009, 0x8000000a, 0x8000000b, 0x800000e0, 0x6, 0x12, u32 as never), data: fc.uint8Array({maxLength: 96})}), {maxLength: 10}),
  })
  .map(({algs, events}) => {
    const sizes: Record<number, number> = {[TPM_ALG.SHA384]: 48, [TPM_ALG.SHA256]: 32, [TPM_ALG.SHA512]: 64, [TPM_ALG.SHA1]: 20}
    const banks = algs.map((a) => ({alg_id: a, digest_size: sizes[a] ?? 16}))
    const head = encodeSpecIdRecord(encodeSpecIdEvent(banks))
    const recs = events.map((e) =>
      encodeEvent2({mr_index: e.mr, event_type: typeof e.type === 'number' ? e.type : 0x0d, digests: banks.map((b) => ({alg_id: b.alg_id, digest: Buffer.alloc(b.digest_size, e.mr)})), data: Buffer.from(e.data)}),
    )
    return Buffer.concat([head, ...recs])
  })

/**
 * Evidence with one embedded object byte-mutated and, 2 times in 3, the TSM digests recomputed (a
 * compromised TSM): the bundle stays well-formed so every verifier step sees the damage.
 */
function evidenceObjectMutant(c: Corpora): fc.Arbitrary<Buffer> {
  return fc
    .record({i: fc.nat(c.evidence.length - 1), k: fc.constantFrom(0, 8, 9, 10), edits: fc.array(edit, {minLength: 1, maxLength: 4}), redigest: fc.nat(2)})
    .map(({i, k, edits, redigest}) => {
      const ev = decodeEvidence(c.evidence[i])
      const objs = [...ev.objects.values()]
      const m = applyEdits(ev.objects.get(k)!, edits, objs)
      ev.objects.set(k, m)
      if (redigest) ev.tsm.digests.set(k, createHash(ev.tsm.hash_alg).update(m).digest())
      return encodeEvidence(ev)
    })
}

// ---------------------------------------------------------------- GHCI GetQuote shared buffer

/**
 * GHCI input bytes: [0] flags (bit0 TOCTOU header rewrite after submit, bit1 name the buffer by its
 * private alias, bit2 misalign), [1] pages shared (1..8), [2..5] R13 size in bytes (u32 LE),
 * [6..29] header written after submit (TOCTOU), [30..] buffer contents (header ‖ TDREPORT …).
 */
export const GHCI_PREFIX = 30
function ghciInput(flags: number, pages: number, size: number, toctou: Buffer, content: Buffer): Buffer {
  const p = Buffer.alloc(GHCI_PREFIX)
  p[0] = flags
  p[1] = pages
  p.writeUInt32LE(size >>> 0, 2)
  toctou.subarray(0, 24).copy(p, 6)
  return Buffer.concat([p, content])
}

function ghciSeeds(c: Corpora): Buffer[] {
  const hdr = Buffer.alloc(GET_QUOTE_HEADER_SIZE)
  writeField(GET_QUOTE_HEADER, hdr, 'version', GET_QUOTE_CMD_VERSION)
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', TDREPORT_SIZE)
  const bad = Buffer.from(hdr)
  writeField(GET_QUOTE_HEADER, bad, 'in_len', 0xffffffff)
  const sim = c.tdreport[c.tdreport.length - 1]
  return [ghciInput(0, 2, 8192, hdr, Buffer.concat([hdr, sim])), ghciInput(1, 2, 8192, bad, Buffer.concat([hdr, sim])), ghciInput(0, 1, 4096, hdr, Buffer.concat([hdr, sim]))]
}

function hostMustNotThrow<T>(what: string, fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw new Error(`host side threw on a guest-controlled buffer (${what}): ${(error as Error).message}`)
  }
}

let ghciPlatform: Platform | undefined
function runGhci(input: Buffer, c: Corpora): unknown {
  if (input.length < GHCI_PREFIX) return 'short'
  // One platform for every input (building the host PKI is the slow part); a fresh TD session each time.
  ghciPlatform ??= new Platform(structuredClone(c.platformDoc))
  const p = ghciPlatform
  const td = openSession(p, {logHostAccesses: false})
  const flags = input[0]
  const pages = 1 + (input[1] % 8)
  const size = input.readUInt32LE(2)
  const toctou = input.subarray(6, GHCI_PREFIX)
  const content = input.subarray(GHCI_PREFIX, GHCI_PREFIX + pages * PAGE_SIZE)
  const gpa = td.memory.gpaOf(td.memory.pages.allocContiguous(pages))
  td.memory.setState(gpa, pages, 'shared')
  const shared = td.memory.sharedAlias(gpa)
  td.memory.write(shared, content)
  const name = (flags & 2 ? gpa : shared) + (flags & 4 ? 8n : 0n)
  // Stricter than the other targets: the host must answer a hostile guest with status codes, never
  // throw (a typed error escaping the VMM or the QGS would take the host loop down).
  const r = hostMustNotThrow('GetQuote', () => td.ghci.getQuote(name, size))
  if (flags & 1) td.memory.write(shared, toctou)
  hostMustNotThrow('QGS run', () => td.runHost())
  // Also the Service TDVMCALL with the same bytes as its command buffer.
  const cmd = Buffer.from(content.subarray(0, Math.min(content.length, PAGE_SIZE)))
  if (cmd.length >= SERVICE_HEADER_SIZE) {
    const rsp = td.memory.gpaOf(td.memory.pages.allocContiguous(1))
    td.memory.setState(rsp, 1, 'shared')
    const rh = Buffer.alloc(SERVICE_HEADER_SIZE)
    writeField(SERVICE_RSP_HEADER, rh, 'length', size % (2 * PAGE_SIZE))
    td.memory.write(td.memory.sharedAlias(rsp), rh)
    hostMustNotThrow('Service', () => td.ghci.call(TdVmCall.SERVICE, {r12: shared, r13: td.memory.sharedAlias(rsp), r14: 0n}))
  }
  return r.r10
}

function serviceSeed(c: Corpora): Buffer {
  const q = Buffer.alloc(SERVICE_QUOTE_CMD.size)
  writeField(SERVICE_QUOTE_CMD, q, 'version', 1)
  writeField(SERVICE_QUOTE_CMD, q, 'report_len', TDREPORT_SIZE)
  const data = Buffer.concat([q, c.tdreport[c.tdreport.length - 1]])
  const h = Buffer.alloc(SERVICE_HEADER_SIZE)
  writeField(SERVICE_CMD_HEADER, h, 'guid', guidToBytes(SERVICE_GUID_TDXKIT_QUOTE))
  writeField(SERVICE_CMD_HEADER, h, 'length', SERVICE_HEADER_SIZE + data.length)
  return ghciInput(0, 1, 8192, Buffer.alloc(24), Buffer.concat([h, data]))
}

// ---------------------------------------------------------------- state files

let stateDir: string | undefined

/** Run one stage; a typed error ends only that stage (the next reader still gets the file). */
async function stage(out: unknown[], fn: () => unknown | Promise<unknown>): Promise<void> {
  try {
    out.push(await fn())
  } catch (error) {
    if (!(error instanceof TdxkitError)) throw error
    out.push(error.code)
  }
}

async function runState(input: Buffer): Promise<unknown> {
  stateDir ??= tempDir('tdxkit-fuzz-state-')
  const dir = join(stateDir, createHash('sha256').update(input).digest('hex').slice(0, 12))
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'state.json'), input)
  const store = new StateStore(dir, {lockTimeoutMs: 2000})
  const out: unknown[] = []
  await stage(out, () => store.load()?.schema_version)
  // the foundation's readers: platform, TDREPORT, an extend, module status
  await stage(out, () =>
    withPlatform(store, (p) => {
      extendRtmr(p, 3, Buffer.alloc(48, 1))
      return [getTdReport(p, Buffer.alloc(64)).length, platformSummary(p.doc, dir).rows.length]
    }),
  )
  // `eventlog export` and `rtmr show` read doc.events
  await stage(out, async () => eventsToCcelLog((await ensurePlatform(store)).doc.events as never).length)
  // the device layer's (refuses non-TDISP profiles with a typed error)
  await stage(out, async () => {
    const list = (await listDevices(store)).result
    if (!list[0]) return 0
    await lockDevice(store, list[0].id)
    await collectEvidence(store, list[0].id, FUZZ_NONCE)
    await unlockDevice(store, list[0].id)
    return list.length
  })
  // the quote path with the pool allocator (doc.alloc, doc.host)
  await stage(out, async () => (await generateQuote(store, {input: {reportData: Buffer.alloc(64, 3)}, strategy: 'dma-pool'})).quote.length)
  return out
}

// ---------------------------------------------------------------- the targets

export const TARGETS: Target[] = [
  {
    name: 'tdreport',
    what: 'parseTdReport, tdReportFields, quoting enclave quoteTdReport (MAC + hash checks)',
    arbitrary: (c) => bytesOr(c.tdreport),
    run: (b, c) => {
      const r = parseTdReport(b)
      tdReportFields(b)
      return [r.report_type, quoteTdReport(c.platformDoc, b).length]
    },
  },
  {
    name: 'tdisp-report',
    what: 'decodeTdiReport + checkInterfaceReport (MMIO ranges vs BARs)',
    arbitrary: (c) => bytesOr(c.tdispReport, [tdiReport.map(encodeTdiReport)]),
    run: (b) => {
      const r = decodeTdiReport(b)
      return checkInterfaceReport(r, [{index: 0, size: 1n << 20n}, {index: 2, size: 1n << 16n}, {index: 4, size: 1n << 64n}], defaultPolicy()).length
    },
  },
  {
    name: 'spdm-meas-record',
    what: 'decodeMeasurementRecord + appraiseMeasurements against the simulator reference',
    arbitrary: (c) => bytesOr(c.measRecord, [measBlocks.map(encodeMeasurementRecord)]),
    run: (b, c) => appraiseMeasurements(decodeMeasurementRecord(b), referenceByIndex(c.reference), {measHash: 'sha384'}).length,
  },
  {
    name: 'spdm-measurements',
    what: 'GET_MEASUREMENTS ‖ MEASUREMENTS split and parse (signed and unsigned)',
    arbitrary: (c) => bytesOr(c.measurements),
    run: (b) => {
      const {request, response} = splitMeasurementsObject(b)
      if (request) parseGetMeasurements(request)
      try {
        return parseMeasurementsResponse(response, 96).blocks.length
      } catch {
        return parseMeasurementsResponse(response, 0).blocks.length
      }
    },
  },
  {
    name: 'spdm-vca',
    what: 'parseVca (VERSION / CAPABILITIES / ALGORITHMS transcript)',
    arbitrary: (c) => bytesOr(c.vca),
    run: (b) => parseVca(b).alg_structs.length,
  },
  {
    name: 'spdm-cert-chain',
    what: 'parseCertChain, splitDerCerts, verifyCertChain (SPDM slot header, X.509, anchors)',
    arbitrary: (c) => bytesOr(c.certChain),
    run: (b, c) => {
      const anchors = splitDerCerts(c.certChain[c.certChain.length - 1]).slice(0, 1).map((cert) => ({cert, source: 'fuzz'}))
      const r = verifyCertChain(b, {anchors, at: FUZZ_AT, hashAlg: 'sha384', baseAsym: 0x80})
      try {
        parseCertChain(b, 'sha384')
      } catch (error) {
        // parse errors are fine here when typed; the verifier above already had its say
        if (!(error as {code?: string}).code) throw error
      }
      return r.ok
    },
    weight: 0.5,
  },
  {
    name: 'corim',
    what: 'decodeCorim (COSE_Sign1, CoRIM, CoMID, concise evidence): byte and CBOR-tree mutants',
    arbitrary: (c) => fc.oneof({weight: 4, arbitrary: mutant(c.corim)}, {weight: 4, arbitrary: cborTreeMutant(c.corim)}, {weight: 1, arbitrary: cborValue.map(encodeCbor)}),
    run: (b) => decodeCorim(b, {at: FUZZ_AT}).comids.length,
  },
  {
    name: 'evidence',
    what: 'decodeEvidence + verifyDeviceEvidence (all nine steps): byte and CBOR-tree mutants',
    arbitrary: (c) =>
      fc.oneof({weight: 2, arbitrary: mutant(c.evidence)}, {weight: 3, arbitrary: cborTreeMutant(c.evidence)}, {weight: 4, arbitrary: evidenceObjectMutant(c)}, {weight: 1, arbitrary: cborValue.map(encodeCbor)}),
    run: (b, c) => {
      const ev = decodeEvidence(b)
      evidenceJson(ev)
      const v = verifyDeviceEvidence({evidence: ev, reference: c.reference, at: FUZZ_AT, expected_nonce: FUZZ_NONCE})
      return v.status
    },
    weight: 0.5,
  },
  {
    name: 'ccel-table',
    what: 'parseCcelTable + logAreaFromTable',
    arbitrary: (c) => bytesOr(c.ccelTable),
    run: (b, c) => {
      const t = parseCcelTable(b)
      ccelTableToJson(t)
      return logAreaFromTable(t, c.tcgLog[0]).length
    },
  },
  {
    name: 'tcg-log',
    what: 'parseEventLog (TCG2 crypto-agile) + event decoding + RTMR replay and comparison + JSON view',
    arbitrary: (c) => bytesOr(c.tcgLog, [tcgEvents, fc.tuple(tcgEvents, fc.array(fc.nat(), {maxLength: 0})).map(([b]) => b)]),
    run: (b) => {
      const log = parseEventLog(b)
      const {rtmrs} = replayTrace(log)
      eventLogToJson(log)
      return compareToRtmrs(log, rtmrs.map((r, i) => (i === 3 ? Buffer.alloc(48) : r)), {allowRtmr3Runtime: true}).ok
    },
  },
  {
    name: 'ghci-getquote',
    what: 'GetQuote / Service TDVMCALL shared buffers: header fields, sizes, aliases, TOCTOU rewrite, QGS completion',
    arbitrary: (c) => fc.oneof({weight: 3, arbitrary: mutant(ghciSeeds(c))}, {weight: 1, arbitrary: mutant([serviceSeed(c)])}),
    run: runGhci,
  },
  {
    name: 'state',
    what: 'state.json mutants → StateStore.load, platform, TDREPORT, RTMR extend, devices, dma-pool quote',
    arbitrary: (c) =>
      fc.oneof({weight: 6, arbitrary: stateTextMutant(c.state).map((s) => Buffer.from(s))}, {weight: 1, arbitrary: mutant(c.state.map((s) => Buffer.from(s)), 3)}),
    run: (b) => runState(b),
    weight: 0.1,
  },
]

export const targetByName = (name: string): Target => {
  const t = TARGETS.find((x) => x.name === name)
  if (!t) throw new Error(`no fuzz target ${name}`)
  return t
}

export {FUZZ_PLATFORM_SEED, createPlatformDoc}
