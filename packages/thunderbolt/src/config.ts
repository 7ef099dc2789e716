// Configuration, its defaults (the document's table) and the message-handler types.
import type { Socket } from 'node:net'
import {
  CONNECT_TIMEOUT_MS,
  DEFAULT_BUFFER_SIZE,
  DEFAULT_CONTROL_PORT,
  DEFAULT_DATA_PORT,
  DEFAULT_INTERFACE,
  DEFAULT_MAX_QUEUED_MESSAGES,
} from './constants.js'
import type { Logger } from './log.js'

export interface ThunderboltConfig {
  /** Network interface every socket is bound to (SO_BINDTODEVICE). Default `thunderbolt0`. */
  interface: string
  /** UDP port of the control channel, on both ends. Default 5000; 0 = an ephemeral port (tests). */
  controlPort: number
  /** TCP port of data streams, on both ends. Default 5001; 0 = an ephemeral port (tests). */
  dataPort: number
  /** SO_SNDBUF / SO_RCVBUF of every socket. Default 64 MiB (the kernel caps it at 2 × net.core.[rw]mem_max
   * unless forceBuffers); 0 leaves the kernel's auto-tuned defaults. */
  bufferSize: number
  /** TCP_NODELAY on initiated and accepted streams. Default true. */
  tcpNodelay: boolean
  /** SO_KEEPALIVE with TCP_KEEPIDLE 60 s (kernel-default interval and count) on initiated streams. Default true. */
  tcpKeepalive: boolean
  /** Answer pings (and do not deliver them). Default true; false = "Lisp mode": pings reach the handler. */
  autoRespondPing: boolean
  /** Use SO_SNDBUFFORCE / SO_RCVBUFFORCE (CAP_NET_ADMIN) so bufferSize is not capped. Default false. */
  forceBuffers: boolean
  /** Accept data streams on dataPort. Default true; false for a client-only transport (the CLI's send/ping). */
  listen: boolean
  /** Local UDP port to bind when it must differ from the peers' controlPort (0 = ephemeral; the CLI's one-shot
   * commands use it so they can run next to a listening transport). Default null = controlPort. */
  localControlPort: number | null
  /** openDataStream's handshake timeout. Default 10 s (Rust's connect_timeout). */
  connectTimeoutMs: number
  /** Control messages each async iterator buffers before dropping new ones. Default 4096. */
  maxQueuedMessages: number
}

export const MessageType = { ControlMessage: 'ControlMessage', DataStream: 'DataStream' } as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** Where a control message or an accepted stream came from. */
export interface RemoteInfo {
  /** `fe80::2` (no zone). */
  address: string
  port: number
  /** Interface index of a link-local source, else 0. */
  scopeId: number
  /** The source as a peer string (`fe80::2%thunderbolt0`), ready for sendMessage / measureRtt. */
  peer: string
}

/** A received control message (the bytes are a copy: keep them as long as you like). */
export interface ControlMessage {
  data: Buffer
  from: RemoteInfo
}

export type MessageData = Buffer | Socket

/**
 * Called with `('ControlMessage', bytes: Buffer, from)` for each datagram that is not a ping/pong the transport
 * consumed, and `('DataStream', socket: net.Socket, from)` for each accepted stream (as Rust's
 * `Fn(MessageType, MessageData)`; narrow `data` by `type` or with `Buffer.isBuffer`). Exceptions and rejected
 * promises are caught, logged at Error and counted in `errors`.
 */
export type MessageHandler = (type: MessageType, data: MessageData, from: RemoteInfo) => void | Promise<void>

export interface ThunderboltOptions extends Partial<ThunderboltConfig> {
  messageHandler?: MessageHandler
  logger?: Logger
}

export function defaultConfig(): ThunderboltConfig {
  return {
    interface: DEFAULT_INTERFACE,
    controlPort: DEFAULT_CONTROL_PORT,
    dataPort: DEFAULT_DATA_PORT,
    bufferSize: DEFAULT_BUFFER_SIZE,
    tcpNodelay: true,
    tcpKeepalive: true,
    autoRespondPing: true,
    forceBuffers: false,
    listen: true,
    localControlPort: null,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    maxQueuedMessages: DEFAULT_MAX_QUEUED_MESSAGES,
  }
}

function port(name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 65535) {
    throw new RangeError(`${name} must be an integer 0…65535, got ${String(v)}`)
  }
  return v as number
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${typeof v}`)
  return v
}

function count(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
    throw new RangeError(`${name} must be an integer ${min}…${max}, got ${String(v)}`)
  }
  return v as number
}

/** Defaults filled in and every field checked (TypeError / RangeError for a wrong value). */
export function resolveConfig(o: Partial<ThunderboltConfig> = {}): ThunderboltConfig {
  const d = defaultConfig()
  const pick = <K extends keyof ThunderboltConfig>(k: K): ThunderboltConfig[K] => (o[k] === undefined ? d[k] : o[k]!)
  const iface = pick('interface')
  if (typeof iface !== 'string') throw new TypeError('interface must be a string')
  const local = pick('localControlPort')
  return {
    interface: iface,
    controlPort: port('controlPort', pick('controlPort')),
    dataPort: port('dataPort', pick('dataPort')),
    bufferSize: count('bufferSize', pick('bufferSize'), 0, 0x7fff_ffff),
    tcpNodelay: bool('tcpNodelay', pick('tcpNodelay')),
    tcpKeepalive: bool('tcpKeepalive', pick('tcpKeepalive')),
    autoRespondPing: bool('autoRespondPing', pick('autoRespondPing')),
    forceBuffers: bool('forceBuffers', pick('forceBuffers')),
    listen: bool('listen', pick('listen')),
    localControlPort: local === null ? null : port('localControlPort', local),
    connectTimeoutMs: count('connectTimeoutMs', pick('connectTimeoutMs'), 1),
    maxQueuedMessages: count('maxQueuedMessages', pick('maxQueuedMessages'), 1),
  }
}
