/**
 * The verifier-side fuzz targets, each a mutation arbitrary over the seeds plus the code under test:
 * the full verifier (quote and collateral mutants), `quote show`'s decode path, the TCB info / QE
 * identity decoders, CRL / certificate / PEM-chain / PCK-extension parsing, collateral JSON, PCS
 * response bodies, and policy files with appraisal.
 */
import fc from 'fast-check'
import {OID_SGX_EXTENSION, parsePckExtension, sgxExtensionOf} from '../../../src/abi/pck-extension.js'
import {decodeBody, describeQuote, parseQuote} from '../../../src/abi/quote.js'
import {parseQeIdentity, parseTcbInfo} from '../../../src/abi/tcb-info.js'
import {appraise} from '../../../src/appraise/appraise.js'
import {draftPolicy} from '../../../src/appraise/draft.js'
import {parsePolicy, policyToJson} from '../../../src/appraise/policy.js'
import type {QuoteCollateralV3} from '../../../src/abi/collateral.js'
import {parseCollateralText, splitSignedBody} from '../../../src/verify/collateral-bundle.js'
import {outcomeJson, outcomeText} from '../../../src/cli/verify-render.js'
import {QuoteVerifier, type VerifyResult} from '../../../src/verify/verifier.js'
import {parseCert, parseCrl, parsePemChain} from '../../../src/x509/dcap.js'
import {applyCollateralMutations, arbCollateralMutations, arbJsonEdit, editJsonText, type CollateralMutation, type JsonEdit} from './collateral-mutate.js'
import type {VTarget} from './harness.js'
import {applyQuoteMutations, arbQuoteMutations, type QuoteMutation} from './quote-mutate.js'
import type {QuoteSeed, SimPlatform} from './seeds.js'

interface FuzzContext {
  seeds: QuoteSeed[]
  sim: SimPlatform
}

const bytesEdit = fc.oneof(
  {weight: 4, arbitrary: fc.record({op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({min: 1, max: 255})})},
  {weight: 1, arbitrary: fc.record({op: fc.constant('cut' as const), at: fc.nat()})},
  {weight: 1, arbitrary: fc.record({op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({minLength: 1, maxLength: 8})})},
  {weight: 1, arbitrary: fc.record({op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff)})},
)
type BytesEdit = typeof bytesEdit extends fc.Arbitrary<infer T> ? T : never
const arbBytesEdits = fc.array(bytesEdit, {minLength: 1, maxLength: 4})

function applyBytesEdits(src: Uint8Array, edits: BytesEdit[]): Buffer {
  let b = Buffer.from(src)
  for (const e of edits) {
    if (b.length === 0) break
    const at = e.at % b.length
    if (e.op === 'flip') b[at] ^= e.xor
    else if (e.op === 'set') b[at] = e.value
    else if (e.op === 'cut') b = b.subarray(0, at)
    else b = Buffer.concat([b.subarray(0, at), Buffer.from(e.bytes), b.subarray(at)])
  }
  return b
}

const textEdit = fc.record({at: fc.nat(), del: fc.nat({max: 16}), text: fc.oneof(fc.string({maxLength: 6}), fc.constantFrom('"', '{', '}', '[', ']', ',', ':', '\\', '\\u', '\u0000', '\n', 'null', '1e999', '-0', '"__proto__"', '"constructor"', '[[[[[[[[[[', '{"a":'))})
type TextEdit = typeof textEdit extends fc.Arbitrary<infer T> ? T : never
const arbTextEdits = fc.array(textEdit, {minLength: 1, maxLength: 3})
const applyTextEdits = (s: string, edits: TextEdit[]): string =>
  edits.reduce((x, e) => {
    const at = e.at % (x.length + 1)
    return x.slice(0, at) + e.text + x.slice(at + e.del)
  }, s)

export function buildTargets(ctx: FuzzContext): VTarget<any>[] {
  const seeds = ctx.seeds
  const withCollateral = seeds.filter((s) => s.collateral)
  const sims = seeds.filter((s) => s.attestationPriv)
  const keysFor = (s: QuoteSeed) => (s.attestationPriv ? {attestationPriv: s.attestationPriv, pckPriv: ctx.sim.privateKeys.pck} : {})
  // One verifier per seed: collateral and chains cached across mutants, as a batch run would.
  const verifiers = new Map<QuoteSeed, QuoteVerifier>()
  const verifierFor = (s: QuoteSeed) => {
    let v = verifiers.get(s)
    if (!v) verifiers.set(s, (v = new QuoteVerifier({now: s.at, trustedRoots: s.trustedRoots, ...(s.collateral ? {collateral: s.collateral} : {})})))
    return v
  }
  const pick = <T>(list: T[], i: number): T => list[i % list.length]
  /** Everything a caller does with a result: render it, appraise it. */
  const consume = (r: VerifyResult, quote: Buffer): string => {
    JSON.stringify(outcomeJson({file: 'fuzz', exit_code: r.exit_code, result: r}))
    outcomeText({file: 'fuzz', exit_code: r.exit_code, result: r})
    if (r.ok) appraise(r, quote, draftPolicy(quote).policy)
    return r.error?.code ?? (r.ok ? 'VERIFIED' : 'FAILED')
  }
  const pckLeaves = seeds.flatMap((s) => {
    try {
      const q = parseQuote(s.quote)
      return q.pck_chain_pem ? [parsePemChain(q.pck_chain_pem, true)[0]] : []
    } catch {
      return []
    }
  })
  const extensionOf = (der: Buffer): Buffer => {
    return Buffer.from(sgxExtensionOf(parseCert(der).extensions))
  }
  const pckExtensions = pckLeaves.map(extensionOf)

  /** Quote mutants drawn from `pool`, re-signed where the seed's keys are known, through the seed's verifier. */
  const quoteVerifyTarget = (name: string, what: string, weight: number, pool: QuoteSeed[]): VTarget<any> => ({
    name,
    what,
    weight,
    arb: fc.record({seed: fc.nat(), ms: arbQuoteMutations}),
    build: ({seed, ms}: {seed: number; ms: QuoteMutation[]}) => {
      const s = pick(pool, seed)
      return {s, quote: applyQuoteMutations(s.quote, ms, keysFor(s))}
    },
    run: ({s, quote}: {s: QuoteSeed; quote: Buffer}) => consume(verifierFor(s).verify(quote), quote),
  })

  const targets: VTarget<any>[] = [
    quoteVerifyTarget('quote-verify', 'quote mutants (header, body, lengths, QE report, auth data, PEM; re-signed for simulated seeds) through the verifier', 4, seeds),
    quoteVerifyTarget('quote-verify-sim', 're-signed simulated quote mutants reaching TDX module identity and TCB matching', 2, sims),
    {
      name: 'quote-show',
      what: 'quote mutants through parse, describe (quote show) and policy draft',
      weight: 2,
      arb: fc.record({seed: fc.nat(), ms: arbQuoteMutations}),
      build: ({seed, ms}: {seed: number; ms: QuoteMutation[]}) => {
        const s = pick(seeds, seed)
        return applyQuoteMutations(s.quote, ms, keysFor(s))
      },
      run: (quote: Buffer) => {
        const q = parseQuote(quote)
        JSON.stringify(describeQuote(q))
        decodeBody(q)
        JSON.stringify(policyToJson(draftPolicy(quote).policy))
      },
    },
    {
      name: 'collateral-verify',
      what: 'collateral mutants (fields, signed JSON re-signed for the simulated root, CRLs, issuer chains) through a fresh verifier',
      weight: 3,
      arb: fc.record({seed: fc.nat(), ms: arbCollateralMutations}),
      build: ({seed, ms}: {seed: number; ms: CollateralMutation[]}) => {
        const s = pick(withCollateral, seed)
        return {s, collateral: applyCollateralMutations(s.collateral!, ms, s.attestationPriv ? {tcbSigningPriv: ctx.sim.privateKeys.tcbSigning} : {})}
      },
      run: ({s, collateral}: {s: QuoteSeed; collateral: QuoteCollateralV3}) => {
        const r = new QuoteVerifier({now: s.at, trustedRoots: s.trustedRoots, collateral}).verify(s.quote)
        return consume(r, s.quote)
      },
    },
    {
      name: 'tcb-info-json',
      what: 'TCB info / QE identity JSON edits through the decoders',
      weight: 1,
      arb: fc.record({seed: fc.nat(), qe: fc.boolean(), ms: arbCollateralMutations}),
      build: ({seed, qe, ms}: {seed: number; qe: boolean; ms: CollateralMutation[]}) => {
        const c = applyCollateralMutations(pick(withCollateral, seed).collateral!, ms)
        return {qe, text: qe ? c.qe_identity : c.tcb_info}
      },
      run: ({qe, text}: {qe: boolean; text: unknown}) => {
        if (typeof text !== 'string') return
        if (qe) parseQeIdentity(text)
        else parseTcbInfo(text)
      },
    },
    {
      name: 'crl-der',
      what: 'DER CRL byte edits through the CRL parser',
      weight: 1,
      arb: fc.record({seed: fc.nat(), root: fc.boolean(), edits: arbBytesEdits}),
      run: ({seed, root, edits}: {seed: number; root: boolean; edits: BytesEdit[]}) => {
        const c = pick(withCollateral, seed).collateral!
        parseCrl(applyBytesEdits(Buffer.from(root ? c.root_ca_crl : c.pck_crl, 'hex'), edits))
      },
    },
    {
      name: 'cert-der',
      what: 'PCK / CA certificate DER byte edits through the certificate parser and the SGX extension decoder',
      weight: 1,
      arb: fc.record({seed: fc.nat(), which: fc.nat({max: 2}), edits: arbBytesEdits}),
      run: ({seed, which, edits}: {seed: number; which: number; edits: BytesEdit[]}) => {
        const s = pick(seeds, seed)
        const chain = parsePemChain(parseQuote(s.quote).pck_chain_pem!, true)
        const cert = parseCert(applyBytesEdits(chain[which % chain.length], edits))
        if (cert.extensions.some((e) => e.oid === OID_SGX_EXTENSION)) parsePckExtension(sgxExtensionOf(cert.extensions))
      },
    },
    {
      name: 'pck-extension',
      what: 'SGX extension DER byte edits through the PCK extension decoder',
      weight: 1,
      arb: fc.record({seed: fc.nat(), edits: arbBytesEdits}),
      run: ({seed, edits}: {seed: number; edits: BytesEdit[]}) => {
        const i = seed % pckLeaves.length
        parsePckExtension(applyBytesEdits(pckExtensions[i], edits))
      },
    },
    {
      name: 'pem-chain',
      what: 'PEM chain text edits through the strict (quote) and loose (collateral) chain parsers',
      weight: 1,
      arb: fc.record({seed: fc.nat(), strict: fc.boolean(), edits: arbTextEdits}),
      run: ({seed, strict, edits}: {seed: number; strict: boolean; edits: TextEdit[]}) => {
        const s = pick(withCollateral, seed)
        const base = strict ? parseQuote(s.quote).pck_chain_pem! : s.collateral!.tcb_info_issuer_chain
        for (const der of parsePemChain(applyTextEdits(base, edits), strict)) parseCert(der)
      },
    },
    {
      name: 'collateral-json',
      what: 'collateral.json text edits through the bundle loader',
      weight: 1,
      arb: fc.record({seed: fc.nat(), edits: arbTextEdits}),
      run: ({seed, edits}: {seed: number; edits: TextEdit[]}) => {
        parseCollateralText(applyTextEdits(JSON.stringify(pick(withCollateral, seed).collateral), edits))
      },
    },
    {
      name: 'pcs-body',
      what: 'PCS v4 TCB info / QE identity response bodies with text edits',
      weight: 1,
      arb: fc.record({seed: fc.nat(), qe: fc.boolean(), edits: arbTextEdits}),
      run: ({seed, qe, edits}: {seed: number; qe: boolean; edits: TextEdit[]}) => {
        const c = pick(withCollateral, seed).collateral!
        const body = qe ? `{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}` : `{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`
        splitSignedBody(applyTextEdits(body, edits), qe ? 'enclaveIdentity' : 'tcbInfo')
      },
    },
    {
      name: 'policy',
      what: 'policy file text edits through the schema check, then appraisal of a verified quote',
      weight: 2,
      arb: fc.record({seed: fc.nat(), edits: arbTextEdits}),
      run: ({seed, edits}: {seed: number; edits: TextEdit[]}) => {
        const s = pick(verifying, seed)
        const text = JSON.stringify(policyToJson(draftPolicy(s.quote).policy, 'fuzz'), null, 2)
        const p = parsePolicy(applyTextEdits(text, edits), 'policy.json')
        appraise(verifiedResult(s), s.quote, p)
      },
    },
    {
      name: 'policy-json',
      what: 'policy documents edited as JSON (wrong types, unknown keys, deep nesting, long lists), then appraisal',
      weight: 2,
      arb: fc.record({seed: fc.nat(), edits: fc.array(arbJsonEdit, {minLength: 1, maxLength: 3})}),
      build: ({seed, edits}: {seed: number; edits: JsonEdit[]}) => {
        const s = pick(verifying, seed)
        return {s, text: editJsonText(JSON.stringify(policyToJson(draftPolicy(s.quote).policy, 'fuzz')), edits)}
      },
      run: ({s, text}: {s: QuoteSeed; text: string}) => {
        const p = parsePolicy(text, 'policy.json')
        return appraise(verifiedResult(s), s.quote, p).ok ? 'APPRAISAL_OK' : 'APPRAISAL_VIOLATION'
      },
    },
  ]
  const verifying = seeds.filter((s) => s.verifies)
  const results = new Map<QuoteSeed, VerifyResult>()
  const verifiedResult = (s: QuoteSeed) => {
    let r = results.get(s)
    if (!r) results.set(s, (r = verifierFor(s).verify(s.quote)))
    return r
  }
  return targets
}
