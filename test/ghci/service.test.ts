/**
 * GHCI Service TDVMCALL services: the Query service under the GUID of GHCI 1.5 §3.14.1 as Intel's
 * code uses it (OVMF VmmSpdmVTpm, QEMU td-partitioning tdx-service-query.c, MigTD
 * VMCALL_SERVICE_COMMON_GUID: fb6fc5e1-3378-4acb-8964-fa5ee43b9c8a), answered the way QEMU answers
 * it, end to end from the TD; known but unserved GUIDs; the simulator-only quote service labelled.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {SERVICE_GUID_MIGTD, SERVICE_GUID_QUERY, SERVICE_GUID_TDXKIT_QUOTE, SERVICE_GUID_VTPM, SERVICE_QUERY_CMD, ServiceStatus, guidToBytes} from '../../src/abi/ghci.js'
import {writeField} from '../../src/abi/layout.js'
import {KNOWN_SERVICES, findService} from '../../src/ghci/services.js'
import {callService, queryService} from '../../src/guest/service.js'
import {freshTd} from '../guest/helpers.js'
import {cli, tempDir} from '../helpers/cli.js'

test('the Query GUID is the one of GHCI 1.5 / Intel code, in UEFI byte order on the wire', () => {
  assert.is(SERVICE_GUID_QUERY, 'fb6fc5e1-3378-4acb-8964-fa5ee43b9c8a')
  // first three fields little-endian: e1c56ffb 7833 cb4a, then 8964 fa5ee43b9c8a as written
  assert.is(guidToBytes(SERVICE_GUID_QUERY).toString('hex'), 'e1c56ffb7833cb4a8964fa5ee43b9c8a')
  assert.not.ok(KNOWN_SERVICES.some((s) => s.guid === '6385c05c-fcc5-41fd-abd2-fdcaaece977d'), 'the RFC-only GUID is gone')
})

test('Query end to end: served services say 0, known unserved (vTPM, MigTD) and unknown GUIDs say 1; shared buffers converted and returned', () => {
  const {td} = freshTd()
  const before = td.trace.snapshot()
  const q = queryService(td, SERVICE_GUID_QUERY)
  assert.is(q.status, ServiceStatus.SUCCESS)
  assert.is(q.guid, SERVICE_GUID_QUERY, 'the VMM echoes the service GUID')
  assert.is(q.queried, SERVICE_GUID_QUERY)
  assert.is(q.supported, true)
  assert.is(q.length, 24 + SERVICE_QUERY_CMD.size)
  assert.is(queryService(td, SERVICE_GUID_TDXKIT_QUOTE).supported, true)
  for (const g of [SERVICE_GUID_VTPM, SERVICE_GUID_MIGTD, '01234567-89ab-cdef-0123-456789abcdef']) {
    const r = queryService(td, g)
    assert.is(r.status, ServiceStatus.SUCCESS, g)
    assert.is(r.supported, false, g)
  }
  const d = td.trace.counters
  assert.is(d.tdvmcalls - before.tdvmcalls, 5 * (1 + 4), 'per query: the Service call + MapGPA to shared and back for two buffers')
  assert.is(d.shared_bytes_now, 0, 'buffers private again')
  // the quote service reports unavailable when the host has no quote service
  assert.is(queryService(freshTd({qgsMode: 'down'}).td, SERVICE_GUID_TDXKIT_QUOTE).supported, false)
})

test('Query as QEMU answers it: a short command → BAD_CMD_BUF_SIZE, another version or command → NOT_SUPPORT; unknown service → NOT_SUPPORT', () => {
  const {td} = freshTd()
  assert.is(callService(td, SERVICE_GUID_QUERY, Buffer.alloc(4)).status, ServiceStatus.BAD_CMD_BUF_SIZE)
  const q = Buffer.alloc(SERVICE_QUERY_CMD.size)
  writeField(SERVICE_QUERY_CMD, q, 'version', 1)
  assert.is(callService(td, SERVICE_GUID_QUERY, q).status, ServiceStatus.NOT_SUPPORT)
  writeField(SERVICE_QUERY_CMD, q, 'version', 0)
  writeField(SERVICE_QUERY_CMD, q, 'command', 1)
  assert.is(callService(td, SERVICE_GUID_QUERY, q).status, ServiceStatus.NOT_SUPPORT)
  assert.is(callService(td, SERVICE_GUID_VTPM, Buffer.alloc(8)).status, ServiceStatus.NOT_SUPPORT)
  assert.is(callService(td, SERVICE_GUID_QUERY, Buffer.alloc(SERVICE_QUERY_CMD.size), 24).status, ServiceStatus.RSP_BUF_TOO_SMALL)
})

test('the registry labels the quote service simulator-only and cites a public specification for every other', () => {
  for (const s of KNOWN_SERVICES) {
    if (s.simulator_only) assert.is(s.guid, SERVICE_GUID_TDXKIT_QUOTE)
    else assert.match(s.spec, /GHCI|vTPM|Migration/)
  }
  assert.is(findService('VTPM')?.guid, SERVICE_GUID_VTPM)
})

test('ghci service query / list on the CLI: text, --json, bad input exit 2', () => {
  const d = tempDir()
  const r = cli(['ghci', 'service', 'query', 'vtpm', '--json'], {stateDir: d})
  assert.is(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.equal([j.guid, j.supported, j.status_name, j.query_guid], [SERVICE_GUID_VTPM, false, 'SERVICE_SUCCESS', SERVICE_GUID_QUERY])
  const t = cli(['ghci', 'service', 'query', SERVICE_GUID_QUERY], {stateDir: d})
  assert.match(t.stdout, /served by this host\s+yes/)
  const list = JSON.parse(cli(['ghci', 'service', 'list', '--json'], {stateDir: d}).stdout)
  assert.is(list.services.find((s: {name: string}) => s.name === 'tdxkit-quote').simulator_only, true)
  const bad = cli(['ghci', 'service', 'query', 'not-a-guid'], {stateDir: d})
  assert.is(bad.code, 2)
  assert.match(bad.stderr, /^tdxkit: error: unknown service/)
})

test.run()
