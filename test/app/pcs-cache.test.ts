/**
 * PCCS cache entries are read with the bounded reader: an entry replaced by a symlink to /dev/zero
 * or by a FIFO is a cache miss (fetched again and rewritten), never a hang.
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawnSync} from 'node:child_process'
import {lstatSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {startPccsServer} from '../../src/app/pccs-server.js'
import {PcsClient} from '../../src/app/pcs-client.js'
import {tempDir} from '../helpers/cli.js'
import {simPlatform, simSeeds} from '../verify-fuzz/lib/seeds.js'

test('cache entries that are symlinks to /dev/zero or FIFOs are misses: fetched again, then regular files', async () => {
  const sim = await simPlatform('pcs-cache-bounded')
  const [seed] = await simSeeds(sim)
  const server = await startPccsServer({collateral: sim.collateral})
  try {
    const cacheDir = tempDir('tdxkit-pcs-cache-')
    const client = new PcsClient({baseUrl: server.url, cacheDir})
    const first = await client.fetchForQuote(seed.quote)
    assert.ok(first.sources.every((s) => !s.cached))
    const entries = readdirSync(cacheDir).filter((n) => n.endsWith('.json'))
    assert.ok(entries.length >= 4, entries.join(' '))
    entries.forEach((n, i) => {
      rmSync(join(cacheDir, n))
      if (i % 2 === 0) symlinkSync('/dev/zero', join(cacheDir, n))
      else assert.is(spawnSync('mkfifo', [join(cacheDir, n)]).status, 0)
    })
    const second = await client.fetchForQuote(seed.quote)
    assert.ok(second.sources.every((s) => !s.cached), 'every poisoned entry is a miss')
    for (const k of Object.keys(first.collateral) as Array<keyof typeof first.collateral>) assert.is(second.collateral[k], first.collateral[k], k)
    for (const n of entries) assert.ok(lstatSync(join(cacheDir, n)).isFile(), `${n} rewritten as a regular file`)
    const third = await client.fetchForQuote(seed.quote)
    assert.ok(third.sources.every((s) => s.cached), 'and served from the cache again')
  } finally {
    await server.close()
  }
})

test.run()
