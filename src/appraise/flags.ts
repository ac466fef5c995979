/** Command-line policy flags applied over a policy (from a file or the default): flags win. */
import {STATUS_RANK, type TcbStatus} from '../abi/tcb-info.js'
import {InputError} from '../errors.js'
import {EXPECTABLE_FIELDS, MAX_SVN, TEE_TCB_SVN_SIZE, checkExpectedHex, checkHexOfSize, checkMasks, parseSvn, type ExpectableField, type MaskableField, type Policy} from './policy.js'

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
  /** go-tdx-guest `check` parity: --min-qe-svn, --min-pce-svn (dec, 0x, 0o, 0b), --min-tee-tcb-svn HEX. */
  minQeSvn?: string
  minPceSvn?: string
  minTeeTcbSvn?: string
  /** Shorthands for --expect FIELD=HEX (each one value; repeat for any-of). */
  pins?: Partial<Record<ExpectableField, string[]>>
  /** --td-attributes-mask / --xfam-mask HEX. */
  masks?: Partial<Record<MaskableField, string>>
}

/** Apply the flags to `p` (changed in place and returned). */
export function applyPolicyFlags(p: Policy, f: PolicyFlags): Policy {
  if (f.allowDebug) p.allow_debug = true
  if (f.allowMissingSeptVeDisable) p.allow_missing_sept_ve_disable = true
  if (f.allowPerfmon) p.allow_perfmon = true
  if (f.allowServiceTd) p.allow_service_td = true
  const fromFlags: Partial<Record<ExpectableField, string[]>> = {}
  const pinned = Object.entries(f.pins ?? {}).flatMap(([field, vals]) => (vals ?? []).map((v) => `${field}=${v}`))
  for (const e of [...(f.expect ?? []), ...pinned]) {
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
  for (const [flag, key, text] of [
    ['--min-qe-svn', 'min_qe_svn', f.minQeSvn],
    ['--min-pce-svn', 'min_pce_svn', f.minPceSvn],
  ] as const) {
    if (text === undefined) continue
    const n = parseSvn(text)
    if (n === undefined) throw new InputError('BAD_SVN', `${flag} ${text}: an integer 0..${MAX_SVN} (decimal, 0x, 0o or 0b)`)
    p[key] = n
  }
  if (f.minTeeTcbSvn !== undefined) {
    const hex = checkHexOfSize(f.minTeeTcbSvn, TEE_TCB_SVN_SIZE)
    if (!hex) throw new InputError('BAD_SVN', `--min-tee-tcb-svn: must be ${TEE_TCB_SVN_SIZE} bytes of hex (${TEE_TCB_SVN_SIZE * 2} digits)`)
    p.min_tee_tcb_svn = hex
  }
  for (const [field, text] of Object.entries(f.masks ?? {}) as Array<[MaskableField, string | undefined]>) {
    if (text === undefined) continue
    const hex = checkHexOfSize(text, EXPECTABLE_FIELDS[field])
    if (!hex) throw new InputError('BAD_EXPECT', `--${field.replace('_', '-')}-mask: must be ${EXPECTABLE_FIELDS[field]} bytes of hex`)
    ;(p.masks ??= {})[field] = hex
  }
  checkMasks(p, 'policy')
  return p
}
