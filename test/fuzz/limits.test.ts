/**
 * Length and resource limits: absurd declared lengths and counts, deeply nested CBOR, and
 * gigantic inputs on stdin. Each must end in a typed error quickly with bounded memory; the CLI
 * cases run as real processes with a small V8 heap (a memory blow-up would crash them).
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {TdxkitError} from '../../src/errors.js'
import {decodeTdiReport, encodeTdiReport} from '../../src/abi/tdisp.js'
import {SPDM_ALGORITHMS, decodeMeasurementRecord, parseMeasurementsResponse, parseVca, writeU24} from '../../src/abi/spdm.js'
import {verifyCertChain} from '../../src/device/chain.js'
import {decodeCorim} from '../../src/device/corim.js'
import {decodeEvidence} from '../../src/device/evidence.js'
import {parseCcelTable, parseEventLog} from '../../src/eventlog/parse.js'
import {encodeSpecIdEvent, encodeSpecIdRecord} from '../../src/eventlog/encode.js'
import {parseTdReport} from '../../src/abi/tdreport.js'
import {TPM_ALG} from '../../src/abi/tcg.js'
import {corpora} from './lib/seeds.js'
import {deepCbor} from './lib/cbor.js'
import {tempDir} from '../helpers/cli.js'
import {runCommands} from '../safety/helpers.js'
import {readBinaryInput, readRawInput} from '../../src/app/files.js'

const c = await corpora()
const MiB = 1024 * 1024

/** fn must throw a TdxkitError; returns its code. Reports time and heap growth (no timing assertion, a bound on memory). */
function typed(fn: () => unknown): string {
  const heap0 = process.memoryUsage().heapUsed
  try {
    fn()
  } catch (error) {
    assert.instance(error, TdxkitError, `not typed: ${(error as Error)?.stack ?? String(error)}`)
    const grew = process.memoryUsage().heapUsed - heap0
    assert.ok(grew < 64 * MiB, `heap grew ${grew} bytes`)
    return (error as TdxkitError).code
  }
  return assert.unreachable('expected a typed error') as never
}

const u32at = (b: Buffer, off: number, v: number) => {
  const x = Buffer.from(b)
  x.writeUInt32LE(v >>> 0, off)
  return x
}

test('absurd declared lengths and counts: typed errors, no allocation of the declared size', () => {
  const tdi = encodeTdiReport({interface_info: 1, msi_x_message_control: 0, lnr_control: 0, tph_control: 0, mmio_ranges: [], device_specific_info: Buffer.alloc(0)})
  const codes = {
    tdi_range_count: typed(() => decodeTdiReport(u32at(tdi, 12, 0xffffffff))),
    tdi_device_specific_len: typed(() => decodeTdiReport(u32at(tdi, 16, 0xffffffff))),
    meas_block_size: typed(() => {
      const r = Buffer.from(c.measRecord[0])
      r.writeUInt16LE(0xffff, 2)
      return decodeMeasurementRecord(r)
    }),
    meas_record_length: typed(() => {
      const m = Buffer.from(c.measurements[0].subarray(37))
      writeU24(m, 5, 0xffffff)
      return parseMeasurementsResponse(m, 96)
    }),
    vca_algorithms_length: typed(() => {
      const v = Buffer.from(c.vca[0])
      const at = parseVca(v).messages.find((m) => m.name === 'ALGORITHMS')!.offset
      v.writeUInt16LE(0xffff, at + SPDM_ALGORITHMS.fields.length.offset)
      return parseVca(v)
    }),
    ccel_length: typed(() => parseCcelTable(u32at(c.ccelTable[0], 4, 0xffffffff))),
    tdreport_size: typed(() => parseTdReport(Buffer.alloc(1025))),
  }
  // TCG: event size, digest count and algorithm count near 2^32
  const spec = encodeSpecIdRecord(encodeSpecIdEvent([{alg_id: TPM_ALG.SHA384, digest_size: 48}]))
  const evt = Buffer.alloc(12 + 2 + 48 + 4)
  evt.writeUInt32LE(2, 0)
  evt.writeUInt32LE(0x0d, 4)
  evt.writeUInt32LE(1, 8)
  evt.writeUInt16LE(TPM_ALG.SHA384, 12)
  const hugeEventSize = Buffer.from(evt)
  hugeEventSize.writeUInt32LE(0xffffffff, 12 + 2 + 48)
  const hugeDigestCount = Buffer.from(evt)
  hugeDigestCount.writeUInt32LE(0xffffffff, 8)
  Object.assign(codes, {
    tcg_event_size: typed(() => parseEventLog(Buffer.concat([spec, hugeEventSize]))),
    tcg_digest_count: typed(() => parseEventLog(Buffer.concat([spec, hugeDigestCount]))),
    tcg_spec_id_algorithms: typed(() => {
      const s = Buffer.from(spec)
      s.writeUInt32LE(0xffffffff, 32 + 24)
      return parseEventLog(s)
    }),
  })
  console.log(`  limits: ${Object.entries(codes).map(([k, v]) => `${k}→${v}`).join(', ')}`)
  // a chain whose header claims 64 KiB is reported by the verifier as a failed check, not thrown
  const ch = Buffer.from(c.certChain[0])
  ch.writeUInt16LE(0xffff, 0)
  assert.is(verifyCertChain(ch, {anchors: [], at: new Date()}).ok, false)
})

test('deeply nested CBOR (100 000 levels of arrays, maps, tags, indefinite arrays) → typed errors', () => {
  const seen: string[] = []
  for (const kind of ['array', 'map', 'tag', 'indef'] as const) {
    const deep = deepCbor(100_000, kind)
    seen.push(`${kind}:${typed(() => decodeEvidence(deep))}/${typed(() => decodeCorim(deep))}`)
    // the same depth wrapped where the decoders go looking for nested CBOR (a CoMID byte string)
    const wrapped = Buffer.concat([Buffer.from([0xd9, 0x01, 0xfa]), Buffer.from([0x5a]), Buffer.alloc(4), deep])
    wrapped.writeUInt32BE(deep.length, 4)
    seen.push(`comid-${kind}:${typed(() => decodeCorim(wrapped))}`)
  }
  console.log(`  deep CBOR: ${seen.join(' ')}`)
})

test('endless and huge files: /dev/zero as an input is INPUT_TOO_LARGE after 64 MiB (was read until memory ran out)', () => {
  for (const fn of [() => readBinaryInput('/dev/zero', 'event log'), () => readRawInput('/dev/zero', '--data')]) {
    try {
      fn()
      assert.unreachable('read /dev/zero to the end')
    } catch (error) {
      assert.instance(error, TdxkitError)
      assert.is((error as TdxkitError).code, 'INPUT_TOO_LARGE')
      assert.match((error as Error).message, /\/dev\/zero: larger than 67108864 bytes/)
    }
  }
})

test('gigantic stdin: a 65 MiB event log, a 40 MiB hex TDREPORT, a 65 MiB --data → exit 2, one-line errors, 160 MiB heap', () => {
  const stateDir = tempDir('tdxkit-limits-')
  const nodeArgs = ['--max-old-space-size=160']
  const one = (id: string, argv: string[], input: Buffer) => {
    const r = runCommands([{id, argv}], {stateDir, input, nodeArgs})
    assert.is(r.status, 0, `runner died (memory?): ${r.stderr.slice(-1000)}`)
    return r.results[0]
  }
  const big = one('eventlog/show', ['-'], Buffer.alloc(64 * MiB + 1, 0x41))
  assert.is(big.code, 2, big.stderr)
  assert.is(big.stderr, 'tdxkit: error: event log: stdin: larger than 67108864 bytes\n')
  const hex = one('report/show', ['-', '--json'], Buffer.alloc(40 * MiB, 0x30))
  assert.is(hex.code, 2, hex.stderr)
  assert.is(JSON.parse(hex.stdout).error.code, 'TDREPORT_SIZE')
  const data = one('rtmr/extend', ['--index', '2', '--data', '-', '--json'], Buffer.alloc(64 * MiB + 1))
  assert.is(data.code, 2, data.stderr)
  assert.is(JSON.parse(data.stdout).error.code, 'INPUT_TOO_LARGE')
})

test.run()
