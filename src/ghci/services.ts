/**
 * Services behind the GHCI 1.5 Service TDVMCALL, addressed by GUID: a query service (is this GUID
 * served?) and tdxkit's quote service (TDREPORT in, quote out, synchronously). Handlers receive the
 * command data (after the 24-byte header) and return a service status and the response data.
 */
import {
  GetQuoteStatus,
  QuoteServiceResult,
  SERVICE_GUID_QUERY,
  SERVICE_GUID_TDXKIT_QUOTE,
  SERVICE_QUERY_CMD,
  SERVICE_QUERY_RSP,
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

const fail = (status: number): ServiceResult => ({status, data: Buffer.alloc(0)})

export const queryService: ServiceHandler = (cmd, host) => {
  if (cmd.length < SERVICE_QUERY_CMD.size) return fail(ServiceStatus.INVALID_OPERAND)
  const guid = field(SERVICE_QUERY_CMD, cmd, 'guid')
  const name = guidFromBytes(guid)
  const served = host.services.has(name) && (name !== SERVICE_GUID_TDXKIT_QUOTE || host.qgs.available)
  const rsp = Buffer.alloc(SERVICE_QUERY_RSP.size)
  writeField(SERVICE_QUERY_RSP, rsp, 'supported', served ? 0 : 1)
  writeField(SERVICE_QUERY_RSP, rsp, 'guid', Buffer.from(guid))
  return {status: ServiceStatus.SUCCESS, data: rsp}
}

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
