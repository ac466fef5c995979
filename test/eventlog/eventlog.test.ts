/**
 * Event logs: the real GCE TDX CCEL vector (go-tdx-guest) replays to the RTMRs in its own quote;
 * the simulator's events round-trip through a CCEL-format log; tampering is located by event index;
 * malformed logs give typed errors. Expected RTMR values come from the quote bytes or from SHA-384
 * chains computed here with node:crypto, never from the code under test.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createHash} from 'node:crypto'
import fc from 'fast-check'
import {readVector, vectorTest} from '../helpers/vectors.js'
import {QUOTE_HEADER, TD10_BODY} from '../../src/abi/quote.js'
import {field} from '../../src/abi/layout.js'
import {TCG_PCR_EVENT2_HEADER, TPM_ALG, EV} from '../../src/abi/tcg.js'
import {ParseError, TdxkitError} from '../../src/errors.js'
import {
  compareToRtmrs,
  encodeCcelTable,
  encodeEvent2,
  encodeSpecIdEvent,
  encodeSpecIdRecord,
  eventsToCcelLog,
  logAreaFromTable,
  parseCcelTable,
  parseEventLog,
  replayRtmrs,
  type StateEvent,
} from '../../src/eventlog/index.js'
import {quoteRtmrs} from '../../src/eventlog/quote-rtmrs.js'

const VEC = 'real/gotdx-tdx-v4-cos113-ccel'
const sha384 = (...parts: Uint8Array[]) => createHash('sha384').update(Buffer.concat(parts)).digest()
const ZERO48 = Buffer.alloc(48)

/** RTMR0–3 straight from the quote bytes: header, then the TD10 body's RTMR fields. */
function rtmrsFromQuoteBytes(quote: Buffer): Buffer[] {
  return (['rtmr0', 'rtmr1', 'rtmr2', 'rtmr3'] as const).map((f) => Buffer.from(field(TD10_BODY, quote, f, QUOTE_HEADER.size)))
}

/** Independent replay: fold SHA-384(old ‖ digest) per register. */
function foldEvents(events: Array<{rtmr_index: number; digest: string}>): Buffer[] {
  const r = [ZERO48, ZERO48, ZERO48, ZERO48]
  for (const e of events) r[e.rtmr_index] = sha384(r[e.rtmr_index], Buffer.from(e.digest, 'hex'))
  return r
}

function realLog() {
  const table = parseCcelTable(readVector(VEC, 'ccel_table.bin'))
  return {table, data: readVector(VEC, 'ccel_data.bin'), log: parseEventLog(logAreaFromTable(table, readVector(VEC, 'ccel_data.bin')))}
}

function expectError(fn: () => unknown, code: string, re?: RegExp): TdxkitError {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof TdxkitError, `expected a TdxkitError, got ${error}`)
    assert.is((error as TdxkitError).code, code, (error as Error).message)
    if (re) assert.match((error as Error).message, re)
    return error as TdxkitError
  }
  throw new Error(`expected error ${code}, nothing thrown`)
}

// ---- the real CCEL vector ---------------------------------------------------------------------

vectorTest(test, 'real CCEL table: TDX type, log area length and base, checksum', () => {
  const t = parseCcelTable(readVector(VEC, 'ccel_table.bin'))
  assert.is(t.signature, 'CCEL')
  assert.is(t.length, 56)
  assert.is(t.cc_type, 2)
  assert.is(t.cc_type_name, 'Intel TDX')
  assert.is(t.laml, 0x40000n)
  assert.is(t.lasa, 0xbedbf000n)
  assert.is(t.oem_id, 'INTEL')
})

vectorTest(test, 'real CCEL log: Spec ID (SHA-384 only), 44 records, padding, known events decoded', () => {
  const {log} = realLog()
  assert.equal(log.spec_id.algorithms, [{alg_id: 0x000c, alg: 'sha384', digest_size: 48}])
  assert.is(log.spec_id.spec_version, '2.0')
  assert.is(log.events.length, 44)
  assert.is(log.length + log.trailing_bytes, 0x40000)
  assert.not.ok(log.trailing_nonpadding)
  const e = log.events
  assert.is(e[0].type_name, 'EV_NO_ACTION')
  assert.not.ok(e[0].extended)
  assert.is(e[8].type_name, 'EV_SEPARATOR')
  assert.is(e[8].rtmr_index, 0)
  assert.is(e[15].type_name, 'EV_EFI_ACTION')
  assert.is(e[15].rtmr_index, 1)
  assert.is(e[15].data.toString('latin1'), 'Calling EFI Application from Boot Option')
  assert.is(e[3].decoded?.summary, 'SecureBoot = 0')
  assert.is(e[12].decoded?.summary, 'BootOrder 0001,0000')
  assert.match(e[24].decoded!.summary, /\\EFI\\BOOT\\grub-lakitu\.efi/)
  assert.match(e[18].decoded!.summary, /^PciRoot\(0x0\)\/Pci\(0x4,0x0\)\/NVMe\(0x1\)\/HD\(12,[0-9A-F-]{36}\)\/\\EFI\\BOOT\\BOOTX64\.EFI \(924688 bytes at 0xbcb5c018\)$/)
  assert.is(e[41].rtmr_index, 2)
  assert.match(e[41].data.toString('latin1'), /^kernel_cmdline: /)
  // Every event whose digest the TCG spec defines as the hash of its data checks out in a real log.
  assert.is(e.filter((x) => x.data_check === 'mismatch').length, 0)
  assert.equal(e.filter((x) => x.data_check === 'match').map((x) => x.index), [3, 4, 5, 6, 7, 8, 15, 16, 17, 21, 22, 42, 43])
  // Hand check one: the separator's digest is SHA-384 of its 4 zero bytes.
  assert.equal(e[8].digests[0].digest, sha384(Buffer.alloc(4)))
})

vectorTest(test, 'real CCEL log replays to all four RTMRs of its quote (read from the TD10 body bytes)', () => {
  const {log} = realLog()
  const expected = rtmrsFromQuoteBytes(readVector(VEC, 'quote.bin'))
  const replayed = replayRtmrs(log)
  for (let i = 0; i < 4; i++) assert.equal(replayed[i].toString('hex'), expected[i].toString('hex'), `RTMR${i}`)
  // Not a trivial match: RTMR0-2 are extended, RTMR3 is untouched on this image.
  for (let i = 0; i < 3; i++) assert.not.equal(expected[i], ZERO48)
  assert.equal(expected[3], ZERO48)
  const cmp = compareToRtmrs(log, expected)
  assert.ok(cmp.ok)
  assert.equal(cmp.rtmrs.map((r) => r.status), ['match', 'match', 'match', 'match'])
  assert.is(cmp.first_divergence, undefined)
  // The quote-format parser agrees with the raw offsets.
  assert.equal(quoteRtmrs(readVector(VEC, 'quote.bin')), expected)
})

vectorTest(test, 'real log, tampered event data (SecureBoot variable) is named although the RTMRs still match', () => {
  const {data, table} = realLog()
  const area = Buffer.from(logAreaFromTable(table, data))
  const log0 = parseEventLog(area)
  const ev = log0.events[3]
  area[ev.offset + ev.size - 1] ^= 0x01 // SecureBoot = 0 → 1, digest untouched
  const log = parseEventLog(area)
  assert.is(log.events[3].data_check, 'mismatch')
  const cmp = compareToRtmrs(log, rtmrsFromQuoteBytes(readVector(VEC, 'quote.bin')))
  assert.not.ok(cmp.ok)
  assert.ok(cmp.rtmrs.every((r) => r.match))
  assert.is(cmp.first_divergence?.event_index, 3)
  assert.is(cmp.first_divergence?.reason, 'event_data_mismatch')
  assert.equal(cmp.data_mismatches, [3])
})

vectorTest(test, 'real log, tampered digest of an opaque event: RTMR0 fails, location honestly unknown', () => {
  const {data, table} = realLog()
  const area = Buffer.from(logAreaFromTable(table, data))
  const ev = parseEventLog(area).events[10] // EV_PLATFORM_CONFIG_FLAGS: digest covers ACPI tables, not the data
  area[ev.offset + TCG_PCR_EVENT2_HEADER.size + 2] ^= 0xff
  const cmp = compareToRtmrs(parseEventLog(area), rtmrsFromQuoteBytes(readVector(VEC, 'quote.bin')))
  assert.not.ok(cmp.ok)
  assert.equal(cmp.rtmrs.map((r) => r.match), [false, true, true, true])
  assert.is(cmp.first_divergence?.rtmr_index, 0)
  assert.is(cmp.first_divergence?.event_index, null)
  assert.is(cmp.first_divergence?.reason, 'not_locatable')
})

vectorTest(test, 'real log truncated inside a record → EVENTLOG_TRUNCATED naming the record', () => {
  const {log, data} = realLog()
  const ev = log.events[5]
  expectError(() => parseEventLog(data.subarray(0, ev.offset + 30)), 'EVENTLOG_TRUNCATED', /record 5/)
  expectError(() => parseEventLog(data.subarray(0, ev.offset + ev.size - 1)), 'EVENTLOG_TRUNCATED', /record 5.*event data/)
  // Cut exactly at a record boundary: a shorter, valid log.
  assert.is(parseEventLog(data.subarray(0, ev.offset)).events.length, 5)
})

// ---- the simulator's log ----------------------------------------------------------------------

const measured = (rtmr: number, text: string, extra: Partial<StateEvent> = {}): StateEvent => {
  const data = Buffer.from(text)
  return {rtmr_index: rtmr, digest: sha384(data).toString('hex'), data: data.toString('hex'), ...extra}
}

/** What the simulator's log must carry as event data (the rule of eventsToCcelLog, restated). */
function expectedData(s: StateEvent): Buffer {
  const payload = s.data !== undefined ? Buffer.from(s.data, 'hex') : Buffer.from(s.description ?? '', 'utf8')
  if (s.event_type !== undefined) return payload
  if (s.data !== undefined && payload.length > 0 && sha384(payload).toString('hex') === s.digest) return payload
  const h = Buffer.alloc(8)
  h.writeUInt32LE(0x6b786474, 0)
  h.writeUInt32LE(payload.length, 4)
  return Buffer.concat([h, payload])
}

const SIM_EVENTS: StateEvent[] = [
  {seq: 1, ...measured(1, 'kernel vmlinuz-6.8')},
  {seq: 2, ...measured(1, 'initrd initramfs.img')},
  {seq: 3, ...measured(2, 'console=ttyS0 root=/dev/vda1')},
  {seq: 4, rtmr_index: 3, digest: 'ab'.repeat(48), description: 'app: config digest'},
  {seq: 5, ...measured(3, 'container image sha256:1234')},
  {seq: 6, ...measured(0, 'firmware config', {event_type: EV.EFI_ACTION})},
]

test('simulator events → CCEL log → parse: every field round-trips and replay equals the hand fold', () => {
  const bytes = eventsToCcelLog(SIM_EVENTS)
  const log = parseEventLog(bytes)
  assert.is(log.length, bytes.length)
  assert.is(log.trailing_bytes, 0)
  assert.equal(log.spec_id.algorithms.map((a) => a.alg), ['sha384'])
  assert.is(log.events.length, SIM_EVENTS.length + 1)
  SIM_EVENTS.forEach((s, i) => {
    const e = log.events[i + 1]
    assert.is(e.rtmr_index, s.rtmr_index)
    assert.is(e.mr_index, s.rtmr_index + 1, 'CC MR index = RTMR index + 1')
    assert.ok(e.extended)
    assert.is(e.digests[0].digest.toString('hex'), s.digest)
    assert.is(e.data.toString('hex'), expectedData(s).toString('hex'))
  })
  assert.equal(log.events.slice(1).map((e) => e.event_type), [EV.IPL, EV.IPL, EV.IPL, EV.EVENT_TAG, EV.IPL, EV.EFI_ACTION])
  assert.is(log.events[4].decoded?.summary, 'tag 0x6b786474: app: config digest')
  assert.equal(log.events.slice(1).map((e) => e.data_check), ['match', 'match', 'match', 'unchecked', 'match', 'match'])
  assert.equal(replayRtmrs(log), foldEvents(SIM_EVENTS))
  assert.ok(compareToRtmrs(log, foldEvents(SIM_EVENTS)).ok)
})

test('property: any list of extends round-trips and replays to the SHA-384 fold', () => {
  const ev = fc.record({
    rtmr_index: fc.integer({min: 0, max: 3}),
    digest: fc.uint8Array({minLength: 48, maxLength: 48}).map((b) => Buffer.from(b).toString('hex')),
    data: fc.option(fc.uint8Array({maxLength: 64}).map((b) => Buffer.from(b).toString('hex')), {nil: undefined}),
    description: fc.option(fc.string({maxLength: 20}), {nil: undefined}),
    event_type: fc.option(fc.integer({min: 0, max: 0xffffffff}).filter((t) => t !== EV.NO_ACTION), {nil: undefined}),
  })
  fc.assert(
    fc.property(fc.array(ev, {maxLength: 20}), (events) => {
      const log = parseEventLog(eventsToCcelLog(events))
      assert.is(log.events.length, events.length + 1)
      events.forEach((s, i) => {
        assert.is(log.events[i + 1].digests[0].digest.toString('hex'), s.digest)
        assert.is(log.events[i + 1].data.toString('hex'), expectedData(s).toString('hex'))
      })
      assert.equal(replayRtmrs(log), foldEvents(events))
    }),
    {numRuns: 200},
  )
})

test('tampered digest in the simulator log is located by event index', () => {
  const bytes = eventsToCcelLog(SIM_EVENTS)
  const good = parseEventLog(bytes)
  const expected = foldEvents(SIM_EVENTS)
  for (const target of [1, 2, 3, 5]) {
    const t = Buffer.from(bytes)
    const ev = good.events[target]
    t[ev.offset + TCG_PCR_EVENT2_HEADER.size + 2 + 7] ^= 0x80 // inside the SHA-384 digest
    const cmp = compareToRtmrs(parseEventLog(t), expected)
    assert.not.ok(cmp.ok)
    const r = SIM_EVENTS[target - 1].rtmr_index
    assert.equal(cmp.rtmrs.map((x) => x.match), [0, 1, 2, 3].map((i) => i !== r))
    assert.is(cmp.first_divergence?.event_index, target, `target ${target}`)
    assert.is(cmp.first_divergence?.rtmr_index, r)
    assert.is(cmp.first_divergence?.reason, 'event_data_mismatch')
  }
})

test('a log with events the quote does not reflect: divergence at the first extra event', () => {
  const expected = foldEvents(SIM_EVENTS.slice(0, 1)) // quote taken after the first extend only
  const log = parseEventLog(eventsToCcelLog(SIM_EVENTS))
  const cmp = compareToRtmrs(log, expected)
  assert.not.ok(cmp.ok)
  // RTMR0 (event 6), RTMR1 (event 2), RTMR2 (event 3), RTMR3 (event 4) all have extra events; the first by position is #2.
  assert.is(cmp.first_divergence?.event_index, 2)
  assert.is(cmp.first_divergence?.reason, 'log_has_extra_events')
  assert.is(cmp.rtmrs[2].divergence?.event_index, 3)
})

test('RTMR3 runtime extends outside the log: enforced by default, allowed on request', () => {
  const logEvents = SIM_EVENTS.filter((e) => e.rtmr_index !== 3)
  const quoteRtmr = foldEvents(SIM_EVENTS) // the quote also saw RTMR3 extends the log does not hold
  const log = parseEventLog(eventsToCcelLog(logEvents))
  const strict = compareToRtmrs(log, quoteRtmr)
  assert.not.ok(strict.ok)
  assert.is(strict.first_divergence?.rtmr_index, 3)
  assert.is(strict.first_divergence?.reason, 'log_missing_events')
  const lenient = compareToRtmrs(log, quoteRtmr, {allowRtmr3Runtime: true})
  assert.ok(lenient.ok)
  assert.is(lenient.rtmrs[3].status, 'runtime')
  // RTMR0-2 stay enforced even with the allowance.
  const wrong0 = [sha384(Buffer.from('x')), ...quoteRtmr.slice(1)]
  assert.not.ok(compareToRtmrs(log, wrong0, {allowRtmr3Runtime: true}).ok)
})

test('bad simulator event records and bad RTMR lists are typed errors', () => {
  expectError(() => eventsToCcelLog([{rtmr_index: 4, digest: '00'.repeat(48)}]), 'BAD_EVENT_RECORD', /rtmr_index/)
  expectError(() => eventsToCcelLog([{rtmr_index: 0, digest: '00'.repeat(47)}]), 'BAD_EVENT_RECORD', /48 bytes/)
  expectError(() => eventsToCcelLog([{rtmr_index: 0, digest: '00'.repeat(48), data: 'xyz'}]), 'BAD_EVENT_RECORD', /data/)
  expectError(() => eventsToCcelLog([{rtmr_index: 0, digest: '00'.repeat(48), event_type: EV.NO_ACTION}]), 'BAD_EVENT_RECORD', /EV_NO_ACTION/)
  const log = parseEventLog(eventsToCcelLog([]))
  assert.equal(replayRtmrs(log), [ZERO48, ZERO48, ZERO48, ZERO48])
  expectError(() => compareToRtmrs(log, [ZERO48, ZERO48, ZERO48]), 'BAD_RTMRS')
  expectError(() => compareToRtmrs(log, [ZERO48, ZERO48, ZERO48, Buffer.alloc(32)]), 'BAD_RTMRS', /RTMR3/)
})

// ---- traps seen in the field and malformed logs ------------------------------------------------

const SPEC_384 = encodeSpecIdRecord(encodeSpecIdEvent([{alg_id: TPM_ALG.SHA384, digest_size: 48}]))
const d384 = (s: string) => [{alg_id: TPM_ALG.SHA384, digest: sha384(Buffer.from(s))}]

test('several EV_NO_ACTION records and register index -1 (GCE) parse; neither is extended', () => {
  const startup = Buffer.concat([Buffer.from('StartupLocality\0', 'latin1'), Buffer.from([3])])
  const bytes = Buffer.concat([
    SPEC_384,
    encodeEvent2({mr_index: 0, event_type: EV.NO_ACTION, digests: [{alg_id: TPM_ALG.SHA384, digest: ZERO48}], data: startup}),
    encodeEvent2({mr_index: 2, event_type: EV.IPL, digests: d384('a')}),
    encodeEvent2({mr_index: 0xffffffff, event_type: EV.EFI_ACTION, digests: d384('b')}),
    encodeEvent2({mr_index: 2, event_type: EV.NO_ACTION, digests: d384('c')}),
    Buffer.alloc(64, 0xff), // 0xFF-filled log area tail
  ])
  const log = parseEventLog(bytes)
  assert.is(log.events.length, 5)
  assert.is(log.events[1].decoded?.summary, 'StartupLocality 3')
  assert.is(log.events[3].rtmr_index, null)
  assert.equal(log.events.map((e) => e.extended), [false, false, true, false, false])
  assert.is(log.trailing_bytes, 64)
  assert.equal(replayRtmrs(log)[1], sha384(ZERO48, sha384(Buffer.from('a'))))
})

test('unknown algorithm: a digest whose algorithm the Spec ID event does not declare', () => {
  const bytes = Buffer.concat([SPEC_384, encodeEvent2({mr_index: 1, event_type: EV.IPL, digests: [{alg_id: TPM_ALG.SHA256, digest: Buffer.alloc(32)}]})])
  const e = expectError(() => parseEventLog(bytes), 'EVENTLOG_UNKNOWN_ALGORITHM', /record 1.*0x000b.*sha256/)
  assert.ok(e instanceof ParseError)
  assert.is(e.exit, 2)
})

test('digest count mismatch: more or fewer digests than the Spec ID event declares', () => {
  const two = [...d384('a'), {alg_id: TPM_ALG.SHA384, digest: ZERO48}]
  expectError(() => parseEventLog(Buffer.concat([SPEC_384, encodeEvent2({mr_index: 1, event_type: EV.IPL, digests: two})])), 'EVENTLOG_DIGEST_COUNT_MISMATCH', /record 1.*2 digests.*declares 1/)
  expectError(() => parseEventLog(Buffer.concat([SPEC_384, encodeEvent2({mr_index: 1, event_type: EV.IPL, digests: []})])), 'EVENTLOG_DIGEST_COUNT_MISMATCH', /0 digests/)
  const spec2 = encodeSpecIdRecord(encodeSpecIdEvent([{alg_id: TPM_ALG.SHA256, digest_size: 32}, {alg_id: TPM_ALG.SHA384, digest_size: 48}]))
  expectError(() => parseEventLog(Buffer.concat([spec2, encodeEvent2({mr_index: 1, event_type: EV.IPL, digests: [...d384('a'), ...d384('b')]})])), 'EVENTLOG_DIGEST_COUNT_MISMATCH', /two sha384/)
})

test('multi-bank log (SHA-256 + SHA-384) parses and replays the SHA-384 bank; SHA-1-only log cannot replay', () => {
  const spec2 = encodeSpecIdRecord(encodeSpecIdEvent([{alg_id: TPM_ALG.SHA256, digest_size: 32}, {alg_id: TPM_ALG.SHA384, digest_size: 48}]))
  const digests = [{alg_id: TPM_ALG.SHA256, digest: Buffer.alloc(32, 7)}, ...d384('x')]
  const log = parseEventLog(Buffer.concat([spec2, encodeEvent2({mr_index: 4, event_type: EV.IPL, digests})]))
  assert.equal(replayRtmrs(log)[3], sha384(ZERO48, sha384(Buffer.from('x'))))
  const spec1 = encodeSpecIdRecord(encodeSpecIdEvent([{alg_id: TPM_ALG.SHA1, digest_size: 20}]))
  const log1 = parseEventLog(Buffer.concat([spec1, encodeEvent2({mr_index: 1, event_type: EV.IPL, digests: [{alg_id: TPM_ALG.SHA1, digest: Buffer.alloc(20)}]})]))
  expectError(() => replayRtmrs(log1), 'EVENTLOG_NO_SHA384')
})

test('malformed headers: empty, not crypto-agile, bad Spec ID, CCEL table given as the log', () => {
  expectError(() => parseEventLog(Buffer.alloc(0)), 'EVENTLOG_EMPTY')
  expectError(() => parseEventLog(Buffer.alloc(4096)), 'EVENTLOG_EMPTY')
  expectError(() => parseEventLog(Buffer.from([1, 0, 0, 0, 3, 0])), 'EVENTLOG_TRUNCATED', /record 0/)
  const notAgile = Buffer.from(SPEC_384)
  notAgile.write('Spec ID Event00', 32, 'latin1')
  expectError(() => parseEventLog(notAgile), 'EVENTLOG_NOT_CRYPTO_AGILE', /Spec ID Event00/)
  const wrongType = Buffer.from(SPEC_384)
  wrongType.writeUInt32LE(EV.IPL, 4)
  expectError(() => parseEventLog(wrongType), 'EVENTLOG_NOT_CRYPTO_AGILE', /EV_IPL/)
  expectError(() => parseEventLog(encodeSpecIdRecord(encodeSpecIdEvent([{alg_id: TPM_ALG.SHA384, digest_size: 32}]))), 'EVENTLOG_BAD_SPEC_ID', /sha384.*32.*48/)
  expectError(() => parseEventLog(encodeSpecIdRecord(encodeSpecIdEvent([]))), 'EVENTLOG_BAD_SPEC_ID', /0 digest algorithms/)
  expectError(() => parseEventLog(encodeCcelTable({laml: 1024n, lasa: 0x1000n})), 'EVENTLOG_IS_ACPI_TABLE', /--table/)
  // An algorithm this build does not know is fine in the Spec ID event: its size is declared there.
  const sm3 = encodeSpecIdRecord(encodeSpecIdEvent([{alg_id: 0x0099, digest_size: 32}, {alg_id: TPM_ALG.SHA384, digest_size: 48}]))
  const log = parseEventLog(Buffer.concat([sm3, encodeEvent2({mr_index: 1, event_type: EV.IPL, digests: [{alg_id: 0x0099, digest: Buffer.alloc(32)}, ...d384('q')]})]))
  assert.is(log.events[1].digests[0].alg, 'alg_0x0099')
})

test('CCEL table: encode/parse round trip and malformed tables', () => {
  const t = encodeCcelTable({laml: 0x10000n, lasa: 0x7f000000n})
  const p = parseCcelTable(t)
  assert.is(p.laml, 0x10000n)
  assert.is(p.lasa, 0x7f000000n)
  assert.is(p.cc_type, 2)
  // Hand check of the checksum rule: all 56 bytes sum to 0 mod 256.
  assert.is(t.reduce((a, b) => (a + b) & 0xff, 0), 0)
  const bad = Buffer.from(t)
  bad[45] ^= 1
  expectError(() => parseCcelTable(bad), 'CCEL_BAD_CHECKSUM')
  const sig = Buffer.from(t)
  sig.write('FACP', 0, 'latin1')
  expectError(() => parseCcelTable(sig), 'CCEL_BAD_SIGNATURE', /FACP/)
  expectError(() => parseCcelTable(t.subarray(0, 20)), 'CCEL_TABLE_TRUNCATED')
  expectError(() => parseCcelTable(t.subarray(0, 50)), 'CCEL_TABLE_TRUNCATED', /56/)
  // LAML bounds the log area.
  const area = Buffer.concat([eventsToCcelLog(SIM_EVENTS.slice(0, 1)), Buffer.alloc(100)])
  assert.is(logAreaFromTable(parseCcelTable(encodeCcelTable({laml: 50n, lasa: 0n})), area).length, 50)
})

test.run()
