/**
 * The guest end of the GHCI 1.5 Service TDVMCALL (R11 = 0x10005): a command buffer and a response
 * buffer in shared memory (4 KiB aligned, named by their shared alias), the 24-byte headers
 * (command {GUID, Length, Reserved}; response {GUID, Length, Status} — GHCI 1.5 Tables 3-40 / 3-41
 * as Intel's vtpm-td and MigTD restate them), a blocking call (R14 = 0, R15 = 0: no notify vector,
 * no timeout), then the response read back. The buffers are made shared for the call and private
 * again after it (vmap + MapGPA), the way a driver without a pre-shared pool would.
 */
import {
  SERVICE_CMD_HEADER,
  SERVICE_HEADER_SIZE,
  SERVICE_QUERY_CMD,
  SERVICE_QUERY_COMMAND,
  SERVICE_QUERY_RSP,
  SERVICE_QUERY_SUPPORTED,
  SERVICE_QUERY_VERSION,
  SERVICE_GUID_QUERY,
  SERVICE_RSP_HEADER,
  guidFromBytes,
  guidToBytes,
  serviceStatusName,
} from '../abi/ghci.js'
import {field, readNum, writeField} from '../abi/layout.js'
import {InputError} from '../errors.js'
import {PAGE_SIZE} from '../machine/memory.js'
import {VmapMapGpaAllocator} from './alloc/vmap-mapgpa.js'
import type {GuestTd} from './td.js'

interface ServiceCallResult {
  /** GUID the VMM echoed in the response header. */
  guid: string
  status: number
  status_name: string
  /** Bytes of response, header included, as the VMM wrote them. */
  length: number
  /** Response data after the header. */
  data: Buffer
}

/** The 16 UEFI-order bytes of `guid`, or a usage error naming the expected form. */
function parseGuid(guid: string): Buffer {
  try {
    return guidToBytes(guid)
  } catch {
    throw new InputError('BAD_GUID', `not a GUID: '${guid}' (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`)
  }
}

/** One Service TDVMCALL to `guid` with command `data`; `responseBytes` is the response buffer (≥ 24). */
export function callService(td: GuestTd, guid: string, data: Uint8Array, responseBytes = PAGE_SIZE): ServiceCallResult {
  const guidBytes = parseGuid(guid)
  if (responseBytes < SERVICE_HEADER_SIZE) throw new InputError('BAD_SIZE', `a Service response buffer needs at least ${SERVICE_HEADER_SIZE} bytes`)
  const alloc = new VmapMapGpaAllocator(td)
  const cmd = alloc.alloc(SERVICE_HEADER_SIZE + data.length)
  try {
    const rsp = alloc.alloc(responseBytes)
    try {
      const h = Buffer.alloc(SERVICE_HEADER_SIZE)
      writeField(SERVICE_CMD_HEADER, h, 'guid', guidBytes)
      writeField(SERVICE_CMD_HEADER, h, 'length', SERVICE_HEADER_SIZE + data.length)
      alloc.write(cmd, 0, Buffer.concat([h, data]))
      const r = Buffer.alloc(SERVICE_HEADER_SIZE)
      writeField(SERVICE_RSP_HEADER, r, 'length', responseBytes)
      alloc.write(rsp, 0, r)
      td.ghci.service(cmd.gpa, rsp.gpa)
      const out = alloc.read(rsp, 0, SERVICE_HEADER_SIZE)
      const length = readNum(SERVICE_RSP_HEADER, out, 'length')
      const status = readNum(SERVICE_RSP_HEADER, out, 'status')
      // The length is the host's word: read no more than the buffer holds.
      const dataLen = Math.max(0, Math.min(length, responseBytes) - SERVICE_HEADER_SIZE)
      return {guid: guidFromBytes(field(SERVICE_RSP_HEADER, out, 'guid')), status, status_name: serviceStatusName(status), length, data: alloc.read(rsp, SERVICE_HEADER_SIZE, dataLen)}
    } finally {
      alloc.free(rsp)
    }
  } finally {
    alloc.free(cmd)
  }
}

interface QueryResult extends ServiceCallResult {
  /** The GUID asked about. */
  queried: string
  /** Query status: the host serves it. */
  supported: boolean
}

/** GHCI 1.5 §3.14.1 Query: does the host serve `guid`? */
export function queryService(td: GuestTd, guid: string): QueryResult {
  const q = Buffer.alloc(SERVICE_QUERY_CMD.size)
  writeField(SERVICE_QUERY_CMD, q, 'version', SERVICE_QUERY_VERSION)
  writeField(SERVICE_QUERY_CMD, q, 'command', SERVICE_QUERY_COMMAND)
  const asked = parseGuid(guid)
  writeField(SERVICE_QUERY_CMD, q, 'guid', asked)
  const r = callService(td, SERVICE_GUID_QUERY, q)
  const ok = r.data.length >= SERVICE_QUERY_RSP.size
  const supported = ok && readNum(SERVICE_QUERY_RSP, r.data, 'supported') === SERVICE_QUERY_SUPPORTED
  return {...r, queried: guidFromBytes(asked), supported}
}
