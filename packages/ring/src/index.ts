// @x/ring: buffer pools, tokens, payloads, SPSC rings, batch channels and netmap-style ring views over
// (Shared)ArrayBuffers, for worker threads.

export type { ChannelDescriptor, ChannelOptions } from './channel.js'
export { CHANNEL_DATA_OFFSET, Channel, Popper, Pusher } from './channel.js'
export type { RingErrorCode } from './errors.js'
export { isRingError, RingError } from './errors.js'
export type { NetmapRingLayout, RingFormat, RingViewOptions } from './netmap-ring.js'
export {
  NETMAP_RING_HEADER_SIZE,
  NETMAP_RING_LAYOUT,
  NETMAP_SLOT_SIZE,
  NR_FORWARD,
  NR_RX,
  NR_TIMESTAMP,
  NR_TX,
  NS_BUF_CHANGED,
  NS_FORWARD,
  NS_INDIRECT,
  NS_MOREFRAG,
  NS_NO_LEARN,
  NS_PORT_MASK,
  NS_PORT_SHIFT,
  NS_REPORT,
  NS_TXMON,
  RingView,
  ringAdvance,
  ringEmpty,
  ringNext,
  ringSpace,
  ringTxPending,
} from './netmap-ring.js'
export { Payload } from './payload.js'
export type { AttachOptions, PoolDescriptor, PoolOptions } from './pool.js'
export { BUFFER_ALLOCATED, BUFFER_FREE, BUFFER_RESERVED, BufferPool, poolControlByteLength } from './pool.js'
export type { SpscDescriptor, SpscOptions } from './spsc.js'
export { SPSC_DATA_OFFSET, SpscRing } from './spsc.js'
export type { Token } from './token.js'
export { decodeTokens, encodeTokens, isToken, readToken, TOKEN_WORDS, token, writeToken } from './token.js'
export type { U32Array } from './util.js'
