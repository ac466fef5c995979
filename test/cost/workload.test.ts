/** Workload parsing: units, defaults, and every bad input refused as a usage error (exit 2). */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {TdxkitError} from '../../src/errors.js'
import {parseSize, parseDuration} from '../../src/cost/units.js'
import {pagesPerBuffer, parseSweep, parseWorkload, swiotlbBytes, sweepWorkloads} from '../../src/cost/workload.js'

const refused = (fn: () => unknown, re: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, TdxkitError)
    assert.is((error as TdxkitError).exit, 2)
    assert.match((error as Error).message, re)
    return
  }
  assert.unreachable(`expected a usage error matching ${re}`)
}

test('units', () => {
  assert.is(parseSize('8KiB', 'x'), 8192)
  assert.is(parseSize('8k', 'x'), 8192)
  assert.is(parseSize('2 GiB', 'x'), 2 * 1024 ** 3)
  assert.is(parseSize('1MB', 'x'), 1_000_000)
  assert.is(parseDuration('5ms', 'x'), 5000)
  assert.is(parseDuration('1s', 'x'), 1e6)
  assert.is(parseDuration('250', 'x'), 250)
  refused(() => parseSize('8 parsecs', 'x'), /cannot parse size/)
  refused(() => parseDuration('soon', 'x'), /cannot parse duration/)
})

test('defaults: Linux 8 KiB buffer (P = 2), 1 caller, 32 vCPUs, 64 KiB pool', () => {
  const w = parseWorkload()
  assert.is(w.buffer_bytes, 8192)
  assert.is(pagesPerBuffer(w), 2)
  assert.is(w.concurrency, 1)
  assert.is(w.vcpus, 32)
  assert.is(w.pool_bytes, 64 * 1024)
  assert.is(w.completion, 'poll')
  assert.is(w.rate, undefined)
})

test('SWIOTLB sizing rule: 6 % of RAM clamped to [64 MiB, 1 GiB]', () => {
  assert.is(swiotlbBytes(512 * 1024 ** 2), 64 * 1024 ** 2)
  assert.is(swiotlbBytes(64 * 1024 ** 3), 1024 ** 3)
  assert.is(parseWorkload({memory: '32GiB', 'pool-size': 'swiotlb'}).pool_bytes, 1024 ** 3)
})

test('bad input is refused with the flag named', () => {
  refused(() => parseWorkload({requests: '0'}), /--requests must be a positive integer/)
  refused(() => parseWorkload({requests: '-5'}), /--requests/)
  refused(() => parseWorkload({requests: '1.5'}), /--requests/)
  refused(() => parseWorkload({size: '0'}), /--size must be a positive size/)
  refused(() => parseWorkload({size: '-8KiB'}), /--size/)
  refused(() => parseWorkload({size: '1KiB'}), /cannot hold the 24-byte GetQuote header/)
  refused(() => parseWorkload({'pool-size': '4KiB'}), /smaller than one 8192-byte buffer/)
  refused(() => parseWorkload({'pool-size': '10000'}), /multiple of 4096/)
  refused(() => parseWorkload({vcpus: '0'}), /--vcpus/)
  refused(() => parseWorkload({vcpus: '100000'}), /at most/)
  refused(() => parseWorkload({concurrency: 'many'}), /--concurrency/)
  refused(() => parseWorkload({rate: '0'}), /--rate/)
  refused(() => parseWorkload({memory: '1MiB'}), /--memory/)
  refused(() => parseWorkload({'poll-interval': '0ms'}), /--poll-interval/)
  refused(() => parseWorkload({notify: true, 'poll-interval': '5ms'}), /exclusive/)
  refused(() => parseWorkload({'response-size': '9000'}), /cannot hold/)
})

test('sweeps', () => {
  const s = parseSweep('vcpus=8,32,248')
  assert.equal(s, {key: 'vcpus', values: ['8', '32', '248']})
  assert.equal(sweepWorkloads({}, s).map((p) => p.workload.vcpus), [8, 32, 248])
  refused(() => parseSweep('colour=red'), /cannot vary/)
  refused(() => parseSweep('vcpus'), /key=v1,v2/)
  refused(() => sweepWorkloads({}, parseSweep('vcpus=8,0')), /--vcpus/)
})

test('issue 16: strategies to compare, the SWIOTLB pool (CoCo rule or swiotlb=), the upstream kernel', () => {
  const w = parseWorkload({})
  assert.equal(w.strategies, ['vmap-mapgpa', 'swiotlb', 'dma-coherent', 'upstream', 'preshared-pool'])
  assert.is(w.swiotlb_bytes, 1024 ** 3) // 6 % of 16 GiB = 983 MiB → 1 GiB (power of two, clamp)
  assert.is(w.swiotlb_rule, 'coco')
  assert.is(w.upstream_kernel, '7.0')
  assert.equal(parseWorkload({strategies: 'dma-pool, swiotlb'}).strategies, ['preshared-pool', 'swiotlb'], 'old name accepted')
  assert.is(parseWorkload({'swiotlb-size': '300KiB', vcpus: 1}).swiotlb_bytes, 512 * 1024, 'rounded up to a power of two like the kernel')
  // round_up_default_nslabs: at least one 128-slot segment per area, one area per CPU (32 → 8 MiB)
  assert.is(parseWorkload({'swiotlb-size': '300KiB'}).swiotlb_bytes, 32 * 128 * 2048)
  assert.is(parseWorkload({'swiotlb-size': '300KiB'}).swiotlb_rule, 'explicit')
  refused(() => parseWorkload({strategies: 'vmap,nope'}), /unknown strategy 'vmap'/)
  refused(() => parseWorkload({'swiotlb-size': '64KiB'}), /at least one 262144-byte segment/)
  refused(() => parseWorkload({size: '16KiB', 'upstream-kernel': '6.7'}), /GET_QUOTE_BUF_SIZE \(8192 bytes in 6.7\)/)
  assert.is(parseWorkload({size: '16KiB', 'upstream-kernel': '6.7', strategies: 'swiotlb'}).buffer_bytes, 16384)
  refused(() => parseWorkload({'upstream-kernel': '5.15'}), /--upstream-kernel must be one of 6.7, 7.0/)
  assert.equal(parseSweep('swiotlb-size=256KiB,1MiB').values, ['256KiB', '1MiB'])
})

test.run()
