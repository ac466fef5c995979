/**
 * Services behind the GHCI 1.5 Service TDVMCALL (R11 = 0x10005), addressed by GUID. Handlers
 * receive the command data (after the 24-byte header) and return a service status and the response
 * data. What this host knows:
 *
 * - Query (GHCI 1.5 §3.14.1, "VMCALL_SERVICE_COMMON", fb6fc5e1-…): served, as QEMU's
 *   tdx-service-query.c answers it — command {u8 version 0, u8 command 0, u16 reserved, GUID},
 *   response {version, command, u8 status 0 = supported / 1 = not, reserved, GUID}; a short command
 *   → BAD_CMD_BUF_SIZE, another version or command → NOT_SUPPORT.
 * - MigTD and vTPM (public GUIDs, public specifications): known, not served (Query says 1).
 * - tdxkit's quote service: SIMULATOR-ONLY — no public specification defines it.
 */
import {
  GetQuoteStatus,
  QuoteServiceResult,
  SERVICE_GUID_MIGTD,
  SERVICE_GUID_QUERY,
  SERVICE_GUID_TDXKIT_QUOTE,
  SERVICE_GUID_VTPM,
  SERVICE_GUID_VTPM_TD,
  SERVICE_QUERY_CMD,
  SERVICE_QUERY_COMMAND,
  SERVICE_QUERY_NOT_SUPPORTED,
  SERVICE_QUERY_RSP,
  SERVICE_QUERY_SUPPORTED,
  SERVICE_QUERY_VERSION,
  SERVICE_QUOTE_CMD,
  SERVICE_QUOTE_CMD_VERSION,
  SERVICE_QUOTE_RSP,
  ServiceStatus,
  guidFromBytes,
} from '../abi/ghci.js'
import {field, readNum, writeField} from '../abi/layout.js'
import type {GhciDispatcher} from './dispatcher.js'

export interface ServiceResult {
  status: number
  data: Buffer
}

export type ServiceHandler = (cmd: Buffer, host: GhciDispatcher) => ServiceResult

/** A service this simulator knows of: where it is specified and whether this host serves it. */
export interface ServiceInfo {
  guid: string
  name: string
  /** The public specification, or why there is none. */
  spec: string
  /** No public specification: tdxkit's own. */
  simulator_only: boolean
  /** This simulated host answers it. */
  served: boolean
}

export const KNOWN_SERVICES: readonly ServiceInfo[] = [
  {guid: SERVICE_GUID_QUERY, name: 'query', spec: 'GHCI 1.5 §3.14.1 (VMCALL_SERVICE_COMMON); QEMU intel/qemu-td-partitioning tdx-service-query.c', simulator_only: false, served: true},
  {guid: SERVICE_GUID_MIGTD, name: 'migtd', spec: 'Intel Migration TD design guide + GHCI 1.5 (MigTD VMCALL_SERVICE_MIGTD_GUID)', simulator_only: false, served: false},
  {guid: SERVICE_GUID_VTPM, name: 'vtpm', spec: 'Intel vTPM TD specification 0.6.5, Tables 5-1..5-4 (OVMF VMCALL_SERVICE_VTPM_GUID)', simulator_only: false, served: false},
  {guid: SERVICE_GUID_VTPM_TD, name: 'vtpm-td', spec: 'Intel vTPM TD specification 0.6.5 §5.2 (intel/vtpm-td)', simulator_only: false, served: false},
  {guid: SERVICE_GUID_TDXKIT_QUOTE, name: 'tdxkit-quote', spec: 'none: simulator-only (a real TD uses the GetQuote TDVMCALL)', simulator_only: true, served: true},
]

/** A known service by name or GUID (case-insensitive). */
export function findService(nameOrGuid: string): ServiceInfo | undefined {
  const t = nameOrGuid.trim().toLowerCase()
  return KNOWN_SERVICES.find((s) => s.name === t || s.guid === t)
}

const fail = (status: number): ServiceResult => ({status, data: Buffer.alloc(0)})

export const queryService: ServiceHandler = (cmd, host) => {
  if (cmd.length < SERVICE_QUERY_CMD.size) return fail(ServiceStatus.BAD_CMD_BUF_SIZE)
  if (readNum(SERVICE_QUERY_CMD, cmd, 'version') !== SERVICE_QUERY_VERSION || readNum(SERVICE_QUERY_CMD, cmd, 'command') !== SERVICE_QUERY_COMMAND) {
    return fail(ServiceStatus.NOT_SUPPORT)
  }
  const guid = field(SERVICE_QUERY_CMD, cmd, 'guid')
  const name = guidFromBytes(guid)
  const served = host.services.has(name) && (name !== SERVICE_GUID_TDXKIT_QUOTE || host.qgs.available)
  const rsp = Buffer.alloc(SERVICE_QUERY_RSP.size)
  writeField(SERVICE_QUERY_RSP, rsp, 'version', SERVICE_QUERY_VERSION)
  writeField(SERVICE_QUERY_RSP, rsp, 'command', SERVICE_QUERY_COMMAND)
  writeField(SERVICE_QUERY_RSP, rsp, 'supported', served ? SERVICE_QUERY_SUPPORTED : SERVICE_QUERY_NOT_SUPPORTED)
  writeField(SERVICE_QUERY_RSP, rsp, 'guid', Buffer.from(guid))
  return {status: ServiceStatus.SUCCESS, data: rsp}
}

/** SIMULATOR-ONLY: TDREPORT in, quote out, synchronously (no public specification). */
export const quoteService: ServiceHandler = (cmd, host) => {
  if (cmd.length < SERVICE_QUOTE_CMD.size) return fail(ServiceStatus.INVALID_OPERAND)
  if (readNum(SERVICE_QUOTE_CMD, cmd, 'version') !== SERVICE_QUOTE_CMD_VERSION || readNum(SERVICE_QUOTE_CMD, cmd, 'command') !== 0) {
    return fail(ServiceStatus.INVALID_OPERAND)
  }
  const reportLen = readNum(SERVICE_QUOTE_CMD, cmd, 'report_len')
  if (SERVICE_QUOTE_CMD.size + reportLen > cmd.length) return fail(ServiceStatus.BAD_CMD_BUF_SIZE)
  const qv = readNum(SERVICE_QUOTE_CMD, cmd, 'quote_version')
  if (qv !== 0 && qv !== 4 && qv !== 5) return fail(ServiceStatus.INVALID_OPERAND)
  const rsp = Buffer.alloc(SERVICE_QUOTE_RSP.size)
  writeField(SERVICE_QUOTE_RSP, rsp, 'version', SERVICE_QUOTE_CMD_VERSION)
  if (!host.qgs.available) {
    writeField(SERVICE_QUOTE_RSP, rsp, 'result', QuoteServiceResult.SERVICE_UNAVAILABLE)
    return {status: ServiceStatus.DEVICE_ERROR, data: rsp}
  }
  const tdreport = Buffer.from(cmd.subarray(SERVICE_QUOTE_CMD.size, SERVICE_QUOTE_CMD.size + reportLen))
  const outcome = host.qgs.generate(host.vmm, tdreport, qv === 0 ? undefined : (qv as 4 | 5))
  if (outcome.status !== GetQuoteStatus.SUCCESS || !outcome.quote) {
    writeField(SERVICE_QUOTE_RSP, rsp, 'result', outcome.status === GetQuoteStatus.SERVICE_UNAVAILABLE ? QuoteServiceResult.SERVICE_UNAVAILABLE : QuoteServiceResult.ERROR)
    return {status: ServiceStatus.DEVICE_ERROR, data: rsp}
  }
  writeField(SERVICE_QUOTE_RSP, rsp, 'quote_len', outcome.quote.length)
  return {status: ServiceStatus.SUCCESS, data: Buffer.concat([rsp, outcome.quote])}
}

export function defaultServices(): Map<string, ServiceHandler> {
  return new Map([
    [SERVICE_GUID_QUERY, queryService],
    [SERVICE_GUID_TDXKIT_QUOTE, quoteService],
  ])
}
