/** Demo steps for the foundation: platform, sysinfo, TDREPORT, RTMR extend. */
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import type {DemoStep} from './index.js'
import {ensurePlatform, initPlatform, withPlatform} from '../app/platform.js'
import {checkTdReportMac, makeTdReport} from '../app/report.js'
import {platformSysInfo} from '../app/sysinfo.js'
import {moduleVersionString} from '../module/summary.js'
import {extendRtmr} from '../guest/tdx-guest.js'
import {parseTdReport} from '../abi/tdreport.js'
import {writeOutputFile} from '../app/files.js'

export const DEMO_SEED = 'tdxkit-demo'

/** The first step creates the platform and says so; later steps have nothing to announce. */
const quiet = (): void => undefined

export const FOUNDATION_STEPS: DemoStep[] = [
  {
    id: 'module-init',
    title: 'Simulated TDX platform (module init)',
    async run(ctx) {
      let created = false
      if (!ctx.store.exists()) {
        await initPlatform(ctx.store, {seed: DEMO_SEED})
        created = true
      }
      const {doc} = await ensurePlatform(ctx.store)
      const m = doc.module
      return {
        lines: [
          // The demo's own seed is public; a platform it did not create keeps its seed to itself.
          `${created ? `created platform (demo seed "${DEMO_SEED}")` : 'using platform'}: profile ${m.profile}, module ${moduleVersionString(m.version)}`,
          `MRTD ${doc.td.mrtd.slice(0, 32)}… (TDH.MEM.PAGE.ADD / TDH.MR.EXTEND over the seed's TD image)`,
        ],
        data: {created, profile: m.profile, ...(created ? {seed: DEMO_SEED} : {}), mrtd: doc.td.mrtd},
      }
    },
  },
  {
    id: 'sysinfo',
    title: 'Global metadata into the read-only sysinfo (TDH.SYS.RD vs TDH.SYS.RDALL)',
    async run(ctx) {
      const rd = (await platformSysInfo(ctx.store, quiet, 'rd')).read
      const all = (await platformSysInfo(ctx.store, quiet, 'rdall')).read
      const v = rd.sysinfo.version
      return {
        lines: [
          `module ${v.major_version}.${v.minor_version}.${String(v.update_version).padStart(2, '0')}, tdx_features0 0x${rd.sysinfo.features.tdx_features0.toString(16)} (NO_RBP_MOD present)`,
          `TDH.SYS.RD: ${rd.seamcalls} SEAMCALLs; TDH.SYS.RDALL: ${all.seamcalls}; absent in this module: ${rd.absent.join(', ') || 'none'}`,
        ],
        data: {seamcalls_rd: rd.seamcalls, seamcalls_rdall: all.seamcalls, absent: rd.absent},
      }
    },
  },
  {
    id: 'report',
    title: 'TDG.MR.REPORT → 1024-byte TDREPORT',
    async run(ctx) {
      const reportData = createHash('sha512').update('tdxkit demo nonce').digest()
      const {report} = await makeTdReport(ctx.store, quiet, reportData)
      const file = join(ctx.workDir, 'td.report')
      writeOutputFile(file, report)
      ctx.bag.set('tdreport', report)
      const r = parseTdReport(report)
      const ok = r.hashes.tee_tcb_info_hash_ok && r.hashes.tee_info_hash_ok
      return {
        lines: [
          `wrote ${file} (REPORTDATA = SHA-512("tdxkit demo nonce"))`,
          `TEE_TCB_INFO_HASH and TEE_INFO_HASH ${ok ? 'match' : 'DO NOT match'} their bytes; REPORTMAC ${checkTdReportMac(ctx.store, report) ? 'verifies' : 'FAILS'} under the platform key`,
        ],
        data: {file, hashes_ok: ok},
      }
    },
  },
  {
    id: 'rtmr-extend',
    title: 'TDG.MR.RTMR.EXTEND: measure runtime events into RTMR2 (each extend is also logged)',
    async run(ctx) {
      const items = [
        {data: Buffer.from('tdxkit demo: application config v1\n'), description: 'demo application config'},
        {data: Buffer.from('tdxkit demo: application binary 2.3.1\n'), description: 'demo application binary'},
      ]
      const {result} = await withPlatform(ctx.store, (p) =>
        items.map(({data, description}) => {
          const rec = extendRtmr(p, 2, createHash('sha384').update(data).digest(), {data, description})
          return {rec, rtmr: p.doc.td.rtmr[2], bytes: data.length}
        }),
      )
      return {
        lines: result.map((r) => `event #${r.rec.seq}: SHA-384 of ${r.bytes} bytes → RTMR2 = ${r.rtmr.slice(0, 32)}…`),
        data: {seqs: result.map((r) => r.rec.seq), rtmr2: result[result.length - 1].rtmr},
      }
    },
  },
]
