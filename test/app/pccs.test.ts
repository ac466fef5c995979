/** The PCS v4 client against `startPccsServer` over real HTTP on 127.0.0.1, serving a real vector's collateral. */
import {test} from 'uvu'
import {connect} from 'node:net'
import * as assert from 'uvu/assert'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {startPccsServer} from '../../src/app/pccs-server.js'
import {PcsClient} from '../../src/app/pcs-client.js'
import {verifyQuote} from '../../src/verify/verifier.js'
import {runBatch} from '../../src/app/verify-batch.js'
import {fetchForFiles} from '../../src/app/verify-setup.js'
import type {QuoteCollateralV3} from '../../src/abi/collateral.js'

const DIR = 'dcapqvl-tdx-v4-uptodate'
const vectorPathOf = (f: string) => vectorPath('real', DIR, f)
const AT = 1752919234

vectorTest(test, 'fetch over HTTP reproduces the bundle exactly, verifies, and is cached until nextUpdate', async () => {
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const quote = readVector('real', DIR, 'quote.bin')
  const server = await startPccsServer({collateral})
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const cacheDir = tempDir('tdxkit-pcs-cache-')
    let clock = AT * 1000
    const client = new PcsClient({baseUrl: server.url + '/tdx/certification/v4', cacheDir, clock: () => clock})
    const first = await client.fetchForQuote(quote)
    assert.is(first.fmspc, 'b0c06f000000')
    assert.is(first.ca, 'platform')
    for (const k of Object.keys(first.collateral) as Array<keyof QuoteCollateralV3>) assert.is(first.collateral[k], collateral[k], k)
    assert.ok(first.sources.every((s) => !s.cached))
    const r = verifyQuote(quote, {now: AT, collateral: first.collateral})
    assert.is(r.status, 'UpToDate')
    // Within every item's nextUpdate: all four from the cache (server not needed).
    const second = await client.fetchForQuote(quote)
    assert.ok(second.sources.every((s) => s.cached), JSON.stringify(second.sources))
    // After the PCK CRL's nextUpdate (2025-07-19T10:00:35Z) that entry is fetched again.
    clock = Date.parse('2025-07-19T10:00:36Z')
    const third = await client.fetchForQuote(quote)
    const pck = third.sources.find((s) => s.url.includes('pckcrl'))!
    assert.is(pck.cached, false)
    assert.ok(third.sources.find((s) => s.url.includes('/tcb?'))!.cached, 'TCB info (next update 10:16:03) still cached')
  } finally {
    await server.close()
  }
})

vectorTest(test, 'malformed requests get 400, unknown paths 404, other methods 405', async () => {
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const server = await startPccsServer({collateral})
  try {
    const st = async (path: string, init?: RequestInit) => (await fetch(server.url + path, init)).status
    assert.is(await st('/tdx/certification/v4/tcb?fmspc=b0c06f000000'), 200)
    assert.is(await st('/tdx/certification/v4/tcb?fmspc=B0C06F000000'), 200)
    assert.is(await st('/tdx/certification/v4/tcb?fmspc=zz'), 400)
    assert.is(await st('/tdx/certification/v4/tcb'), 400)
    assert.is(await st('/tdx/certification/v4/tcb?fmspc=00806f050000'), 404)
    assert.is(await st('/sgx/certification/v4/tcb?fmspc=b0c06f000000'), 404)
    assert.is(await st('/sgx/certification/v4/pckcrl?ca=banana'), 400)
    assert.is(await st('/sgx/certification/v4/pckcrl?ca=processor'), 200)
    assert.is(await st('/sgx/certification/v4/pckcrl?ca=platform&encoding=der'), 200)
    assert.is(await st('/sgx/certification/v4/pckcrl?ca=platform&evil=1'), 400)
    assert.is(await st('/sgx/certification/v4/rootcacrl'), 200)
    assert.is(await st('/tdx/certification/v4/qe/identity?update=standard'), 200)
    assert.is(await st('/nope'), 404)
    assert.is(await st('/tdx/certification/v4/qe/identity', {method: 'POST', body: 'x'}), 405)
    const tcb = await fetch(server.url + '/tdx/certification/v4/tcb?fmspc=b0c06f000000')
    assert.is(decodeURIComponent(tcb.headers.get('tcb-info-issuer-chain')!), collateral.tcb_info_issuer_chain)
  } finally {
    await server.close()
  }
})

vectorTest(test, 'CLI: quote verify --pccs-url against the server (real HTTP round trip)', async () => {
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const server = await startPccsServer({collateral})
  try {
    const stateDir = tempDir()
    const r = await cliAsync(['quote', 'verify', vectorPathOf('quote.bin'), '--pccs-url', server.url, '--at', String(AT), '--json'], {stateDir})
    assert.is(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.is(out.status, 'UpToDate')
    assert.is(out.verdict, 'ok')
  } finally {
    await server.close()
  }
})


// Quotes of two platforms (FMSPC b0c06f000000 and 90c06f000000) against a PCCS that serves only the
// first: each quote is verified with its own platform's collateral, and the missing platform's
// fetch error lands on its quotes alone (exit 4), not on the whole batch.
vectorTest(test, '--pccs-url across platforms: collateral per FMSPC, a failed fetch only fails its own quotes', async () => {
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const server = await startPccsServer({collateral})
  const other = vectorPath('real', 'gotdx-tdx-v5', 'quote.bin')
  try {
    const client = new PcsClient({baseUrl: server.url, cacheDir: tempDir('tdxkit-pcs-cache-'), clock: () => AT * 1000})
    const files = [vectorPathOf('quote.bin'), other, vectorPathOf('quote.bin')]
    const got = await fetchForFiles(client, files)
    assert.is(got.collateral, undefined)
    assert.equal(Object.keys(got.set).sort(), ['tdx/90c06f000000/platform', 'tdx/b0c06f000000/platform'])
    assert.ok('error' in got.set['tdx/90c06f000000/platform'])
    assert.is((got.set['tdx/b0c06f000000/platform'] as QuoteCollateralV3).tcb_info, collateral.tcb_info)
    for (const jobs of [1, 2]) {
      const outcomes: Array<{status?: string | null; exit: number; code?: string}> = []
      // 130 files: three chunks, so with --jobs 2 a worker gets the set too.
      const many = Array.from({length: 130}, (_x, i) => files[i % 3])
      await runBatch({files: many, options: {now: AT}, collateralSet: got.set, jobs, mainThreadWorks: jobs === 1, onOutcome: (o) => outcomes.push({status: o.result?.status, exit: o.exit_code, code: o.error?.code})})
      outcomes.forEach((o, i) => {
        if (i % 3 === 1) {
          assert.is(o.exit, 4, `jobs ${jobs} #${i}`)
          assert.is(o.status, undefined)
        } else assert.is(o.status, 'UpToDate', `jobs ${jobs} #${i}: ${JSON.stringify(o)}`)
      })
    }
    // The CLI, end to end: NDJSON, the lowest failing exit code.
    const r = await cliAsync(['quote', 'verify', ...files, '--pccs-url', server.url, '--at', String(AT), '--json'], {stateDir: tempDir()})
    assert.is(r.code, 4, r.stderr)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(lines.map((l) => l.verdict), ['ok', 'error', 'ok'])
    assert.match(lines[1].error.message, /platform tdx\/90c06f000000\/platform/)
  } finally {
    await server.close()
  }
})

vectorTest(test, '--pccs-url with the quote on stdin: stdin is read once and both uses see it', async () => {
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const server = await startPccsServer({collateral})
  try {
    const r = await cliAsync(['quote', 'verify', '-', '--pccs-url', server.url, '--at', String(AT), '--json'], {stateDir: tempDir(), input: readVector('real', DIR, 'quote.bin')})
    assert.is(r.code, 0, r.stderr + r.stdout)
    assert.is(JSON.parse(r.stdout).status, 'UpToDate')
  } finally {
    await server.close()
  }
})

/** A raw TCP client: resolves with everything the server sent once it closes the connection. */
function rawClient(url: string, send?: string): {connected: Promise<void>; closed: Promise<string>; destroy: () => void} {
  const {hostname, port} = new URL(url)
  const sock = connect(Number(port), hostname)
  let got = ''
  sock.on('data', (d) => (got += d.toString('latin1')))
  sock.on('error', () => {})
  const connected = new Promise<void>((resolve) => sock.once('connect', () => {
    if (send) sock.write(send)
    resolve()
  }))
  const closed = new Promise<string>((resolve) => sock.once('close', () => resolve(got)))
  return {connected, closed, destroy: () => sock.destroy()}
}

vectorTest(test, 'a stalled client cannot hold the service: over the cap the idle connection makes room, a request that never completes gets 408', async () => {
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const capped = await startPccsServer({collateral, maxConnections: 1})
  try {
    const holder = rawClient(capped.url)
    await holder.connected
    const newcomer = rawClient(capped.url, 'GET /sgx/certification/v4/rootcacrl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.is(await holder.closed, '', 'the idle holder is closed unanswered')
    assert.match(await newcomer.closed, /^HTTP\/1\.1 200 /, 'the newcomer is served')
    assert.is((await fetch(capped.url + '/sgx/certification/v4/rootcacrl')).status, 200)
  } finally {
    await capped.close()
  }
  const bounded = await startPccsServer({collateral, requestTimeoutMs: 200})
  try {
    const slow = rawClient(bounded.url, 'GET /sgx/certification/v4/rootcacrl HTTP/1.1\r\nHost: x\r\n')
    assert.match(await slow.closed, /^HTTP\/1\.1 408 /)
    const silent = rawClient(bounded.url)
    await silent.connected
    const silentGot = await silent.closed
    assert.ok(silentGot === '' || silentGot.startsWith('HTTP/1.1 408 '), `a connection that sends nothing is dropped after the timeout: ${silentGot}`)
    assert.is((await fetch(bounded.url + '/sgx/certification/v4/rootcacrl')).status, 200)
  } finally {
    await bounded.close()
  }
})

/** A slowloris client: sends a request line, then one header byte every `everyMs` and never finishes. */
function slowClient(url: string, everyMs: number): {closed: Promise<string>; destroy: () => void} {
  const {hostname, port} = new URL(url)
  const sock = connect(Number(port), hostname)
  let got = ''
  let timer: NodeJS.Timeout | undefined
  sock.on('data', (d) => (got += d.toString('latin1')))
  sock.on('error', () => {})
  sock.once('connect', () => {
    sock.write('GET /sgx/certification/v4/rootcacrl HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    timer = setInterval(() => sock.writable && sock.write('a'), everyMs)
  })
  const closed = new Promise<string>((resolve) =>
    sock.once('close', () => {
      clearInterval(timer)
      resolve(got)
    }),
  )
  return {closed, destroy: () => sock.destroy()}
}

// Bounds here are generous and only fail a server that never drops the slow clients or stops
// answering: no timing is measured.
vectorTest(test, 'slowloris: 200 slow clients plus normal load; every normal request is answered, every slow client dropped', async () => {
  const collateral = JSON.parse(readVector('real', DIR, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const server = await startPccsServer({collateral, requestTimeoutMs: 600, keepAliveTimeoutMs: 300})
  const slow = Array.from({length: 200}, () => slowClient(server.url, 100))
  try {
    // Normal load meanwhile: 5 rounds of 10 concurrent requests over fresh connections.
    for (let round = 0; round < 5; round++) {
      const statuses = await Promise.all(
        Array.from({length: 10}, () =>
          fetch(server.url + '/tdx/certification/v4/tcb?fmspc=b0c06f000000', {signal: AbortSignal.timeout(20_000)}).then(async (r) => {
            await r.arrayBuffer()
            return r.status
          }),
        ),
      )
      assert.equal(statuses, Array(10).fill(200), `round ${round}`)
    }
    const outcomes = await Promise.race([Promise.all(slow.map((s) => s.closed)), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000).unref())])
    assert.ok(outcomes !== 'hung', 'every slow client is dropped')
    // Each was either displaced over the cap (closed unanswered) or timed out (408).
    for (const o of outcomes as string[]) assert.ok(o === '' || /^HTTP\/1\.1 408 /.test(o), o.slice(0, 40))
    assert.ok((outcomes as string[]).some((o) => o.startsWith('HTTP/1.1 408')), 'the ones kept were timed out with 408')
    // Idle keep-alive: after a request, a quiet connection is closed by the server.
    const idle = rawClient(server.url, 'GET /sgx/certification/v4/rootcacrl HTTP/1.1\r\nHost: x\r\n\r\n')
    const got = await Promise.race([idle.closed, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref())])
    assert.ok(got !== 'hung', 'the idle keep-alive connection is closed')
    assert.match(got as string, /^HTTP\/1\.1 200 /)
  } finally {
    for (const s of slow) s.destroy()
    await server.close()
  }
})

test.run()
