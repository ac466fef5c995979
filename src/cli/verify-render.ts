/**
 * Renderings of a quote verification outcome: the readable checklist, the decoded PCK chain of
 * `quote show`, and the stable JSON object (defined with the outcome in src/appraise/verdict.ts,
 * because batch worker threads render their NDJSON lines themselves).
 */
import {eventLogStep, type QuoteOutcome} from '../appraise/verdict.js'
import type {Violation} from '../appraise/appraise.js'
import type {ValidityItem} from '../verify/validity.js'
import {validityTimeline} from './validity-timeline.js'
import type {PckChainInfo} from '../verify/pck-info.js'
import {bold, dim, green, red, yellow} from './render.js'

export {outcomeJson} from '../appraise/verdict.js'

const mark = (r: string) => (r === 'pass' ? green('✔') : r === 'fail' ? red('✘') : dim('–'))

/** A readable checklist for one quote; with the collateral's validity windows, their timeline around --at. */
export function outcomeText(o: QuoteOutcome, validity?: readonly ValidityItem[]): string[] {
  const lines: string[] = [bold(o.file)]
  const r = o.result
  if (!r) {
    lines.push(`  ${red('✘')} ${o.error!.message}`)
    return lines
  }
  if (r.quote) lines.push(dim(`  ${r.quote.tee_type} quote v${r.quote.version}, ${r.quote.body_type} body${r.quote.fmspc ? `, FMSPC ${r.quote.fmspc}` : ''}, verified at ${r.at}`))
  for (const s of o.eventlog ? [...r.steps, eventLogStep(o.eventlog)] : r.steps) {
    lines.push(`  ${mark(s.result)} ${s.title}${s.detail ? dim(` — ${s.detail}`) : ''}${s.code ? red(` [${s.code}]`) : ''}`)
  }
  if (validity && r.mode === 'full') lines.push(...validityTimeline(validity, Date.parse(r.at) / 1000))
  if (o.appraisal) {
    if (o.appraisal.ok) lines.push(`  ${green('✔')} policy: ${o.appraisal.checked.join(', ')}`)
    for (const v of o.appraisal.violations) lines.push(...violationLines(v))
  }
  const adv = r.advisory_ids.length ? ` advisories ${r.advisory_ids.join(', ')}` : ''
  if (o.exit_code === 0) {
    const st = r.status ?? 'signatures and chain only (TCB not evaluated)'
    lines.push(`  ${bold('result')}: ${r.status && r.status !== 'UpToDate' ? yellow(st) : green(st)}${adv}`)
  } else if (r.ok && o.eventlog?.result === 'fail') {
    lines.push(`  ${bold('result')}: ${red('FAILED')} at eventlog — ${o.eventlog.code} (exit ${o.exit_code}; the quote itself verified: TCB ${r.status ?? 'not evaluated'})`)
  } else if (r.ok) {
    lines.push(`  ${bold('result')}: ${red('POLICY VIOLATED')} (TCB ${r.status ?? 'not evaluated'}${adv}; authentic)`)
  } else {
    lines.push(`  ${bold('result')}: ${red('FAILED')} at ${r.error!.step} — ${r.error!.code} (exit ${r.exit_code})`)
  }
  return lines
}

/** One policy violation: the rule and message, then what the policy expected and what the quote has. */
function violationLines(v: Violation): string[] {
  const lines = [`  ${red('✘')} policy ${v.rule}: ${v.message}`]
  if (v.expected !== undefined) lines.push(`      expected ${Array.isArray(v.expected) ? `one of ${v.expected.join(', ')}` : v.expected}`)
  if (v.actual !== undefined) lines.push(`      actual   ${red(v.actual)}`)
  return lines
}

/** The decoded (unverified) PCK chain of `quote show`, as a few readable lines. */
export function pckChainText(p: PckChainInfo): string {
  const lines = [bold(`PCK chain (decoded, not verified): ${p.certificates.length} certificates${p.ca ? `, ${p.ca} CA` : ''}`)]
  p.certificates.forEach((c, i) => {
    lines.push(`  ${i}. ${c.subject_cn}${c.is_ca ? dim(' (CA)') : ''}  ${dim(`valid ${c.not_before.slice(0, 10)} .. ${c.not_after.slice(0, 10)}, sha256 ${c.sha256.slice(0, 16)}…`)}`)
  })
  const e = p.sgx_extension
  if (e) {
    lines.push(`  FMSPC ${bold(e.fmspc)}  PCE-ID ${e.pceid}  PCESVN ${e.pcesvn}  SGX type ${e.sgx_type_name}`)
    lines.push(`  TCB components ${e.tcb_components.join(' ')}  CPUSVN ${e.cpusvn}`)
    if (e.configuration) lines.push(`  configuration ${Object.entries(e.configuration).map(([k, v]) => `${k}=${v}`).join(' ')}`)
  }
  if (p.error) lines.push(red(`  does not decode: ${p.error.message}`))
  return lines.join('\n')
}
