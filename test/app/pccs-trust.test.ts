/**
 * Trust boundaries: `pccs serve` listens on loopback unless told otherwise and answers malformed
 * requests with 4xx (never a crash or a hang); no command prints a private key of the simulated
 * platform (quote generate / verify / show, policy draft, pccs serve, collateral export).
 * (A simulated quote never verifying against the Intel root is in tamper-sim.test.ts.)
 */
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {spawn} from 'node:child_process'
import {connect} from 'node:net'
import {join} from 'node:path'
import {startPccsServer} from '../../src/app/pccs-server.js'
import {BIN, cliAsync, tempDir, type CliResult} from '../helpers/cli.js'
import {REPO_ROOT} from '../helpers/vectors.js'
import {simPlatform, SIM_SEED} from '../helpers/verify-fuzz/seeds.js'

const sim = await simPlatform()

/** Send raw bytes over TCP; resolve with the status line of the response. */
function raw(url: string, request: string | Buffer): Promise<string> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname)
    let out = ''
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')))
    sock.on('data', (d) => (out += d.toString('latin1')))
    sock.on('error', reject)
    sock.on('close', () => resolve(out.split('\r\n')[0]))
    sock.end(request)
  })
}

test('library: the collateral server binds to 127.0.0.1 by default and rejects malformed requests', async () => {
  const srv = await startPccsServer({collateral: sim.collateral})
  try {
    assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const cases: Array<[string | Buffer, RegExp]> = [
      ['GARBAGE\r\n\r\n', /^HTTP\/1\.1 400/],
      ['GET /sgx/certification/v4/pckcrl?ca=bogus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400/],
      ['GET /tdx/certification/v4/tcb?fmspc=zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400/],
      ['GET /tdx/certification/v4/tcb?fmspc=00&evil=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400/],
      ['POST /sgx/certification/v4/rootcacrl HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc', /^HTTP\/1\.1 405/],
      ['GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 404/],
      ['GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 (400|404)/],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70000)}\r\n\r\n`, /^HTTP\/1\.1 431/],
      [Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]), /^HTTP\/1\.1 400/],
    ]
    for (const [req, want] of cases) assert.match(await raw(srv.url, req), want, JSON.stringify(String(req).slice(0, 60)))
    // Still serving after all that.
    assert.match(await raw(srv.url, 'GET /sgx/certification/v4/rootcacrl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200/)
  } finally {
    await srv.close()
  }
})

/** `tdxkit pccs serve --port 0 --json`: started, asked for its URL, stopped with SIGTERM. */
async function pccsServe(stateDir: string): Promise<{url: string; output: () => CliResult; stop: () => Promise<void>}> {
  const argv0 = process.env.TDXKIT_TEST_DEV ? ['--import', 'tsx', join(REPO_ROOT, 'bin/dev.js')] : [BIN]
  const child = spawn(process.execPath, [...argv0, 'pccs', 'serve', '--port', '0', '--json'], {env: {...process.env, NO_COLOR: '1', TDXKIT_STATE_DIR: stateDir}})
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`pccs serve did not start: ${err}`)), 30000)
    child.stdout.on('data', () => {
      const m = /"url":\s*"([^"]+)"/.exec(out)
      if (m) {
        clearTimeout(t)
        resolve(m[1])
      }
    })
  })
  const closed = new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)))
  return {
    url,
    output: () => ({code: 0, stdout: out, stderr: err, stdoutBuf: Buffer.from(out)}),
    stop: async () => {
      child.kill('SIGTERM')
      await closed
    },
  }
}

test('CLI: pccs serve listens on loopback; no private key appears in any command output', async () => {
  const dir = tempDir()
  const stateDir = sim.stateDir
  const q = join(dir, 'q.bin')
  const outputs: CliResult[] = []
  const run = async (args: string[]) => {
    const r = await cliAsync(args, {stateDir})
    outputs.push(r)
    return r
  }
  assert.is((await run(['quote', 'generate', '--report-data', 'ab', '-o', q])).code, 0)
  await run(['quote', 'generate', '--report-data', 'cd', '--format', 'base64'])
  assert.is((await run(['quote', 'verify', q, '--root-ca', 'sim'])).code, 0)
  assert.is((await run(['quote', 'verify', q, '--root-ca', 'sim', '--json'])).code, 0)
  await run(['quote', 'show', q, '--json'])
  await run(['quote', 'show', q])
  await run(['policy', 'draft', q])
  await run(['collateral', 'export', '--json'])
  const srv = await pccsServe(stateDir)
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.is((await fetch(`${srv.url}/sgx/certification/v4/rootcacrl`)).status, 200)
  assert.is((await fetch(`${srv.url}/sgx/certification/v4/pckcrl?ca=nope`)).status, 400)
  assert.is((await run(['quote', 'verify', q, '--root-ca', 'sim', '--pccs-url', srv.url])).code, 0)
  await srv.stop()
  outputs.push(srv.output())

  const doc = sim.store.load() as unknown as {module: {reportmac_key: string}}
  const secrets: Record<string, Buffer> = {...sim.privateKeys, reportmac_key: Buffer.from(doc.module.reportmac_key, 'hex')}
  const all = outputs.map((o) => o.stdout + '\n' + o.stderr).join('\n')
  assert.ok(all.length > 10000, 'the commands produced output')
  for (const [name, key] of Object.entries(secrets)) {
    for (const form of [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64').replace(/=+$/, ''), key.toString('base64url')]) {
      assert.not.ok(all.includes(form), `private key ${name} appears in a command's output`)
    }
  }
  assert.not.ok(all.includes(SIM_SEED), 'the platform seed appears in a command output')
  console.log(`  checked ${outputs.length} command outputs (${all.length} chars) for ${Object.keys(secrets).length} secrets in hex/base64`)
})

test.run()
