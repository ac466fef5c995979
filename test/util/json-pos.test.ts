/** The positioned JSON reader (src/util/json-pos.ts): values as JSON.parse gives them, and where each one sits. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {JsonPosError, MAX_JSON_DEPTH, locOf, parseJsonWithPositions} from '../../src/util/json-pos.js'

const DOC = '{\n  "a": [1, -2.5e3, "x\\"y"],\n  "b": {"c": null, "d": true}\n}'

test('values equal JSON.parse; lines and columns are 1-based; spans cut the source text', () => {
  const r = parseJsonWithPositions(DOC)
  assert.equal(r.value, JSON.parse(DOC))
  assert.equal(r.valueAt.get(''), {line: 1, column: 1})
  assert.equal(r.keyAt.get('/a'), {line: 2, column: 3})
  assert.equal(r.valueAt.get('/a'), {line: 2, column: 8})
  assert.equal(r.valueAt.get('/a/1'), {line: 2, column: 12})
  assert.equal(r.keyAt.get('/b/d'), {line: 3, column: 20})
  const cut = (p: string) => DOC.slice(...r.spanAt.get(p)!)
  assert.is(cut('/a'), '[1, -2.5e3, "x\\"y"]')
  assert.is(cut('/a/2'), '"x\\"y"')
  assert.is(cut('/b'), '{"c": null, "d": true}')
  assert.equal(locOf(DOC, DOC.indexOf('"d"')), r.keyAt.get('/b/d'))
})

test('a "__proto__" member is an ordinary key, not the prototype', () => {
  const v = parseJsonWithPositions('{"__proto__": {"polluted": 1}}').value as Record<string, unknown>
  assert.ok(Object.prototype.hasOwnProperty.call(v, '__proto__'))
  assert.is(({} as Record<string, unknown>).polluted, undefined)
})

test('every malformed input is a JsonPosError naming where', () => {
  const cases: Array<[string, RegExp, number, number]> = [
    ['{"a": 1,}', /expected a "key" in object/, 1, 9],
    ['{"a": 1 "b": 2}', /expected "," or "}" in object/, 1, 9],
    ['[1 2]', /expected "," or "\]" in array/, 1, 4],
    ['{"a" 1}', /expected ":" after key/, 1, 6],
    ['{"a": 1, "a": 2}', /duplicate key "a"/, 1, 10],
    ['"abc', /unterminated string/, 1, 1],
    ['"a\tb"', /control character in string/, 1, 3],
    ['"\\q"', /invalid string escape/, 1, 1],
    ['[1]\n x', /unexpected text after the JSON value/, 2, 2],
    ['', /unexpected end of input/, 1, 1],
    ['\n  @', /unexpected character "@"/, 2, 3],
    ['['.repeat(MAX_JSON_DEPTH + 1), new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`), 1, MAX_JSON_DEPTH + 1],
  ]
  for (const [text, re, line, column] of cases) {
    try {
      parseJsonWithPositions(text)
      assert.unreachable(`accepted ${JSON.stringify(text)}`)
    } catch (e) {
      assert.instance(e, JsonPosError, JSON.stringify(text))
      assert.match((e as Error).message, re)
      assert.equal((e as JsonPosError).loc, {line, column}, JSON.stringify(text))
    }
  }
})

test('nesting up to the limit is read', () => {
  const deep = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)
  assert.equal(parseJsonWithPositions(deep).value, JSON.parse(deep))
})

test.run()
