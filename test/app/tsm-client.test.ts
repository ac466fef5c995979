/**
 * The configfs-tsm client (quote generate --provider tsm) against a minimal fake configfs and
 * against the report core itself: instance per request and removed after, provider checked,
 * generation race detected and retried (deterministically, by a writer injected between the
 * outblob read and the final generation read), privlevel and auxblob only where shown.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {parseQuote} from '../../src/abi/quote.js'
import {generateQuoteTsm, type TsmFs} from '../../src/app/tsm-client.js'
import {TsmErrno, TsmReportTree, type TsmProvider} from '../../src/app/tsm-report.js'
import {tdxGuestProvider} from '../../src/app/tsm-tdx.js'
import type {TdxkitError} from '../../src/errors.js'
import {platformQuotes, treeFs} from './tsm-helpers.js'

const MNT = '/mnt/tsm'
const ROOT = `${MNT}/report`

async function failure(p: Promise<unknown>): Promise<TdxkitError> {
  try {
    await p
  } catch (error) {
    return error as TdxkitError
  }
  throw new Error('expected a failure')
}

/** A configfs-tsm stand-in: mkdir makes an instance, inblob writes bump generation, outblob quotes. */
function fakeConfigfs(root: string, quoteOf: (inblob: Buffer) => Promise<Buffer>, extraWrites = 0): TsmFs & {removed: string[]} {
  const inst = new Map<string, {gen: number; inblob?: Buffer}>()
  const removed: string[] = []
  const split = (p: string) => ({dir: p.slice(0, p.lastIndexOf('/')), name: p.slice(p.lastIndexOf('/') + 1)})
  const errno = (code: string) => Object.assign(new Error(code), {code})
  return {
    removed,
    kind: async (p) => (p === root || inst.has(p) ? 'dir' : inst.has(split(p).dir) && ['provider', 'generation', 'inblob', 'outblob'].includes(split(p).name) ? 'file' : undefined),
    mkdir: async (p) => void inst.set(p, {gen: 0}),
    rmdir: async (p) => {
      inst.delete(p)
      removed.push(p)
    },
    write: async (p, d) => {
      const {dir, name} = split(p)
      const i = inst.get(dir)!
      if (name !== 'inblob') throw errno('EACCES')
      i.inblob = Buffer.from(d)
      i.gen += 1
    },
    read: async (p) => {
      const {dir, name} = split(p)
      const i = inst.get(dir)!
      if (name === 'provider') return Buffer.from('tdx_guest\n')
      if (name === 'generation') return Buffer.from(`${i.gen}\n`)
      if (name === 'outblob') {
        if (!i.inblob) throw errno('EINVAL')
        i.gen += extraWrites // another writer raced us
        return quoteOf(i.inblob)
      }
      throw errno('ENOENT')
    },
  }
}

test('fake configfs: instance per request, generation checked, instance removed; race and absence are clear errors', async () => {
  const {quote} = platformQuotes('tsm')
  const fs = fakeConfigfs(ROOT, quote)
  const r = await generateQuoteTsm(Buffer.alloc(64, 0x33), {root: ROOT, fs})
  assert.is(r.provider, 'tdx_guest')
  assert.is(r.generation, 1n)
  assert.is(r.attempts, 1)
  assert.is(parseQuote(r.quote).td!.report_data.toString('hex'), '33'.repeat(64))
  assert.is(fs.removed.length, 1)
  assert.ok(fs.removed[0].startsWith(ROOT + '/tdxkit-'))
  const racy = fakeConfigfs(ROOT, quote, 1)
  const e = await failure(generateQuoteTsm(Buffer.alloc(64), {root: ROOT, fs: racy}))
  assert.is(e.code, 'TSM_RACE')
  assert.match(e.message, /gave up after 3 attempts/)
  assert.is(racy.removed.length, 1)
  const missing = join(mkdtempSync(join(tmpdir(), 'tdxkit-tsm-')), 'nope')
  const m = await failure(generateQuoteTsm(Buffer.alloc(64), {root: missing}))
  assert.is(m.code, 'TSM_UNAVAILABLE')
  assert.is(m.exit, 2)
  assert.is((await failure(generateQuoteTsm(Buffer.alloc(63), {root: ROOT, fs}))).code, 'BAD_LENGTH')
})

test('report core, tdx_guest: a quote for the REPORTDATA, one write, no auxblob, instance gone afterwards', async () => {
  const {quote} = platformQuotes()
  const tree = new TsmReportTree(tdxGuestProvider((d) => quote(d)))
  const nonce = Buffer.alloc(64, 0x5c)
  const r = await generateQuoteTsm(nonce, {root: ROOT, fs: treeFs(tree, MNT)})
  assert.equal(parseQuote(r.quote).td!.report_data, nonce)
  assert.is(r.generation, 1n)
  assert.is(r.auxblob, undefined)
  assert.is(tree.instanceCount, 0)
  assert.is(tree.openFileCount, 0)
})

test('generation race: a writer slipping in between the writes and the check is detected; the retry gets the right quote', async () => {
  const {quote} = platformQuotes()
  const tree = new TsmReportTree(tdxGuestProvider((d) => quote(d)))
  let interfered = 0
  const fs = treeFs(tree, MNT, {
    afterRead: async (path) => {
      if (!path.endsWith('/outblob') || interfered >= 1) return
      interfered++
      // Another process writes its own REPORTDATA into our instance.
      const other = treeFs(tree, MNT)
      await other.write(path.replace(/outblob$/, 'inblob'), Buffer.alloc(64, 0xee))
    },
  })
  const nonce = Buffer.alloc(64, 0x11)
  const r = await generateQuoteTsm(nonce, {root: ROOT, fs})
  assert.is(interfered, 1)
  assert.is(r.attempts, 2)
  assert.is(r.generation, 3n) // ours, theirs, ours again
  assert.equal(parseQuote(r.quote).td!.report_data, nonce)
})

test('provider other than tdx_guest: refused (exit 2) and the instance is removed', async () => {
  const sev: TsmProvider = {name: 'sev_guest', privlevelFloor: 0, reportNew: async () => ({outblob: Buffer.alloc(1184)})}
  const tree = new TsmReportTree(sev)
  const e = await failure(generateQuoteTsm(Buffer.alloc(64), {root: ROOT, fs: treeFs(tree, MNT)}))
  assert.is(e.code, 'TSM_PROVIDER')
  assert.is(e.exit, 2)
  assert.match(e.message, /"sev_guest"/)
  assert.is(tree.instanceCount, 0)
  const none = await failure(generateQuoteTsm(Buffer.alloc(64), {root: ROOT, fs: treeFs(new TsmReportTree(undefined), MNT)}))
  assert.is(none.code, 'TSM_UNAVAILABLE')
  assert.match(none.message, /ENXIO: no TSM provider/)
})

test('privlevel: refused where the provider hides it; checked against privlevel_floor; written (two writes) where shown; auxblob read', async () => {
  const {quote} = platformQuotes()
  const hidden = new TsmReportTree(tdxGuestProvider((d) => quote(d)))
  const h = await failure(generateQuoteTsm(Buffer.alloc(64), {root: ROOT, fs: treeFs(hidden, MNT), privlevel: 1}))
  assert.is(h.code, 'BAD_FLAGS')
  assert.match(h.message, /tdx_guest has no privlevel attribute/)
  const seen: number[] = []
  const all = new TsmReportTree(
    tdxGuestProvider(async (d, desc) => (seen.push(desc.privlevel), quote(d)), {allAttributes: true, privlevelFloor: 1}),
  )
  const low = await failure(generateQuoteTsm(Buffer.alloc(64), {root: ROOT, fs: treeFs(all, MNT), privlevel: 0}))
  assert.is(low.code, 'BAD_PRIVLEVEL')
  assert.match(low.message, /1\.\.3/)
  const r = await generateQuoteTsm(Buffer.alloc(64, 2), {root: ROOT, fs: treeFs(all, MNT), privlevel: 2})
  assert.is(r.privlevel, 2)
  assert.is(r.generation, 2n)
  assert.equal(seen, [2])
  assert.equal(r.auxblob, Buffer.alloc(0)) // shown, but tdx_guest emits none
  const withAux: TsmProvider = {name: 'tdx_guest', privlevelFloor: 0, reportNew: async (d) => ({outblob: await quote(d.inblob), auxblob: Buffer.from('chain')})}
  const a = await generateQuoteTsm(Buffer.alloc(64), {root: ROOT, fs: treeFs(new TsmReportTree(withAux), MNT)})
  assert.is(a.auxblob!.toString(), 'chain')
})

test('provider refusals reach the user with their errno: EINVAL, EIO', async () => {
  const refuse = (errno: 'EINVAL' | 'EIO'): TsmProvider => ({
    name: 'tdx_guest',
    privlevelFloor: 0,
    visible: (a) => ['generation', 'provider', 'inblob', 'outblob'].includes(a),
    reportNew: async () => {
      throw new TsmErrno(errno, 'no')
    },
  })
  for (const errno of ['EINVAL', 'EIO'] as const) {
    const e = await failure(generateQuoteTsm(Buffer.alloc(64), {root: ROOT, fs: treeFs(new TsmReportTree(refuse(errno)), MNT)}))
    assert.is(e.code, 'TSM_FAILED')
    assert.is(e.exit, 7)
    assert.match(e.message, new RegExp(`reading outblob failed: ${errno}`))
  }
})

test.run()
