/** The SVG chart: well-formed, one line per strategy per panel, text escaped, ticks sensible. */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {escapeXml, niceTicks, renderChart} from '../../src/cost/chart.js'

test('nice ticks cover the maximum', () => {
  assert.equal(niceTicks(741), [0, 200, 400, 600, 800])
  assert.equal(niceTicks(5), [0, 1, 2, 3, 4, 5])
  assert.equal(niceTicks(0), [0, 1])
})

test('renders a self-contained SVG with one polyline per series per panel', () => {
  const svg = renderChart({
    title: 'A <&> B',
    xLabel: 'vcpus',
    xs: [8, 32, 248],
    panels: [
      {title: 'latency', yLabel: 'ms', series: [{name: 'vmap-mapgpa', values: [5.1, 5.1, 5.6]}, {name: 'dma-pool', values: [5, 5, 5]}]},
      {title: 'exits', yLabel: 'n', series: [{name: 'vmap-mapgpa', values: [21, 93, 741]}, {name: 'dma-pool', values: [0, 0, 0]}]},
    ],
  })
  assert.match(svg, /^<\?xml version="1.0"/)
  assert.match(svg, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/)
  assert.match(svg, /<\/svg>\n$/)
  assert.is((svg.match(/<polyline /g) ?? []).length, 4)
  assert.is((svg.match(/<circle /g) ?? []).length, 12)
  assert.ok(svg.includes('A &lt;&amp;&gt; B'))
  assert.not.match(svg, /<script/)
  assert.ok(svg.includes('(log scale)')) // 8 … 248 spans more than 20×
  // Every opened <g> is closed.
  assert.is((svg.match(/<g /g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length)
  assert.is(escapeXml(`"'`), '&quot;&apos;')
})

test.run()
