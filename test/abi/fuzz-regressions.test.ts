/**
 * Bugs the fuzzer found, kept as regressions: the saved inputs under test/helpers/fuzz/regressions/<target>/
 * replayed through their target (must return or throw a TdxkitError), plus a minimal hand-made
 * input for each fix asserting the exact typed error or host behaviour.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {corpora} from '../helpers/fuzz/seeds.js'
import {targetByName} from '../helpers/fuzz/targets.js'
import {runOne} from '../helpers/fuzz/harness.js'
import {loadRegressions} from '../helpers/fuzz/regressions.js'
import {TdxkitError} from '../../src/errors.js'
import {decodeCorim} from '../../src/device/corim.js'
import {cbor, Tag} from '../../src/device/cbor.js'
import {createPlatformDoc} from '../../src/module/platform.js'
import {withPlatform} from '../../src/app/platform.js'
import {StateStore} from '../../src/state/store.js'
import {eventsToCcelLog} from '../../src/eventlog/encode.js'
import {GET_QUOTE_HEADER, GET_QUOTE_HEADER_SIZE, GET_QUOTE_CMD_VERSION, GetQuoteStatus, TdVmCallStatus} from '../../src/abi/ghci.js'
import {readNum, readUint, writeField} from '../../src/abi/layout.js'
import {TDREPORT_SIZE} from '../../src/abi/tdreport.js'
import {getTdReport} from '../../src/guest/tdx-guest.js'
import {tempDir} from '../helpers/cli.js'
import {freshTd} from '../helpers/guest.js'

const c = await corpora()
const regs = loadRegressions()

test('saved fuzz inputs replay to a result or a typed error', async () => {
  assert.ok(regs.length >= 2, `regression files found: ${regs.length}`)
  for (const r of regs) {
    const {outcome} = await runOne(targetByName(r.target), r.input, c)
    assert.ok(outcome.kind === 'ok' || outcome.kind === 'typed', `${r.target}/${r.name}: ${JSON.stringify(outcome)}`)
  }
  console.log(`  replayed ${regs.length} saved inputs: ${regs.map((r) => `${r.target}/${r.name}`).join(', ')}`)
})

const throwsCode = (fn: () => unknown, code: string, re?: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, TdxkitError, `not typed: ${String(error)}`)
    assert.is((error as TdxkitError).code, code)
    if (re) assert.match((error as Error).message, re)
    return
  }
  assert.unreachable(`expected ${code}`)
}

// ---- bug 1: CBOR nested in COSE / CoMID byte strings was decoded without a guard (bare cbor-x Error)
const enc = (v: unknown) => Buffer.from(cbor.encode(v))
test('corim: a COSE protected header that is not CBOR → CORIM_MALFORMED (was a bare cbor-x Error)', () => {
  const cose = new Tag([Buffer.from([0xff]), new Map(), enc(new Tag(new Map(), 501)), Buffer.alloc(96)], 18)
  throwsCode(() => decodeCorim(enc(cose)), 'CORIM_MALFORMED', /protected header is not CBOR/)
})
test('corim: a corim-meta that is not CBOR, and an out-of-range validity time → CORIM_MALFORMED', () => {
  const ph = (meta: Buffer) => enc(new Map<number, unknown>([[1, -35], [8, meta]]))
  const cose = (meta: Buffer) => enc(new Tag([ph(meta), new Map(), enc(new Tag(new Map([[1, []]]), 501)), Buffer.alloc(96)], 18))
  throwsCode(() => decodeCorim(cose(Buffer.from([0x5f, 0x41]))), 'CORIM_MALFORMED', /corim-meta is not CBOR/)
  // not_after = epoch 1e20 s: new Date() is invalid and toISOString() threw a RangeError
  const meta = enc(new Map<number, unknown>([[1, new Map([[1, new Tag(1e20, 1)]])]]))
  throwsCode(() => decodeCorim(cose(meta), {at: new Date()}), 'CORIM_MALFORMED', /validity time is out of range/)
})
test('corim: a #6.506 CoMID wrapping bytes that are not CBOR → CORIM_MALFORMED', () => {
  throwsCode(() => decodeCorim(enc(new Tag(Buffer.from([0x82, 0x01]), 506))), 'CORIM_MALFORMED', /CoMID byte string is not CBOR/)
})

test('corim: a profile tagged OID (#6.111) that is not a byte string → CORIM_MALFORMED (was a TypeError in oidToString)', () => {
  throwsCode(() => decodeCorim(enc(new Tag(new Map<number, unknown>([[0, 'id'], [1, []], [3, new Tag(5, 111)]]), 501))), 'CORIM_MALFORMED', /profile OID is not bytes/)
})

// ---- bug 2: state.json fields the platform reads were not validated (TypeError / SyntaxError from BigInt)
async function loadMutated(mutate: (d: Record<string, any>) => void): Promise<unknown> {
  const doc = createPlatformDoc({profile: 'tdx-1.5', seed: 'regress'}) as unknown as Record<string, any>
  doc.events = [{seq: 0, rtmr_index: 2, digest: '00'.repeat(48)}]
  mutate(doc)
  const dir = tempDir('tdxkit-regress-')
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'state.json'), JSON.stringify(doc))
  try {
    await withPlatform(new StateStore(dir), (p) => getTdReport(p, Buffer.alloc(64)))
    return 'ok'
  } catch (error) {
    return error
  }
}
for (const [what, mutate, re] of [
  ['module.version.build_date is an object', (d: any) => (d.module.version.build_date = {}), /module\.version\.build_date/],
  ['module.version.major_version missing', (d: any) => delete d.module.version.major_version, /module\.version\.major_version/],
  ['td.memory_bytes is a string', (d: any) => (d.td.memory_bytes = 'zzzz'), /td\.memory_bytes/],
  ['td.num_vcpus is negative', (d: any) => (d.td.num_vcpus = -1), /td\.num_vcpus/],
  ['module.seed is a number', (d: any) => (d.module.seed = 16), /module\.seed/],
  ['module.tee_tcb_svn2 is not hex', (d: any) => (d.module.tee_tcb_svn2 = 'gpu'), /tee_tcb_svn2/],
  ['events[0].digest is a number', (d: any) => (d.events[0].digest = 5), /events\[0\]/],
  ['events[0] is null', (d: any) => (d.events[0] = null), /events\[0\]/],
] as const) {
  test(`state: ${what} → STATE_CORRUPT naming the field`, async () => {
    const e = await loadMutated(mutate)
    assert.instance(e, TdxkitError, String(e))
    assert.is((e as TdxkitError).code, 'STATE_CORRUPT')
    assert.match((e as Error).message, re)
  })
}
test('state: an intact document still loads (the checks are not too strict)', async () => {
  assert.is(await loadMutated(() => {}), 'ok')
})
test('eventlog export: an event description that is not a string → BAD_EVENT_RECORD (was a TypeError)', () => {
  throwsCode(() => eventsToCcelLog([{seq: 0, rtmr_index: 1, digest: '11'.repeat(48), description: 7 as never}]), 'BAD_EVENT_RECORD', /description/)
})

// ---- bug 3: QGS trusted in_len at completion; a TD rewriting it after GetQuote made the host throw
test('GetQuote: in_len rewritten after submit → the QGS fails the request (status ERROR), the host does not throw', () => {
  const {td, p} = freshTd({seed: 'regress'})
  const pages = 2
  const gpa = td.memory.gpaOf(td.memory.pages.allocContiguous(pages))
  td.memory.setState(gpa, pages, 'shared')
  const shared = td.memory.sharedAlias(gpa)
  const hdr = Buffer.alloc(GET_QUOTE_HEADER_SIZE)
  writeField(GET_QUOTE_HEADER, hdr, 'version', GET_QUOTE_CMD_VERSION)
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', TDREPORT_SIZE)
  td.memory.write(shared, Buffer.concat([hdr, getTdReport(p, Buffer.alloc(64))]))
  assert.is(td.ghci.getQuote(shared, pages * 4096).r10, TdVmCallStatus.SUCCESS)
  writeField(GET_QUOTE_HEADER, hdr, 'in_len', 0xffffffff) // the TD changes its mind
  td.memory.write(shared, hdr)
  td.runHost()
  const done = td.memory.read(shared, GET_QUOTE_HEADER_SIZE)
  assert.is(readUint(GET_QUOTE_HEADER, done, 'status'), GetQuoteStatus.ERROR)
  assert.is(readNum(GET_QUOTE_HEADER, done, 'out_len'), 0)
  assert.match(td.qgs.lastFailureReason ?? '', /in_len 4294967295 runs past/)
})

test.run()
