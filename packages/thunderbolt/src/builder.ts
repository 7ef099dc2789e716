// ThunderboltTransportBuilder and make_thunderbolt_transport, as in the reference (lib.rs:901-995).
import { type MessageHandler, resolveConfig, type ThunderboltConfig, type ThunderboltOptions } from './config.js'
import { DEFAULT_CONTROL_PORT, DEFAULT_DATA_PORT, DEFAULT_INTERFACE } from './constants.js'
import type { Logger } from './log.js'
import { ThunderboltTransport } from './transport.js'

export class ThunderboltTransportBuilder {
  readonly #o: ThunderboltOptions = {}

  interface(name: string): this {
    this.#o.interface = name
    return this
  }
  controlPort(port: number): this {
    this.#o.controlPort = port
    return this
  }
  dataPort(port: number): this {
    this.#o.dataPort = port
    return this
  }
  bufferSize(bytes: number): this {
    this.#o.bufferSize = bytes
    return this
  }
  tcpNodelay(on = true): this {
    this.#o.tcpNodelay = on
    return this
  }
  tcpKeepalive(on = true): this {
    this.#o.tcpKeepalive = on
    return this
  }
  /** false = deliver pings to the handler instead of answering them ("Lisp mode"). */
  autoRespondPing(on = true): this {
    this.#o.autoRespondPing = on
    return this
  }
  /** SO_SNDBUFFORCE / SO_RCVBUFFORCE (needs CAP_NET_ADMIN; falls back with a warning). */
  forceBuffers(on = true): this {
    this.#o.forceBuffers = on
    return this
  }
  messageHandler(handler: MessageHandler): this {
    this.#o.messageHandler = handler
    return this
  }
  logger(logger: Logger): this {
    this.#o.logger = logger
    return this
  }
  /** Any other fields (listen, localControlPort, connectTimeoutMs, maxQueuedMessages, …). */
  options(options: ThunderboltOptions): this {
    Object.assign(this.#o, options)
    return this
  }

  /** The configuration build() would use (defaults filled in, values checked). */
  get config(): ThunderboltConfig {
    return resolveConfig(this.#o)
  }

  /** Creates the sockets and starts receiving. Throws TransportError (InterfaceNotFound, Io, SocketOption). */
  build(): ThunderboltTransport {
    return new ThunderboltTransport({ ...this.#o })
  }
}

/** The reference's factory: `make_thunderbolt_transport(interface, control_port, data_port, handler?, logger?)`. */
export function makeThunderboltTransport(
  iface: string = DEFAULT_INTERFACE,
  controlPort: number = DEFAULT_CONTROL_PORT,
  dataPort: number = DEFAULT_DATA_PORT,
  messageHandler?: MessageHandler,
  logger?: Logger,
): ThunderboltTransport {
  const b = new ThunderboltTransportBuilder().interface(iface).controlPort(controlPort).dataPort(dataPort)
  if (messageHandler) b.messageHandler(messageHandler)
  if (logger) b.logger(logger)
  return b.build()
}
