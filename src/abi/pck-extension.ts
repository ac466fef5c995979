/**
 * The Intel SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1): PPID, TCB (16 component
 * SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type, and for Platform-CA PCKs the platform instance ID
 * and configuration flags. Decoded with asn1js from the certificate's extension value.
 */
import * as asn1js from 'asn1js'
import {ParseError} from '../errors.js'
import type * as pkijs from 'pkijs'

export const OID_SGX_EXTENSION = '1.2.840.113741.1.13.1'
export const SGX_EXT = {
  PPID: `${OID_SGX_EXTENSION}.1`,
  TCB: `${OID_SGX_EXTENSION}.2`,
  PCESVN: `${OID_SGX_EXTENSION}.2.17`,
  CPUSVN: `${OID_SGX_EXTENSION}.2.18`,
  PCEID: `${OID_SGX_EXTENSION}.3`,
  FMSPC: `${OID_SGX_EXTENSION}.4`,
  SGX_TYPE: `${OID_SGX_EXTENSION}.5`,
  PLATFORM_INSTANCE_ID: `${OID_SGX_EXTENSION}.6`,
  CONFIGURATION: `${OID_SGX_EXTENSION}.7`,
} as const
/** Component SVN i (1..16) is `${TCB}.${i}`. */
export const TCB_COMPONENT_COUNT = 16
export const CONFIGURATION_FLAGS: Record<string, string> = {
  [`${SGX_EXT.CONFIGURATION}.1`]: 'dynamicPlatform',
  [`${SGX_EXT.CONFIGURATION}.2`]: 'cachedKeys',
  [`${SGX_EXT.CONFIGURATION}.3`]: 'smtEnabled',
}

export interface PckExtension {
  ppid: Buffer
  /** The 16 SGX TCB component SVNs. */
  tcb_components: number[]
  pcesvn: number
  cpusvn: Buffer
  pceid: Buffer
  fmspc: Buffer
  sgx_type: number
  platform_instance_id?: Buffer
  /** Configuration flags present and true (Platform-CA PCKs). */
  configuration?: string[]
}

/** The PCK certificate's SGX extension does not decode (a typed parse error, exit 2). */
export class PckExtensionError extends ParseError {
  constructor(message: string) {
    super('PCK_EXTENSION_MALFORMED', message)
  }
}

type Seq = asn1js.Sequence

function pairs(seq: asn1js.AsnType, what: string): Array<[string, asn1js.AsnType]> {
  if (!(seq instanceof asn1js.Sequence)) throw new PckExtensionError(`${what}: not a SEQUENCE`)
  return (seq as Seq).valueBlock.value.map((item) => {
    if (!(item instanceof asn1js.Sequence) || item.valueBlock.value.length < 1 || !(item.valueBlock.value[0] instanceof asn1js.ObjectIdentifier)) {
      throw new PckExtensionError(`${what}: entry is not (OID, value)`)
    }
    const [oid, value] = item.valueBlock.value as [asn1js.ObjectIdentifier, asn1js.AsnType]
    return [oid.valueBlock.toString(), value]
  })
}

const octets = (v: asn1js.AsnType | undefined, what: string, size?: number): Buffer => {
  if (!(v instanceof asn1js.OctetString)) throw new PckExtensionError(`${what}: not an OCTET STRING`)
  const b = Buffer.from(v.valueBlock.valueHexView)
  if (size !== undefined && b.length !== size) throw new PckExtensionError(`${what}: ${b.length} bytes, expected ${size}`)
  return b
}
const int = (v: asn1js.AsnType | undefined, what: string): number => {
  if (v instanceof asn1js.Integer) return v.valueBlock.valueDec
  if (v instanceof asn1js.Enumerated) return v.valueBlock.valueDec
  throw new PckExtensionError(`${what}: not an INTEGER`)
}

/** Decode the SGX extension of a PCK certificate. Throws PckExtensionError when absent or malformed. */
export function parsePckExtension(cert: pkijs.Certificate): PckExtension {
  const ext = cert.extensions?.find((e) => e.extnID === OID_SGX_EXTENSION)
  if (!ext) throw new PckExtensionError('PCK certificate has no SGX extension')
  const raw = new Uint8Array(ext.extnValue.valueBlock.valueHexView).slice()
  let asn: ReturnType<typeof asn1js.fromBER>
  try {
    asn = asn1js.fromBER(raw)
  } catch (e) {
    // asn1js throws plain RangeErrors on some malformed string types (e.g. a UniversalString whose length is not a multiple of 4).
    throw new PckExtensionError(`SGX extension is not valid DER (${(e as Error).message})`)
  }
  if (asn.offset === -1 || asn.offset !== raw.length) throw new PckExtensionError('SGX extension is not valid DER')
  const top = new Map(pairs(asn.result, 'SGX extension'))
  const tcbVal = top.get(SGX_EXT.TCB)
  if (!tcbVal) throw new PckExtensionError('SGX extension has no TCB')
  const tcb = new Map(pairs(tcbVal, 'SGX TCB'))
  const components: number[] = []
  for (let i = 1; i <= TCB_COMPONENT_COUNT; i++) components.push(int(tcb.get(`${SGX_EXT.TCB}.${i}`), `TCB component ${i}`))
  const out: PckExtension = {
    ppid: octets(top.get(SGX_EXT.PPID), 'PPID', 16),
    tcb_components: components,
    pcesvn: int(tcb.get(SGX_EXT.PCESVN), 'PCESVN'),
    cpusvn: octets(tcb.get(SGX_EXT.CPUSVN), 'CPUSVN', 16),
    pceid: octets(top.get(SGX_EXT.PCEID), 'PCE-ID', 2),
    fmspc: octets(top.get(SGX_EXT.FMSPC), 'FMSPC', 6),
    sgx_type: int(top.get(SGX_EXT.SGX_TYPE), 'SGX type'),
  }
  const pid = top.get(SGX_EXT.PLATFORM_INSTANCE_ID)
  if (pid) out.platform_instance_id = octets(pid, 'platform instance ID', 16)
  const conf = top.get(SGX_EXT.CONFIGURATION)
  if (conf) {
    out.configuration = pairs(conf, 'configuration')
      .filter(([, v]) => v instanceof asn1js.Boolean && v.valueBlock.value)
      .map(([oid]) => CONFIGURATION_FLAGS[oid] ?? oid)
  }
  return out
}
