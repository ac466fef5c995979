/**
 * The configfs-tsm report core without FUSE: namespace errnos (configfs/VFS), attribute modes and
 * visibility, generation counting and its wrap guard, the inblob/outblob rules, text-attribute
 * parsing — each against the kernel source (report.c v7.0, fs/configfs/file.c, lib/kstrtox.c,
 * lib/uuid.c), with hand-computed expectations.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {guidParse, kstrtouint, TSM_ATTRIBUTES, TsmErrno, TsmReportTree, type TsmProvider, type TsmReportDesc} from '../../src/app/tsm-report.js'
import {tdxGuestProvider} from '../../src/app/tsm-tdx.js'
import {parseQuote} from '../../src/abi/quote.js'
import {platformQuotes} from './tsm-helpers.js'

const errnoOf = async (fn: () => unknown): Promise<string> => {
  try {
    await fn()
  } catch (error) {
    if (error instanceof TsmErrno) return error.errno
    throw error
  }
  return 'no error'
}

/** A provider that records its calls and returns the inblob reversed as the "report". */
function countingProvider(opts: Partial<TsmProvider> = {}): TsmProvider & {calls: TsmReportDesc[]} {
  const calls: TsmReportDesc[] = []
  return {
    name: 'test_guest',
    privlevelFloor: 0,
    calls,
    async reportNew(desc) {
      calls.push(desc)
      await new Promise((r) => setTimeout(r, 5))
      return {outblob: Buffer.from(desc.inblob).reverse(), auxblob: Buffer.from('aux')}
    },
    ...opts,
  }
}

const R = (...p: string[]) => ['report', ...p]

async function writeAttr(tree: TsmReportTree, path: string[], data: Buffer | string): Promise<number> {
  const fh = tree.open(path, {read: false, write: true})
  try {
    const n = await tree.write(fh, 0, Buffer.from(data))
    await tree.flush(fh)
    return n
  } finally {
    await tree.release(fh)
  }
}

async function readAttr(tree: TsmReportTree, path: string[]): Promise<Buffer> {
  const fh = tree.open(path, {read: true, write: false})
  try {
    const out: Buffer[] = []
    for (let pos = 0; ; ) {
      const b = await tree.read(fh, pos, 1000)
      if (b.length === 0) return Buffer.concat(out)
      out.push(b)
      pos += b.length
    }
  } finally {
    await tree.release(fh)
  }
}

const generation = async (tree: TsmReportTree, name: string) => (await readAttr(tree, R(name, 'generation'))).toString()

test('namespace: mkdir only under report/, configfs/VFS errnos for everything else', async () => {
  const tree = new TsmReportTree(countingProvider())
  assert.equal(tree.list([]), ['report'])
  tree.mkdir(R('a'))
  assert.equal(tree.list(['report']), ['a'])
  assert.is(await errnoOf(() => tree.mkdir(R('a'))), 'EEXIST')
  assert.is(await errnoOf(() => tree.mkdir(['other'])), 'EPERM') // tsm/ has no make_group
  assert.is(await errnoOf(() => tree.mkdir(R('a', 'sub'))), 'EPERM') // an item is not a group
  assert.is(await errnoOf(() => tree.mkdir(R('a', 'inblob'))), 'EEXIST')
  assert.is(await errnoOf(() => tree.mkdir(R('nope', 'x'))), 'ENOENT')
  assert.is(await errnoOf(() => tree.rmdir(['report'])), 'EPERM') // default group
  assert.is(await errnoOf(() => tree.rmdir(R('a', 'inblob'))), 'ENOTDIR')
  assert.is(await errnoOf(() => tree.rmdir(R('nope'))), 'ENOENT')
  assert.is(await errnoOf(() => tree.create(R('a', 'newfile'))), 'EACCES') // no ->create
  assert.is(await errnoOf(() => tree.create(R('newfile'))), 'EACCES')
  assert.is(await errnoOf(() => tree.refuseNewName(R('a', 'node'), 'mknod')), 'EPERM')
  assert.is(await errnoOf(() => tree.refuseNewName(R('a', 'inblob'), 'symlink')), 'EEXIST')
  assert.is(await errnoOf(() => tree.refuseExisting(R('a', 'inblob'), 'unlink')), 'EPERM')
  assert.is(await errnoOf(() => tree.refuseExisting(R('a'), 'unlink')), 'EISDIR')
  assert.is(await errnoOf(() => tree.refuseExisting(R('a'), 'rename')), 'EPERM')
  assert.is(await errnoOf(() => tree.lookup(R('a', 'inblob', 'x'))), 'ENOTDIR')
  assert.is(await errnoOf(() => tree.open(R('a'), {read: true, write: false})), 'EISDIR')
  tree.rmdir(R('a'))
  assert.equal(tree.list(['report']), [])
})

test('no provider: mkdir is ENXIO; the instance cap is ENOMEM', async () => {
  assert.is(await errnoOf(() => new TsmReportTree(undefined).mkdir(R('x'))), 'ENXIO')
  const tree = new TsmReportTree(countingProvider(), {maxInstances: 2})
  tree.mkdir(R('a'))
  tree.mkdir(R('b'))
  assert.is(await errnoOf(() => tree.mkdir(R('c'))), 'ENOMEM')
})

test('visibility: tdx_guest shows generation, provider, inblob, outblob; a provider without rules shows all eleven', async () => {
  const {quote} = platformQuotes()
  const tdx = new TsmReportTree(tdxGuestProvider((d) => quote(d)))
  tdx.mkdir(R('t'))
  assert.equal(tdx.list(R('t')).sort(), ['generation', 'inblob', 'outblob', 'provider'])
  assert.is(await errnoOf(() => tdx.lookup(R('t', 'privlevel'))), 'ENOENT')
  assert.is(await errnoOf(() => tdx.lookup(R('t', 'auxblob'))), 'ENOENT')
  const all = new TsmReportTree(tdxGuestProvider((d) => quote(d), {allAttributes: true}))
  all.mkdir(R('t'))
  assert.equal(all.list(R('t')), [...TSM_ATTRIBUTES])
  assert.is(TSM_ATTRIBUTES.length, 11)
  // Modes: RO 0444, WO 0200 (CONFIGFS_ATTR_RO/WO, CONFIGFS_BIN_ATTR_RO/WO).
  assert.equal(all.lookup(R('t', 'inblob')), {type: 'file', mode: 0o200})
  assert.equal(all.lookup(R('t', 'outblob')), {type: 'file', mode: 0o444})
  assert.equal(all.lookup(R('t', 'privlevel')), {type: 'file', mode: 0o200})
  assert.equal(all.lookup(R('t', 'privlevel_floor')), {type: 'file', mode: 0o444})
  assert.is((await readAttr(all, R('t', 'provider'))).toString(), 'tdx_guest\n')
})

test('open: writing a read-only attribute or reading a write-only one is EACCES (root included)', async () => {
  const tree = new TsmReportTree(countingProvider())
  tree.mkdir(R('a'))
  for (const attr of ['outblob', 'generation', 'provider', 'auxblob', 'privlevel_floor']) {
    assert.is(await errnoOf(() => tree.open(R('a', attr), {read: false, write: true})), 'EACCES', attr)
  }
  for (const attr of ['inblob', 'privlevel', 'service_guid']) {
    assert.is(await errnoOf(() => tree.open(R('a', attr), {read: true, write: false})), 'EACCES', attr)
  }
  assert.is(await errnoOf(() => tree.open(R('a', 'inblob'), {read: true, write: true})), 'EACCES') // O_RDWR needs both
})

test('generation: 0 at mkdir, +1 per applied write (at close, not at write); outblob before inblob is EINVAL', async () => {
  const p = countingProvider()
  const tree = new TsmReportTree(p)
  tree.mkdir(R('a'))
  assert.is(await generation(tree, 'a'), '0\n')
  assert.is(await errnoOf(() => readAttr(tree, R('a', 'outblob'))), 'EINVAL')
  const fh = tree.open(R('a', 'inblob'), {read: false, write: true})
  await tree.write(fh, 0, Buffer.alloc(32, 1))
  await tree.write(fh, 32, Buffer.alloc(32, 2))
  assert.is(await generation(tree, 'a'), '0\n') // configfs applies the buffer at release
  await tree.release(fh)
  assert.is(await generation(tree, 'a'), '1\n')
  const out = await readAttr(tree, R('a', 'outblob'))
  assert.equal(out, Buffer.concat([Buffer.alloc(32, 2), Buffer.alloc(32, 1)])) // the reversed inblob
  assert.is(await generation(tree, 'a'), '1\n') // reading is not a write
  await readAttr(tree, R('a', 'outblob'))
  assert.is(p.calls.length, 1) // cached while read_generation == write_generation
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64, 3))
  assert.equal(await readAttr(tree, R('a', 'outblob')), Buffer.alloc(64, 3))
  assert.is(p.calls.length, 2)
  assert.is(p.calls[1].generation, 2n)
})

test('inblob: a 65-byte write is EFBIG, yet the release still hands an empty inblob over (generation +1, outblob EINVAL)', async () => {
  const tree = new TsmReportTree(countingProvider())
  tree.mkdir(R('a'))
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64, 7))
  assert.is((await readAttr(tree, R('a', 'outblob'))).length, 64)
  const fh = tree.open(R('a', 'inblob'), {read: false, write: true})
  assert.is(await errnoOf(() => tree.write(fh, 0, Buffer.alloc(65))), 'EFBIG')
  await tree.release(fh)
  assert.is(await generation(tree, 'a'), '2\n')
  assert.is(await errnoOf(() => readAttr(tree, R('a', 'outblob'))), 'EINVAL')
  // Offsets count: 60 + 5 bytes crosses the 64-byte limit too.
  const fh2 = tree.open(R('a', 'inblob'), {read: false, write: true})
  assert.is(await tree.write(fh2, 0, Buffer.alloc(60)), 60)
  assert.is(await errnoOf(() => tree.write(fh2, 60, Buffer.alloc(5))), 'EFBIG')
  await tree.release(fh2)
})

test('outblob: concurrent readers of one instance make one report; each open file keeps its snapshot', async () => {
  const p = countingProvider()
  const tree = new TsmReportTree(p)
  tree.mkdir(R('a'))
  await writeAttr(tree, R('a', 'inblob'), Buffer.from('A'.repeat(64)))
  const [x, y, z] = await Promise.all([readAttr(tree, R('a', 'outblob')), readAttr(tree, R('a', 'outblob')), readAttr(tree, R('a', 'auxblob'))])
  assert.is(p.calls.length, 1) // "did another thread already generate this report?"
  assert.equal(x, y)
  assert.is(z.toString(), 'aux')
  const held = tree.open(R('a', 'outblob'), {read: true, write: false})
  assert.is((await tree.read(held, 0, 10)).toString(), 'A'.repeat(10))
  await writeAttr(tree, R('a', 'inblob'), Buffer.from('B'.repeat(64)))
  assert.is((await tree.read(held, 10, 100)).toString(), 'A'.repeat(54)) // same open file: old snapshot
  await tree.release(held)
  assert.is((await readAttr(tree, R('a', 'outblob'))).toString(), 'B'.repeat(64))
  assert.is(p.calls.length, 2)
})

test('rmdir with files open: unread files see ENOENT, a filled outblob snapshot is still served', async () => {
  const tree = new TsmReportTree(countingProvider())
  tree.mkdir(R('a'))
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64, 9))
  const out = tree.open(R('a', 'outblob'), {read: true, write: false})
  await tree.read(out, 0, 1)
  const gen = tree.open(R('a', 'generation'), {read: true, write: false})
  const inb = tree.open(R('a', 'inblob'), {read: false, write: true})
  tree.rmdir(R('a'))
  assert.is(await errnoOf(() => tree.read(gen, 0, 10)), 'ENOENT')
  assert.is((await tree.read(out, 1, 100)).length, 63)
  await tree.write(inb, 0, Buffer.alloc(64))
  await tree.release(inb) // dropped silently, as configfs does for a dead item
  for (const fh of [out, gen]) await tree.release(fh)
  assert.is(tree.openFileCount, 0)
  assert.is(tree.instanceCount, 0)
})

test('privlevel: kstrtouint, then privlevel_floor..3 (EINVAL), each accepted store +1; privlevel reaches the provider', async () => {
  const p = countingProvider({privlevelFloor: 1})
  const tree = new TsmReportTree(p)
  tree.mkdir(R('a'))
  assert.is((await readAttr(tree, R('a', 'privlevel_floor'))).toString(), '1\n')
  for (const [text, errno] of [['0', 'EINVAL'], ['4', 'EINVAL'], ['abc', 'EINVAL'], ['2 ', 'EINVAL'], ['-1', 'EINVAL'], ['99999999999', 'ERANGE']] as const) {
    assert.is(await errnoOf(() => writeAttr(tree, R('a', 'privlevel'), text)), errno, text)
  }
  assert.is(await generation(tree, 'a'), '0\n')
  assert.is(await writeAttr(tree, R('a', 'privlevel'), '0x2\n'), 4)
  assert.is(await generation(tree, 'a'), '1\n')
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64))
  await readAttr(tree, R('a', 'outblob'))
  assert.is(p.calls[0].privlevel, 2)
})

test('service_*: a malformed GUID is EINVAL but still counted as a write (report.c bumps first); values reach the provider', async () => {
  const p = countingProvider()
  const tree = new TsmReportTree(p)
  tree.mkdir(R('a'))
  assert.is(await errnoOf(() => writeAttr(tree, R('a', 'service_guid'), 'not-a-guid')), 'EINVAL')
  assert.is(await generation(tree, 'a'), '1\n')
  await writeAttr(tree, R('a', 'service_guid'), '00112233-4455-6677-8899-aabbccddeeff\n')
  await writeAttr(tree, R('a', 'service_provider'), 'svsm\n')
  await writeAttr(tree, R('a', 'service_manifest_version'), '010')
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64))
  assert.is(await generation(tree, 'a'), '5\n')
  await readAttr(tree, R('a', 'outblob'))
  assert.is(p.calls[0].serviceGuid.toString('hex'), '33221100554477668899aabbccddeeff')
  assert.is(p.calls[0].serviceProvider, 'svsm')
  assert.is(p.calls[0].serviceManifestVersion, 8) // octal
})

test('generation wrap guard: 2^64 - 1 writes without a read is EBUSY (inblob silently dropped); a read re-opens; %lu wraps to 0', async () => {
  const top = (1n << 64n) - 1n
  const tree = new TsmReportTree(countingProvider(), {initialGenerations: {write: top - 2n, read: 0n}})
  tree.mkdir(R('a'))
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64, 1)) // → 2^64 - 2
  await writeAttr(tree, R('a', 'privlevel'), '0') // → 2^64 - 1 == read_generation - 1
  assert.is(await generation(tree, 'a'), `${top}\n`)
  assert.is(await errnoOf(() => writeAttr(tree, R('a', 'privlevel'), '1')), 'EBUSY')
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64, 2)) // dropped: the release ignores EBUSY
  assert.is(await generation(tree, 'a'), `${top}\n`)
  assert.equal(await readAttr(tree, R('a', 'outblob')), Buffer.alloc(64, 1))
  await writeAttr(tree, R('a', 'privlevel'), '1')
  assert.is(await generation(tree, 'a'), '0\n')
})

test('text writes: at most SIMPLE_ATTR_SIZE - 1 bytes reach the store; NUL ends the string', async () => {
  const p = countingProvider()
  const tree = new TsmReportTree(p)
  tree.mkdir(R('a'))
  assert.is(await writeAttr(tree, R('a', 'service_provider'), 'x'.repeat(5000)), 4095)
  assert.is(await writeAttr(tree, R('a', 'privlevel'), Buffer.from('3\0junk')), 6)
  await writeAttr(tree, R('a', 'inblob'), Buffer.alloc(64))
  await readAttr(tree, R('a', 'outblob'))
  assert.is(p.calls[0].serviceProvider!.length, 4095)
  assert.is(p.calls[0].privlevel, 3)
})

test('kstrtouint and guid_parse as lib/kstrtox.c and lib/uuid.c', () => {
  const ok: Array<[string, number]> = [['7', 7], ['+7', 7], ['010', 8], ['0x1f', 31], ['0X1F\n', 31], ['0', 0], ['4294967295', 4294967295]]
  for (const [s, n] of ok) assert.is(kstrtouint(s), n, s)
  const bad: Array<[string, string]> = [['', 'EINVAL'], ['0x', 'EINVAL'], ['09', 'EINVAL'], ['1\n\n', 'EINVAL'], [' 1', 'EINVAL'], ['-1', 'EINVAL'], ['4294967296', 'ERANGE']]
  for (const [s, e] of bad) {
    try {
      kstrtouint(s)
      assert.unreachable(s)
    } catch (error) {
      assert.is((error as TsmErrno).errno, e, s)
    }
  }
  assert.is(guidParse('00112233-4455-6677-8899-AABBCCDDEEFF').toString('hex'), '33221100554477668899aabbccddeeff')
  assert.throws(() => guidParse('00112233-4455-6677-8899-aabbccddeef'), (e: unknown) => (e as TsmErrno).errno === 'EINVAL')
})

test('tdx_guest through the core: a real quote binding the inblob as REPORTDATA; 32 bytes of inblob is EINVAL', async () => {
  const {quote} = platformQuotes()
  const tree = new TsmReportTree(tdxGuestProvider((d) => quote(d)))
  tree.mkdir(R('q'))
  await writeAttr(tree, R('q', 'inblob'), Buffer.alloc(32, 5))
  assert.is(await errnoOf(() => readAttr(tree, R('q', 'outblob'))), 'EINVAL')
  const nonce = Buffer.from('a5'.repeat(64), 'hex')
  await writeAttr(tree, R('q', 'inblob'), nonce)
  const q = parseQuote(await readAttr(tree, R('q', 'outblob')))
  assert.equal(q.td!.report_data, nonce)
})

test.run()
