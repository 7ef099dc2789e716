// @x/thunderbolt — the DCF Thunderbolt/USB4 transport: UDP control channel, TCP data streams, RTT ping/pong.

export { isPing, isPong, RTT_PING_MAGIC, RTT_PONG_MAGIC } from '@x/framing'
export { type PeerAddress, parsePeer, type ZoneResolver } from './address.js'
export { makeThunderboltTransport, ThunderboltTransportBuilder } from './builder.js'
export {
  type ControlMessage,
  defaultConfig,
  type MessageData,
  type MessageHandler,
  MessageType,
  type RemoteInfo,
  resolveConfig,
  type ThunderboltConfig,
  type ThunderboltOptions,
} from './config.js'
export {
  CONNECT_TIMEOUT_MS,
  DEFAULT_BUFFER_SIZE,
  DEFAULT_CONTROL_PORT,
  DEFAULT_DATA_PORT,
  DEFAULT_INTERFACE,
  DEFAULT_RTT_TIMEOUT_MS,
  KEEPALIVE_IDLE_SECS,
  LISTEN_BACKLOG,
  MAX_UDP_PAYLOAD,
} from './constants.js'
export { isTransportError, TransportError, TransportErrorKind } from './errors.js'
export { type Logger, LogLevel } from './log.js'
export type { MessageQueue } from './queue.js'
export type { TransportStats } from './stats.js'
export {
  type MessagesOptions,
  type OpenStreamOptions,
  type SocketInfo,
  ThunderboltTransport,
} from './transport.js'
