/**
 * The Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1), built and decoded with asn1js.
 *
 * Structure (as in real Intel PCK certificates, see shared/reference/verifiers.md §1.7): a SEQUENCE of
 * {OID, value} pairs —
 *   .1 PPID             OCTET STRING (16)
 *   .2 TCB              SEQUENCE of {.2.1 … .2.16 INTEGER component SVN, .2.17 INTEGER PCESVN,
 *                                    .2.18 OCTET STRING CPUSVN (16)}
 *   .3 PCE-ID           OCTET STRING (2)
 *   .4 FMSPC            OCTET STRING (6)
 *   .5 SGX type         ENUMERATED (0 Standard, 1 Scalable, 2 Scalable with integrity)
 *   .6 PlatformInstanceID OCTET STRING (16)   (certificates issued by the Platform CA)
 *   .7 Configuration    SEQUENCE of {.7.1 dynamicPlatform, .7.2 cachedKeys, .7.3 SMTEnabled} BOOLEAN
 */
import * as asn1js from 'asn1js'
import * as pkijs from 'pkijs'
import {ParseError} from '../errors.js'

export const SGX_EXTENSION_OID = '1.2.840.113741.1.13.1'
export const PCK_OID = {
  ppid: `${SGX_EXTENSION_OID}.1`,
  tcb: `${SGX_EXTENSION_OID}.2`,
  pcesvn: `${SGX_EXTENSION_OID}.2.17`,
  cpusvn: `${SGX_EXTENSION_OID}.2.18`,
  pceId: `${SGX_EXTENSION_OID}.3`,
  fmspc: `${SGX_EXTENSION_OID}.4`,
  sgxType: `${SGX_EXTENSION_OID}.5`,
  platformInstanceId: `${SGX_EXTENSION_OID}.6`,
  configuration: `${SGX_EXTENSION_OID}.7`,
  dynamicPlatform: `${SGX_EXTENSION_OID}.7.1`,
  cachedKeys: `${SGX_EXTENSION_OID}.7.2`,
  smtEnabled: `${SGX_EXTENSION_OID}.7.3`,
} as const
/** OID of TCB component i (0-based index; the OID arc is i + 1). */
export const tcbComponentOid = (i: number): string => `${PCK_OID.tcb}.${i + 1}`

export const PCK_TCB_COMPONENTS = 16
export const PPID_SIZE = 16
export const CPUSVN_SIZE = 16
export const PCE_ID_SIZE = 2
export const FMSPC_SIZE = 6
export const PLATFORM_INSTANCE_ID_SIZE = 16
export const SGX_TYPE = {STANDARD: 0, SCALABLE: 1, SCALABLE_WITH_INTEGRITY: 2} as const

export interface PckExtension {
  ppid: Buffer
  tcb: {
    /** The 16 SGX TCB component SVNs (what TCB matching compares). */
    components: number[]
    pcesvn: number
    cpusvn: Buffer
  }
  pce_id: Buffer
  fmspc: Buffer
  sgx_type: number
  platform_instance_id?: Buffer
  configuration?: {dynamic_platform: boolean; cached_keys: boolean; smt_enabled: boolean}
}

const pair = (oid: string, value: asn1js.AsnType) => new asn1js.Sequence({value: [new asn1js.ObjectIdentifier({value: oid}), value]})
const octets = (b: Uint8Array) => new asn1js.OctetString({valueHex: Uint8Array.from(b)})

function checkSize(what: string, b: Uint8Array, size: number): void {
  if (b.length !== size) throw new Error(`PCK extension: ${what} must be ${size} bytes, got ${b.length}`)
}

/** DER of the extension value (the content of the extnValue OCTET STRING). */
export function encodePckExtension(ext: PckExtension): Buffer {
  checkSize('PPID', ext.ppid, PPID_SIZE)
  checkSize('CPUSVN', ext.tcb.cpusvn, CPUSVN_SIZE)
  checkSize('PCE-ID', ext.pce_id, PCE_ID_SIZE)
  checkSize('FMSPC', ext.fmspc, FMSPC_SIZE)
  if (ext.tcb.components.length !== PCK_TCB_COMPONENTS) throw new Error(`PCK extension: need ${PCK_TCB_COMPONENTS} TCB components`)
  const tcb = [
    ...ext.tcb.components.map((svn, i) => pair(tcbComponentOid(i), new asn1js.Integer({value: svn}))),
    pair(PCK_OID.pcesvn, new asn1js.Integer({value: ext.tcb.pcesvn})),
    pair(PCK_OID.cpusvn, octets(ext.tcb.cpusvn)),
  ]
  const items: asn1js.AsnType[] = [
    pair(PCK_OID.ppid, octets(ext.ppid)),
    pair(PCK_OID.tcb, new asn1js.Sequence({value: tcb})),
    pair(PCK_OID.pceId, octets(ext.pce_id)),
    pair(PCK_OID.fmspc, octets(ext.fmspc)),
    pair(PCK_OID.sgxType, new asn1js.Enumerated({value: ext.sgx_type})),
  ]
  if (ext.platform_instance_id) {
    checkSize('PlatformInstanceID', ext.platform_instance_id, PLATFORM_INSTANCE_ID_SIZE)
    items.push(pair(PCK_OID.platformInstanceId, octets(ext.platform_instance_id)))
  }
  if (ext.configuration) {
    const c = ext.configuration
    items.push(
      pair(
        PCK_OID.configuration,
        new asn1js.Sequence({
          value: [
            pair(PCK_OID.dynamicPlatform, new asn1js.Boolean({value: c.dynamic_platform})),
            pair(PCK_OID.cachedKeys, new asn1js.Boolean({value: c.cached_keys})),
            pair(PCK_OID.smtEnabled, new asn1js.Boolean({value: c.smt_enabled})),
          ],
        }),
      ),
    )
  }
  return Buffer.from(new asn1js.Sequence({value: items}).toBER())
}

const malformed = (why: string) => new ParseError('PCK_EXTENSION_MALFORMED', `PCK certificate SGX extension: ${why}`)

/** Read a SEQUENCE of {OID, value} pairs into a map. */
function pairs(node: asn1js.AsnType, what: string): Map<string, asn1js.AsnType> {
  if (!(node instanceof asn1js.Sequence)) throw malformed(`${what} is not a SEQUENCE`)
  const out = new Map<string, asn1js.AsnType>()
  for (const item of node.valueBlock.value) {
    if (!(item instanceof asn1js.Sequence) || item.valueBlock.value.length !== 2) throw malformed(`${what}: entry is not an {OID, value} pair`)
    const [oid, value] = item.valueBlock.value
    if (!(oid instanceof asn1js.ObjectIdentifier)) throw malformed(`${what}: entry without an OID`)
    out.set(oid.valueBlock.toString(), value)
  }
  return out
}

function need(map: Map<string, asn1js.AsnType>, oid: string, name: string): asn1js.AsnType {
  const v = map.get(oid)
  if (!v) throw malformed(`${name} (${oid}) is missing`)
  return v
}

function bytesOf(node: asn1js.AsnType, name: string, size: number): Buffer {
  if (!(node instanceof asn1js.OctetString)) throw malformed(`${name} is not an OCTET STRING`)
  const b = Buffer.from(node.valueBlock.valueHexView)
  if (b.length !== size) throw malformed(`${name} is ${b.length} bytes, expected ${size}`)
  return b
}

function intOf(node: asn1js.AsnType, name: string): number {
  if (!(node instanceof asn1js.Integer)) throw malformed(`${name} is not an INTEGER`)
  const v = node.valueBlock.valueDec
  if (!Number.isSafeInteger(v) || v < 0) throw malformed(`${name} is out of range`)
  return v
}

function boolOf(node: asn1js.AsnType, name: string): boolean {
  if (!(node instanceof asn1js.Boolean)) throw malformed(`${name} is not a BOOLEAN`)
  return node.valueBlock.value
}

/** Decode the extension value (DER of the SEQUENCE). */
export function decodePckExtension(der: Uint8Array): PckExtension {
  const parsed = asn1js.fromBER(Uint8Array.from(der))
  if (parsed.offset === -1) throw malformed('not valid DER')
  const top = pairs(parsed.result, 'extension')
  const tcb = pairs(need(top, PCK_OID.tcb, 'TCB'), 'TCB')
  const components: number[] = []
  for (let i = 0; i < PCK_TCB_COMPONENTS; i++) components.push(intOf(need(tcb, tcbComponentOid(i), `TCB component ${i + 1}`), `TCB component ${i + 1}`))
  const sgxType = need(top, PCK_OID.sgxType, 'SGX type')
  if (!(sgxType instanceof asn1js.Enumerated)) throw malformed('SGX type is not ENUMERATED')
  const ext: PckExtension = {
    ppid: bytesOf(need(top, PCK_OID.ppid, 'PPID'), 'PPID', PPID_SIZE),
    tcb: {
      components,
      pcesvn: intOf(need(tcb, PCK_OID.pcesvn, 'PCESVN'), 'PCESVN'),
      cpusvn: bytesOf(need(tcb, PCK_OID.cpusvn, 'CPUSVN'), 'CPUSVN', CPUSVN_SIZE),
    },
    pce_id: bytesOf(need(top, PCK_OID.pceId, 'PCE-ID'), 'PCE-ID', PCE_ID_SIZE),
    fmspc: bytesOf(need(top, PCK_OID.fmspc, 'FMSPC'), 'FMSPC', FMSPC_SIZE),
    sgx_type: sgxType.valueBlock.valueDec,
  }
  const pid = top.get(PCK_OID.platformInstanceId)
  if (pid) ext.platform_instance_id = bytesOf(pid, 'PlatformInstanceID', PLATFORM_INSTANCE_ID_SIZE)
  const conf = top.get(PCK_OID.configuration)
  if (conf) {
    const c = pairs(conf, 'Configuration')
    ext.configuration = {
      dynamic_platform: boolOf(need(c, PCK_OID.dynamicPlatform, 'dynamicPlatform'), 'dynamicPlatform'),
      cached_keys: boolOf(need(c, PCK_OID.cachedKeys, 'cachedKeys'), 'cachedKeys'),
      smt_enabled: boolOf(need(c, PCK_OID.smtEnabled, 'SMTEnabled'), 'SMTEnabled'),
    }
  }
  return ext
}

/** Find and decode the SGX extension of a DER certificate. */
export function pckExtensionOfCertificate(certDer: Uint8Array): PckExtension {
  let cert: pkijs.Certificate
  try {
    cert = pkijs.Certificate.fromBER(Uint8Array.from(certDer))
  } catch {
    throw new ParseError('CERTIFICATE_MALFORMED', 'PCK certificate is not a valid DER X.509 certificate')
  }
  const found = (cert.extensions ?? []).filter((e) => e.extnID === SGX_EXTENSION_OID)
  if (found.length !== 1) throw malformed(found.length === 0 ? 'extension not present' : 'extension present more than once')
  return decodePckExtension(found[0].extnValue.valueBlock.valueHexView)
}
