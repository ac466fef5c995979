/**
 * The TDX Connect IOMMU model: TEE-IO Device Guide Table A-8 (T=1 → private and shared, T=0 → shared
 * only), missing mappings, what each side sees of a blocked access, and the fault log.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {GuestMemory, PAGE_SIZE} from '../../src/machine/memory.js'
import {Iommu, dmaRule} from '../../src/machine/dma.js'

const PAGE = BigInt(PAGE_SIZE)
const BUF = 0x200_0000n
const setup = () => {
  const mem = new GuestMemory({sizeBytes: 64 * 1024 * 1024})
  return {mem, iommu: new Iommu(mem)}
}
const nic = (trusted: boolean) => ({id: 'nic0', trusted})

test('Table A-8 as a rule: private alias needs T=1 and an accepted page; shared alias needs a shared page', () => {
  assert.is(dmaRule('private', 'private', true), undefined)
  assert.is(dmaRule('private', 'private', false), 'UNTRUSTED_TO_PRIVATE')
  assert.is(dmaRule('private', 'shared', false), 'UNTRUSTED_TO_PRIVATE')
  assert.is(dmaRule('private', 'shared', true), 'NO_PRIVATE_MAPPING')
  assert.is(dmaRule('private', 'pending', true), 'NO_PRIVATE_MAPPING')
  for (const trusted of [true, false]) {
    assert.is(dmaRule('shared', 'shared', trusted), undefined)
    assert.is(dmaRule('shared', 'private', trusted), 'NO_SHARED_MAPPING')
    assert.is(dmaRule('shared', 'pending', trusted), 'NO_SHARED_MAPPING')
  }
})

test('T=0 write into private memory: dropped, the page unchanged, the device told nothing, the fault logged', () => {
  const {mem, iommu} = setup()
  mem.write(BUF, Buffer.from('secret'))
  const o = iommu.dma({requester: nic(false), gpa: BUF, direction: 'write', data: Buffer.alloc(64, 0x41)})
  assert.is(o.tlp, 'T=0')
  assert.is(o.alias, 'private')
  assert.is(o.bytes_done, 0)
  assert.is(o.faults.length, 1)
  assert.is(o.faults[0].device_sees, 'nothing')
  assert.is(mem.read(BUF, 6).toString(), 'secret')
  assert.equal(iommu.faults, o.faults)
})

test('T=0 read of private memory: error completion (all-ones), never TD data', () => {
  const {mem, iommu} = setup()
  mem.write(BUF, Buffer.from('secret'))
  const o = iommu.dma({requester: nic(false), gpa: BUF, direction: 'read', bytes: 6})
  assert.equal(o.data, Buffer.alloc(6, 0xff))
  assert.is(o.faults[0].device_sees, 'error completion')
})

test('shared memory is reachable with T=0 and T=1; the TD sees the data through its shared alias', () => {
  const {mem, iommu} = setup()
  mem.setState(BUF, 1, 'shared')
  const alias = mem.sharedAlias(BUF)
  for (const trusted of [false, true]) {
    const data = Buffer.alloc(100, trusted ? 0x31 : 0x30)
    const o = iommu.dma({requester: nic(trusted), gpa: alias, direction: 'write', data})
    assert.is(o.faults.length, 0)
    assert.is(o.alias, 'shared')
    assert.equal(mem.read(alias, 100), data)
  }
  // the shared alias of a page still private has no shared mapping
  const miss = iommu.dma({requester: nic(true), gpa: mem.sharedAlias(BUF + PAGE), direction: 'write', data: Buffer.alloc(8)})
  assert.is(miss.faults[0].reason, 'NO_SHARED_MAPPING')
})

test('T=1 write into private memory lands (through the TD key); the TD reads it back; a pending page faults', () => {
  const {mem, iommu} = setup()
  const data = Buffer.from('trusted DMA')
  const o = iommu.dma({requester: nic(true), gpa: BUF, direction: 'write', data})
  assert.is(o.tlp, 'T=1')
  assert.is(o.faults.length, 0)
  assert.equal(mem.read(BUF, data.length), data)
  mem.setState(BUF + 2n * PAGE, 1, 'pending')
  assert.is(iommu.dma({requester: nic(true), gpa: BUF + 2n * PAGE, direction: 'write', data}).faults[0].reason, 'NO_PRIVATE_MAPPING')
})

test('a DMA crossing pages is checked per page: the shared page is written, the unconverted one faults', () => {
  const {mem, iommu} = setup()
  mem.setState(BUF, 1, 'shared')
  const start = mem.sharedAlias(BUF + PAGE - 16n)
  const o = iommu.dma({requester: nic(false), gpa: start, direction: 'write', data: Buffer.alloc(32, 0x7a)})
  assert.is(o.pages, 2)
  assert.is(o.bytes_done, 16)
  assert.is(o.faults.length, 1)
  assert.is(o.faults[0].gpa, mem.sharedAlias(BUF + PAGE))
  assert.equal(mem.read(start, 16), Buffer.alloc(16, 0x7a))
})

test.run()
