/**
 * `pccs serve` against other clients and `--collateral` / `collateral fetch` round trips:
 * @phala/dcap-qvl's own getCollateral fetches from the server and dcap-qvl then verifies a simulated
 * quote with that collateral (sim root); each CRL body form (PCCS hex, PCS DER/PEM) decodes to the
 * served DER; the collateral object dcap-qvl produces (byte arrays) and directories of raw PCS
 * responses (built here in temp dirs from the real vectors) are accepted by `quote verify`; `collateral
 * fetch` writes what verifies offline; an unreachable service is exit 8, not 4.
 */
import {cpSync, mkdirSync, writeFileSync} from 'node:fs'
import {spawn} from 'node:child_process'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {createRequire} from 'node:module'
import type {QuoteCollateralV3} from '../../src/abi/collateral.js'
import {startPccsServer} from '../../src/app/pccs-server.js'
import {loadCollateralDir, loadCollateralFile, writeCollateralDir} from '../../src/app/collateral-file.js'
import {checkCollateralBundle} from '../../src/verify/collateral-bundle.js'
import {verifyQuote} from '../../src/verify/verifier.js'
import {fingerprintOf} from '../../src/verify/roots.js'
import {StateStore} from '../../src/state/store.js'
import {initPlatform} from '../../src/app/platform.js'
import {generateQuote} from '../../src/app/quote.js'
import {loadSimCollateral} from '../../src/app/sim-collateral.js'
import {qvl, VERIFY_AT} from '../helpers/host-fixtures.js'
import {BIN, cliAsync, tempDir} from '../helpers/cli.js'
import {readVector, vectorPath, vectorTest} from '../helpers/vectors.js'

interface QvlCollateral {
  root_ca_crl: number[]
  pck_crl: number[]
  tcb_info_signature: number[]
  qe_identity_signature: number[]
  tcb_info: string
  qe_identity: string
  pck_certificate_chain: string | null
}
const dcapQvl = createRequire(import.meta.url)('@phala/dcap-qvl') as {getCollateral(url: string, quote: Uint8Array): Promise<QvlCollateral>}

/** A simulated platform in a temp state dir, one quote, its collateral and root. */
async function simPlatform() {
  const stateDir = tempDir('tdxkit-interop-')
  const store = new StateStore(stateDir)
  await initPlatform(store, {seed: 'pccs-interop', profile: 'tdx-1.5'})
  const {quote} = await generateQuote(store, {input: {reportData: Buffer.alloc(64, 7)}, strategy: 'dma-pool', quoteVersion: 4})
  const sim = await loadSimCollateral(store)
  const quoteFile = join(stateDir, 'quote.bin')
  writeFileSync(quoteFile, quote)
  return {stateDir, quote, quoteFile, ...sim}
}

test("dcap-qvl's getCollateral against pccs serve: dcap-qvl verifies the simulated quote with what it fetched (sim root)", async () => {
  const sim = await simPlatform()
  const server = await startPccsServer({collateral: sim.collateral, fmspc: sim.fmspc})
  try {
    const got = await dcapQvl.getCollateral(server.url, sim.quote)
    // dcap-qvl asks for ca=processor (0.3.9), takes the PCK CRL as DER and /rootcacrl as hex.
    assert.is(Buffer.from(got.pck_crl).toString('hex'), sim.collateral.pck_crl)
    assert.is(Buffer.from(got.root_ca_crl).toString('hex'), sim.collateral.root_ca_crl)
    assert.is(got.tcb_info, sim.collateral.tcb_info)
    const r = qvl.QuoteVerifier.newWithRootCa(sim.root_ca_der).verify(sim.quote, got as unknown as QuoteCollateralV3, VERIFY_AT)
    assert.is(r.status, 'UpToDate')
    // The same object, as it is (byte arrays), verifies in tdxkit's library; as JSON, via --collateral too.
    assert.is(verifyQuote(sim.quote, {now: VERIFY_AT, collateral: got as unknown as QuoteCollateralV3, trustedRoots: [sim.root_ca_der]}).status, 'UpToDate')
    const asJson = JSON.parse(JSON.stringify(got))
    const bundle = checkCollateralBundle(asJson)
    assert.is(bundle.pck_crl, sim.collateral.pck_crl)
    assert.is(verifyQuote(sim.quote, {now: VERIFY_AT, collateral: bundle, trustedRoots: [fingerprintOf(sim.root_ca_der)]}).status, 'UpToDate')
    const file = join(sim.stateDir, 'qvl-collateral.json')
    writeFileSync(file, JSON.stringify(got))
    const cli = await cliAsync(['quote', 'verify', sim.quoteFile, '--root-ca', 'sim', '--collateral', file, '--at', String(VERIFY_AT), '--json'], {stateDir: sim.stateDir})
    assert.is(cli.code, 0, cli.stderr + cli.stdout)
    assert.is(JSON.parse(cli.stdout).status, 'UpToDate')
    // ... and `quote verify --pccs-url` against the same server still works.
    const viaUrl = await cliAsync(['quote', 'verify', sim.quoteFile, '--root-ca', 'sim', '--pccs-url', server.url, '--at', String(VERIFY_AT), '--json'], {stateDir: sim.stateDir})
    assert.is(viaUrl.code, 0, viaUrl.stderr + viaUrl.stdout)
  } finally {
    await server.close()
  }
})

test('pckcrl for both CA types in every body form; rootcacrl as PCCS hex; raw DER at the CDP path and crl?uri=', async () => {
  const sim = await simPlatform()
  const server = await startPccsServer({collateral: sim.collateral, fmspc: sim.fmspc})
  const get = async (path: string) => {
    const res = await fetch(server.url + path)
    return {status: res.status, body: Buffer.from(await res.arrayBuffer()), headers: res.headers}
  }
  try {
    const der = Buffer.from(sim.collateral.pck_crl, 'hex')
    for (const ca of ['processor', 'platform', 'PROCESSOR', 'Platform']) {
      const hex = await get(`/sgx/certification/v4/pckcrl?ca=${ca}`)
      assert.is(hex.status, 200, ca)
      assert.is(hex.body.toString('latin1'), sim.collateral.pck_crl, `${ca}: PCCS default is hex text`)
      assert.is(decodeURIComponent(hex.headers.get('sgx-pck-crl-issuer-chain')!), sim.collateral.pck_crl_issuer_chain)
      assert.ok((await get(`/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`)).body.equals(der), `${ca}: DER`)
      const pem = (await get(`/sgx/certification/v4/pckcrl?ca=${ca}&encoding=pem`)).body.toString('latin1')
      assert.ok(Buffer.from(pem.replace(/-----[A-Z0-9 ]+-----|\s/g, ''), 'base64').equals(der), `${ca}: PEM`)
    }
    assert.is((await get('/sgx/certification/v4/pckcrl?ca=root')).status, 400)
    assert.is((await get('/sgx/certification/v4/pckcrl')).status, 400)
    assert.is((await get('/sgx/certification/v4/pckcrl?ca=platform&encoding=base64')).status, 400)
    const root = Buffer.from(sim.collateral.root_ca_crl, 'hex')
    assert.is((await get('/sgx/certification/v4/rootcacrl')).body.toString('latin1'), sim.collateral.root_ca_crl)
    assert.ok((await get('/IntelSGXRootCA.der')).body.equals(root))
    assert.ok((await get(`/sgx/certification/v4/crl?uri=${encodeURIComponent('https://certificates.trustedservices.intel.com/IntelSGXRootCA.der')}`)).body.equals(root))
    const tcb = await get(`/tdx/certification/v4/tcb?fmspc=${sim.fmspc.toUpperCase()}`)
    assert.is(decodeURIComponent(tcb.headers.get('tcb-info-issuer-chain')!), sim.collateral.tcb_info_issuer_chain)
    assert.is(decodeURIComponent(tcb.headers.get('sgx-tcb-info-issuer-chain')!), sim.collateral.tcb_info_issuer_chain)
    // Percent-encoded: no raw newline, space or '+' in the header value.
    assert.not.match(tcb.headers.get('tcb-info-issuer-chain')!, /[\n +]/)
  } finally {
    await server.close()
  }
})

const GOTDX = 'gotdx-tdx-v4-spr'
const GOTDX_AT = 1688173200
const DCAPQVL = 'dcapqvl-tdx-v4-uptodate'
const DCAPQVL_AT = 1752919234

vectorTest(test, 'a directory of real PCS responses: --collateral DIR and pccs serve of it give the bundle verdict', async () => {
  const dir = join(tempDir('tdxkit-pcsdir-'), 'pcs')
  cpSync(vectorPath('real', GOTDX, 'pcs'), dir, {recursive: true})
  const bundle = JSON.parse(readVector('real', GOTDX, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  assert.equal(loadCollateralDir(dir), bundle, "go-tdx-guest's raw responses give its collateral.json field for field")
  const quote = vectorPath('real', GOTDX, 'quote.bin')
  const stateDir = tempDir()
  const withBundle = await cliAsync(['quote', 'verify', quote, '--collateral', vectorPath('real', GOTDX, 'collateral.json'), '--at', String(GOTDX_AT), '--json'], {stateDir})
  const withDir = await cliAsync(['quote', 'verify', quote, '--collateral', dir, '--at', String(GOTDX_AT), '--json'], {stateDir})
  assert.is(withDir.code, withBundle.code, withDir.stderr)
  assert.is(JSON.parse(withDir.stdout).error?.code, JSON.parse(withBundle.stdout).error?.code)
  const server = await startPccsServer({collateral: loadCollateralFile(dir)})
  try {
    const viaUrl = await cliAsync(['quote', 'verify', quote, '--pccs-url', server.url, '--at', String(GOTDX_AT), '--json'], {stateDir})
    assert.is(viaUrl.code, withBundle.code, viaUrl.stderr)
    assert.is(JSON.parse(viaUrl.stdout).error?.code, JSON.parse(withBundle.stdout).error?.code)
  } finally {
    await server.close()
  }
  // An UpToDate real platform, its bundle written out as raw responses and served from there.
  const upDir = join(tempDir('tdxkit-pcsdir-'), 'pcs')
  mkdirSync(upDir)
  const up = JSON.parse(readVector('real', DCAPQVL, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  writeCollateralDir(upDir, up, {fmspc: 'b0c06f000000', ca: 'platform'})
  const upServer = await startPccsServer({collateral: loadCollateralFile(upDir)})
  try {
    const r = await cliAsync(['quote', 'verify', vectorPath('real', DCAPQVL, 'quote.bin'), '--pccs-url', upServer.url, '--at', String(DCAPQVL_AT), '--json'], {stateDir: tempDir()})
    assert.is(r.code, 0, r.stderr)
    assert.is(JSON.parse(r.stdout).status, 'UpToDate')
  } finally {
    await upServer.close()
  }
})

vectorTest(test, 'collateral fetch: once to a bundle and a directory, then verified offline; --fmspc; errors', async () => {
  const up = JSON.parse(readVector('real', DCAPQVL, 'collateral.json').toString('utf8')) as QuoteCollateralV3
  const server = await startPccsServer({collateral: up})
  const work = tempDir('tdxkit-fetch-')
  const quote = vectorPath('real', DCAPQVL, 'quote.bin')
  try {
    const bundleFile = join(work, 'bundle.json')
    const f = await cliAsync(['collateral', 'fetch', quote, '--pccs-url', server.url, '-o', bundleFile, '--dir', join(work, 'raw'), '--json'], {stateDir: work})
    assert.is(f.code, 0, f.stderr + f.stdout)
    const out = JSON.parse(f.stdout)
    assert.is(out.fmspc, 'b0c06f000000')
    assert.equal(out.validity.map((v: {item: string}) => v.item), ['tcb_info', 'qe_identity', 'pck_crl', 'root_ca_crl'])
    assert.is(out.validity[0].until, JSON.parse(up.tcb_info).nextUpdate.replace('.000Z', 'Z'))
    for (const c of [bundleFile, join(work, 'raw')]) {
      const v = await cliAsync(['quote', 'verify', quote, '--collateral', c, '--at', String(DCAPQVL_AT), '--json'], {stateDir: work})
      assert.is(v.code, 0, `${c}: ${v.stderr}`)
      assert.is(JSON.parse(v.stdout).status, 'UpToDate')
    }
    const byFmspc = await cliAsync(['collateral', 'fetch', '--fmspc', 'B0C06F000000', '--pccs-url', server.url, '-o', '-'], {stateDir: work})
    assert.is(byFmspc.code, 0, byFmspc.stderr)
    assert.is(JSON.parse(byFmspc.stdout).tcb_info, up.tcb_info)
    const unknown = await cliAsync(['collateral', 'fetch', '--fmspc', '00806f050000', '--pccs-url', server.url, '-o', join(work, 'x.json'), '--json'], {stateDir: work})
    assert.is(unknown.code, 4, 'an answer of 404 is unusable collateral, not an unreachable service')
    assert.is(JSON.parse(unknown.stdout).error.code, 'PCCS_HTTP_ERROR')
    const both = await cliAsync(['collateral', 'fetch', quote, '--fmspc', 'b0c06f000000', '--pccs-url', server.url], {stateDir: work})
    assert.is(both.code, 2)
  } finally {
    await server.close()
  }
})

test('an unreachable or failing service is exit 8 (PCCS_UNREACHABLE / PCCS_UNAVAILABLE), retried --retries times; oversized bodies refused', async () => {
  // A port nothing listens on: take one from the OS, then close it.
  const probe = createServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()))
  const closedPort = (probe.address() as AddressInfo).port
  await new Promise<void>((r) => probe.close(() => r()))
  const work = tempDir('tdxkit-unreach-')
  const dead = `http://127.0.0.1:${closedPort}`
  const f = await cliAsync(['collateral', 'fetch', '--fmspc', 'b0c06f000000', '--pccs-url', dead, '--retries', '0', '-o', join(work, 'b.json'), '--json'], {stateDir: work})
  assert.is(f.code, 8, f.stderr + f.stdout)
  assert.is(JSON.parse(f.stdout).error.code, 'PCCS_UNREACHABLE')
  // A service answering 503 every time: 1 + --retries requests, then exit 8.
  let hits = 0
  let mode: 'fail' | 'huge' = 'fail'
  const flaky = createServer((_req, res) => {
    hits++
    if (mode === 'fail') res.writeHead(503).end()
    else res.writeHead(200, {'Content-Length': String(64 * 1024 * 1024)}).end()
  })
  await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()))
  const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`
  try {
    const r = await cliAsync(['collateral', 'fetch', '--fmspc', 'b0c06f000000', '--pccs-url', url, '--retries', '2', '-o', join(work, 'b.json'), '--json'], {stateDir: work})
    assert.is(r.code, 8, r.stderr + r.stdout)
    assert.is(JSON.parse(r.stdout).error.code, 'PCCS_UNAVAILABLE')
    assert.is(hits, 3)
    assert.match(JSON.parse(r.stdout).error.message, /after 3 attempts/)
    mode = 'huge'
    const big = await cliAsync(['collateral', 'fetch', '--fmspc', 'b0c06f000000', '--pccs-url', url, '-o', join(work, 'b.json'), '--json'], {stateDir: work})
    assert.is(big.code, 4, big.stderr + big.stdout)
    assert.is(JSON.parse(big.stdout).error.code, 'PCCS_RESPONSE_TOO_LARGE')
  } finally {
    await new Promise<void>((r) => flaky.close(() => r()))
  }
})

vectorTest(test, 'quote verify --pccs-url: unreachable is exit 8; --timeout bounds a silent service', async () => {
  const quote = vectorPath('real', DCAPQVL, 'quote.bin')
  const silent = createServer(() => {
    // never answers
  })
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
  try {
    const r = await cliAsync(['quote', 'verify', quote, '--pccs-url', url, '--timeout', '300', '--retries', '1', '--at', String(DCAPQVL_AT), '--json'], {stateDir: tempDir()})
    assert.is(r.code, 8, r.stderr + r.stdout)
    assert.match(JSON.parse(r.stdout).error.message, /no answer within 300 ms.*after 2 attempts/)
  } finally {
    silent.closeAllConnections()
    await new Promise<void>((r) => silent.close(() => r()))
  }
})

vectorTest(test, 'CLI: pccs serve --collateral DIR with its timeout and cap flags serves the raw responses', async () => {
  const dir = join(tempDir('tdxkit-pcsdir-'), 'pcs')
  cpSync(vectorPath('real', GOTDX, 'pcs'), dir, {recursive: true})
  const child = spawn(process.execPath, [BIN, 'pccs', 'serve', '--collateral', dir, '--port', '0', '--max-connections', '8', '--request-timeout', '2000', '--keep-alive-timeout', '500', '--json'], {
    env: {...process.env, TDXKIT_STATE_DIR: tempDir()},
  })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
        const m = /"url":\s*"([^"]+)"/.exec(out)
        if (m) resolve(m[1])
      })
      child.once('exit', (code) => reject(new Error(`pccs serve exited ${code}`)))
    })
    const res = await fetch(`${url}/tdx/certification/v4/tcb?fmspc=50806F000000`)
    assert.is(res.status, 200)
    assert.is(await res.text(), readVector('real', GOTDX, 'pcs', 'tcbinfo_response_50806f000000.json').toString('utf8').trim(), 'the PCS body as stored (without its file\'s final newline)')
  } finally {
    child.kill('SIGTERM')
  }
})

test.run()
