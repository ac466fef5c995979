/**
 * Appraisal: apply a policy to a verification result. Authenticity (src/verify) and policy are
 * separate: a quote can be authentic with an acceptable TCB and still violate policy (exit 6).
 */
import {BODY_TYPE_SGX, SGX_ATTR_DEBUG, TD_ATTR, parseQuote, type ParsedQuote} from '../abi/quote.js'
import {STATUS_RANK} from '../abi/tcb-info.js'
import {ExitCode} from '../errors.js'
import type {VerifyResult} from '../verify/verifier.js'
import {EXPECTABLE_FIELDS, MASKABLE_FIELDS, type ExpectableField, type MaskableField, type Policy} from './policy.js'

export interface Violation {
  rule: string
  message: string
  expected?: string | string[]
  actual?: string
}

export interface Appraisal {
  ok: boolean
  violations: Violation[]
  /** Rules that were checked (for the text checklist). */
  checked: string[]
}

const bit = (v: bigint, n: bigint) => ((v >> n) & 1n) === 1n

/** Evaluate the policy against a verified quote (policy is only meaningful when verification passed). */
export function appraise(result: VerifyResult, quote: ParsedQuote | Uint8Array, policy: Policy): Appraisal {
  const q = quote instanceof Uint8Array ? parseQuote(quote) : quote
  const v: Violation[] = []
  const checked: string[] = []
  if (q.body_type === BODY_TYPE_SGX) {
    checked.push('debug')
    const flags = q.sgx!.attributes.readBigUInt64LE(0)
    if ((flags & SGX_ATTR_DEBUG) !== 0n && !policy.allow_debug) v.push({rule: 'debug', message: 'enclave is in DEBUG mode (allow with allow_debug / --allow-debug)'})
  } else {
    const td = q.td!
    const attrs = td.td_attributes.readBigUInt64LE(0)
    checked.push('debug', 'sept_ve_disable', 'perfmon')
    if (bit(attrs, TD_ATTR.DEBUG) && !policy.allow_debug) v.push({rule: 'debug', message: 'TD is in DEBUG mode (TD_ATTRIBUTES bit 0; allow with allow_debug / --allow-debug)'})
    if (!bit(attrs, TD_ATTR.SEPT_VE_DISABLE) && !policy.allow_missing_sept_ve_disable) {
      v.push({rule: 'sept_ve_disable', message: 'SEPT_VE_DISABLE (TD_ATTRIBUTES bit 28) is not set (allow with allow_missing_sept_ve_disable / --allow-missing-sept-ve-disable)'})
    }
    if (bit(attrs, TD_ATTR.PERFMON) && !policy.allow_perfmon) v.push({rule: 'perfmon', message: 'PERFMON (TD_ATTRIBUTES bit 63) is set (allow with allow_perfmon / --allow-perfmon)'})
    if (td.mr_servicetd) {
      checked.push('service_td')
      if (td.mr_servicetd.some((b) => b !== 0) && !policy.allow_service_td) {
        v.push({rule: 'service_td', message: 'MR_SERVICETD is non-zero: a service TD is bound (allow with allow_service_td / --allow-service-td)'})
      }
    }
  }
  for (const [f, want] of Object.entries(policy.expected) as Array<[ExpectableField, string[]]>) {
    checked.push(`expected.${f}`)
    const actual = fieldValue(q, f)
    const mask = (MASKABLE_FIELDS as readonly string[]).includes(f) ? policy.masks?.[f as MaskableField] : undefined
    if (actual === undefined) {
      v.push({rule: `expected.${f}`, message: `${f} is not present in a ${q.body_type === BODY_TYPE_SGX ? 'SGX' : 'TD10'} quote body`, expected: want})
    } else if (!want.some((w) => (mask ? masked(w, mask) === masked(actual, mask) : w === actual))) {
      const under = mask ? ` under mask ${mask}` : ''
      v.push({rule: `expected.${f}`, message: `${f} does not match the policy${under}`, expected: want.length === 1 ? want[0] : want, actual})
    }
  }
  svnChecks(q, policy, v, checked)
  if (policy.min_tcb_status) {
    checked.push('min_tcb_status')
    if (!result.status) v.push({rule: 'min_tcb_status', message: 'TCB status was not evaluated (no collateral)', expected: policy.min_tcb_status})
    else if (STATUS_RANK.indexOf(result.status) > STATUS_RANK.indexOf(policy.min_tcb_status)) {
      v.push({rule: 'min_tcb_status', message: `TCB status ${result.status} is worse than the minimum ${policy.min_tcb_status}`, expected: policy.min_tcb_status, actual: result.status})
    }
  }
  if (policy.allowed_advisories) {
    checked.push('allowed_advisories')
    if (!result.status) v.push({rule: 'allowed_advisories', message: 'advisories were not evaluated (no collateral)'})
    const extra = result.advisory_ids.filter((a) => !policy.allowed_advisories!.includes(a))
    if (extra.length) v.push({rule: 'allowed_advisories', message: `advisories not allowed by the policy: ${extra.join(', ')}`, expected: policy.allowed_advisories, actual: extra.join(',')})
  }
  return {ok: v.length === 0, violations: v, checked}
}

/** hex AND hex (same length). */
function masked(hex: string, mask: string): string {
  const a = Buffer.from(hex, 'hex')
  const m = Buffer.from(mask, 'hex')
  return Buffer.from(a.map((b, i) => b & (m[i] ?? 0))).toString('hex')
}

/** Minimum QE SVN, PCE SVN (quote header) and TEE_TCB_SVN (each byte), as go-tdx-guest's check does. */
function svnChecks(q: ParsedQuote, policy: Policy, v: Violation[], checked: string[]): void {
  for (const [rule, min, actual] of [
    ['min_qe_svn', policy.min_qe_svn, q.header.qe_svn],
    ['min_pce_svn', policy.min_pce_svn, q.header.pce_svn],
  ] as const) {
    if (min === undefined) continue
    checked.push(rule)
    if (actual < min) v.push({rule, message: `${rule === 'min_qe_svn' ? 'QE' : 'PCE'} SVN ${actual} is below the minimum ${min}`, expected: `>= ${min}`, actual: String(actual)})
  }
  if (policy.min_tee_tcb_svn !== undefined) {
    checked.push('min_tee_tcb_svn')
    const svn = q.td?.tee_tcb_svn
    if (!svn) v.push({rule: 'min_tee_tcb_svn', message: 'TEE_TCB_SVN is not present in an SGX quote body', expected: policy.min_tee_tcb_svn})
    else {
      const min = Buffer.from(policy.min_tee_tcb_svn, 'hex')
      const low = [...min].map((m, i) => (svn[i] < m ? i : -1)).filter((i) => i >= 0)
      if (low.length) {
        v.push({
          rule: 'min_tee_tcb_svn',
          message: `TEE_TCB_SVN component${low.length > 1 ? 's' : ''} ${low.join(', ')} below the minimum (${low.map((i) => `[${i}] ${svn[i]} < ${min[i]}`).join(', ')})`,
          expected: `>= ${policy.min_tee_tcb_svn} (each byte)`,
          actual: svn.toString('hex'),
        })
      }
    }
  }
}

function fieldValue(q: ParsedQuote, f: ExpectableField): string | undefined {
  if (f === 'qe_vendor_id') return q.header.qe_vendor_id.toString('hex')
  if (q.body_type === BODY_TYPE_SGX) {
    if (f === 'report_data') return q.sgx!.report_data.toString('hex')
    return undefined
  }
  const b = (q.td as Record<string, Buffer | undefined>)[f]
  return b && b.length === EXPECTABLE_FIELDS[f] ? b.toString('hex') : undefined
}

/** Exit code of verification + appraisal combined (policy only matters once verification passed). */
export function combinedExit(result: VerifyResult, appraisal?: Appraisal): number {
  if (!result.ok) return result.exit_code
  if (appraisal && !appraisal.ok) return ExitCode.POLICY
  return ExitCode.OK
}
