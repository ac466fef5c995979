/**
 * The Intel SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1): the one definition of
 * its OIDs, sizes and values, decoded for the verifier and encoded for the simulated PKI, both with
 * the DER codec of src/abi/der.ts.
 *
 * The extension value is a SEQUENCE of {OID, value} pairs (Intel's PCK Certificate and CRL
 * specification; shared/reference/verifiers.md §1.7):
 *   .1 PPID                 OCTET STRING (16)
 *   .2 TCB                  SEQUENCE of {.2.1 … .2.16 INTEGER component SVN, .2.17 INTEGER PCESVN,
 *                                        .2.18 OCTET STRING CPUSVN (16)}
 *   .3 PCE-ID               OCTET STRING (2)
 *   .4 FMSPC                OCTET STRING (6)
 *   .5 SGX type             ENUMERATED (0 Standard, 1 Scalable, 2 Scalable with integrity)
 *   .6 PlatformInstanceID   OCTET STRING (16)          } certificates issued by the Platform CA
 *   .7 Configuration        SEQUENCE of optional       }
 *                           {.7.1 dynamicPlatform, .7.2 cachedKeys, .7.3 SMTEnabled} BOOLEAN
 * The encoder writes exactly this order, which is Intel's: it re-creates the extension of a real
 * PCK certificate byte for byte, and decode(encode(x)) is x for every valid PckExtension.
 */
import {ParseError} from '../errors.js'
import {
  DER_SMALL_INT_MAX,
  DER_TAG,
  DerError,
  decodeDer,
  derBoolean,
  derBooleanNode,
  derChildren,
  derOctets,
  derOctetsNode,
  derOid,
  derOidNode,
  derSequenceNode,
  derSmallInt,
  derSmallIntNode,
  encodeDer,
  isUniversal,
  type DerNode,
} from './der.js'

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

/** Number of SGX TCB component SVNs; component i (0-based) has OID `${SGX_EXT.TCB}.${i + 1}`. */
export const TCB_COMPONENT_COUNT = 16
const tcbComponentOid = (i: number): string => `${SGX_EXT.TCB}.${i + 1}`

/** Sizes of the OCTET STRING fields. */
const PCK_EXT_SIZE = {PPID: 16, CPUSVN: 16, PCEID: 2, FMSPC: 6, PLATFORM_INSTANCE_ID: 16} as const
/** A component SVN is one byte of CPUSVN; PCESVN is the PCE's 16-bit ISVSVN. */
const COMPONENT_SVN_MAX = 0xff
const PCESVN_MAX = 0xffff

/** SGX type values. */
export const SGX_TYPE = {STANDARD: 0, SCALABLE: 1, SCALABLE_WITH_INTEGRITY: 2} as const

/** Configuration flags, in encoding order, by their field name in PckConfiguration. */
export const CONFIGURATION_FLAG_OID = {
  dynamic_platform: `${SGX_EXT.CONFIGURATION}.1`,
  cached_keys: `${SGX_EXT.CONFIGURATION}.2`,
  smt_enabled: `${SGX_EXT.CONFIGURATION}.3`,
} as const

/** Platform configuration flags; a flag the certificate does not carry is absent. */
export type PckConfiguration = {-readonly [K in keyof typeof CONFIGURATION_FLAG_OID]?: boolean}

export interface PckExtension {
  ppid: Buffer
  /** The 16 SGX TCB component SVNs (what TCB matching compares). */
  tcb_components: number[]
  pcesvn: number
  cpusvn: Buffer
  pceid: Buffer
  fmspc: Buffer
  sgx_type: number
  /** Platform-CA PCKs only. */
  platform_instance_id?: Buffer
  /** Platform-CA PCKs only. */
  configuration?: PckConfiguration
}

/** The SGX extension does not decode, or a PckExtension cannot be encoded (a typed parse error, exit 2). */
export class PckExtensionError extends ParseError {
  constructor(message: string) {
    super('PCK_EXTENSION_MALFORMED', message)
  }
}

/** The SGX extension's value among a certificate's extensions; PckExtensionError when absent. */
export function sgxExtensionOf(extensions: ReadonlyArray<{oid: string; value: Uint8Array}>): Uint8Array {
  const ext = extensions.find((e) => e.oid === OID_SGX_EXTENSION)
  if (!ext) throw new PckExtensionError('PCK certificate has no SGX extension')
  return ext.value
}

// ---------------------------------------------------------------- decoding

/** A SEQUENCE OF SEQUENCE {OID, value} as a map; a repeated OID is malformed. */
function pairs(node: DerNode, what: string): Map<string, DerNode> {
  const out = new Map<string, DerNode>()
  for (const item of derChildren(node, what)) {
    const [oidNode, value] = derChildren(item, `${what} entry`, 2, 2)
    const oid = derOid(oidNode, `${what} entry`)
    if (out.has(oid)) throw new PckExtensionError(`${what}: ${oid} appears more than once`)
    out.set(oid, value)
  }
  return out
}

function need(map: Map<string, DerNode>, oid: string, what: string): DerNode {
  const v = map.get(oid)
  if (!v) throw new PckExtensionError(`${what} (${oid}) is missing`)
  return v
}

/** A value in 0..max with exactly the universal tag `tag` (INTEGER by default; ENUMERATED for the SGX type). */
function smallInt(node: DerNode, what: string, max: number, tag: number = DER_TAG.INTEGER): number {
  if (!isUniversal(node, tag)) throw new PckExtensionError(`${what}: expected ${tag === DER_TAG.ENUMERATED ? 'ENUMERATED' : 'INTEGER'}`)
  const n = derSmallInt(node, what)
  if (n > max) throw new PckExtensionError(`${what}: ${n} is above ${max}`)
  return n
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
  const top = pairs(decodeDer(extnValue, 'SGX extension'), 'SGX extension')
  const tcb = pairs(need(top, SGX_EXT.TCB, 'TCB'), 'SGX TCB')
  const components: number[] = []
  for (let i = 0; i < TCB_COMPONENT_COUNT; i++) {
    const what = `TCB component ${i + 1}`
    components.push(smallInt(need(tcb, tcbComponentOid(i), what), what, COMPONENT_SVN_MAX))
  }
  const out: PckExtension = {
    ppid: derOctets(need(top, SGX_EXT.PPID, 'PPID'), 'PPID', PCK_EXT_SIZE.PPID),
    tcb_components: components,
    pcesvn: smallInt(need(tcb, SGX_EXT.PCESVN, 'PCESVN'), 'PCESVN', PCESVN_MAX),
    cpusvn: derOctets(need(tcb, SGX_EXT.CPUSVN, 'CPUSVN'), 'CPUSVN', PCK_EXT_SIZE.CPUSVN),
    pceid: derOctets(need(top, SGX_EXT.PCEID, 'PCE-ID'), 'PCE-ID', PCK_EXT_SIZE.PCEID),
    fmspc: derOctets(need(top, SGX_EXT.FMSPC, 'FMSPC'), 'FMSPC', PCK_EXT_SIZE.FMSPC),
    sgx_type: smallInt(need(top, SGX_EXT.SGX_TYPE, 'SGX type'), 'SGX type', DER_SMALL_INT_MAX, DER_TAG.ENUMERATED),
  }
  const pid = top.get(SGX_EXT.PLATFORM_INSTANCE_ID)
  if (pid) out.platform_instance_id = derOctets(pid, 'platform instance ID', PCK_EXT_SIZE.PLATFORM_INSTANCE_ID)
  const conf = top.get(SGX_EXT.CONFIGURATION)
  if (conf) {
    // Flags this decoder does not know are skipped, like unknown top-level entries.
    const flags = pairs(conf, 'configuration')
    const config: PckConfiguration = {}
    for (const [name, oid] of Object.entries(CONFIGURATION_FLAG_OID) as Array<[keyof PckConfiguration, string]>) {
      const v = flags.get(oid)
      if (v) config[name] = derBoolean(v, `configuration flag ${name}`)
    }
    out.configuration = config
  }
  return out
}

// ---------------------------------------------------------------- encoding

const pair = (oid: string, value: DerNode): DerNode => derSequenceNode([derOidNode(oid), value])

function octets(what: string, b: Uint8Array, size: number): DerNode {
  if (b.length !== size) throw new PckExtensionError(`cannot encode ${what}: ${b.length} bytes, expected ${size}`)
  return derOctetsNode(b)
}

function int(what: string, n: number, max: number, tag: number = DER_TAG.INTEGER): DerNode {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new PckExtensionError(`cannot encode ${what}: ${n} is not in 0..${max}`)
  return derSmallIntNode(n, tag)
}

/** DER of the extension value (the content of the extnValue OCTET STRING), in Intel's order. */
export function encodePckExtension(ext: PckExtension): Buffer {
  if (ext.tcb_components.length !== TCB_COMPONENT_COUNT) {
    throw new PckExtensionError(`cannot encode TCB: ${ext.tcb_components.length} components, expected ${TCB_COMPONENT_COUNT}`)
  }
  const tcb = [
    ...ext.tcb_components.map((svn, i) => pair(tcbComponentOid(i), int(`TCB component ${i + 1}`, svn, COMPONENT_SVN_MAX))),
    pair(SGX_EXT.PCESVN, int('PCESVN', ext.pcesvn, PCESVN_MAX)),
    pair(SGX_EXT.CPUSVN, octets('CPUSVN', ext.cpusvn, PCK_EXT_SIZE.CPUSVN)),
  ]
  const items = [
    pair(SGX_EXT.PPID, octets('PPID', ext.ppid, PCK_EXT_SIZE.PPID)),
    pair(SGX_EXT.TCB, derSequenceNode(tcb)),
    pair(SGX_EXT.PCEID, octets('PCE-ID', ext.pceid, PCK_EXT_SIZE.PCEID)),
    pair(SGX_EXT.FMSPC, octets('FMSPC', ext.fmspc, PCK_EXT_SIZE.FMSPC)),
    pair(SGX_EXT.SGX_TYPE, int('SGX type', ext.sgx_type, DER_SMALL_INT_MAX, DER_TAG.ENUMERATED)),
  ]
  if (ext.platform_instance_id) {
    items.push(pair(SGX_EXT.PLATFORM_INSTANCE_ID, octets('platform instance ID', ext.platform_instance_id, PCK_EXT_SIZE.PLATFORM_INSTANCE_ID)))
  }
  if (ext.configuration) {
    const c = ext.configuration
    const flags = (Object.entries(CONFIGURATION_FLAG_OID) as Array<[keyof PckConfiguration, string]>)
      .filter(([name]) => c[name] !== undefined)
      .map(([name, oid]) => pair(oid, derBooleanNode(c[name]!)))
    items.push(pair(SGX_EXT.CONFIGURATION, derSequenceNode(flags)))
  }
  return encodeDer(derSequenceNode(items))
}
