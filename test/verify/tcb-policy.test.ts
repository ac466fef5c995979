/**
 * Intel's TCB convergence rules on synthetic TCB info (each case worked by hand from Intel's
 * TcbLevelCheck / TdxModuleCheck / TDRelaunchCheck), and the policy file schema with line numbers.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseTcbInfo, type LevelStatus} from '../../src/abi/tcb-info.js'
import {evaluateTcb} from '../../src/verify/tcb.js'
import {VerifyError} from '../../src/verify/errors.js'
import {parsePolicy} from '../../src/appraise/policy.js'
import {TdxkitError} from '../../src/errors.js'

const comps = (v: number[]) => Array.from({length: 16}, (_, i) => ({svn: v[i] ?? 0}))
function tcbInfo(levels: Array<{sgx: number[]; pce: number; tdx: number[]; status: LevelStatus; adv?: string[]}>, modules: Array<{id: string; levels: Array<{isvsvn: number; status: LevelStatus; adv?: string[]}>}> = []) {
  return parseTcbInfo(
    JSON.stringify({
      id: 'TDX',
      version: 3,
      issueDate: '2025-01-01T00:00:00Z',
      nextUpdate: '2025-02-01T00:00:00Z',
      fmspc: '00806f050000',
      pceId: '0000',
      tcbType: 0,
      tcbEvaluationDataNumber: 17,
      tdxModule: {mrsigner: '00'.repeat(48), attributes: '00'.repeat(8), attributesMask: 'ff'.repeat(8)},
      tdxModuleIdentities: modules.map((m) => ({
        id: m.id,
        mrsigner: '00'.repeat(48),
        attributes: '00'.repeat(8),
        attributesMask: 'ff'.repeat(8),
        tcbLevels: m.levels.map((l) => ({tcb: {isvsvn: l.isvsvn}, tcbDate: '2024-01-01T00:00:00Z', tcbStatus: l.status, ...(l.adv ? {advisoryIDs: l.adv} : {})})),
      })),
      tcbLevels: levels.map((l) => ({
        tcb: {sgxtcbcomponents: comps(l.sgx), pcesvn: l.pce, tdxtcbcomponents: comps(l.tdx)},
        tcbDate: '2024-01-01T00:00:00Z',
        tcbStatus: l.status,
        ...(l.adv ? {advisoryIDs: l.adv} : {}),
      })),
    }),
  )
}
const svn = (v: number[]) => Uint8Array.from({length: 16}, (_, i) => v[i] ?? 0)
const qeOk = {status: 'UpToDate' as const, level: {isvsvn: 4, tcb_date: '2024-01-01T00:00:00Z', status: 'UpToDate' as const, advisory_ids: []}}
const qeOld = {status: 'OutOfDate' as const, level: {isvsvn: 2, tcb_date: '2022-01-01T00:00:00Z', status: 'OutOfDate' as const, advisory_ids: ['INTEL-SA-00001']}}

const LEVELS = [
  {sgx: [5, 5], pce: 13, tdx: [5, 0, 3], status: 'UpToDate' as const},
  {sgx: [3, 3], pce: 13, tdx: [3, 0, 2], status: 'OutOfDate' as const, adv: ['INTEL-SA-01036', 'INTEL-SA-01099']},
  {sgx: [3, 3], pce: 13, tdx: [3, 0, 2], status: 'ConfigurationNeeded' as const, adv: ['INTEL-SA-00828']},
]
const MODULES = [{id: 'TDX_01', levels: [{isvsvn: 6, status: 'UpToDate' as const}, {isvsvn: 2, status: 'OutOfDate' as const, adv: ['INTEL-SA-01099']}]}]

test('levels are sorted Intel-style and the first level with every component ≥ matches', () => {
  const ti = tcbInfo([LEVELS[1], LEVELS[0]], MODULES)
  assert.is(ti.levels[0].status, 'UpToDate')
  const r = evaluateTcb({tcbInfo: ti, pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([6, 1, 3]), qe: qeOk})
  assert.is(r.status, 'UpToDate')
  const old = evaluateTcb({tcbInfo: ti, pckComponents: [4, 9], pckPcesvn: 13, teeTcbSvn: svn([6, 1, 3]), qe: qeOk})
  assert.is(old.status, 'OutOfDate')
  assert.equal(old.advisory_ids, ['INTEL-SA-01036', 'INTEL-SA-01099'])
})

test('module major version > 0 skips TDX components 0-1; identity TDX_%02X decides the module status', () => {
  const ti = tcbInfo(LEVELS, MODULES)
  // TEE_TCB_SVN[0] = 4 < level's 5, but with major version 1 index 0 is not compared.
  const r = evaluateTcb({tcbInfo: ti, pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([4, 1, 3]), qe: qeOk})
  assert.is(r.module?.identity, 'TDX_01')
  assert.is(r.module?.status, 'OutOfDate')
  // Module OutOfDate converges UpToDate → OutOfDate; advisories are the union.
  assert.is(r.status, 'OutOfDate')
  assert.equal(r.advisory_ids, ['INTEL-SA-01099'])
  // Version 0 compares every component: 4 < 5 falls to the OutOfDate level.
  const v0 = evaluateTcb({tcbInfo: ti, pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([4, 0, 3]), qe: qeOk})
  assert.is(v0.platform_level.status, 'OutOfDate')
  assert.is(v0.module, undefined)
})

test('configuration statuses converge to OutOfDateConfigurationNeeded; QE OutOfDate converges too', () => {
  const ti = tcbInfo([LEVELS[2]], MODULES)
  const r = evaluateTcb({tcbInfo: ti, pckComponents: [3, 3], pckPcesvn: 13, teeTcbSvn: svn([3, 1, 2]), qe: qeOk})
  assert.is(r.status, 'OutOfDateConfigurationNeeded')
  const q = evaluateTcb({tcbInfo: tcbInfo([LEVELS[0]], MODULES), pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([6, 1, 3]), qe: qeOld})
  assert.is(q.status, 'OutOfDate')
  assert.equal(q.advisory_ids, ['INTEL-SA-00001'])
})

const errCode = (fn: () => unknown) => {
  try {
    fn()
    return 'NO_ERROR'
  } catch (e) {
    assert.instance(e, VerifyError)
    return (e as VerifyError).code
  }
}

test('no matching level, missing module identity, revoked module', () => {
  const ti = tcbInfo(LEVELS, MODULES)
  assert.is(errCode(() => evaluateTcb({tcbInfo: ti, pckComponents: [2, 9], pckPcesvn: 13, teeTcbSvn: svn([6, 1, 3]), qe: qeOk})), 'TCB_NOT_SUPPORTED')
  assert.is(errCode(() => evaluateTcb({tcbInfo: ti, pckComponents: [5, 5], pckPcesvn: 12, teeTcbSvn: svn([6, 1, 3]), qe: qeOk})), 'TCB_NOT_SUPPORTED')
  assert.is(errCode(() => evaluateTcb({tcbInfo: ti, pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([6, 3, 3]), qe: qeOk})), 'TDX_MODULE_IDENTITY_NOT_FOUND')
  assert.is(errCode(() => evaluateTcb({tcbInfo: ti, pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([1, 1, 3]), qe: qeOk})), 'TCB_NOT_SUPPORTED')
  const rev = tcbInfo(LEVELS, [{id: 'TDX_01', levels: [{isvsvn: 6, status: 'UpToDate'}, {isvsvn: 1, status: 'Revoked'}]}])
  assert.is(errCode(() => evaluateTcb({tcbInfo: rev, pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([3, 1, 3]), qe: qeOk})), 'TCB_REVOKED')
})

test('TD15 relaunch advice: module updated in place (TEE_TCB_SVN2 meets the newest level)', () => {
  const ti = tcbInfo(LEVELS, MODULES)
  const base = {tcbInfo: ti, pckComponents: [5, 5], pckPcesvn: 13, teeTcbSvn: svn([4, 1, 3]), qe: qeOk}
  assert.is(evaluateTcb({...base, teeTcbSvn2: svn([6, 1, 3])}).status, 'TDRelaunchAdvised')
  assert.ok(evaluateTcb({...base, teeTcbSvn2: svn([6, 1, 3])}).relaunch_advised)
  // SVN2 still below the newest module level: no advice.
  assert.is(evaluateTcb({...base, teeTcbSvn2: svn([5, 1, 3])}).status, 'OutOfDate')
  // QE out of date: no advice.
  assert.is(evaluateTcb({...base, teeTcbSvn2: svn([6, 1, 3]), qe: qeOld}).status, 'OutOfDate')
  // Configuration needed somewhere → the …ConfigurationNeeded flavour.
  const cfg = tcbInfo([{...LEVELS[0], status: 'ConfigurationNeeded'}], MODULES)
  assert.is(evaluateTcb({...base, tcbInfo: cfg, teeTcbSvn2: svn([6, 1, 3])}).status, 'TDRelaunchAdvisedConfigurationNeeded')
})

const policyErr = (text: string): string => {
  try {
    parsePolicy(text, 'p.json')
    return 'NO_ERROR'
  } catch (e) {
    assert.instance(e, TdxkitError)
    assert.is((e as TdxkitError).exit, 2)
    return (e as TdxkitError).message
  }
}

test('policy files: valid documents parse; every schema error names file:line:column', () => {
  const p = parsePolicy('{\n  "allow_debug": true,\n  "expected": {"mrtd": ["' + 'ab'.repeat(48) + '", "' + 'cd'.repeat(48) + '"]},\n  "min_tcb_status": "SWHardeningNeeded"\n}\n')
  assert.is(p.allow_debug, true)
  assert.equal(p.expected.mrtd, ['ab'.repeat(48), 'cd'.repeat(48)])
  assert.is(p.min_tcb_status, 'SWHardeningNeeded')
  assert.is(policyErr('{\n  "allow_debug": "yes"\n}'), 'p.json:2:18: "allow_debug" must be true or false')
  assert.match(policyErr('{\n  "allow_debug": false,\n  "alow_perfmon": true\n}'), /^p\.json:3:3: unknown policy key "alow_perfmon"/)
  assert.match(policyErr('{\n  "expected": {\n    "mrtd": "abcd"\n  }\n}'), /^p\.json:3:13: "mrtd" must be 48 bytes of hex/)
  assert.match(policyErr('{\n  "expected": {\n    "rtmr9": "00"\n  }\n}'), /^p\.json:3:5: unknown field "rtmr9"/)
  assert.match(policyErr('{\n  "allow_debug": true,\n}'), /^p\.json:3:1: invalid JSON/)
  assert.match(policyErr('{"min_tcb_status": "Fine"}'), /^p\.json:1:20: "min_tcb_status" must be one of/)
  assert.match(policyErr('[]'), /policy must be a JSON object/)
})

test.run()
