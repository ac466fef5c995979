/**
 * The policy pins of `quote verify` that mirror go-tdx-guest's `check` flags (see docs/guide/verify.md):
 * minimum SVNs, masks, and shorthands for --expect FIELD=HEX; and their mapping onto PolicyFlags.
 */
import {Flags} from './oclif.js'
import type {PolicyFlags} from '../appraise/flags.js'
import type {ExpectableField} from '../appraise/policy.js'

const pin = (summary: string) => Flags.string({summary: `${summary} (exact; repeatable = any of; same as --expect).`, multiple: true, multipleNonGreedy: true})

/** Flag name → the expected field it pins. */
const PIN_FLAGS = {
  'td-attributes': 'td_attributes',
  xfam: 'xfam',
  'qe-vendor-id': 'qe_vendor_id',
  'mr-seam': 'mrseam',
  'mrsigner-seam': 'mrsignerseam',
  'mr-servicetd': 'mr_servicetd',
} as const satisfies Record<string, ExpectableField>

export const policyPinFlags = {
  'min-qe-svn': Flags.string({summary: 'Minimum QE SVN of the quote header (decimal, 0x, 0o, 0b).'}),
  'min-pce-svn': Flags.string({summary: 'Minimum PCE SVN of the quote header.'}),
  'min-tee-tcb-svn': Flags.string({summary: 'Minimum TEE_TCB_SVN, 16 bytes of hex, compared byte by byte (each component).'}),
  'td-attributes': pin('TD_ATTRIBUTES, 8 bytes of hex in quote byte order'),
  'td-attributes-mask': Flags.string({summary: 'Compare --td-attributes only under this mask (8 bytes of hex).'}),
  xfam: pin('XFAM, 8 bytes of hex in quote byte order'),
  'xfam-mask': Flags.string({summary: 'Compare --xfam only under this mask (8 bytes of hex).'}),
  'qe-vendor-id': pin('QE vendor ID of the quote header, 16 bytes of hex'),
  'mr-seam': pin('MRSEAM (TDX module measurement), 48 bytes of hex'),
  'mrsigner-seam': pin('MRSIGNERSEAM, 48 bytes of hex'),
  'mr-servicetd': pin('MR_SERVICETD (TD 1.5 bodies), 48 bytes of hex'),
}

type PinFlagValues = {[K in keyof typeof policyPinFlags]?: K extends keyof typeof PIN_FLAGS ? string[] : string}

/** The pin flags' values as PolicyFlags fields. */
export function policyPinsOf(f: PinFlagValues): Pick<PolicyFlags, 'minQeSvn' | 'minPceSvn' | 'minTeeTcbSvn' | 'pins' | 'masks'> {
  const pins: NonNullable<PolicyFlags['pins']> = {}
  for (const [flag, field] of Object.entries(PIN_FLAGS) as Array<[keyof typeof PIN_FLAGS, ExpectableField]>) {
    const vals = f[flag]
    if (vals?.length) pins[field] = vals
  }
  return {
    ...(f['min-qe-svn'] !== undefined ? {minQeSvn: f['min-qe-svn']} : {}),
    ...(f['min-pce-svn'] !== undefined ? {minPceSvn: f['min-pce-svn']} : {}),
    ...(f['min-tee-tcb-svn'] !== undefined ? {minTeeTcbSvn: f['min-tee-tcb-svn']} : {}),
    pins,
    masks: {
      ...(f['td-attributes-mask'] !== undefined ? {td_attributes: f['td-attributes-mask']} : {}),
      ...(f['xfam-mask'] !== undefined ? {xfam: f['xfam-mask']} : {}),
    },
  }
}
