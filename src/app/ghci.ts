/**
 * `ghci info` and `ghci call`: a TD wired to its host on the platform of the state directory (with
 * the shared pools and buffers of earlier runs restored, so their GPAs are shared), one TDVMCALL, and the answer with
 * status names — plus, for GetQuote, the buffer's status word after one tick of host time.
 */
import {
  GET_QUOTE_HEADER,
  GET_QUOTE_HEADER_SIZE,
  SERVICE_GUID_QUERY,
  TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT,
  TDVMCALL_NAMES,
  TdVmCall,
  TdVmCallStatus,
  getQuoteStatusName,
  parseTdvmcallName,
  tdvmcallName,
  tdvmcallStatusName,
} from '../abi/ghci.js'
import {readNum, readUint} from '../abi/layout.js'
import {describeStatus} from '../abi/status.js'
import {InputError, RefusedError} from '../errors.js'
import {GhciDispatcher, type VmcallRegs} from '../ghci/dispatcher.js'
import {KNOWN_SERVICES, findService, type ServiceInfo} from '../ghci/services.js'
import {queryService} from '../guest/service.js'
import {allocDoc, restoreTdMemory} from '../guest/alloc/doc.js'
import type {Platform} from '../module/platform.js'
import {mutatePlatform, type Notice, type StateStore} from './platform.js'
import {openSession, type TdSession} from './session.js'

const hex = (v: bigint) => '0x' + v.toString(16)

function sessionFor(p: Platform): TdSession {
  const td = openSession(p)
  restoreTdMemory(td.memory, allocDoc(p.doc))
  return td
}

export interface GhciInfo {
  leaf0: {r10: string; r10_name: string; r11: string; r12: string; r13: string; r14: string; base_ghci: boolean}
  leaf1: {r10: string; r10_name: string; r11: string; r12: string; setup_event_notify_interrupt: boolean}
  subfunctions: Array<{number: string; name: string; supported: boolean}>
  gpaw: number
  shared_bit: string
  dma_pool?: {shared_gpa: string; bytes: number; slot_bytes: number}
}

/** `ghci info`: GetTdVmCallInfo leaves 0 and 1, and what this host serves. */
export async function ghciInfo(store: StateStore, notice: Notice): Promise<GhciInfo> {
  return mutatePlatform(store, notice, infoOn)
}

function infoOn(p: Platform): GhciInfo {
  const td = sessionFor(p)
  const l0 = td.ghci.call(TdVmCall.GET_TD_VM_CALL_INFO, {r12: 0n})
  const l1 = td.ghci.call(TdVmCall.GET_TD_VM_CALL_INFO, {r12: 1n})
  const pool = allocDoc(p.doc).dma_pool
  return {
    leaf0: {
      r10: hex(l0.r10),
      r10_name: tdvmcallStatusName(l0.r10),
      r11: hex(l0.r11),
      r12: hex(l0.r12),
      r13: hex(l0.r13),
      r14: hex(l0.r14),
      base_ghci: l0.r10 === TdVmCallStatus.SUCCESS && l0.r11 === 0n && l0.r12 === 0n && l0.r13 === 0n && l0.r14 === 0n,
    },
    leaf1: {
      r10: hex(l1.r10),
      r10_name: tdvmcallStatusName(l1.r10),
      r11: hex(l1.r11),
      r12: hex(l1.r12),
      setup_event_notify_interrupt: (l1.r11 & TDVMCALLINFO_SETUP_EVENT_NOTIFY_INTERRUPT) !== 0n,
    },
    subfunctions: [...TDVMCALL_NAMES].map(([n, name]) => ({number: hex(n), name, supported: GhciDispatcher.SUPPORTED.includes(n)})),
    gpaw: td.memory.gpaw,
    shared_bit: hex(td.memory.sharedBit),
    ...(pool
      ? {dma_pool: {shared_gpa: hex(td.memory.sharedAlias(td.memory.gpaOf(pool.base_pfn))), bytes: pool.pool_bytes, slot_bytes: pool.slot_bytes}}
      : {}),
  }
}

export function parseSubfunction(text: string): bigint {
  const v = parseTdvmcallName(text)
  if (v === undefined) {
    throw new InputError('UNKNOWN_TDVMCALL', `unknown TDVMCALL '${text}' (one of ${[...TDVMCALL_NAMES.values()].join(', ')}, or a number)`)
  }
  return v
}

export interface GhciCallResult {
  subfunction: string
  subfunction_name: string
  tdcall_status: string
  tdcall_status_name: string
  r10: string
  r10_name: string
  r11: string
  r12: string
  r13: string
  r14: string
  r15: string
  /** GetQuote: the buffer's status word after one host round (when the host can read it). */
  quote_buffer?: {status: string; status_name: string; out_len: number}
  fatal?: {error_code: string; message: string}
}

/** `ghci call`: one raw TDVMCALL. A TDCALL or TDVMCALL error status is a RefusedError (exit 7) carrying the registers. */
export async function ghciCall(store: StateStore, notice: Notice, subfn: bigint, regs: VmcallRegs): Promise<GhciCallResult> {
  return mutatePlatform(store, notice, (p) => callOn(p, subfn, regs))
}

function callOn(p: Platform, subfn: bigint, regs: VmcallRegs): GhciCallResult {
  const td = sessionFor(p)
  const res = td.ghci.call(subfn, regs)
  const result: GhciCallResult = {
    subfunction: hex(subfn),
    subfunction_name: tdvmcallName(subfn),
    tdcall_status: hex(res.tdcall_status),
    tdcall_status_name: describeStatus(res.tdcall_status),
    r10: hex(res.r10),
    r10_name: tdvmcallStatusName(res.r10),
    r11: hex(res.r11),
    r12: hex(res.r12),
    r13: hex(res.r13),
    r14: hex(res.r14),
    r15: hex(res.r15),
  }
  if (res.tdcall_status !== 0n) {
    throw new RefusedError('TDCALL_FAILED', `${tdvmcallName(subfn)}: TDG.VP.VMCALL refused by the TDX module: ${describeStatus(res.tdcall_status)}`, {
      status: res.tdcall_status,
      detail: {...result},
    })
  }
  if (res.r10 !== TdVmCallStatus.SUCCESS) {
    throw new RefusedError('TDVMCALL_FAILED', `${tdvmcallName(subfn)} returned ${tdvmcallStatusName(res.r10)} (R10 ${hex(res.r10)}, R11 ${hex(res.r11)})`, {
      status: res.r10,
      detail: {...result},
    })
  }
  if (subfn === TdVmCall.GET_QUOTE && regs.r12 !== undefined && td.vmm.isShared(regs.r12, GET_QUOTE_HEADER_SIZE)) {
    td.runHost()
    const h = td.vmm.hostRead(regs.r12, GET_QUOTE_HEADER_SIZE)
    const st = readUint(GET_QUOTE_HEADER, h, 'status')
    result.quote_buffer = {status: hex(st), status_name: getQuoteStatusName(st), out_len: readNum(GET_QUOTE_HEADER, h, 'out_len')}
  }
  if (td.vmm.fatal) result.fatal = {error_code: hex(td.vmm.fatal.error_code), message: td.vmm.fatal.message}
  return result
}

// ---------------------------------------------------------------- Service TDVMCALL

export interface ServiceQueryOutput {
  service: string
  guid: string
  known: boolean
  spec: string | null
  simulator_only: boolean
  query_guid: string
  status: number
  status_name: string
  supported: boolean
}

/** The GUID of a service named on the command line (a known name or a GUID). */
export function resolveServiceGuid(nameOrGuid: string): {guid: string; info?: ServiceInfo} {
  const info = findService(nameOrGuid)
  if (info) return {guid: info.guid, info}
  const t = nameOrGuid.trim().toLowerCase()
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(t)) {
    throw new InputError('BAD_GUID', `unknown service '${nameOrGuid}': give a GUID or one of ${KNOWN_SERVICES.map((s) => s.name).join(', ')}`)
  }
  return {guid: t}
}

/** `ghci service query`: the Query service (GHCI 1.5 §3.14.1) asked about one GUID, end to end. */
export async function ghciServiceQuery(store: StateStore, notice: Notice, nameOrGuid: string): Promise<ServiceQueryOutput> {
  const {guid, info} = resolveServiceGuid(nameOrGuid)
  return mutatePlatform(store, notice, (p) => {
    const r = queryService(sessionFor(p), guid)
    return {
      service: info?.name ?? guid,
      guid,
      known: info !== undefined,
      spec: info?.spec ?? null,
      simulator_only: info?.simulator_only ?? false,
      query_guid: SERVICE_GUID_QUERY,
      status: r.status,
      status_name: r.status_name,
      supported: r.supported,
    }
  })
}

/** `ghci service list`: the services this simulator knows, with their specifications. */
export function ghciServiceList(): ServiceInfo[] {
  return KNOWN_SERVICES.map((s) => ({...s}))
}
