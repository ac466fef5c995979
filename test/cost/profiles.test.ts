/** Cost profiles: sources and tags on every figure, user profile validation, --cost overrides. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadProfile} from '../../src/app/cost.js'
import {applyOverrides, profileFromJson} from '../../src/cost/profile-load.js'
import {COST_KINDS, CURVE_KEYS, SCALAR_KEYS, builtinProfile, builtinProfileNames, curveAt, describeProfile, resolveCosts} from '../../src/cost/profiles.js'
import {TdxkitError} from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'tdxkit-profile-'))
const file = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const badProfile = (fn: () => unknown, re: RegExp) => {
  try {
    fn()
  } catch (error) {
    assert.instance(error, TdxkitError)
    assert.is((error as TdxkitError).code, 'BAD_PROFILE')
    assert.is((error as TdxkitError).exit, 2)
    assert.match((error as Error).message, re)
    return
  }
  assert.unreachable('expected BAD_PROFILE')
}

test('builtin profiles cover Sapphire Rapids and Granite Rapids; every figure has a source and a tag', () => {
  assert.ok(builtinProfileNames().includes('granite-rapids'))
  assert.ok(builtinProfileNames().includes('sapphire-rapids'))
  for (const name of builtinProfileNames()) {
    const p = builtinProfile(name)!
    for (const row of describeProfile(p, 32)) {
      assert.ok(COST_KINDS.includes(row.kind), `${name}.${row.key} kind`)
      assert.ok(row.source.length > 10, `${name}.${row.key} source`)
      assert.ok(Number.isFinite(row.value) && row.value >= 0)
    }
  }
  assert.is(builtinProfile('gnr')!.name, 'granite-rapids')
})

test('t_kick(V): measured points on Granite Rapids, estimated elsewhere, interpolated between', () => {
  const g = builtinProfile('granite-rapids')!
  assert.is(curveAt(g.curves.t_kick, 32).kind, 'measured')
  assert.is(curveAt(g.curves.t_kick, 248).value, 170)
  assert.is(curveAt(g.curves.t_kick, 8).kind, 'estimated')
  const mid = curveAt(g.curves.t_kick, 140) // halfway between 32 (9) and 248 (170)
  assert.ok(Math.abs(mid.value - (9 + (161 * 108) / 216)) < 1e-9)
  assert.is(mid.kind, 'derived')
  assert.is(curveAt(g.curves.t_kick, 2).value, 5)
  // Sapphire Rapids has no TD-exit scaling measurement: nothing may claim to be measured.
  const s = builtinProfile('sapphire-rapids')!
  assert.is(curveAt(s.curves.t_kick, 248).kind, 'estimated')
  assert.is(resolveCosts(g, 32).t_kick, 9)
})

test('user profile: bare numbers are estimated, explicit kinds kept, base filled in', () => {
  const p = loadProfile(
    file('ok.json', JSON.stringify({name: 'lab', base: 'sapphire-rapids', primitives: {t_call: 4.2, t_user: {value: '12us', kind: 'measured', confidence: 'high', source: 'lab run'}, t_quote: '39ms', t_kick: [{vcpus: 16, value: 7, kind: 'measured', source: 'x'}]}})),
  )
  assert.is(p.name, 'lab')
  assert.is(p.scalars.t_call.value, 4.2)
  assert.is(p.scalars.t_call.kind, 'estimated')
  assert.is(p.scalars.t_user.kind, 'measured')
  assert.is(p.scalars.t_user.value, 12)
  assert.is(p.scalars.t_quote.value, 39_000)
  assert.is(p.curves.t_kick.length, 1)
  assert.is(p.scalars.t_acc.value, 7.5) // from the base
})

test('malformed profiles are refused with a clear message (exit 2)', () => {
  badProfile(() => loadProfile(file('bad.json', '{"primitives": {')), /not valid JSON/)
  badProfile(() => loadProfile(join(dir, 'missing.json')), /unknown profile/)
  badProfile(() => profileFromJson([], 'x'), /JSON object/)
  badProfile(() => profileFromJson({primitives: {t_nope: 1}}, 'x'), /unknown primitive 't_nope'/)
  badProfile(() => profileFromJson({primitives: {t_call: -1}}, 'x'), /negative/)
  badProfile(() => profileFromJson({primitives: {t_call: 'fast'}}, 'x'), /duration/)
  badProfile(() => profileFromJson({primitives: {t_call: {value: 1, kind: 'guess'}}}, 'x'), /kind must be one of/)
  badProfile(() => profileFromJson({primitives: {phi: 2}}, 'x'), /\[0, 1\]/)
  badProfile(() => profileFromJson({primitives: {qgs_workers: 1.5}}, 'x'), /positive integer/)
  badProfile(() => profileFromJson({primitives: {t_kick: [{vcpus: 8, value: 1}, {vcpus: 8, value: 2}]}}, 'x'), /duplicate/)
  badProfile(() => profileFromJson({primitives: {}, extra: 1}, 'x'), /unknown field 'extra'/)
  badProfile(() => profileFromJson({base: 'nope', primitives: {}}, 'x'), /unknown builtin/)
  badProfile(() => profileFromJson({primitives: {t_call: {kind: 'measured'}}}, 'x'), /missing 'value'/)
})

test('--cost overrides: scalar, curve point, constant curve, kind; bad ones refused', () => {
  const base = builtinProfile('granite-rapids')!
  const p = applyOverrides(base, ['t_call=4', 't_quote=39ms:measured', 't_kick@248=150'])
  assert.is(p.scalars.t_call.value, 4)
  assert.is(p.scalars.t_call.kind, 'estimated')
  assert.is(p.scalars.t_quote.value, 39_000)
  assert.is(p.scalars.t_quote.kind, 'measured')
  assert.is(curveAt(p.curves.t_kick, 248).value, 150)
  assert.is(curveAt(p.curves.t_kick, 32).value, 9)
  assert.is(base.scalars.t_call.value, 5, 'the builtin is not mutated')
  assert.is(curveAt(applyOverrides(base, ['t_kick=20']).curves.t_kick, 248).value, 20)
  badProfile(() => applyOverrides(base, ['t_call']), /key=value/)
  badProfile(() => applyOverrides(base, ['t_call@8=1']), /does not depend/)
  badProfile(() => applyOverrides(base, ['nope=1']), /unknown primitive/)
  badProfile(() => applyOverrides(base, ['t_call=1:sure']), /kind must be one of/)
})

test('every key is documented', () => {
  assert.is(SCALAR_KEYS.length + CURVE_KEYS.length, describeProfile(builtinProfile('gcp')!, 8).length)
})

test.run()
