/**
 * The project's own test vectors, reproducible from a seed: a simulated platform is built from the
 * seed in a scratch state directory and every artefact a relying party would see is written out
 * (TDREPORT, v4 and v5 quotes from both allocators, collateral, root CA, CCEL log, device evidence
 * and CoRIM reference values). `npm run testvectors` regenerates testvectors/; a test regenerates
 * them in a temporary directory and requires byte-identical output, which pins determinism across
 * runs and machines.
 */
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {collectEvidence, exportReference, lockDevice} from '../app/device.js'
import {initPlatform, openStore, withPlatform} from '../app/platform.js'
import {generateQuote} from '../app/quote.js'
import type {ProfileName} from '../module/platform.js'
import {extendRtmr, getTdReport} from '../guest/tdx-guest.js'
import {loadSimCollateral} from '../app/sim-collateral.js'
import {eventsToCcelLog} from '../eventlog/index.js'
import {writeFileAtomic} from '../app/files.js'

export const DEFAULT_VECTOR_SEED = 'tdxkit-testvectors-1'

export interface VectorFile {
  name: string
  bytes: Buffer
  description: string
}

const sha384 = (s: string) => createHash('sha384').update(s).digest()
const reportDataFor = (label: string) => createHash('sha512').update(`tdxkit test vector: ${label}`).digest()

async function platformVectors(seed: string, profile: ProfileName, prefix: string): Promise<VectorFile[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tdxkit-vectors-'))
  try {
    const store = openStore(dir)
    await initPlatform(store, {profile, seed})
    const files: VectorFile[] = []
    const app = Buffer.from('tdxkit test vector: application config\n')
    const {result: tdreport} = await withPlatform(store, (p) => {
      extendRtmr(p, 2, sha384(app.toString()), {data: app, description: 'application config'})
      extendRtmr(p, 3, sha384('runtime event'), {description: 'runtime event'})
      return getTdReport(p, reportDataFor('tdreport'))
    })
    files.push({name: `${prefix}/tdreport.bin`, bytes: tdreport, description: `TDREPORT (${profile}), REPORTDATA = SHA-512("tdxkit test vector: tdreport")`})
    for (const version of [4, 5] as const) {
      for (const strategy of ['vmap-mapgpa', 'dma-pool'] as const) {
        const r = await generateQuote(store, {input: {reportData: reportDataFor(`quote-v${version}`)}, strategy, quoteVersion: version})
        files.push({name: `${prefix}/quote-v${version}-${strategy}.bin`, bytes: r.quote, description: `DCAP quote v${version} via ${strategy}`})
      }
    }
    const sim = await loadSimCollateral(store)
    files.push({name: `${prefix}/collateral.json`, bytes: Buffer.from(JSON.stringify(sim.collateral, null, 2) + '\n'), description: 'QuoteCollateralV3 of the simulated platform'})
    files.push({name: `${prefix}/sim-root-ca.der`, bytes: sim.root_ca_der, description: 'SIMULATED root CA (trust anchor for the quotes)'})
    const doc = store.load()!
    files.push({name: `${prefix}/ccel.bin`, bytes: eventsToCcelLog(doc.events as never), description: 'CCEL-format event log of the RTMR extends'})
    if (profile === 'tdx-connect') {
      await lockDevice(store, 'nic0')
      const ev = await collectEvidence(store, 'nic0', Buffer.alloc(32, 0x5a))
      files.push({name: `${prefix}/nic0.evidence.cbor`, bytes: ev.result.bytes, description: 'device evidence bundle of nic0 (nonce 5a×32)'})
      const ref = await exportReference(store, 'nic0', {sign: true})
      files.push({name: `${prefix}/nic0.reference.cbor`, bytes: ref.result.bytes, description: 'signed CoRIM reference values of nic0'})
    }
    return files
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/** Every vector for `seed`: a tdx-1.0 platform (v4-native) and a tdx-connect platform (v5, devices). */
export async function generateVectors(seed = DEFAULT_VECTOR_SEED): Promise<VectorFile[]> {
  return [...(await platformVectors(seed, 'tdx-1.0', 'tdx-1.0')), ...(await platformVectors(seed, 'tdx-connect', 'tdx-connect'))]
}

export function manifest(seed: string, files: VectorFile[]): string {
  return (
    JSON.stringify(
      {
        seed,
        generator: 'src/testvectors/generate.ts (npm run testvectors)',
        files: files.map((f) => ({name: f.name, bytes: f.bytes.length, sha256: createHash('sha256').update(f.bytes).digest('hex'), description: f.description})),
      },
      null,
      2,
    ) + '\n'
  )
}

export async function writeVectors(outDir: string, seed = DEFAULT_VECTOR_SEED): Promise<VectorFile[]> {
  const files = await generateVectors(seed)
  mkdirSync(outDir, {recursive: true})
  for (const f of files) writeFileAtomic(join(outDir, f.name), f.bytes, 0o644)
  writeFileAtomic(join(outDir, 'MANIFEST.json'), manifest(seed, files), 0o644)
  return files
}
