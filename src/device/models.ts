/**
 * Simulated device models (nic | gpu | nvme | cxl-mem): PCI identity, BAR layout, MSI-X placement,
 * the firmware images the vendor ships (golden), and the measurement blocks an SPDM responder
 * reports (same index/type layout as DMTF's spdm-emu sample device: 1–4 digests of ROM / firmware /
 * hardware config / firmware config, 0x10 SVN, 0xFD manifest, 0xFE device mode). The CXL Type-3
 * memory device also carries what its CXL IDE_KM port and CXL TSP target advertise.
 * Everything here is SIMULATED: the ids below are not real products.
 */
import {
  DMTF_MEAS_RAW_BIT,
  DmtfMeasType,
  OperationalMode,
  SPDM_DEVICE_MODE,
  SPDM_MEAS_INDEX_DEVICE_MODE,
  SPDM_MEAS_INDEX_MANIFEST,
  SPDM_MEAS_SPEC_DMTF,
  type MeasurementBlock,
} from '../abi/spdm.js'
import {InterfaceInfo, MmioRangeAttr, PAGE_4K} from '../abi/tdisp.js'
import {CxlIdeKmCap} from '../abi/cxl-ide-km.js'
import {TSP_IB_GRANULARITY_64B, TspConfigFeature, TspMemEncAlgorithm, TspMemEncSupport, TspTeFeature} from '../abi/cxl-tsp.js'
import {hashOf} from '../spdm/crypto.js'

export type ModelName = 'nic' | 'gpu' | 'nvme' | 'cxl-mem'
export const MODEL_NAMES: readonly ModelName[] = ['nic', 'gpu', 'nvme', 'cxl-mem']

export interface BarSpec {
  index: number
  /** bytes, power of two */
  size: bigint
}

export interface ModelSpec {
  model: ModelName
  product: string
  vendor_name: string
  /** key-derivation label of the vendor root (one root per vendor) */
  vendor_label: string
  vendor_id: number
  device_id: number
  bars: BarSpec[]
  /** MSI-X table and PBA: BAR index and offsets (bytes) */
  msix: {bar: number; table_offset: bigint; pba_offset: bigint}
  /** a non-TEE (shared) doorbell page, if the device has one */
  non_tee?: {bar: number; offset: bigint; pages: number}
  golden_firmware: string
  rom_version: string
  svn: number
  interface_info: number
  device_specific_info: string
  /** default device ids are this prefix plus a number (default: the model name) */
  id_prefix?: string
  /** CXL: only models with this block answer CXL IDE_KM / CXL TSP (vendor 0x1E98); others refuse them */
  cxl?: CxlSpec
}

/** What a CXL device's IDE_KM port and TSP target advertise (QUERY_RESP, GET_TARGET_CAPABILITIES). */
export interface CxlSpec {
  /** HDM capacity (bytes) the device exposes as host-managed device memory */
  capacity: bigint
  ide: {max_port_index: number; caps: number}
  tsp: {
    memory_encryption_features: number
    memory_encryption_algorithms: number
    te_state_features: number
    explicit_oob_granularity: number
    explicit_ib_granularity: number
    configuration_features: number
    number_of_ckids: number
    number_of_secondary_sessions: number
  }
}

export const SVN_INDEX = 0x10
export const MANIFEST_SIZE = 128

const MIB = 1024n * 1024n
export const MODELS: Readonly<Record<ModelName, ModelSpec>> = {
  nic: {
    model: 'nic',
    product: 'SimNet 100G TDISP NIC',
    vendor_name: 'SimNet Devices',
    vendor_label: 'simnet',
    vendor_id: 0x1d0f,
    device_id: 0xe100,
    bars: [
      {index: 0, size: 2n * MIB},
      {index: 2, size: 64n * 1024n},
    ],
    msix: {bar: 2, table_offset: 0n, pba_offset: 0x8000n},
    non_tee: {bar: 0, offset: 0x1ff000n, pages: 1},
    golden_firmware: '4.2.1',
    rom_version: 'rom-1.0',
    svn: 3,
    interface_info: InterfaceInfo.NO_UPDATE_AFTER_LOCK | InterfaceInfo.DMA_WITHOUT_PASID,
    device_specific_info: 'simnet queues=64',
  },
  gpu: {
    model: 'gpu',
    product: 'SimCompute X1 TDISP GPU',
    vendor_name: 'SimCompute',
    vendor_label: 'simcompute',
    vendor_id: 0x1e5c,
    device_id: 0x2300,
    bars: [
      {index: 0, size: 16n * MIB},
      {index: 2, size: 256n * MIB},
      {index: 4, size: 32n * MIB},
    ],
    msix: {bar: 0, table_offset: 0xb90000n, pba_offset: 0xba0000n},
    golden_firmware: '96.00.5e',
    rom_version: 'vbios-1.2',
    svn: 7,
    interface_info: InterfaceInfo.NO_UPDATE_AFTER_LOCK | InterfaceInfo.DMA_WITHOUT_PASID | InterfaceInfo.DMA_WITH_PASID,
    device_specific_info: 'simcompute sm=132',
  },
  nvme: {
    model: 'nvme',
    product: 'SimStore NVMe TDISP SSD',
    vendor_name: 'SimStore',
    vendor_label: 'simstore',
    vendor_id: 0x1c5f,
    device_id: 0x0555,
    bars: [{index: 0, size: 64n * 1024n}],
    msix: {bar: 0, table_offset: 0x3000n, pba_offset: 0x2000n},
    golden_firmware: 'SS1.7.0',
    rom_version: 'boot-0.9',
    svn: 2,
    interface_info: InterfaceInfo.NO_UPDATE_AFTER_LOCK | InterfaceInfo.DMA_WITHOUT_PASID,
    device_specific_info: 'simstore ns=1',
  },
  'cxl-mem': {
    model: 'cxl-mem',
    product: 'SimMem CXL Type-3 TSP Memory Expander',
    vendor_name: 'SimMem',
    vendor_label: 'simmem',
    vendor_id: 0x1f2c,
    device_id: 0x0c3e,
    id_prefix: 'mem',
    // BAR0: CXL component registers (CXL.cachemem at 0x1000) and the device mailbox; MSI-X at the end
    bars: [{index: 0, size: 128n * 1024n}],
    msix: {bar: 0, table_offset: 0x1e000n, pba_offset: 0x1f000n},
    golden_firmware: 'MX2.1.0',
    rom_version: 'boot-1.1',
    svn: 4,
    interface_info: InterfaceInfo.NO_UPDATE_AFTER_LOCK | InterfaceInfo.DMA_WITHOUT_PASID,
    device_specific_info: 'simmem hdm=64GiB decoders=1',
    cxl: {
      capacity: 64n * 1024n * MIB,
      // one CXL port; the device generates keys and IVs and honours K_SET_STOP (cf. spdm-emu's sample port)
      ide: {max_port_index: 0, caps: CxlIdeKmCap.VERSION_1 | CxlIdeKmCap.IV_GEN | CxlIdeKmCap.KEY_GEN | CxlIdeKmCap.K_SET_STOP},
      // memory encryption with AES-XTS-256, read access control with implicit and explicit in-band
      // TE state changes at 64-byte granularity, locked firmware update; no CKIDs, no secondary sessions
      tsp: {
        memory_encryption_features: TspMemEncSupport.ENCRYPTION,
        memory_encryption_algorithms: TspMemEncAlgorithm.AES_XTS_256,
        te_state_features: TspTeFeature.READ_ACCESS_CONTROL | TspTeFeature.IMPLICIT_TE_STATE_CHANGE | TspTeFeature.EXPLICIT_IB_TE_STATE_CHANGE,
        explicit_oob_granularity: 0,
        explicit_ib_granularity: TSP_IB_GRANULARITY_64B,
        configuration_features: TspConfigFeature.LOCKED_TARGET_FW_UPDATE,
        number_of_ckids: 0,
        number_of_secondary_sessions: 0,
      },
    },
  },
}

export function modelSpec(m: string): ModelSpec | undefined {
  return (MODELS as Record<string, ModelSpec>)[m]
}

/** Firmware string a device runs when the "firmware swapped" fault is set. */
export const swappedFirmware = (spec: ModelSpec): string => `${spec.golden_firmware}-unsigned-hotfix`

const image = (spec: ModelSpec, what: string, version: string): Buffer => hashOf('sha384', Buffer.from(`tdxkit SIMULATED ${spec.vendor_label}/${spec.model} ${what} ${version}`))

/** Device-mode value: normal operational mode, no debug. */
export function deviceModeValue(): Buffer {
  const b = Buffer.alloc(SPDM_DEVICE_MODE.size)
  const f = SPDM_DEVICE_MODE.fields
  b.writeUInt32LE(0x3f, f.operational_mode_capabilities.offset)
  b.writeUInt32LE(OperationalMode.NORMAL, f.operational_mode_state.offset)
  b.writeUInt32LE(0x1f, f.device_mode_capabilities.offset)
  b.writeUInt32LE(0, f.device_mode_state.offset)
  return b
}

/** The manifest block (index 0xFD): a fixed-size text record naming model and firmware. */
export function manifestValue(spec: ModelSpec, firmware: string): Buffer {
  const b = Buffer.alloc(MANIFEST_SIZE)
  b.write(`tdxkit SIMULATED manifest ${spec.vendor_id.toString(16)}:${spec.device_id.toString(16)} fw=${firmware}`.slice(0, MANIFEST_SIZE), 'ascii')
  return b
}

/** The measurement blocks a device running `firmware` reports (SHA-384 digests). */
export function measurementBlocks(spec: ModelSpec, firmware: string): MeasurementBlock[] {
  const digest = (index: number, type: number, value: Buffer): MeasurementBlock => ({index, spec: SPDM_MEAS_SPEC_DMTF, value_type: type, value})
  const raw = (index: number, type: number, value: Buffer): MeasurementBlock => ({index, spec: SPDM_MEAS_SPEC_DMTF, value_type: DMTF_MEAS_RAW_BIT | type, value})
  const svn = Buffer.alloc(8)
  svn.writeBigUInt64LE(BigInt(spec.svn))
  const barLayout = spec.bars.map((b) => `${b.index}:${b.size.toString(16)}`).join(',')
  return [
    digest(1, DmtfMeasType.IMMUTABLE_ROM, image(spec, 'rom', spec.rom_version)),
    digest(2, DmtfMeasType.MUTABLE_FIRMWARE, image(spec, 'firmware', firmware)),
    digest(3, DmtfMeasType.HARDWARE_CONFIG, image(spec, 'hardware-config', barLayout)),
    digest(4, DmtfMeasType.FIRMWARE_CONFIG, image(spec, 'firmware-config', `${firmware}/default`)),
    raw(SVN_INDEX, DmtfMeasType.SVN, svn),
    raw(SPDM_MEAS_INDEX_MANIFEST, DmtfMeasType.MEASUREMENT_MANIFEST, manifestValue(spec, firmware)),
    raw(SPDM_MEAS_INDEX_DEVICE_MODE, DmtfMeasType.DEVICE_MODE, deviceModeValue()),
  ]
}

export interface PlannedRange {
  bar: number
  offset: bigint
  pages: number
  attributes: number
}

/**
 * The MMIO ranges a TDI reports, BAR-relative: each BAR's first range starts at offset 0 (BAR
 * aligned, as Linux needs), MSI-X table and PBA flagged, a non-TEE doorbell flagged. Sorted by BAR
 * then offset, non-overlapping. `outsideBar` makes the last range run past its BAR (fault knob).
 */
export function plannedRanges(spec: ModelSpec, outsideBar = false): PlannedRange[] {
  const out: PlannedRange[] = []
  const page = Number(PAGE_4K)
  for (const bar of spec.bars) {
    const cuts: Array<{offset: bigint; pages: number; attributes: number}> = []
    if (spec.msix.bar === bar.index) {
      cuts.push({offset: spec.msix.table_offset, pages: 1, attributes: MmioRangeAttr.MSIX_TABLE})
      cuts.push({offset: spec.msix.pba_offset, pages: 1, attributes: MmioRangeAttr.MSIX_PBA})
    }
    if (spec.non_tee?.bar === bar.index) cuts.push({offset: spec.non_tee.offset, pages: spec.non_tee.pages, attributes: MmioRangeAttr.IS_NON_TEE_MEM})
    cuts.sort((a, b) => (a.offset < b.offset ? -1 : 1))
    let at = 0n
    for (const c of cuts) {
      if (c.offset > at) out.push({bar: bar.index, offset: at, pages: Number((c.offset - at) / PAGE_4K), attributes: 0})
      out.push({bar: bar.index, offset: c.offset, pages: c.pages, attributes: c.attributes})
      at = c.offset + BigInt(c.pages * page)
    }
    if (at < bar.size) out.push({bar: bar.index, offset: at, pages: Number((bar.size - at) / PAGE_4K), attributes: 0})
  }
  if (outsideBar) out[out.length - 1].pages += 16
  return out
}
