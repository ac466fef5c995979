/** Command-line policy flags applied over a policy (from a file or the default): flags win. */
import {STATUS_RANK, type TcbStatus} from '../abi/tcb-info.js'
import {InputError} from '../errors.js'
import {EXPECTABLE_FIELDS, checkExpectedHex, type ExpectableField, type Policy} from './policy.js'

export interface PolicyFlags {
  /** Policy file (read by the app; see src/app/verify-setup.ts policyFromFlags). */
  policy?: string
  allowDebug?: boolean
  allowMissingSeptVeDisable?: boolean
  allowPerfmon?: boolean
  allowServiceTd?: boolean
  /** "field=hex" entries (repeatable; the same field twice = any of). */
  expect?: string[]
  minTcbStatus?: string
  allowAdvisory?: string[]
}

/** Apply the flags to `p` (changed in place and returned). */
export function applyPolicyFlags(p: Policy, f: PolicyFlags): Policy {
  if (f.allowDebug) p.allow_debug = true
  if (f.allowMissingSeptVeDisable) p.allow_missing_sept_ve_disable = true
  if (f.allowPerfmon) p.allow_perfmon = true
  if (f.allowServiceTd) p.allow_service_td = true
  const fromFlags: Partial<Record<ExpectableField, string[]>> = {}
  for (const e of f.expect ?? []) {
    const m = /^([a-z_0-9]+)=(.*)$/.exec(e)
    if (!m || !Object.hasOwn(EXPECTABLE_FIELDS, m[1])) throw new InputError('BAD_EXPECT', `--expect ${e}: use FIELD=HEX with FIELD one of ${Object.keys(EXPECTABLE_FIELDS).join(', ')}`)
    const field = m[1] as ExpectableField
    const hex = checkExpectedHex(field, m[2])
    if (!hex) throw new InputError('BAD_EXPECT', `--expect ${field}: must be ${EXPECTABLE_FIELDS[field]} bytes of hex`)
    ;(fromFlags[field] ??= []).push(hex)
  }
  Object.assign(p.expected, fromFlags)
  if (f.minTcbStatus) {
    if (!STATUS_RANK.includes(f.minTcbStatus as TcbStatus)) throw new InputError('BAD_STATUS', `--min-tcb-status: one of ${STATUS_RANK.join(', ')}`)
    p.min_tcb_status = f.minTcbStatus as TcbStatus
  }
  if (f.allowAdvisory?.length) p.allowed_advisories = [...(p.allowed_advisories ?? []), ...f.allowAdvisory]
  return p
}
