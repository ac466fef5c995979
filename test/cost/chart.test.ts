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

test('one legend band for all panels, below the title and above every plot; rings for marked points; grid layout', () => {
  const svg = renderChart({
    title: 't',
    xLabel: 'requests in flight (--concurrency)',
    xs: [1, 2, 4],
    columns: 2,
    markLabel: 'pool ran out',
    panels: ['a', 'b', 'c'].map((title) => ({
      title,
      yLabel: 'y',
      series: [
        {name: 'swiotlb', values: [1, 2, 3], marks: [false, false, true]},
        {name: 'upstream', values: [3, 2, 1]},
      ],
    })),
  })
  // the legend entries appear once, not once per panel
  assert.is((svg.match(/>swiotlb</g) ?? []).length, 1)
  assert.is((svg.match(/>pool ran out</g) ?? []).length, 1)
  // every legend text sits above the first panel's translate(…, y)
  const firstPanelY = Number(/<g transform="translate\([\d.]+,([\d.]+)\)">/.exec(svg)![1])
  for (const m of svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" fill="#222">/g)) assert.ok(Number(m[1]) < firstPanelY - 20, `legend y ${m[1]} vs panel ${firstPanelY}`)
  // three panels on two columns: two distinct panel rows
  const ys = new Set([...svg.matchAll(/<g transform="translate\([\d.]+,([\d.]+)\)">/g)].map((m) => m[1]))
  assert.is(ys.size, 2)
  assert.is((svg.match(/<ellipse /g) ?? []).length, 3, 'one ring per panel for the marked point')
  assert.match(svg, /requests in flight \(--concurrency\)/)
})

test.run()
