/** The platform document check (src/module/doc.ts): a fresh document passes; each damaged field is a one-line STATE_CORRUPT naming it. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {assertPlatformDoc, hex64, type PlatformDoc} from '../../src/module/doc.js'
import {createPlatformDoc} from '../../src/module/platform.js'
import {StateError} from '../../src/errors.js'
import type {StateDoc} from '../../src/util/state-doc.js'

const fresh = (): PlatformDoc => createPlatformDoc({profile: 'tdx-1.5', seed: 'doc-test'})

function corrupt(mutate: (d: Record<string, any>) => void): string {
  const d = structuredClone(fresh()) as unknown as Record<string, any>
  mutate(d)
  try {
    assertPlatformDoc(d as StateDoc, 'x.json')
  } catch (e) {
    assert.instance(e, StateError)
    assert.is((e as StateError).code, 'STATE_CORRUPT')
    assert.not.match((e as Error).message, /\n/)
    assert.match((e as Error).message, /^state file x\.json is corrupt/)
    return (e as Error).message
  }
  throw new Error('accepted a damaged document')
}

test('a freshly created document passes, and a missing events list becomes []', () => {
  const d = fresh() as unknown as Record<string, unknown>
  delete d.events
  assertPlatformDoc(d as StateDoc)
  assert.equal(d.events, [])
})

test('each damaged field is named', () => {
  assert.match(corrupt((d) => delete d.module), /no module section/)
  assert.match(corrupt((d) => (d.module.profile = 'tdx-9')), /unknown profile "tdx-9"/)
  assert.match(corrupt((d) => (d.module.reportmac_key = 'zz')), /module\.reportmac_key is not 32 bytes of hex/)
  assert.match(corrupt((d) => (d.module.version.build_num = -1)), /module\.version\.build_num/)
  assert.match(corrupt((d) => d.td.rtmr.pop()), /td\.rtmr is not 4 registers/)
  assert.match(corrupt((d) => (d.td.gpaw = 50)), /td\.gpaw/)
  assert.match(corrupt((d) => (d.td.memory_bytes = 2 ** (d.td.gpaw - 1) + 1)), /td\.memory_bytes/)
  assert.match(corrupt((d) => (d.td.num_vcpus = 0)), /td\.num_vcpus/)
  assert.match(corrupt((d) => (d.events = [{seq: 0, rtmr_index: 4, digest: ''}])), /events\[0\]/)
})

test('hex64: 0x and 16 lowercase digits', () => {
  assert.is(hex64(0x1abn), '0x00000000000001ab')
})

test.run()
