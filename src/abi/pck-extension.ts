/**
 * The Intel SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1): PPID, TCB (16 component
 * SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type, and for Platform-CA PCKs the platform instance ID
 * and configuration flags. Decoded with the DER codec of
 * src/abi/der.ts from the certificate's extension value.
 */
import {ParseError} from '../errors.js'
import {DerError, decodeDer, derBoolean, derChildren, derOctets, derOid, derSmallInt, type DerNode} from './der.js'

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

/** (OID, value) pairs of a SEQUENCE OF SEQUENCE { OID, value }. */
function pairs(node: DerNode, what: string): Array<[string, DerNode]> {
  return derChildren(node, what).map((item) => {
    const [oid, value] = derChildren(item, `${what} entry`, 2, 2)
    return [derOid(oid, `${what} entry`), value]
  })
}

/** The SGX extension's value among a certificate's extensions; PckExtensionError when absent. */
export function sgxExtensionOf(extensions: ReadonlyArray<{oid: string; value: Uint8Array}>): Uint8Array {
  const ext = extensions.find((e) => e.oid === OID_SGX_EXTENSION)
  if (!ext) throw new PckExtensionError('PCK certificate has no SGX extension')
  return ext.value
}

/** Decode the SGX extension value (the extnValue contents). Throws PckExtensionError when malformed. */
export function parsePckExtension(extnValue: Uint8Array): PckExtension {
  try {
    return decode(extnValue)
  } catch (e) {
    if (e instanceof DerError) throw new PckExtensionError(e.message)
    throw e
  }
}

function decode(extnValue: Uint8Array): PckExtension {
  const top = new Map(pairs(decodeDer(extnValue, 'SGX extension'), 'SGX extension'))
  const tcbVal = top.get(SGX_EXT.TCB)
  if (!tcbVal) throw new PckExtensionError('SGX extension has no TCB')
  const tcb = new Map(pairs(tcbVal, 'SGX TCB'))
  const components: number[] = []
  for (let i = 1; i <= TCB_COMPONENT_COUNT; i++) components.push(derSmallInt(tcb.get(`${SGX_EXT.TCB}.${i}`), `TCB component ${i}`))
  const out: PckExtension = {
    ppid: derOctets(top.get(SGX_EXT.PPID), 'PPID', 16),
    tcb_components: components,
    pcesvn: derSmallInt(tcb.get(SGX_EXT.PCESVN), 'PCESVN'),
    cpusvn: derOctets(tcb.get(SGX_EXT.CPUSVN), 'CPUSVN', 16),
    pceid: derOctets(top.get(SGX_EXT.PCEID), 'PCE-ID', 2),
    fmspc: derOctets(top.get(SGX_EXT.FMSPC), 'FMSPC', 6),
    sgx_type: derSmallInt(top.get(SGX_EXT.SGX_TYPE), 'SGX type'),
  }
  const pid = top.get(SGX_EXT.PLATFORM_INSTANCE_ID)
  if (pid) out.platform_instance_id = derOctets(pid, 'platform instance ID', 16)
  const conf = top.get(SGX_EXT.CONFIGURATION)
  if (conf) {
    out.configuration = pairs(conf, 'configuration')
      .filter(([, v]) => derBoolean(v, 'configuration flag'))
      .map(([oid]) => CONFIGURATION_FLAGS[oid] ?? oid)
  }
  return out
}
