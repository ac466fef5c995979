/**
 * The device-evidence verifier. Pure: evidence bundle + reference values + trust anchors + policy
 * + time in, a verdict with every step out (no I/O, no clock). Steps follow the checklist of
 * shared/reference/device-evidence.md §4.1:
 *   tsm_binding → tdi_state → freshness → cert_chain → negotiated → measurement_signature →
 *   reference_values → measurements → interface_report → verdict.
 * Authenticity failures (binding, freshness, chain, signature, a bad reference signature) give
 * exit 3; policy failures (state, negotiated parameters, measurement content, interface report,
 * reference-value policy) exit 6.
 */
import {ExitCode} from '../errors.js'
import {
  DEVICE_MODE_DEBUG_ACTIVE_MASK,
  DMTF_MEAS_RAW_BIT,
  DmtfMeasType,
  HASH_SIZE,
  OperationalMode,
  SPDM_DEVICE_MODE,
  SPDM_GET_MEAS_ATTR_SIGNATURE,
  SPDM_MEAS_SPEC_DMTF,
  SPDM_VERSION_12,
  SpdmCapFlag,
  SpdmRequest,
  asymSignatureSize,
  getMeasurementsSize,
  baseAsymName,
  baseHashName,
  blockIsRaw,
  blockTypeName,
  measHashName,
  parseGetMeasurements,
  parseMeasurementsResponse,
  parseSpdmHeader,
  parseVca,
  versionByteString,
  type HashName,
  type MeasurementBlock,
  type MeasurementsResponse,
  type VcaInfo,
} from '../abi/spdm.js'
import {
  INTERFACE_INFO_RESERVED_MASK,
  InterfaceInfo,
  MMIO_RANGE_ATTR_RESERVED_MASK,
  MmioRangeAttr,
  PAGE_4K,
  decodeTdiReport,
  tdiStateName,
  type TdiReport,
} from '../abi/tdisp.js'
import {verifyCertChain, type ChainResult, type TrustAnchor} from './chain.js'
import type {CorimDocument, RefMeasurement} from './corim.js'
import {hashOf} from '../spdm/crypto.js'
import {EvidenceObject, type EvidenceBundle} from './evidence.js'
import {measurementL1L2, measurementSigningMessage} from './transcript.js'
import {spdmVerifySignature} from '../spdm/crypto.js'

export interface DevicePolicy {
  /** lowest SPDM version accepted ("1.2": VCA is part of the signed transcript) */
  min_spdm_version: string
  allowed_base_asym: string[]
  allowed_base_hash: HashName[]
  allowed_measurement_hash: HashName[]
  /** TDI states (as reported by the TSM) in which evidence is acceptable */
  accepted_tdi_states: string[]
  require_no_fw_update: boolean
  allow_ats: boolean
  allow_prs: boolean
  allow_debug: boolean
  /** what to do with evidence indices no reference value covers */
  unreferenced_indices: 'ignore' | 'fail'
  require_signed_reference: boolean
  allow_expired_reference: boolean
}

export function defaultPolicy(): DevicePolicy {
  return {
    min_spdm_version: '1.2',
    allowed_base_asym: ['ECDSA_P384', 'ECDSA_P256', 'RSAPSS_3072', 'RSASSA_3072'],
    allowed_base_hash: ['sha384', 'sha256', 'sha512'],
    allowed_measurement_hash: ['sha384', 'sha256', 'sha512'],
    accepted_tdi_states: ['CONFIG_LOCKED'],
    require_no_fw_update: true,
    allow_ats: false,
    allow_prs: false,
    allow_debug: false,
    unreferenced_indices: 'ignore',
    require_signed_reference: false,
    allow_expired_reference: false,
  }
}

/** TSM values read over the trusted channel (live, for `device accept`); defaults to the bundle's. */
export interface TsmView {
  hash_alg: HashName
  tdi_state: number
  lock_generation: number
  evidence_generation: number
  digests: Map<number, Buffer>
  /** where these values came from, for the verdict */
  source: string
}

export interface VerifyInput {
  evidence: EvidenceBundle
  reference: CorimDocument
  /** explicit trust anchors (--trust-anchor); otherwise the reference's identity triples */
  anchors?: TrustAnchor[]
  policy?: Partial<DevicePolicy>
  at: Date
  /** the nonce the verifier chose; defaults to the bundle's recorded nonce */
  expected_nonce?: Buffer
  tsm?: TsmView
}

export type StepId = 'tsm_binding' | 'tdi_state' | 'freshness' | 'cert_chain' | 'negotiated' | 'measurement_signature' | 'reference_values' | 'measurements' | 'interface_report'

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface Step {
  id: StepId
  title: string
  status: 'pass' | 'fail' | 'skip'
  detail: string
  checks: Check[]
  /** exit code class this step maps to when it fails */
  failure_exit: ExitCode
}

export interface Verdict {
  ok: boolean
  status: 'verified' | 'authenticity_failed' | 'policy_violated'
  exit_code: ExitCode
  failed_steps: StepId[]
  device: EvidenceBundle['device']
  steps: Step[]
  measurements?: Array<{index: number; type: string; raw: boolean; value: string; reference: string}>
}

const STEP_TITLES: Record<StepId, string> = {
  tsm_binding: 'Evidence bound to the TSM digests',
  tdi_state: 'TDI state reported by the TSM',
  freshness: 'Verifier nonce in GET_MEASUREMENTS',
  cert_chain: 'Device certificate chain to a pinned anchor',
  negotiated: 'Negotiated SPDM parameters',
  measurement_signature: 'Signature over the L1/L2 transcript',
  reference_values: 'Reference values (CoRIM)',
  measurements: 'Measurements against reference values',
  interface_report: 'TDISP interface report',
}
const AUTH: ExitCode = ExitCode.AUTHENTICITY
const POLICY: ExitCode = ExitCode.POLICY
const STEP_EXIT: Record<StepId, ExitCode> = {
  tsm_binding: AUTH,
  tdi_state: POLICY,
  freshness: AUTH,
  cert_chain: AUTH,
  negotiated: POLICY,
  measurement_signature: AUTH,
  reference_values: POLICY,
  measurements: POLICY,
  interface_report: POLICY,
}

class StepBuilder {
  readonly checks: Check[] = []
  private override?: ExitCode
  constructor(readonly id: StepId) {}
  check(name: string, ok: boolean, detail: string): boolean {
    this.checks.push({name, ok, detail})
    return ok
  }
  /** mark this step's failure as an authenticity failure (e.g. a reference signature that does not verify) */
  authenticity(): void {
    this.override = AUTH
  }
  done(detailOk: string, status?: 'skip'): Step {
    const failed = this.checks.filter((c) => !c.ok)
    const st = status ?? (failed.length === 0 ? 'pass' : 'fail')
    return {
      id: this.id,
      title: STEP_TITLES[this.id],
      status: st,
      detail: st === 'fail' ? failed.map((c) => c.detail).join('; ') : detailOk,
      checks: this.checks,
      failure_exit: this.override ?? STEP_EXIT[this.id],
    }
  }
}

/** Split the MEASUREMENTS object: GET_MEASUREMENTS ‖ MEASUREMENTS, or a bare MEASUREMENTS response. */
export function splitMeasurementsObject(obj: Buffer): {request?: Buffer; response: Buffer} {
  const h = parseSpdmHeader(obj, 'measurements object')
  if (h.code !== SpdmRequest.GET_MEASUREMENTS) return {response: obj}
  const n = getMeasurementsSize(h.version, (h.param1 & SPDM_GET_MEAS_ATTR_SIGNATURE) !== 0)
  return {request: obj.subarray(0, n), response: obj.subarray(n)}
}

const parseVersion = (s: string): number => {
  const m = /^(\d+)\.(\d+)$/.exec(s)
  return m ? (Number(m[1]) << 4) | Number(m[2]) : SPDM_VERSION_12
}

/** The reference measurements that apply to this device, grouped by SPDM index. */
export function referenceByIndex(ref: CorimDocument): Map<number, RefMeasurement[]> {
  const out = new Map<number, RefMeasurement[]>()
  for (const c of ref.comids) {
    for (const t of c.reference) {
      for (const m of t.measurements) {
        if (m.index === undefined) continue
        out.set(m.index, [...(out.get(m.index) ?? []), m])
      }
    }
  }
  return out
}

/**
 * Measurement content against reference values (pure; also used on DMTF's sample record):
 * unique indices, digest sizes per MeasurementHashAlgo, digest / SVN / raw comparison, device mode
 * normal without debug, referenced indices present, unreferenced indices per policy.
 */
export function appraiseMeasurements(blocks: readonly MeasurementBlock[], refs: Map<number, RefMeasurement[]>, opts: {measHash?: HashName; policy?: Partial<DevicePolicy>} = {}): Check[] {
  const policy = {...defaultPolicy(), ...opts.policy}
  const checks: Check[] = []
  const add = (name: string, ok: boolean, detail: string) => checks.push({name, ok, detail})
  const seen = new Set<number>()
  for (const b of blocks) {
    const label = `index ${b.index} (${blockTypeName(b)})`
    if (seen.has(b.index)) add(`unique[${b.index}]`, false, `${label} appears twice`)
    seen.add(b.index)
    if (b.spec !== SPDM_MEAS_SPEC_DMTF) add(`spec[${b.index}]`, false, `${label} is not a DMTF measurement`)
    if (!blockIsRaw(b) && opts.measHash && b.value.length !== HASH_SIZE[opts.measHash]) add(`digest_size[${b.index}]`, false, `${label} digest is ${b.value.length} bytes, ${opts.measHash} needs ${HASH_SIZE[opts.measHash]}`)
    if ((b.value_type & ~DMTF_MEAS_RAW_BIT) === DmtfMeasType.DEVICE_MODE && blockIsRaw(b) && b.value.length === SPDM_DEVICE_MODE.size) {
      const op = b.value.readUInt32LE(SPDM_DEVICE_MODE.fields.operational_mode_state.offset)
      const dm = b.value.readUInt32LE(SPDM_DEVICE_MODE.fields.device_mode_state.offset)
      add(`device_mode[${b.index}]`, (op & OperationalMode.NORMAL) !== 0, `${label}: operational mode state 0x${op.toString(16)}${op & OperationalMode.NORMAL ? ' (normal)' : ' is not normal'}`)
      add(`debug[${b.index}]`, policy.allow_debug || (dm & DEVICE_MODE_DEBUG_ACTIVE_MASK) === 0, `${label}: device mode state 0x${dm.toString(16)}${dm & DEVICE_MODE_DEBUG_ACTIVE_MASK ? ' (debug active)' : ''}`)
    }
    const r = refs.get(b.index)
    if (!r) {
      if (policy.unreferenced_indices === 'fail') add(`unreferenced[${b.index}]`, false, `${label} has no reference value`)
      continue
    }
    for (const m of r) {
      if (m.digests.length) {
        const same = m.digests.some((d) => d.value.length === b.value.length && d.value.equals(b.value))
        add(`digest[${b.index}]`, !blockIsRaw(b) && same, `${label}: ${blockIsRaw(b) ? 'raw value where a digest is expected' : same ? 'digest matches' : `digest ${b.value.toString('hex').slice(0, 16)}… matches no reference digest (${m.digests.map((d) => d.value.toString('hex').slice(0, 16) + '…').join(', ')})`}`)
      }
      if (m.svn) {
        const v = b.value.length === 8 ? Number(b.value.readBigUInt64LE(0)) : b.value.length === 4 ? b.value.readUInt32LE(0) : undefined
        const ok = v !== undefined && (m.svn.kind === 'min' ? v >= m.svn.value : v === m.svn.value)
        add(`svn[${b.index}]`, ok, `${label}: SVN ${v ?? '(unreadable)'} ${m.svn.kind === 'min' ? '≥' : '='} ${m.svn.value} ${ok ? 'holds' : 'does not hold'}`)
      }
      if (m.raw) add(`raw[${b.index}]`, m.raw.equals(b.value), `${label}: raw value ${m.raw.equals(b.value) ? 'matches' : 'differs from the reference'}`)
    }
  }
  for (const idx of refs.keys()) if (!seen.has(idx)) add(`missing[${idx}]`, false, `reference index ${idx} is missing from the evidence`)
  return checks
}

/** Interface-report well-formedness against the device's BARs (Linux PCI/TSM rules) and policy. */
export function checkInterfaceReport(report: TdiReport, bars: Array<{index: number; size: bigint}>, policy: DevicePolicy): Check[] {
  const checks: Check[] = []
  const add = (name: string, ok: boolean, detail: string) => checks.push({name, ok, detail})
  const info = report.interface_info
  add('interface_info_reserved', (info & INTERFACE_INFO_RESERVED_MASK) === 0, `INTERFACE_INFO 0x${info.toString(16)}${info & INTERFACE_INFO_RESERVED_MASK ? ' has reserved bits set' : ''}`)
  if (policy.require_no_fw_update) add('no_fw_update', (info & InterfaceInfo.NO_UPDATE_AFTER_LOCK) !== 0, (info & InterfaceInfo.NO_UPDATE_AFTER_LOCK) ? 'firmware updates blocked while locked' : 'firmware updates are NOT blocked while locked')
  if (!policy.allow_ats) add('ats', (info & InterfaceInfo.ATS_ENABLED) === 0, (info & InterfaceInfo.ATS_ENABLED) ? 'ATS enabled but not allowed' : 'ATS off')
  if (!policy.allow_prs) add('prs', (info & InterfaceInfo.PRS_ENABLED) === 0, (info & InterfaceInfo.PRS_ENABLED) ? 'PRS enabled but not allowed' : 'PRS off')
  add('ranges_present', report.mmio_ranges.length > 0, `${report.mmio_ranges.length} MMIO range(s)`)
  const barSize = new Map(bars.map((b) => [b.index, b.size]))
  const base = new Map<number, bigint>()
  let prevBar = -1
  let prevEnd = 0n
  let msixTable = false
  let msixPba = false
  report.mmio_ranges.forEach((r, i) => {
    const label = `range ${i} (id ${r.range_id})`
    if (r.range_attributes & MmioRangeAttr.MSIX_TABLE) msixTable = true
    if (r.range_attributes & MmioRangeAttr.MSIX_PBA) msixPba = true
    if (r.number_of_pages === 0) add(`pages[${i}]`, false, `${label} has zero pages`)
    if (r.range_attributes & MMIO_RANGE_ATTR_RESERVED_MASK) add(`attributes[${i}]`, false, `${label} has reserved attribute bits 0x${r.range_attributes.toString(16)}`)
    const size = barSize.get(r.range_id)
    if (size === undefined) {
      add(`bar[${i}]`, false, `${label}: range id is not a memory BAR of the device (BARs ${[...barSize.keys()].join(', ')})`)
      return
    }
    if (r.range_id < prevBar) add(`order[${i}]`, false, `${label}: BAR ids not ascending`)
    const start = r.first_4k_page * PAGE_4K
    const end = start + BigInt(r.number_of_pages) * PAGE_4K
    if (!base.has(r.range_id)) {
      base.set(r.range_id, start)
    } else if (start < prevEnd) {
      add(`overlap[${i}]`, false, `${label} overlaps or precedes the previous range of BAR ${r.range_id}`)
    }
    const off = start - base.get(r.range_id)!
    if (end - base.get(r.range_id)! > size) {
      add(`inside_bar[${i}]`, false, `${label} ends at BAR offset 0x${(off + BigInt(r.number_of_pages) * PAGE_4K).toString(16)}, past BAR ${r.range_id} size 0x${size.toString(16)}`)
    }
    prevBar = r.range_id
    prevEnd = end
  })
  if (!checks.some((c) => !c.ok && /^(bar|inside_bar|overlap|order|pages)\[/.test(c.name))) add('ranges_inside_bars', true, 'MMIO ranges ascending, non-overlapping and inside their BARs')
  if (report.msi_x_message_control !== 0) add('msix_ranges', msixTable && msixPba, msixTable && msixPba ? 'MSI-X table and PBA ranges flagged' : 'MSI-X locked but table/PBA ranges are not both reported')
  return checks
}

/** What the steps share: inputs, policy, the TSM view, and what earlier steps parsed. */
interface VerifyContext {
  input: VerifyInput
  policy: DevicePolicy
  ev: EvidenceBundle
  tsm: TsmView
  obj: (k: number) => Buffer | undefined
  req?: ReturnType<typeof parseGetMeasurements>
  reqBytes?: Buffer
  rspBytes?: Buffer
  parseErr?: string
  vca?: VcaInfo
  vcaErr?: string
  baseHash?: HashName
  chain?: ChainResult
  sigSize?: number
  measHash?: HashName
  meas?: MeasurementsResponse
  refs: Map<number, RefMeasurement[]>
}

/** Step 1: every object hashes to the digest the TSM recorded (and, live, the generations match). */
function stepTsmBinding(c: VerifyContext): Step {
  const s = new StepBuilder('tsm_binding')
  for (const [k, name] of [[EvidenceObject.CERT0, 'cert0'], [EvidenceObject.VCA, 'vca'], [EvidenceObject.MEASUREMENTS, 'measurements'], [EvidenceObject.REPORT, 'report']] as const) {
    const blob = c.obj(k)
    const want = c.tsm.digests.get(k)
    if (!blob) s.check(name, false, `${name} object missing`)
    else if (!want) s.check(name, false, `TSM holds no digest for ${name}`)
    else s.check(name, hashOf(c.tsm.hash_alg, blob).equals(want), `${name} ${c.tsm.hash_alg} ${hashOf(c.tsm.hash_alg, blob).equals(want) ? 'matches' : 'does NOT match'} the TSM digest`)
  }
  if (c.input.tsm) {
    s.check('lock_generation', c.ev.tsm.lock_generation === c.tsm.lock_generation, `evidence from lock generation ${c.ev.tsm.lock_generation}, TSM at ${c.tsm.lock_generation}`)
    s.check('evidence_generation', c.ev.tsm.evidence_generation === c.tsm.evidence_generation, `evidence generation ${c.ev.tsm.evidence_generation}, TSM at ${c.tsm.evidence_generation}`)
  }
  return s.done(`all objects match the TSM's ${c.tsm.hash_alg} digests (from ${c.tsm.source})`)
}

/** Step 2: the TDI state the TSM reports is one the policy accepts. */
function stepTdiState(c: VerifyContext): Step {
  const s = new StepBuilder('tdi_state')
  const name = tdiStateName(c.tsm.tdi_state)
  s.check('state', c.policy.accepted_tdi_states.includes(name), `TDI is ${name}${c.policy.accepted_tdi_states.includes(name) ? '' : ` (need ${c.policy.accepted_tdi_states.join(' or ')})`}`)
  return s.done(`TDI is ${name}`)
}

/** Parse the measurements object and the VCA once, for the steps that need them. */
function parseObjects(c: VerifyContext): void {
  try {
    const split = splitMeasurementsObject(c.obj(EvidenceObject.MEASUREMENTS) ?? Buffer.alloc(0))
    c.reqBytes = split.request
    c.rspBytes = split.response
    if (c.reqBytes) c.req = parseGetMeasurements(c.reqBytes)
  } catch (error) {
    c.parseErr = (error as Error).message
  }
  try {
    c.vca = parseVca(c.obj(EvidenceObject.VCA) ?? Buffer.alloc(0))
  } catch (error) {
    c.vcaErr = (error as Error).message
  }
  c.baseHash = c.vca ? baseHashName(c.vca.base_hash_sel) : undefined
}

/** Step 3: GET_MEASUREMENTS carries the verifier's nonce. */
function stepFreshness(c: VerifyContext): Step {
  const s = new StepBuilder('freshness')
  const want = c.input.expected_nonce ?? c.ev.nonce
  if (!c.req) s.check('request', false, c.parseErr ?? 'no GET_MEASUREMENTS request in the measurements object (nonce cannot be checked)')
  else {
    s.check('signature_requested', c.req.signature_requested, c.req.signature_requested ? 'signed measurements requested' : 'unsigned GET_MEASUREMENTS carries no nonce')
    s.check('nonce', c.req.nonce.equals(want), c.req.nonce.equals(want) ? `requester nonce ${want.toString('hex').slice(0, 16)}… is ours` : `requester nonce ${c.req.nonce.toString('hex').slice(0, 16)}… is not the verifier's ${want.toString('hex').slice(0, 16)}… (stale or replayed)`)
  }
  return s.done(`GET_MEASUREMENTS carries the verifier's nonce${c.input.expected_nonce ? '' : ' (as recorded in the bundle)'}`)
}

/** Step 4: the certificate chain ends in a pinned anchor (given, or the CoRIM identity triples). */
function stepCertChain(c: VerifyContext): Step {
  const s = new StepBuilder('cert_chain')
  const anchors = c.input.anchors ?? c.input.reference.comids.flatMap((m) => m.identity.flatMap((i) => i.anchors))
  const certs = c.obj(EvidenceObject.CERT0)
  if (!certs) s.check('present', false, 'cert0 object missing')
  else {
    c.chain = verifyCertChain(certs, {anchors, at: c.input.at, hashAlg: c.baseHash, baseAsym: c.vca?.base_asym_sel})
    for (const k of c.chain.checks) s.check(k.name, k.ok, k.detail)
  }
  return s.done(`${c.chain?.certs.length ?? 0} certificates, anchored at ${c.chain?.anchor ?? '?'}`)
}

/** Step 5: the negotiated SPDM parameters are ones the policy allows. */
function stepNegotiated(c: VerifyContext): Step {
  const s = new StepBuilder('negotiated')
  const vca = c.vca
  if (!vca) s.check('vca', false, `VCA does not parse: ${c.vcaErr}`)
  else {
    const min = parseVersion(c.policy.min_spdm_version)
    s.check('version', vca.version >= min && vca.versions.some((v) => v >> 8 === vca.version), `SPDM ${versionByteString(vca.version)} negotiated (minimum ${c.policy.min_spdm_version})`)
    const measCap = vca.responder_flags & SpdmCapFlag.MEAS_CAP_MASK
    s.check('meas_cap', measCap === SpdmCapFlag.MEAS_CAP_SIG, measCap === SpdmCapFlag.MEAS_CAP_SIG ? 'responder signs measurements (MEAS_CAP=10b)' : `MEAS_CAP 0x${measCap.toString(16)} is not "signed"`)
    const asym = baseAsymName(vca.base_asym_sel)
    s.check('base_asym', c.policy.allowed_base_asym.includes(asym), `BaseAsym ${asym}`)
    s.check('base_hash', c.baseHash !== undefined && c.policy.allowed_base_hash.includes(c.baseHash), `BaseHash ${c.baseHash ?? '0x' + vca.base_hash_sel.toString(16)}`)
    const mh = measHashName(vca.measurement_hash_algo)
    c.measHash = mh && mh !== 'raw' ? mh : undefined
    s.check('measurement_hash', c.measHash !== undefined && c.policy.allowed_measurement_hash.includes(c.measHash), `MeasurementHashAlgo ${mh ?? '0x' + vca.measurement_hash_algo.toString(16)}`)
    s.check('measurement_spec', vca.measurement_spec === SPDM_MEAS_SPEC_DMTF, `MeasurementSpecification ${vca.measurement_spec === SPDM_MEAS_SPEC_DMTF ? 'DMTF' : '0x' + vca.measurement_spec.toString(16)}`)
    c.sigSize = asymSignatureSize(vca.base_asym_sel)
    if (c.req) s.check('request_version', c.req.header.version === vca.version, `GET_MEASUREMENTS version ${versionByteString(c.req.header.version)}`)
    if (c.req) s.check('slot', c.req.slot_id === 0, `slot ${c.req.slot_id} (chain object is CERT0)`)
  }
  return s.done(vca ? `SPDM ${versionByteString(vca.version)}, ${baseAsymName(vca.base_asym_sel)}, ${c.baseHash}, measurements ${c.measHash}` : '')
}

/** Step 6: MEASUREMENTS is signed by the leaf key over prefix ‖ Hash(L1/L2). */
function stepMeasurementSignature(c: VerifyContext): Step {
  const s = new StepBuilder('measurement_signature')
  const {vca, sigSize, baseHash} = c
  if (!c.rspBytes || !vca || !sigSize || !baseHash) s.check('inputs', false, c.parseErr ?? c.vcaErr ?? 'measurements or negotiated algorithms unusable')
  else {
    try {
      c.meas = parseMeasurementsResponse(c.rspBytes, sigSize)
      s.check('parse', true, `${c.meas.number_of_blocks} blocks, ${c.meas.record.length}-byte record`)
    } catch (error) {
      s.check('parse', false, `MEASUREMENTS does not parse: ${(error as Error).message}`)
    }
    const meas = c.meas
    if (meas) {
      s.check('response_version', meas.header.version === vca.version, `MEASUREMENTS version ${versionByteString(meas.header.version)}`)
      s.check('slot', meas.slot_id === 0, `MEASUREMENTS slot ${meas.slot_id}`)
      if (!c.reqBytes) s.check('transcript', false, 'no GET_MEASUREMENTS request: the L1/L2 transcript cannot be rebuilt')
      else if (vca.version < SPDM_VERSION_12) s.check('transcript', false, `SPDM ${versionByteString(vca.version)} transcripts (no VCA) are not supported`)
      else if (!c.chain?.leaf_key) s.check('leaf_key', false, 'no usable leaf key from the certificate chain')
      else {
        const l1l2 = measurementL1L2(vca.version, c.obj(EvidenceObject.VCA)!, c.reqBytes, meas.signed_part)
        const ok = spdmVerifySignature(vca.base_asym_sel, baseHash, c.chain.leaf_key, measurementSigningMessage(vca.version, baseHash, l1l2), meas.signature)
        s.check('signature', ok, ok ? `${baseAsymName(vca.base_asym_sel)} signature over prefix ‖ ${baseHash}(L1/L2) verifies with the leaf key` : 'signature over the L1/L2 transcript does NOT verify with the leaf key')
      }
    }
  }
  return s.done(`signed by the leaf key over ${c.obj(EvidenceObject.VCA)?.length ?? 0}+${c.reqBytes?.length ?? 0}+${c.meas?.signed_part.length ?? 0} transcript bytes`)
}

/** Step 7: the reference values themselves (signature, environment, indices). */
function stepReferenceValues(c: VerifyContext): Step {
  const s = new StepBuilder('reference_values')
  const {input, policy, ev, refs} = c
  const sig = input.reference.signature
  if (!sig) s.check('signed', !policy.require_signed_reference, policy.require_signed_reference ? 'reference values are unsigned but policy requires a signed CoRIM' : 'unsigned CoRIM')
  else {
    if (sig.status === 'invalid') {
      s.authenticity()
      s.check('signature', false, `CoRIM ${sig.alg_name} signature does NOT verify`)
    } else if (sig.status === 'unchecked') s.check('signature', !policy.require_signed_reference, `CoRIM ${sig.alg_name} signature not checked (no signer key given)`)
    else s.check('signature', true, `CoRIM ${sig.alg_name} signature verifies`)
    if (sig.expired) s.check('signer_validity', policy.allow_expired_reference, `CoRIM signer validity ${sig.validity?.not_before} … ${sig.validity?.not_after} does not cover ${input.at.toISOString()}`)
  }
  const classId = `spdm:${ev.device.vendor_id.toString(16).padStart(4, '0')}:${ev.device.device_id.toString(16).padStart(4, '0')}`
  const envs = input.reference.comids.flatMap((m) => m.reference.map((t) => t.environment))
  const forDevice = envs.some((e) => e.class_id === undefined || e.class_id.type !== 'bytes' || !e.class_id.value.startsWith('spdm:') || e.class_id.value === classId)
  s.check('environment', forDevice, forDevice ? `reference environment matches ${classId}` : `reference values are for ${envs.map((e) => e.class_id?.value).join(', ')}, not ${classId}`)
  s.check('indices', refs.size > 0, `${refs.size} referenced measurement indices`)
  return s.done(`${input.reference.kind}${input.reference.id ? ` ${input.reference.id}` : ''}: ${refs.size} indices${sig ? `, ${sig.alg_name} ${sig.status}` : ''}`)
}

/** Step 8: measurement content against the reference values. */
function stepMeasurements(c: VerifyContext): Step {
  const s = new StepBuilder('measurements')
  if (!c.meas) s.check('parse', false, 'no parsed MEASUREMENTS response')
  else {
    s.check('content_changed', c.meas.content_changed !== 1, c.meas.content_changed === 1 ? 'responder reports measurements changed during the transcript' : 'no content change reported')
    for (const k of appraiseMeasurements(c.meas.blocks, c.refs, {measHash: c.measHash, policy: c.policy})) s.check(k.name, k.ok, k.detail)
  }
  return s.done(`${c.meas?.blocks.length ?? 0} blocks match the reference values`)
}

/** Step 9: the interface report parses and fits the device's BARs and the policy. */
function stepInterfaceReport(c: VerifyContext): Step {
  const s = new StepBuilder('interface_report')
  const raw = c.obj(EvidenceObject.REPORT)
  let report: TdiReport | undefined
  if (!raw) s.check('present', false, 'report object missing')
  else {
    try {
      report = decodeTdiReport(raw)
      s.check('parse', true, `${report.mmio_ranges.length} MMIO ranges, ${report.device_specific_info.length} bytes device-specific info`)
    } catch (error) {
      s.check('parse', false, `interface report does not parse: ${(error as Error).message}`)
    }
    if (report) for (const k of checkInterfaceReport(report, c.ev.pci.bars, c.policy)) s.check(k.name, k.ok, k.detail)
  }
  return s.done(`${report?.mmio_ranges.length ?? 0} MMIO ranges inside the device's BARs`)
}

/** The verdict from the steps: exit 3 if any authenticity step failed, else 6 for policy failures. */
function buildVerdict(c: VerifyContext, steps: Step[]): Verdict {
  const failed = steps.filter((s) => s.status === 'fail')
  const auth = failed.some((s) => s.failure_exit === AUTH)
  const exit = failed.length === 0 ? ExitCode.OK : auth ? ExitCode.AUTHENTICITY : ExitCode.POLICY
  return {
    ok: failed.length === 0,
    status: failed.length === 0 ? 'verified' : auth ? 'authenticity_failed' : 'policy_violated',
    exit_code: exit,
    failed_steps: failed.map((s) => s.id),
    device: c.ev.device,
    steps,
    measurements: c.meas?.blocks.map((b) => {
      const r = c.refs.get(b.index)
      return {
        index: b.index,
        type: blockTypeName(b),
        raw: blockIsRaw(b),
        value: b.value.toString('hex'),
        reference: r ? r.map((m) => (m.digests.length ? 'digest' : m.svn ? `svn ${m.svn.kind === 'min' ? '≥' : '='} ${m.svn.value}` : m.raw ? 'raw' : 'other')).join(', ') : 'none',
      }
    }),
  }
}

/** Run every step and build the verdict. Never throws for bad evidence: failures are steps. */
export function verifyDeviceEvidence(input: VerifyInput): Verdict {
  const ev = input.evidence
  const c: VerifyContext = {
    input,
    policy: {...defaultPolicy(), ...input.policy},
    ev,
    tsm: input.tsm ?? {...ev.tsm, source: 'the bundle (as read by the guest from the TSM)'},
    obj: (k) => ev.objects.get(k),
    refs: referenceByIndex(input.reference),
  }
  const steps = [stepTsmBinding(c), stepTdiState(c)]
  parseObjects(c)
  steps.push(stepFreshness(c), stepCertChain(c), stepNegotiated(c), stepMeasurementSignature(c), stepReferenceValues(c), stepMeasurements(c), stepInterfaceReport(c))
  return buildVerdict(c, steps)
}
