/**
 * Seed corpora: the real third-party vectors (when present) and artefacts made by the simulator
 * (TDREPORTs, device evidence bundles, TDISP reports, SPDM objects, CoRIMs, event logs, state files).
 * Built once per process; everything is deterministic (fixed platform seeds, fixed nonces).
 */
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {createHash} from 'node:crypto'
import {StateStore} from '../../../src/state/store.js'
import {createPlatformDoc, Platform} from '../../../src/module/platform.js'
import {initPlatform} from '../../../src/app/platform.js'
import {getTdReport, extendRtmr} from '../../../src/guest/tdx-guest.js'
import {collectEvidence, exportReference, listDevices, lockDevice} from '../../../src/app/device.js'
import {EvidenceObject} from '../../../src/device/tsm.js'
import {splitMeasurementsObject} from '../../../src/device/verifier.js'
import {parseMeasurementsResponse} from '../../../src/abi/spdm.js'
import {eventsToCcelLog, encodeCcelTable} from '../../../src/eventlog/encode.js'
import {generateQuote} from '../../../src/app/quote.js'
import {decodeEvidence} from '../../../src/device/evidence.js'
import {decodeCorim, type CorimDocument} from '../../../src/device/corim.js'
import {tempDir} from '../cli.js'
import {VECTORS_DIR, vectorsPresent} from '../vectors.js'

const FUZZ_PLATFORM_SEED = 'tdxkit-fuzz-seed'
export const FUZZ_NONCE = Buffer.alloc(32, 0xa5)
export const FUZZ_AT = new Date('2026-09-01T00:00:00Z')

export interface Corpora {
  tdreport: Buffer[]
  tdispReport: Buffer[]
  measRecord: Buffer[]
  measurements: Buffer[]
  vca: Buffer[]
  certChain: Buffer[]
  corim: Buffer[]
  evidence: Buffer[]
  ccelTable: Buffer[]
  tcgLog: Buffer[]
  state: string[]
  /** decoded simulator reference (unsigned) for the nic0 bundle, to verify evidence against */
  reference: CorimDocument
  /** the reference for each bundle of `evidence` (same order) */
  references: CorimDocument[]
  /** state document of a tdx-1.5 platform, to quote TDREPORTs with */
  platformDoc: ReturnType<typeof createPlatformDoc>
  /** the real vector files used, for the report */
  vectorFiles: string[]
}

const sha384 = (b: Uint8Array) => createHash('sha384').update(b).digest()

function readVectors(sub: string, filter: (name: string) => boolean): {files: string[]; bufs: Buffer[]} {
  if (!vectorsPresent()) return {files: [], bufs: []}
  const dir = join(VECTORS_DIR, sub)
  const files = readdirSync(dir).filter(filter).sort()
  return {files: files.map((f) => join(sub, f)), bufs: files.map((f) => readFileSync(join(dir, f)))}
}

/** The CCEL log area without its trailing 0xff/0x00 padding (keeps mutants small and fast). */
function trimLogArea(log: Buffer): Buffer {
  let end = log.length
  while (end > 0 && (log[end - 1] === 0xff || log[end - 1] === 0x00)) end--
  return Buffer.from(log.subarray(0, Math.min(log.length, end + 16)))
}

let cached: Promise<Corpora> | undefined

export function corpora(): Promise<Corpora> {
  cached ??= build()
  return cached
}

async function build(): Promise<Corpora> {
  const vectorFiles: string[] = []
  const take = (sub: string, filter: (n: string) => boolean) => {
    const r = readVectors(sub, filter)
    vectorFiles.push(...r.files)
    return r.bufs
  }

  // ---- TDREPORTs: the real Azure one + simulator reports on each profile
  const tdreport = take('real/trustee-tdx-v4-azure-vtpm', (n) => n === 'tdreport.bin')
  const platformDoc = createPlatformDoc({profile: 'tdx-1.5', seed: FUZZ_PLATFORM_SEED})
  for (const profile of ['tdx-1.0', 'tdx-1.5', 'tdx-connect'] as const) {
    const p = new Platform(createPlatformDoc({profile, seed: FUZZ_PLATFORM_SEED}))
    tdreport.push(getTdReport(p, Buffer.alloc(64, profile.length)))
  }
  tdreport.push(getTdReport(new Platform(platformDoc), Buffer.alloc(64, 0x42)))

  // ---- device evidence from the simulated TDX Connect platform
  const store = new StateStore(tempDir('tdxkit-fuzz-seeds-'))
  await initPlatform(store, {profile: 'tdx-connect', seed: FUZZ_PLATFORM_SEED})
  await listDevices(store)
  const evidence: Buffer[] = []
  for (const id of ['nic0', 'gpu0']) {
    await lockDevice(store, id)
    evidence.push((await collectEvidence(store, id, FUZZ_NONCE)).result.bytes)
  }
  const refUnsigned = (await exportReference(store, 'nic0')).result.bytes
  const references = [decodeCorim(refUnsigned), decodeCorim((await exportReference(store, 'gpu0')).result.bytes)]
  const refSigned = (await exportReference(store, 'nic0', {sign: true})).result.bytes
  const bundles = evidence.map((b) => decodeEvidence(b))
  const obj = (k: number) => bundles.map((b) => b.objects.get(k)!).filter(Boolean)

  const tdispReport = obj(EvidenceObject.REPORT)
  const measurements = obj(EvidenceObject.MEASUREMENTS)
  const vca = obj(EvidenceObject.VCA)
  const certChain = [...obj(EvidenceObject.CERT0), ...take('spdm', (n) => n.endsWith('.certchain.der'))]
  const measRecord = [...take('spdm', (n) => n === 'device_measurement.bin')]
  for (const m of measurements) {
    const {response} = splitMeasurementsObject(m)
    measRecord.push(parseMeasurementsResponse(response, 96).record)
  }
  const corim = [refUnsigned, refSigned, ...take('corim', (n) => n.endsWith('.cbor'))]

  // ---- event logs: the real COS 113 CCEL + the simulator's own
  const ccelTable = take('real/gotdx-tdx-v4-cos113-ccel', (n) => n === 'ccel_table.bin')
  const tcgLog = take('real/gotdx-tdx-v4-cos113-ccel', (n) => n === 'ccel_data.bin').map(trimLogArea)
  const simP = new Platform(createPlatformDoc({profile: 'tdx-1.5', seed: FUZZ_PLATFORM_SEED}))
  extendRtmr(simP, 2, sha384(Buffer.from('kernel')), {data: Buffer.from('kernel')})
  extendRtmr(simP, 3, sha384(Buffer.from('app')), {description: 'app config'})
  extendRtmr(simP, 3, Buffer.alloc(48, 7))
  const simLog = eventsToCcelLog(simP.doc.events as never)
  tcgLog.push(simLog)
  ccelTable.push(encodeCcelTable({laml: BigInt(simLog.length), lasa: 0x7fff0000n}))

  // ---- state files: a connect platform after lock/evidence, then a dma-pool quote and an extend
  const state: string[] = [readFileSync(store.file, 'utf8')]
  await generateQuote(store, {input: {reportData: Buffer.alloc(64, 1)}, strategy: 'dma-pool'})
  state.push(readFileSync(store.file, 'utf8'))
  const plain = new StateStore(tempDir('tdxkit-fuzz-seeds-'))
  await initPlatform(plain, {profile: 'tdx-1.0', seed: FUZZ_PLATFORM_SEED})
  await generateQuote(plain, {input: {reportData: Buffer.alloc(64, 2)}, strategy: 'vmap-mapgpa'})
  state.push(readFileSync(plain.file, 'utf8'))

  return {
    tdreport,
    tdispReport,
    measRecord,
    measurements,
    vca,
    certChain,
    corim,
    evidence,
    ccelTable,
    tcgLog,
    state,
    reference: references[0],
    references,
    platformDoc,
    vectorFiles,
  }
}
