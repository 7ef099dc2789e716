// Request and response body codecs: the packed little-endian structs of wire.h and slash_interface.h. u64 fields
// are bigint; fixed C strings are NUL-padded on encode and cut at the first NUL on decode. Decoders read a DataView
// at an offset (the reply sits in a reused receive buffer); encoders return a new body.
import { DEVICE_NAME_LEN, PCI_BDF_LEN, type Protocol, SENSOR_ENTRY_SIZE } from './protocol.js'

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8')

/** Writes str as a NUL-terminated, NUL-padded field of len bytes (truncated to len - 1 bytes). */
export function putCString(dst: Uint8Array, offset: number, len: number, str: string): void {
  const field = dst.subarray(offset, offset + len)
  field.fill(0)
  const { written } = utf8.encodeInto(str, field.subarray(0, len - 1))
  field.fill(0, written)
}

/** Reads a fixed C string field: the bytes before the first NUL (all len bytes when there is none). */
export function getCString(src: Uint8Array, offset: number, len: number): string {
  const field = src.subarray(offset, offset + len)
  const nul = field.indexOf(0)
  return fromUtf8.decode(nul < 0 ? field : field.subarray(0, nul))
}

function body(n: number): [Uint8Array, DataView] {
  const b = new Uint8Array(n)
  return [b, new DataView(b.buffer)]
}

// ---- requests -------------------------------------------------------------------------------------------------

/** GET_NUM_DEVICES: `{u8 zero}` — the byte must be there (an empty body is BAD_REQUEST on every daemon). */
export function encodeGetNumDevices(): Uint8Array {
  return new Uint8Array(1)
}

/** `{u32 dev_number}`: GET_DEVICE_INFO, QDMA_GET_INFO, GET_SENSOR_INFO, DESIGN_WRITE. */
export function encodeDevNumber(dev: number): Uint8Array {
  const [b, v] = body(4)
  v.setUint32(0, dev, true)
  return b
}

/** `{u32 dev_number; u8 bar_number}`: GET_BAR_INFO, GET_BAR_FD. */
export function encodeDevBar(dev: number, bar: number): Uint8Array {
  const [b, v] = body(5)
  v.setUint32(0, dev, true)
  v.setUint8(4, bar)
  return b
}

export interface QpairAddParams {
  mode: number
  dirMask: number
  h2cRingSize: number
  c2hRingSize: number
  cmptRingSize: number
}

/** QDMA_QPAIR_ADD: `{u32 dev; slash_qdma_qpair_add {u32 size, mode, dir_mask, h2c, c2h, cmpt, qid}}` (32). */
export function encodeQpairAdd(dev: number, p: QpairAddParams): Uint8Array {
  const [b, v] = body(32)
  v.setUint32(0, dev, true)
  v.setUint32(4, 28, true)
  v.setUint32(8, p.mode, true)
  v.setUint32(12, p.dirMask, true)
  v.setUint32(16, p.h2cRingSize, true)
  v.setUint32(20, p.c2hRingSize, true)
  v.setUint32(24, p.cmptRingSize, true)
  return b
}

/** `{u32 a, b, c}`: QDMA_QPAIR_OP (dev, qid, op) and QDMA_QPAIR_GET_FD (dev, qid, flags). */
export function encodeU32x3(a: number, b2: number, c: number): Uint8Array {
  const [b, v] = body(12)
  v.setUint32(0, a, true)
  v.setUint32(4, b2, true)
  v.setUint32(8, c, true)
  return b
}

/** CLOCK_OP: `{u32 dev; u32 rate_hz; u8 op; u8 region}` (10). */
export function encodeClockOp(dev: number, rateHz: number, op: number, region: number): Uint8Array {
  const [b, v] = body(10)
  v.setUint32(0, dev, true)
  v.setUint32(4, rateHz, true)
  v.setUint8(8, op)
  v.setUint8(9, region)
  return b
}

export interface BufferOpenParams {
  allocType: number
  allocDir: number
  allocArg: bigint
  size: bigint
}

/** BUFFER_OPEN (v1.0): `{u32 dev, alloc_type, alloc_dir; u64 alloc_arg; u64 size}` (28). */
export function encodeBufferOpen(dev: number, p: BufferOpenParams): Uint8Array {
  const [b, v] = body(28)
  v.setUint32(0, dev, true)
  v.setUint32(4, p.allocType, true)
  v.setUint32(8, p.allocDir, true)
  v.setBigUint64(12, p.allocArg, true)
  v.setBigUint64(20, p.size, true)
  return b
}

/** BUFFER_CLOSE: `{u32 dev; u64 phys_addr; u64 size}` (20). */
export function encodeBufferClose(dev: number, physAddr: bigint, size: bigint): Uint8Array {
  const [b, v] = body(20)
  v.setUint32(0, dev, true)
  v.setBigUint64(4, physAddr, true)
  v.setBigUint64(12, size, true)
  return b
}

/** BUFFER_OPEN_RAW (v1.0): `{u32 dev, alloc_dir; u64 phys_addr; u64 size}` (24). */
export function encodeBufferOpenRaw(dev: number, allocDir: number, physAddr: bigint, size: bigint): Uint8Array {
  const [b, v] = body(24)
  v.setUint32(0, dev, true)
  v.setUint32(4, allocDir, true)
  v.setBigUint64(8, physAddr, true)
  v.setBigUint64(16, size, true)
  return b
}

/** GET_DEVICE_BY_BDF: `{char bdf[32]}`. */
export function encodeBdf(bdf: string): Uint8Array {
  const b = new Uint8Array(PCI_BDF_LEN)
  putCString(b, 0, PCI_BDF_LEN, bdf)
  return b
}

/** DEVICE_HOTPLUG_OP: `{u32 dev; u8 op; u8 function}` (6). */
export function encodeHotplug(dev: number, op: number, fn: number): Uint8Array {
  const [b, v] = body(6)
  v.setUint32(0, dev, true)
  v.setUint8(4, op)
  v.setUint8(5, fn)
  return b
}

// ---- responses ------------------------------------------------------------------------------------------------

export interface PciInfo {
  /** Board-level "DDDD:BB:DD" (function stripped). */
  bdf: string
  vendorId: number
  deviceId: number
  subsystemVendorId: number
  subsystemDeviceId: number
}

export interface DeviceInfo {
  /** basename of the device node, e.g. "slash_ctl0". */
  name: string
  /** PCI identity (v1.0 and later); null from a v0 daemon. */
  pci: PciInfo | null
}

/** GET_DEVICE_INFO reply: v0 `{char name[128]}`, v1.0 `vrtd_device_info` (name + vrtd_pci_info, 168). */
export function decodeDeviceInfo(dv: DataView, off: number, protocol: Protocol): DeviceInfo {
  const u8 = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength)
  const name = getCString(u8, off, DEVICE_NAME_LEN)
  if (protocol === 'v0') return { name, pci: null }
  const p = off + DEVICE_NAME_LEN
  return {
    name,
    pci: {
      bdf: getCString(u8, p, PCI_BDF_LEN),
      vendorId: dv.getUint16(p + 32, true),
      deviceId: dv.getUint16(p + 34, true),
      subsystemVendorId: dv.getUint16(p + 36, true),
      subsystemDeviceId: dv.getUint16(p + 38, true),
    },
  }
}

/** Writes a GET_DEVICE_INFO body (zero-filled; 128 bytes for v0, 168 for v1.0); returns its size. */
export function encodeDeviceInfoInto(dst: Uint8Array, off: number, info: DeviceInfo, protocol: Protocol): number {
  const size = protocol === 'v0' ? DEVICE_NAME_LEN : DEVICE_NAME_LEN + 40
  dst.fill(0, off, off + size)
  putCString(dst, off, DEVICE_NAME_LEN, info.name)
  if (protocol !== 'v0' && info.pci) {
    const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength)
    const p = off + DEVICE_NAME_LEN
    putCString(dst, p, PCI_BDF_LEN, info.pci.bdf)
    dv.setUint16(p + 32, info.pci.vendorId, true)
    dv.setUint16(p + 34, info.pci.deviceId, true)
    dv.setUint16(p + 36, info.pci.subsystemVendorId, true)
    dv.setUint16(p + 38, info.pci.subsystemDeviceId, true)
  }
  return size
}

/** `struct slash_ioctl_bar_info` (24 bytes). */
export interface BarInfo {
  /** The struct's own size field (24). */
  size: number
  barNumber: number
  /** `bar->active && bar->mmio`. */
  usable: boolean
  /** Always false on SLASH. */
  inUse: boolean
  /** Physical (bus) address. */
  startAddress: bigint
  /** Bytes. */
  length: bigint
}

export function decodeBarInfo(dv: DataView, off: number): BarInfo {
  return {
    size: dv.getUint32(off, true),
    barNumber: dv.getUint8(off + 4),
    usable: dv.getUint8(off + 5) !== 0,
    inUse: dv.getUint8(off + 6) !== 0,
    startAddress: dv.getBigUint64(off + 8, true),
    length: dv.getBigUint64(off + 16, true),
  }
}

export function encodeBarInfoInto(dv: DataView, off: number, b: BarInfo): number {
  dv.setUint32(off, 24, true)
  dv.setUint8(off + 4, b.barNumber)
  dv.setUint8(off + 5, b.usable ? 1 : 0)
  dv.setUint8(off + 6, b.inUse ? 1 : 0)
  dv.setUint8(off + 7, 0)
  dv.setBigUint64(off + 8, b.startAddress, true)
  dv.setBigUint64(off + 16, b.length, true)
  return 24
}

/** `struct slash_qdma_info` (v1.0, 20 bytes). */
export interface QdmaInfo {
  size: number
  qsetsMax: number
  msixQvecs: number
  vfMax: number
  caps: number
}

export function decodeQdmaInfo(dv: DataView, off: number): QdmaInfo {
  return {
    size: dv.getUint32(off, true),
    qsetsMax: dv.getUint32(off + 4, true),
    msixQvecs: dv.getUint32(off + 8, true),
    vfMax: dv.getUint32(off + 12, true),
    caps: dv.getUint32(off + 16, true),
  }
}

export interface QpairAddResult extends QpairAddParams {
  size: number
  /** The kernel-assigned queue pair id. */
  qid: number
}

/** QDMA_QPAIR_ADD reply: `slash_qdma_qpair_add` (28) with qid filled in. */
export function decodeQpairAdd(dv: DataView, off: number): QpairAddResult {
  return {
    size: dv.getUint32(off, true),
    mode: dv.getUint32(off + 4, true),
    dirMask: dv.getUint32(off + 8, true),
    h2cRingSize: dv.getUint32(off + 12, true),
    c2hRingSize: dv.getUint32(off + 16, true),
    cmptRingSize: dv.getUint32(off + 20, true),
    qid: dv.getUint32(off + 24, true),
  }
}

/** `struct vrtd_sensor_entry` (72). */
export interface SensorEntry {
  name: string
  /** 1 temperature, 2 current, 4 voltage, 8 power. */
  type: number
  /** AMI status (1 = OK). */
  status: number
  /** Unit exponent: value × 10^unitMod is the base-unit reading. */
  unitMod: number
  value: number
}

/** GET_SENSOR_INFO reply: `{u32 num_sensors; vrtd_sensor_entry[n]}`; null when size is short of n entries. */
export function decodeSensors(dv: DataView, off: number, size: number): SensorEntry[] | null {
  const n = dv.getUint32(off, true)
  if (size < 4 + n * SENSOR_ENTRY_SIZE) return null
  const u8 = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength)
  const out: SensorEntry[] = []
  for (let i = 0; i < n; i++) {
    const e = off + 4 + i * SENSOR_ENTRY_SIZE
    out.push({
      name: getCString(u8, e, 64),
      type: dv.getUint8(e + 64),
      status: dv.getUint8(e + 65),
      unitMod: dv.getInt8(e + 66),
      value: dv.getInt32(e + 68, true),
    })
  }
  return out
}

/** Writes a GET_SENSOR_INFO body; returns its size. */
export function encodeSensorsInto(dst: Uint8Array, off: number, sensors: readonly SensorEntry[]): number {
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength)
  const size = 4 + sensors.length * SENSOR_ENTRY_SIZE
  dst.fill(0, off, off + size)
  dv.setUint32(off, sensors.length, true)
  sensors.forEach((s, i) => {
    const e = off + 4 + i * SENSOR_ENTRY_SIZE
    putCString(dst, e, 64, s.name)
    dv.setUint8(e + 64, s.type)
    dv.setUint8(e + 65, s.status)
    dv.setInt8(e + 66, s.unitMod)
    dv.setInt32(e + 68, s.value, true)
  })
  return size
}
