// The libvrtd layer: one function per request, over a Connection (libvrtd's socket fd). Each resolves with the
// decoded reply or rejects with a VrtdError (the vrtd_ret the daemon answered, or BAD_CONN / BAD_LIB_CALL).
import type { OwnedFd } from '@x/native'
import { BarFile, type BarFileOptions } from './bar-file.js'
import { BlockingConnection } from './blocking.js'
import {
  type BarInfo,
  type BufferOpenParams,
  type DeviceInfo,
  decodeBarInfo,
  decodeDeviceInfo,
  decodeQdmaInfo,
  decodeQpairAdd,
  decodeSensors,
  encodeBdf,
  encodeBufferClose,
  encodeBufferOpen,
  encodeBufferOpenRaw,
  encodeClockOp,
  encodeDevBar,
  encodeDevNumber,
  encodeGetNumDevices,
  encodeHotplug,
  encodeQpairAdd,
  encodeU32x3,
  type QdmaInfo,
  type QpairAddParams,
  type QpairAddResult,
  type SensorEntry,
} from './bodies.js'
import { Connection, type ConnectOptions, type Decode, type RawReply, type RequestOptions } from './connection.js'
import { misuse, Ret, VrtdError } from './errors.js'
import { Opcode } from './protocol.js'

/** vrtd_connect: opens a connection (path: option, else $VRTD_SOCKET, else /run/vrtd.sock). */
export function connect(path?: string, options: Omit<ConnectOptions, 'path'> = {}): Promise<Connection> {
  return Connection.open({ ...options, path })
}

/** vrtd_connect as libvrtd does it: a blocking connection whose calls return their results directly. */
export function connectBlocking(
  path?: string,
  options: Omit<ConnectOptions, 'path' | 'signal'> = {},
): BlockingConnection {
  return BlockingConnection.open({ ...options, path })
}

/** Either kind of connection: every function below takes both. */
export type AnyConnection = Connection | BlockingConnection

/** What a function returns for a connection: the value itself for a BlockingConnection, a promise otherwise. */
export type Reply<C extends AnyConnection, T> = C extends BlockingConnection ? T : Promise<T>

/** Builds the body (argument checks throw) and sends it; checks become rejections on async connections. */
function call<C extends AnyConnection, T>(
  c: C,
  opcode: number,
  body: () => Uint8Array,
  decode: Decode<T>,
  options?: RequestOptions,
): Reply<C, T> {
  if (c instanceof BlockingConnection) return c.call(opcode, body(), decode, options) as Reply<C, T>
  try {
    return (c as Connection).call(opcode, body(), decode, options) as Reply<C, T>
  } catch (e) {
    return Promise.reject(e) as Reply<C, T>
  }
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw misuse('INVALID_VALUE', `${what} must be a u32, got ${v}`)
  return v
}

function u8(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw misuse('INVALID_VALUE', `${what} must be a u8, got ${v}`)
  return v
}

function u64(v: bigint | number, what: string): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : -1n
  if (b < 0n || b > 0xffffffffffffffffn) throw misuse('INVALID_VALUE', `${what} must be a u64, got ${v}`)
  return b
}

const decodeU32 = (dv: DataView, off: number): number => dv.getUint32(off, true)
const decodeNothing = (): void => {}
const takeFd = (_dv: DataView, _off: number, _size: number, fds: OwnedFd[]): OwnedFd => fds[0]!
const GET_NUM_DEVICES_BODY = () => encodeGetNumDevices()

/** vrtd_get_num_devices: devices are numbered [0, n). (Sends the 1-byte body; upstream's empty one is refused.) */
export function getNumDevices<C extends AnyConnection>(c: C, options?: RequestOptions): Reply<C, number> {
  return call(c, Opcode.GET_NUM_DEVICES, GET_NUM_DEVICES_BODY, decodeU32, options)
}

/** vrtd_get_device_info: the device's name (and, from v1.0 on, its PCI identity). */
export function getDeviceInfo<C extends AnyConnection>(
  c: C,
  dev: number,
  options?: RequestOptions,
): Reply<C, DeviceInfo> {
  return call(
    c,
    Opcode.GET_DEVICE_INFO,
    () => encodeDevNumber(u32(dev, 'dev')),
    (dv, off) => decodeDeviceInfo(dv, off, c.protocol),
    options,
  )
}

/** vrtd_get_bar_info: usability, in-use flag, physical start address and length of BAR `bar` (0–5). */
export function getBarInfo<C extends AnyConnection>(
  c: C,
  dev: number,
  bar: number,
  options?: RequestOptions,
): Reply<C, BarInfo> {
  return call(c, Opcode.GET_BAR_INFO, () => encodeDevBar(u32(dev, 'dev'), u8(bar, 'bar')), decodeBarInfo, options)
}

export interface BarFd {
  /** The BAR's fd (a dma-buf on SLASH; a memfd, file or sysfs resource on this package's daemon); the caller owns it. */
  fd: OwnedFd
  /** BAR size in bytes, for mmap. */
  length: bigint
}

const decodeBarFd = (dv: DataView, off: number, _size: number, fds: OwnedFd[]): BarFd => ({
  fd: fds[0]!,
  length: dv.getBigUint64(off, true),
})

/** vrtd_get_bar_fd: the BAR's fd, received over SCM_RIGHTS. */
export function getBarFd<C extends AnyConnection>(
  c: C,
  dev: number,
  bar: number,
  options?: RequestOptions,
): Reply<C, BarFd> {
  return call(c, Opcode.GET_BAR_FD, () => encodeDevBar(u32(dev, 'dev'), u8(bar, 'bar')), decodeBarFd, options)
}

/**
 * vrtd_open_bar_file: gets the BAR fd and maps it. A failing mmap closes the BAR fd (INTERNAL_ERROR, reason
 * MAP_FAILED) and leaves the connection usable.
 */
export function openBarFile<C extends AnyConnection>(
  c: C,
  dev: number,
  bar: number,
  options: BarFileOptions & RequestOptions = {},
): Reply<C, BarFile> {
  if (c instanceof BlockingConnection) {
    const { fd, length } = getBarFd(c, dev, bar, options)
    return mapBarFd(fd, length, options) as Reply<C, BarFile>
  }
  return getBarFd(c as Connection, dev, bar, options).then(({ fd, length }) => mapBarFd(fd, length, options)) as Reply<
    C,
    BarFile
  >
}

/** Maps a BAR fd as openBarFile does (takes the fd over; closes it if the mapping fails). */
export function mapBarFd(
  fd: OwnedFd,
  length: bigint,
  options: BarFileOptions = {},
  onClose?: (bf: BarFile) => void,
): BarFile {
  if (length === 0n) {
    fd.close()
    throw new VrtdError(Ret.INTERNAL_ERROR, {
      opcode: Opcode.GET_BAR_FD,
      reason: 'MAP_FAILED',
      detail: 'the BAR is empty',
    })
  }
  return BarFile.map(fd, length, options, onClose)
}

/** vrtd_close_bar_file: unmaps and closes (idempotent). */
export function closeBarFile(bf: BarFile): void {
  bf.close()
}

/** vrtd_raw_request: any opcode and body; the reply whatever its ret (see Connection.raw). */
export function rawRequest<C extends AnyConnection>(
  c: C,
  opcode: number,
  body?: Uint8Array,
  options?: RequestOptions,
): Reply<C, RawReply> {
  return c.raw(opcode, body, options) as Reply<C, RawReply>
}

// ---- v1.0 ------------------------------------------------------------------------------------------------------

/** GET_DEVICE_BY_BDF (v1.0): the index of the device at a board-level BDF ("0000:65:00"; "65:00" and ".F" are
 * normalised by the daemon). */
export function getDeviceByBdf<C extends AnyConnection>(c: C, bdf: string, options?: RequestOptions): Reply<C, number> {
  return call(
    c,
    Opcode.GET_DEVICE_BY_BDF,
    () => {
      if (typeof bdf !== 'string' || Buffer.byteLength(bdf) > 31)
        throw misuse('INVALID_VALUE', 'bdf must be a string of ≤ 31 bytes')
      return encodeBdf(bdf)
    },
    decodeU32,
    options,
  )
}

const decodeSensorTable = (dv: DataView, off: number, size: number): SensorEntry[] => {
  const s = decodeSensors(dv, off, size)
  if (s === null)
    throw new VrtdError(Ret.BAD_CONN, {
      opcode: Opcode.GET_SENSOR_INFO,
      reason: 'PROTOCOL',
      detail: 'short sensor table',
    })
  return s
}

/** GET_SENSOR_INFO (v1.0): the device's sensor readings. */
export function getSensorInfo<C extends AnyConnection>(
  c: C,
  dev: number,
  options?: RequestOptions,
): Reply<C, SensorEntry[]> {
  return call(c, Opcode.GET_SENSOR_INFO, () => encodeDevNumber(u32(dev, 'dev')), decodeSensorTable, options)
}

export const ClockRegion = { SERVICE: 0, USER: 1 } as const
export const ClockOp = { GET: 0, SET: 1 } as const

/** CLOCK_OP GET (v1.0): the region's clock rate in Hz. */
export function clockGetRate<C extends AnyConnection>(
  c: C,
  dev: number,
  region: number,
  options?: RequestOptions,
): Reply<C, number> {
  return call(
    c,
    Opcode.CLOCK_OP,
    () => encodeClockOp(u32(dev, 'dev'), 0, ClockOp.GET, u8(region, 'region')),
    decodeU32,
    options,
  )
}

/** CLOCK_OP SET (v1.0): sets the region's rate; the rate achieved. */
export function clockSetRate<C extends AnyConnection>(
  c: C,
  dev: number,
  region: number,
  rateHz: number,
  options?: RequestOptions,
): Reply<C, number> {
  return call(
    c,
    Opcode.CLOCK_OP,
    () => encodeClockOp(u32(dev, 'dev'), u32(rateHz, 'rateHz'), ClockOp.SET, u8(region, 'region')),
    decodeU32,
    options,
  )
}

export const HotplugOp = { RESCAN: 0, REMOVE: 1, TOGGLE_SBR: 2, HOTPLUG: 3, RESET_SEQUENCE: 4 } as const

/** DEVICE_HOTPLUG_OP (v1.0). `fn` is the PCI function (0–7) for REMOVE, TOGGLE_SBR and HOTPLUG. */
export function deviceHotplug<C extends AnyConnection>(
  c: C,
  dev: number,
  op: number,
  fn = 0,
  options?: RequestOptions,
): Reply<C, void> {
  return call(
    c,
    Opcode.DEVICE_HOTPLUG_OP,
    () => encodeHotplug(u32(dev, 'dev'), u8(op, 'op'), u8(fn, 'fn')),
    decodeNothing,
    options,
  )
}

/** DESIGN_WRITE (v1.0): programs a PDI read from `pdi` (an fd passed over SCM_RIGHTS). The daemon answers once the
 * write is done, so give it a generous timeout. */
export function designWrite<C extends AnyConnection>(
  c: C,
  dev: number,
  pdi: OwnedFd | number,
  options: Omit<RequestOptions, 'fds'> = {},
): Reply<C, void> {
  return call(c, Opcode.DESIGN_WRITE, () => encodeDevNumber(u32(dev, 'dev')), decodeNothing, { ...options, fds: [pdi] })
}

/** QDMA_GET_INFO (v1.0). */
export function qdmaGetInfo<C extends AnyConnection>(c: C, dev: number, options?: RequestOptions): Reply<C, QdmaInfo> {
  return call(c, Opcode.QDMA_GET_INFO, () => encodeDevNumber(u32(dev, 'dev')), decodeQdmaInfo, options)
}

/** QDMA_QPAIR_ADD (v1.0): creates a queue pair; the result carries its qid. */
export function qdmaQpairAdd<C extends AnyConnection>(
  c: C,
  dev: number,
  params: QpairAddParams,
  options?: RequestOptions,
): Reply<C, QpairAddResult> {
  return call(c, Opcode.QDMA_QPAIR_ADD, () => encodeQpairAdd(u32(dev, 'dev'), params), decodeQpairAdd, options)
}

export const QpairOp = { START: 0, STOP: 1, DEL: 2 } as const

/** QDMA_QPAIR_OP (v1.0): START, STOP or DEL. */
export function qdmaQpairOp<C extends AnyConnection>(
  c: C,
  dev: number,
  qid: number,
  op: number,
  options?: RequestOptions,
): Reply<C, void> {
  return call(
    c,
    Opcode.QDMA_QPAIR_OP,
    () => encodeU32x3(u32(dev, 'dev'), u32(qid, 'qid'), u32(op, 'op')),
    decodeNothing,
    options,
  )
}

/** QDMA_QPAIR_GET_FD (v1.0): a new fd for the queue pair (flags: only O_CLOEXEC is honoured). */
export function qdmaQpairGetFd<C extends AnyConnection>(
  c: C,
  dev: number,
  qid: number,
  flags = 0,
  options?: RequestOptions,
): Reply<C, OwnedFd> {
  return call(
    c,
    Opcode.QDMA_QPAIR_GET_FD,
    () => encodeU32x3(u32(dev, 'dev'), u32(qid, 'qid'), u32(flags, 'flags')),
    takeFd,
    options,
  )
}

export const AllocType = { DDR: 0, HBM: 1, HBM_VNOC: 2 } as const
export const AllocDir = { BIDIRECTIONAL: 0, HOST_TO_DEVICE: 1, DEVICE_TO_HOST: 2 } as const

export interface DeviceBuffer {
  size: bigint
  physAddr: bigint
  /** The buffer's queue-pair fd (lent by the daemon). */
  fd: OwnedFd
}

const decodeBuffer = (dv: DataView, off: number, _size: number, fds: OwnedFd[]): DeviceBuffer => ({
  size: dv.getBigUint64(off, true),
  physAddr: dv.getBigUint64(off + 8, true),
  fd: fds[0]!,
})

/** BUFFER_OPEN (v1.0): allocates device memory with a queue pair. */
export function bufferOpen<C extends AnyConnection>(
  c: C,
  dev: number,
  params: BufferOpenParams,
  options?: RequestOptions,
): Reply<C, DeviceBuffer> {
  return call(
    c,
    Opcode.BUFFER_OPEN,
    () =>
      encodeBufferOpen(u32(dev, 'dev'), {
        allocType: u32(params.allocType, 'allocType'),
        allocDir: u32(params.allocDir, 'allocDir'),
        allocArg: u64(params.allocArg, 'allocArg'),
        size: u64(params.size, 'size'),
      }),
    decodeBuffer,
    options,
  )
}

/** BUFFER_CLOSE (v1.0). */
export function bufferClose<C extends AnyConnection>(
  c: C,
  dev: number,
  physAddr: bigint,
  size: bigint,
  options?: RequestOptions,
): Reply<C, void> {
  return call(
    c,
    Opcode.BUFFER_CLOSE,
    () => encodeBufferClose(u32(dev, 'dev'), u64(physAddr, 'physAddr'), u64(size, 'size')),
    decodeNothing,
    options,
  )
}

/** BUFFER_OPEN_RAW (v1.0): a queue pair at a caller-chosen device address (bypasses the allocator). */
export function bufferOpenRaw<C extends AnyConnection>(
  c: C,
  dev: number,
  allocDir: number,
  physAddr: bigint,
  size: bigint,
  options?: RequestOptions,
): Reply<C, OwnedFd> {
  return call(
    c,
    Opcode.BUFFER_OPEN_RAW,
    () => encodeBufferOpenRaw(u32(dev, 'dev'), u32(allocDir, 'allocDir'), u64(physAddr, 'physAddr'), u64(size, 'size')),
    takeFd,
    options,
  )
}

/**
 * Guesses a daemon's revision without changing anything (reference §2.8): GET_DEVICE_INFO of device 0 answers 128
 * bytes on v0, 168 on v1.0 and 170 on SLASH's dev branch (not spoken here); with no devices (or no permission),
 * GET_DEVICE_BY_BDF is an unknown opcode to v0 (BAD_REQUEST, whatever its size) and known to later revisions.
 */
export async function detectProtocol(
  path?: string,
  options: Omit<ConnectOptions, 'path' | 'protocol'> = {},
): Promise<'v0' | 'v1.0' | 'dev'> {
  const c = await Connection.open({ ...options, path })
  try {
    const info = await c.raw(Opcode.GET_DEVICE_INFO, encodeDevNumber(0))
    if (info.ret === Ret.OK) return info.size >= 170 ? 'dev' : info.size >= 168 ? 'v1.0' : 'v0'
    const byBdf = await c.raw(Opcode.GET_DEVICE_BY_BDF, encodeBdf(''))
    return byBdf.ret === Ret.BAD_REQUEST ? 'v0' : 'v1.0'
  } finally {
    c.close()
  }
}
