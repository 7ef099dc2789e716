// @x/vrtd — a wire-compatible client for vrtd, the V80 Runtime Daemon of AMD/Xilinx SLASH (functions like libvrtd,
// classes like libvrtd++), and the daemon itself in TypeScript, serving simulated, file-backed and PCI BARs.
export { type BarAccess, BarFile, type BarFileOptions, type Direction, type Width } from './bar-file.js'
export { BlockingConnection, type BlockingConnectOptions, type BlockingRequestOptions } from './blocking.js'
export type {
  BarInfo,
  BufferOpenParams,
  DeviceInfo,
  PciInfo,
  QdmaInfo,
  QpairAddParams,
  QpairAddResult,
  SensorEntry,
} from './bodies.js'
export * as bodies from './bodies.js'
export {
  AllocDir,
  AllocType,
  type AnyConnection,
  type BarFd,
  bufferClose,
  bufferOpen,
  bufferOpenRaw,
  ClockOp,
  ClockRegion,
  clockGetRate,
  clockSetRate,
  closeBarFile,
  connect,
  connectBlocking,
  type DeviceBuffer,
  designWrite,
  detectProtocol,
  deviceHotplug,
  getBarFd,
  getBarInfo,
  getDeviceByBdf,
  getDeviceInfo,
  getNumDevices,
  getSensorInfo,
  HotplugOp,
  mapBarFd,
  openBarFile,
  QpairOp,
  qdmaGetInfo,
  qdmaQpairAdd,
  qdmaQpairGetFd,
  qdmaQpairOp,
  type Reply,
  rawRequest,
} from './client.js'
export {
  Connection,
  type ConnectOptions,
  DEFAULT_TIMEOUT,
  type Decode,
  type RawReply,
  type RequestOptions,
} from './connection.js'
export * from './daemon/index.js'
export { DMA_BUF_IOCTL_SYNC, dmaBufSync } from './dmabuf.js'
export { Ret, type RetName, retMessage, retName, VrtdError, type VrtdErrorOptions, type VrtdReason } from './errors.js'
export {
  BAR_COUNT,
  BODY_MAX,
  DEFAULT_PROTOCOL,
  HEADER_SIZE,
  isProtocol,
  MSG_MAX_SIZE,
  Opcode,
  type OpcodeName,
  type OpSpec,
  opcodeCount,
  opcodeName,
  opSpec,
  PROTOCOLS,
  type Protocol,
  STANDARD_PATH,
} from './protocol.js'
export { Bar, Device, Session, type SessionOptions } from './session.js'
export { resolveSocketPath } from './socket-path.js'
