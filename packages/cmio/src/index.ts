// @x/cmio — the Cartesi Machine I/O device for Node: the guest API (Cmio), its kernel, emulated and in-process
// backends, the emulator's host side (CmioHost and handlers), and the TAP (0x42) and socket (0x43) bridges.

export {
  decodeMuxResponses,
  encodeMuxResponseInto,
  encodeMuxResponses,
  forEachMuxResponse,
  MUX_BATCH_ERROR,
  MUX_RESPONSE_HEADER,
  type MuxResponse,
  MuxStatus,
  muxResponseSize,
} from '@x/framing' // the response codec lives in @x/framing; re-exported for cmio users
export { SocketBridge, type SocketBridgeOptions, type SocketBridgeStats } from './bridge/mux.js'
export { type FramePort, MemoryPort, TapPort, type TapPortOptions } from './bridge/port.js'
export { TapBridge, type TapBridgeOptions, type TapBridgeStats } from './bridge/tap.js'
export { Cmio, type CmioBufferReply, type CmioOpenOptions, type CmioReply } from './cmio.js'
export {
  AutomaticReason,
  BUFFER_LENGTH,
  Cmd,
  DEFAULT_DEVICE,
  Dev,
  Domain,
  ManualReason,
  RollupReason,
  RX_ADDRESS,
  TX_ADDRESS,
} from './constants.js'
export type { Backend, BackendKind } from './device.js'
export { CmioError, type CmioErrorKind, Errno } from './errors.js'
export { type EngineOptions, paddedLength, writeResponse, YieldEngine } from './host/engine.js'
export { type Endpoint, Forwarder, formatEndpoint, forward, parseEndpoint } from './host/forward.js'
export { CmioHost, type CmioHostOptions } from './host/host.js'
export { MuxStream, SocketMuxHost, type SocketMuxOptions } from './host/mux.js'
export {
  type RollupInputsHandler,
  type RollupInputsOptions,
  type RollupInputsState,
  rollupInputs,
} from './host/rollup.js'
export { routeYields } from './host/route.js'
export type { SessionEnd } from './host/session.js'
export { TapHost, type TapHostOptions } from './host/tap.js'
export {
  type CmioRequest,
  type CmioResponse,
  type CmioSession,
  CmioTerminate,
  type YieldHandler,
  type YieldResult,
} from './host/types.js'
export type { InProcessOptions } from './inprocess.js'
export { kernelConstants } from './kernel.js'
export * as protocol from './protocol.js'
export { type CmioBuffer, type CmioSetup, decodeSetup, defaultSetup, encodeSetup, SETUP_SIZE } from './setup.js'
export {
  AUTOMATIC_ACK,
  CMD_MASK,
  type CmioYield,
  DATA_MASK,
  DEV_MASK,
  forceYieldDev,
  formatYield,
  manualReply,
  packYield,
  REASON_MASK,
  unpackYield,
  unpackYieldInto,
} from './yield.js'
