/**
 * go-tdx-guest `check` parity pins (minimum QE / PCE SVN, per-component TEE_TCB_SVN, exact TD_ATTRIBUTES
 * and XFAM with masks, QE vendor ID, MRSEAM, MRSIGNERSEAM, MR_SERVICETD) as flags, in policy files and in
 * `policy draft`; text mode shows expected vs actual; --quiet; and the exit code of --min-tcb-status.
 * Truth: the real vectors' expected.json (tee_tcb_svn, td_attributes), Intel's QE vendor ID, and the
 * quote header bytes read here at their spec offsets (QE SVN at 8, PCE SVN at 10, u16 little-endian).
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cliAsync, tempDir} from '../helpers/cli.js'
import {REPO_ROOT, readVector, vectorPath, vectorTest} from '../helpers/vectors.js'
import {parsePolicy} from '../../src/appraise/policy.js'

const DIR = 'dcapqvl-tdx-v4-uptodate'
const AT = '1752919234'
const expected = () => JSON.parse(readVector('real', DIR, 'expected.json').toString('utf8')).quote as {tee_tcb_svn: string; td_attributes: string}
const state = tempDir()
const verify = (...extra: string[]) =>
  cliAsync(['quote', 'verify', vectorPath('real', DIR, 'quote.bin'), '--collateral', vectorPath('real', DIR, 'collateral.json'), '--at', AT, ...extra], {stateDir: state})
const rules = (stdout: string): string[] => JSON.parse(stdout).policy.violations.map((v: {rule: string}) => v.rule)
/** Intel's QE vendor ID (Intel DCAP quote format). */
const INTEL_QE_VENDOR = '939a7233f79c4ca9940a0db3957f0607'

vectorTest(test, 'flags: each pin passes at the quote value and fails one step past it (exit 6, naming the rule)', async () => {
  const e = expected()
  const q = readVector('real', DIR, 'quote.bin')
  const qeSvn = q.readUInt16LE(8)
  const pceSvn = q.readUInt16LE(10)
  const bump = (hex: string, i: number) => {
    const b = Buffer.from(hex, 'hex')
    b[i]++
    return b.toString('hex')
  }
  const pass = [
    ['--min-tee-tcb-svn', e.tee_tcb_svn],
    ['--td-attributes', e.td_attributes],
    ['--qe-vendor-id', INTEL_QE_VENDOR],
    ['--min-qe-svn', String(qeSvn)],
    ['--min-pce-svn', `0x${pceSvn.toString(16)}`],
    ['--mrsigner-seam', '00'.repeat(48)],
  ]
  const ok = await verify(...pass.flat(), '--json')
  assert.is(ok.code, 0, ok.stdout)
  assert.ok(['min_tee_tcb_svn', 'expected.td_attributes', 'expected.qe_vendor_id', 'min_qe_svn', 'min_pce_svn', 'expected.mrsignerseam'].every((r) => JSON.parse(ok.stdout).policy.checked.includes(r)))
  const fails: Array<[string[], string]> = [
    [['--min-tee-tcb-svn', bump(e.tee_tcb_svn, 1)], 'min_tee_tcb_svn'],
    [['--td-attributes', bump(e.td_attributes, 7)], 'expected.td_attributes'],
    [['--qe-vendor-id', bump(INTEL_QE_VENDOR, 0)], 'expected.qe_vendor_id'],
    [['--min-qe-svn', String(qeSvn + 1)], 'min_qe_svn'],
    [['--min-pce-svn', String(pceSvn + 1)], 'min_pce_svn'],
    [['--mrsigner-seam', '01'.repeat(48)], 'expected.mrsignerseam'],
  ]
  for (const [flags, rule] of fails) {
    const r = await verify(...flags, '--json')
    assert.is(r.code, 6, `${flags.join(' ')}: ${r.stdout}`)
    assert.equal(rules(r.stdout), [rule])
  }
})

vectorTest(test, 'TEE_TCB_SVN is compared per component, not as a number; masks limit TD_ATTRIBUTES / XFAM to their bits', async () => {
  const e = expected()
  // Byte 0 lower than the quote's but byte 2 higher: lexicographically smaller, yet one component is below.
  const min = Buffer.from(e.tee_tcb_svn, 'hex')
  min[0] = 0
  min[2] = min[2] + 1
  const r = await verify('--min-tee-tcb-svn', min.toString('hex'), '--json')
  assert.is(r.code, 6)
  const v = JSON.parse(r.stdout).policy.violations[0]
  assert.match(v.message, /component 2 below/)
  assert.is(v.actual, e.tee_tcb_svn)
  // TD_ATTRIBUTES differing only in the last byte: a mask without that byte accepts it.
  const attrs = Buffer.from(e.td_attributes, 'hex')
  attrs[7] ^= 0x80
  const other = attrs.toString('hex')
  assert.is((await verify('--td-attributes', other)).code, 6)
  assert.is((await verify('--td-attributes', other, '--td-attributes-mask', 'ffffffffffffff7f')).code, 0)
  const q = readVector('real', DIR, 'quote.bin')
  // XFAM at TD10 body offset 128 (after the 48-byte header).
  const xfam = Buffer.from(q.subarray(48 + 128, 48 + 136))
  xfam[0] ^= 0x01
  assert.is((await verify('--xfam', xfam.toString('hex'))).code, 6)
  assert.is((await verify('--xfam', xfam.toString('hex'), '--xfam-mask', 'feffffffffffffff')).code, 0)
  const lone = await verify('--xfam-mask', 'ff'.repeat(8))
  assert.is(lone.code, 2, 'a mask with nothing to mask is a usage error')
  assert.is((await verify('--min-qe-svn', '70000')).code, 2)
  assert.is((await verify('--min-tee-tcb-svn', '0601')).code, 2)
})

vectorTest(test, 'policy draft writes the pins; the draft passes; an edited pin fails with expected vs actual in text mode', async () => {
  const tmp = tempDir()
  const file = join(tmp, 'p.json')
  const d = await cliAsync(['policy', 'draft', vectorPath('real', DIR, 'quote.bin'), '-o', file], {stateDir: state})
  assert.is(d.code, 0, d.stderr)
  const draft = JSON.parse(readFileSync(file, 'utf8'))
  const e = expected()
  assert.is(draft.min_tee_tcb_svn, e.tee_tcb_svn)
  assert.is(draft.expected.td_attributes, e.td_attributes)
  assert.is(draft.expected.qe_vendor_id, INTEL_QE_VENDOR)
  assert.is(draft.min_qe_svn, readVector('real', DIR, 'quote.bin').readUInt16LE(8))
  assert.ok(/^[0-9a-f]{96}$/.test(draft.expected.mrseam) && /^[0-9a-f]{96}$/.test(draft.expected.mrsignerseam))
  assert.is((await verify('--policy', file)).code, 0)
  draft.min_tee_tcb_svn = 'ff' + e.tee_tcb_svn.slice(2)
  draft.expected.td_attributes = '00'.repeat(8)
  writeFileSync(file, JSON.stringify(draft))
  const bad = await verify('--policy', file)
  assert.is(bad.code, 6)
  assert.match(bad.stdout, new RegExp(`policy expected\\.td_attributes: .*\\n\\s+expected 0000000000000000\\n\\s+actual\\s+${e.td_attributes}`))
  assert.match(bad.stdout, new RegExp(`policy min_tee_tcb_svn: .*\\n\\s+expected >= ff${e.tee_tcb_svn.slice(2)} \\(each byte\\)\\n\\s+actual\\s+${e.tee_tcb_svn}`))
  // Policy-file forms of the masks and SVNs, with their line:column errors.
  const p = parsePolicy(JSON.stringify({min_qe_svn: 3, min_pce_svn: 11, td_attributes_mask: 'ff'.repeat(8), expected: {td_attributes: '00'.repeat(8)}}))
  assert.equal([p.min_qe_svn, p.min_pce_svn, p.masks?.td_attributes], [3, 11, 'ff'.repeat(8)])
  assert.throws(() => parsePolicy('{"min_qe_svn": -1}', 'x.json'), /x\.json:1:16: "min_qe_svn" must be an integer 0\.\.65535/)
  assert.throws(() => parsePolicy('{"xfam_mask": "ff"}', 'x.json'), /"xfam_mask" must be 8 bytes/)
})

vectorTest(test, '--quiet: nothing on stdout or stderr, the exit code alone (0, 6, 2)', async () => {
  const ok = await verify('--quiet')
  assert.equal([ok.code, ok.stdout, ok.stderr], [0, '', ''])
  const bad = await verify('--quiet', '--td-attributes', '00'.repeat(8))
  assert.equal([bad.code, bad.stdout, bad.stderr], [6, '', ''])
  const missing = await cliAsync(['quote', 'verify', join(tempDir(), 'none.bin'), '--signatures-only', '-q'], {stateDir: state})
  assert.equal([missing.code, missing.stdout, missing.stderr], [2, '', ''])
  assert.is((await verify('--quiet', '--json')).code, 2)
})

// Exit 5 is the verifier's own TCB verdict (Intel's rules: Revoked, no matching TCB level); a status
// the verifier accepts but the relying party's --min-tcb-status does not is a policy violation (6),
// and the README's exit-code table says so.
vectorTest(test, '--min-tcb-status UpToDate on an OutOfDate platform is a policy violation: exit 6, and the README says so', async () => {
  const o = 'trustee-tdx-v4-tdx03-outofdate'
  const r = await cliAsync(['quote', 'verify', vectorPath('real', o, 'quote.bin'), '--collateral', vectorPath('real', o, 'collateral.json'), '--at', '2025-11-12T10:45:31Z', '--min-tcb-status', 'UpToDate', '--json'], {stateDir: state})
  assert.is(r.code, 6)
  const out = JSON.parse(r.stdout)
  assert.equal([out.status, out.verdict, rules(r.stdout)], ['OutOfDate', 'policy_violation', ['min_tcb_status']])
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
  const row = (code: number) => readme.split('\n').find((l) => l.startsWith(`| ${code} |`)) ?? ''
  assert.match(row(6), /--min-tcb-status/)
  assert.match(row(5), /Intel's rules.*--min-tcb-status. does not is 6/)
  assert.match(row(8), /unreachable/)
})

test.run()
