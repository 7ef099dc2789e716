// ThunderboltTransport: the UDP control channel, the TCP data-stream listener and initiator, RTT, stats, logs.
// Event-driven throughout: a uv_poll watcher on the control socket, Node's own stream machinery for TCP.
import type { Socket } from 'node:net'
import { classifyRtt, encodePingInto, RTT_DATAGRAM_SIZE } from '@x/framing'
import {
  boundDevice,
  connect,
  type DatagramBatch,
  errnoException,
  FdWatcher,
  getpeername,
  getsockoptInt,
  K,
  negErrno,
  type OwnedFd,
  type ParsedSockaddr,
  parseSockaddr,
  type Sockaddr,
  setsockoptInt,
  sockaddrIn6,
  socketError,
} from '@x/native'
import { formatSocketAddress, type PeerAddress, parsePeer, systemResolver } from './address.js'
import { nextTimestamp } from './clock.js'
import {
  type ControlMessage,
  type MessageData,
  type MessageHandler,
  type MessageType,
  type RemoteInfo,
  resolveConfig,
  type ThunderboltConfig,
  type ThunderboltOptions,
} from './config.js'
import { DEFAULT_RTT_TIMEOUT_MS, KEEPALIVE_IDLE_SECS, LISTEN_BACKLOG, MAX_UDP_PAYLOAD } from './constants.js'
import { ControlSocket } from './control.js'
import { osText, TransportError } from './errors.js'
import type { Logger } from './log.js'
import { MessageQueue } from './queue.js'
import { RttTracker } from './rtt.js'
import { bindAny, createSocket } from './sockets.js'
import { StatsCounter, type TransportStats } from './stats.js'
import { Acceptor, adoptStream } from './streams.js'

const { EAGAIN, EALREADY, EINPROGRESS } = negErrno
const PEER_CACHE_MAX = 1024

interface ResolvedPeer {
  address: PeerAddress
  /** The peer's control port, as a sockaddr. */
  control: Sockaddr
  /** Interface streams to this peer are bound to: the zone's, else the transport's. */
  device: string
  deviceIndex: number
}

export interface OpenStreamOptions {
  /** Handshake timeout (default: the transport's connectTimeoutMs, 10 s). */
  timeoutMs?: number
}

export interface MessagesOptions {
  /** Messages buffered for a slow consumer before new ones are dropped (default: maxQueuedMessages). */
  maxQueued?: number
}

/** Socket options of the transport's own sockets, read back from the kernel (for diagnostics and tests). */
export interface SocketInfo {
  device: string
  sndbuf: number
  rcvbuf: number
  fd: number
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  throw TransportError.invalidMessage('data must be a Uint8Array, Buffer, ArrayBufferView or ArrayBuffer')
}

export class ThunderboltTransport implements AsyncDisposable, AsyncIterable<ControlMessage> {
  readonly #config: ThunderboltConfig
  readonly #index: number
  readonly #handler: MessageHandler | undefined
  readonly #log: Logger | undefined
  readonly #control: ControlSocket
  readonly #acceptor: Acceptor | null
  readonly #localControlPort: number
  readonly #controlPort: number
  readonly #dataPort: number
  readonly #stats = new StatsCounter()
  readonly #rtt = new RttTracker()
  readonly #streams = new Set<Socket>()
  readonly #queues = new Set<MessageQueue<ControlMessage>>()
  readonly #peers = new Map<string, ResolvedPeer>()
  readonly #names = new Map<number, string>()
  readonly #abort = new AbortController()
  readonly #ping = new Uint8Array(RTT_DATAGRAM_SIZE)
  #view: DataView | null = null
  readonly #rttViews: (Uint8Array | undefined)[] = []
  #running = true
  #closing: Promise<void> | null = null

  /** Builds and starts a transport (synchronously; throws TransportError). Prefer the builder. */
  constructor(options: ThunderboltOptions = {}) {
    const config = resolveConfig(options)
    this.#config = config
    this.#handler = options.messageHandler
    this.#log = options.logger
    const iface = config.interface
    const index = iface === '' ? 0 : systemResolver.nameToIndex(iface)
    if (index === 0) throw TransportError.interfaceNotFound(iface)
    this.#index = index
    this.#names.set(index, iface)

    const common = { device: iface, reuseAddr: true, bufferSize: config.bufferSize, forceBuffers: config.forceBuffers }
    const udp = createSocket({ type: 'udp', ...common, logger: this.#log })
    let tcp: OwnedFd | null = null
    try {
      this.#localControlPort = bindAny(udp, config.localControlPort ?? config.controlPort)
      this.#controlPort = config.controlPort === 0 ? this.#localControlPort : config.controlPort
      if (config.listen) {
        tcp = createSocket({ type: 'tcp', ...common, logger: this.#log })
        const bound = bindAny(tcp, config.dataPort, LISTEN_BACKLOG)
        this.#dataPort = config.dataPort === 0 ? bound : config.dataPort
      } else {
        this.#dataPort = config.dataPort
      }
    } catch (e) {
      udp.close()
      tcp?.close()
      throw e
    }
    this.#info(`Initialized interface ${iface} (index ${index})`)
    this.#info(`UDP socket bound to port ${this.#localControlPort} (non-blocking)`)
    if (tcp) this.#info(`TCP listener bound to port ${this.#dataPort}`)

    let control: ControlSocket | null = null
    let acceptor: Acceptor | null = null
    try {
      control = new ControlSocket(
        udp,
        (b, n) => this.#onBatch(b, n),
        (e) => {
          this.#stats.recordError()
          this.#emit('Error', `UDP receive failed: ${osText(e)}`)
        },
      )
      acceptor = tcp
        ? new Acceptor(
            tcp,
            (fd) => this.#onAccept(fd),
            (e) => {
              this.#stats.recordError()
              this.#emit('Error', `Accept failed: ${osText(e)}`)
            },
          )
        : null
      acceptor?.start()
      control.start()
    } catch (e) {
      if (control) control.close()
      else udp.close()
      if (acceptor) acceptor.close()
      else tcp?.close()
      throw TransportError.io(e)
    }
    this.#control = control
    this.#acceptor = acceptor
    this.#info('Background threads started')
    if (this.#acceptor) this.#info('TCP acceptor loop started')
    this.#info('UDP receiver loop started')
  }

  // ---- getters

  /** The interface every socket is bound to. */
  get interface(): string {
    return this.#config.interface
  }
  get interfaceIndex(): number {
    return this.#index
  }
  /** The UDP port peers are addressed at (the configured one, or the bound one for 0). */
  get controlPort(): number {
    return this.#controlPort
  }
  /** The UDP port this transport's control socket is bound to (= controlPort unless localControlPort). */
  get localControlPort(): number {
    return this.#localControlPort
  }
  /** The TCP port peers are addressed at (the configured one, or the bound listener's for 0). */
  get dataPort(): number {
    return this.#dataPort
  }
  get config(): Readonly<ThunderboltConfig> {
    return { ...this.#config }
  }

  isRunning(): boolean {
    return this.#running
  }

  // ---- control messages

  /**
   * Sends `data` verbatim in one datagram to the peer's control port, from the bound control port. Resolves the
   * bytes sent. Rejects MessageTooLarge (> 65,507 bytes), InvalidAddress, InterfaceNotFound, Io, Shutdown.
   */
  async sendMessage(data: Uint8Array | ArrayBufferView | ArrayBuffer, peer: string): Promise<number> {
    this.#ensureRunning()
    const bytes = toBytes(data)
    if (bytes.byteLength > MAX_UDP_PAYLOAD) throw TransportError.messageTooLarge(bytes.byteLength, MAX_UDP_PAYLOAD)
    const p = this.#resolve(peer)
    let n: number
    try {
      const r = this.#control.send(bytes, p.control)
      n = typeof r === 'number' ? r : await r
    } catch (e) {
      this.#peers.delete(peer)
      if (!this.#running) throw TransportError.shutdown()
      throw TransportError.io(e)
    }
    this.#stats.recordSent(n)
    if (this.#log) this.#log('Debug', `Sent ${n} bytes to ${peer}`)
    return n
  }

  /**
   * Received control messages as an async iterator (each consumer gets every message; pings and consumed pongs
   * excluded). Ends when the transport closes; a slow consumer drops messages beyond `maxQueued` (counted in
   * the iterator's `dropped`).
   */
  messages(options: MessagesOptions = {}): MessageQueue<ControlMessage> {
    const q: MessageQueue<ControlMessage> = new MessageQueue(options.maxQueued ?? this.#config.maxQueuedMessages, () =>
      this.#queues.delete(q),
    )
    if (this.#running) this.#queues.add(q)
    else q.end()
    return q
  }

  [Symbol.asyncIterator](): AsyncIterator<ControlMessage> {
    return this.messages()
  }

  // ---- RTT

  /**
   * Sends a 16-byte ping (timestamp: ns since the epoch, unique per call) and resolves the round-trip time in
   * seconds when its pong arrives, or null after `timeoutMs` (default 5000) or when the transport closes.
   */
  measureRtt(peer: string, timeoutMs: number = DEFAULT_RTT_TIMEOUT_MS): Promise<number | null> {
    try {
      this.#ensureRunning()
      if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) {
        throw new RangeError(`timeoutMs must be a finite number >= 0, got ${String(timeoutMs)}`)
      }
      const p = this.#resolve(peer)
      const ts = nextTimestamp()
      const ping = this.#ping
      encodePingInto(ping, 0, ts)
      return new Promise((resolve, reject) => {
        const key = this.#rtt.add(ts, peer, timeoutMs, resolve, () => this.#log?.('Debug', 'RTT measurement timed out'))
        const fail = (e: unknown): void => {
          this.#rtt.cancel(key)
          reject(this.#running ? TransportError.io(e) : TransportError.shutdown())
        }
        try {
          this.#rtt.sent(key)
          const r = this.#control.send(ping, p.control)
          if (typeof r !== 'number') r.catch(fail)
        } catch (e) {
          fail(e)
        }
      })
    } catch (e) {
      return Promise.reject(e)
    }
  }

  // ---- data streams

  /**
   * Opens a TCP stream to the peer's data port: a connected net.Socket whose fd was made with SO_BINDTODEVICE,
   * SO_SNDBUF/SO_RCVBUF = bufferSize before connect, TCP_NODELAY and SO_KEEPALIVE + TCP_KEEPIDLE 60 s as
   * configured. Rejects ConnectionFailed (refused, unreachable, timed out), SocketOption, InvalidAddress,
   * InterfaceNotFound, Shutdown.
   */
  async openDataStream(peer: string, options: OpenStreamOptions = {}): Promise<Socket> {
    this.#ensureRunning()
    const p = this.#resolve(peer)
    const c = this.#config
    const fd = createSocket({
      type: 'tcp',
      device: p.device,
      bufferSize: c.bufferSize,
      forceBuffers: c.forceBuffers,
      nodelay: c.tcpNodelay,
      keepaliveIdleSecs: c.tcpKeepalive ? KEEPALIVE_IDLE_SECS : undefined,
      logger: this.#log,
    })
    try {
      const a = p.address
      const to = sockaddrIn6({ address: a.bytes, port: this.#dataPort, scopeId: a.linkLocal ? p.deviceIndex : 0 })
      await this.#connect(fd, to, peer, options.timeoutMs ?? c.connectTimeoutMs)
      if (!this.#running) throw TransportError.shutdown()
    } catch (e) {
      fd.close()
      throw e
    }
    const s = adoptStream(fd)
    this.#track(s)
    this.#stats.recordConnection(true)
    this.#info(`Established data stream to ${peer}`)
    return s
  }

  async #connect(fd: OwnedFd, to: Sockaddr, peer: string, timeoutMs: number): Promise<void> {
    let r: number
    try {
      r = connect(fd, to)
    } catch (e) {
      throw TransportError.connectionFailed(`${peer}: ${osText(e)}`, e)
    }
    if (r === 0) return
    if (r !== EINPROGRESS && r !== EAGAIN && r !== EALREADY) {
      const e = errnoException(r, 'connect')
      throw TransportError.connectionFailed(`${peer}: ${osText(e)}`, e)
    }
    const w = new FdWatcher(fd)
    const timeout = AbortSignal.timeout(timeoutMs)
    try {
      await w.wait('writable', AbortSignal.any([timeout, this.#abort.signal]))
    } catch (e) {
      if (this.#abort.signal.aborted) throw TransportError.shutdown()
      if (timeout.aborted) throw TransportError.connectionFailed(`${peer}: connection timed out`)
      throw TransportError.connectionFailed(`${peer}: ${osText(e)}`, e)
    } finally {
      w.close()
    }
    const err = socketError(fd)
    if (err !== 0) {
      const e = errnoException(err, 'connect')
      throw TransportError.connectionFailed(`${peer}: ${osText(e)}`, e)
    }
  }

  // ---- stats

  getStats(): TransportStats {
    return this.#stats.snapshot()
  }

  resetStats(): void {
    this.#stats.reset()
    this.#info('Statistics reset')
  }

  /** SO_BINDTODEVICE and buffer sizes of the control socket and the listener, as the kernel reports them. */
  socketInfo(): { control: SocketInfo; listener: SocketInfo | null } {
    this.#ensureRunning()
    const read = (fd: number): SocketInfo => ({
      fd,
      device: boundDevice(fd),
      sndbuf: getsockoptInt(fd, K('SOL_SOCKET'), K('SO_SNDBUF')),
      rcvbuf: getsockoptInt(fd, K('SOL_SOCKET'), K('SO_RCVBUF')),
    })
    return { control: read(this.#control.fd.fd), listener: this.#acceptor ? read(this.#acceptor.fd.fd) : null }
  }

  // ---- lifecycle

  /**
   * Stops everything: closes the control socket, the listener and every stream it opened or accepted; pending
   * measureRtt calls resolve null, iterators end, later calls reject with Shutdown. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing
    this.#running = false
    if (this.#acceptor) this.#info('TCP acceptor loop shutting down')
    this.#info('UDP receiver loop shutting down')
    this.#abort.abort()
    this.#control.close()
    this.#acceptor?.close()
    this.#rtt.clear()
    for (const q of [...this.#queues]) q.end()
    const streams = [...this.#streams]
    for (const s of streams) s.destroy()
    // Resolves once every stream has released its fd (libuv closes them asynchronously).
    this.#closing = Promise.all(
      streams.map((s) => (s.closed ? undefined : new Promise<void>((r) => s.once('close', () => r())))),
    ).then(() => this.#info('Transport closed'))
    return this.#closing
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  // ---- internals

  #ensureRunning(): void {
    if (!this.#running) throw TransportError.shutdown()
  }

  #info(msg: string): void {
    this.#log?.('Info', msg)
  }

  #emit(level: 'Debug' | 'Info' | 'Warn' | 'Error', msg: string): void {
    this.#log?.(level, msg)
  }

  #resolve(peer: string): ResolvedPeer {
    const hit = this.#peers.get(peer)
    if (hit) return hit
    const address = parsePeer(peer, this.#index)
    let device = this.#config.interface
    let deviceIndex = this.#index
    if (address.zone !== null && address.scopeId !== 0 && address.scopeId !== this.#index) {
      deviceIndex = address.scopeId
      device = this.#nameOf(deviceIndex) ?? device
    }
    const control = sockaddrIn6({ address: address.bytes, port: this.#controlPort, scopeId: address.scopeId })
    const entry = { address, control, device, deviceIndex }
    if (this.#peers.size >= PEER_CACHE_MAX) this.#peers.clear()
    this.#peers.set(peer, entry)
    return entry
  }

  #nameOf(index: number): string | null {
    let n = this.#names.get(index)
    if (n === undefined) {
      const r = systemResolver.indexToName(index)
      if (r === null) return null
      n = r
      this.#names.set(index, n)
    }
    return n
  }

  /** The first 16 bytes of slot i, as a view made once (pings and pongs are classified without allocating). */
  #rttView(b: DatagramBatch, i: number): Uint8Array {
    let v = this.#rttViews[i]
    if (v === undefined) {
      const o = b.offset(i)
      v = b.buffer.subarray(o, o + RTT_DATAGRAM_SIZE)
      this.#rttViews[i] = v
    }
    return v
  }

  #onBatch(b: DatagramBatch, n: number): void {
    const buf = b.buffer
    if (this.#view === null) this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    const dv = this.#view
    for (let i = 0; i < n && this.#running; i++) {
      const len = b.length(i)
      const off = b.offset(i)
      if (len === RTT_DATAGRAM_SIZE) {
        const v = this.#rttView(b, i)
        const kind = classifyRtt(v)
        if (kind === 'pong') {
          // b.time: when recvmmsg returned the pong (taken in C), so the RTT excludes our own dispatch into JS
          const m = this.#rtt.match(dv.getUint32(off + 8), dv.getUint32(off + 12), b.time[0]!)
          if (m) {
            if (this.#log) this.#log('Debug', `RTT to ${m[0]}: ${(m[1] * 1000).toFixed(6)} ms`)
            continue
          }
        } else if (kind === 'ping' && this.#config.autoRespondPing) {
          this.#stats.recordReceived(len)
          // The pong is the ping with byte 7 = 'S' (0x53); the 8 timestamp bytes are echoed untouched.
          buf[off + 7] = 0x53
          this.#control.trySend(v, b.addressSlot(i))
          continue
        }
      }
      this.#stats.recordReceived(len)
      const wanted = this.#handler !== undefined || this.#queues.size > 0
      if (!wanted && !this.#log) continue
      const from = this.#remoteOf(b.address(i))
      if (this.#log)
        this.#log('Debug', `Received ${len} bytes from ${formatSocketAddress(from.address, from.port, from.scopeId)}`)
      if (!wanted) continue
      const data = Buffer.allocUnsafe(len)
      data.set(buf.subarray(off, off + len))
      if (this.#handler) this.#call('ControlMessage', data, from)
      for (const q of this.#queues) q.push({ data, from })
    }
  }

  #remoteOf(sa: Uint8Array): RemoteInfo {
    return this.#remoteOfParsed(parseSockaddr(sa))
  }

  #remoteOfParsed(p: ParsedSockaddr): RemoteInfo {
    if (p.family !== 'inet6') return { address: '', port: 0, scopeId: 0, peer: '' }
    const name = p.scopeId !== 0 ? this.#nameOf(p.scopeId) : null
    const peer = p.scopeId !== 0 ? `${p.address}%${name ?? p.scopeId}` : p.address
    return { address: p.address, port: p.port, scopeId: p.scopeId, peer }
  }

  #onAccept(fd: OwnedFd): void {
    if (!this.#running) {
      fd.close()
      return
    }
    this.#stats.recordConnection(false)
    if (this.#config.tcpNodelay) {
      try {
        setsockoptInt(fd, K('IPPROTO_TCP'), K('TCP_NODELAY'), 1)
      } catch (e) {
        this.#emit('Warn', `Failed to set TCP_NODELAY: ${osText(e)}`)
      }
    }
    let from: RemoteInfo
    try {
      from = this.#remoteOfParsed(getpeername(fd))
    } catch {
      from = { address: '', port: 0, scopeId: 0, peer: '' } // reset before we looked
    }
    if (this.#log)
      this.#log('Debug', `Accepted connection from ${formatSocketAddress(from.address, from.port, from.scopeId)}`)
    if (!this.#handler) {
      fd.close() // as in Rust: no handler, the stream is dropped
      return
    }
    const s = adoptStream(fd)
    this.#track(s)
    this.#call('DataStream', s, from)
  }

  #track(s: Socket): void {
    this.#streams.add(s)
    s.once('close', () => this.#streams.delete(s))
  }

  #call(type: MessageType, data: MessageData, from: RemoteInfo): void {
    try {
      const r = this.#handler!(type, data, from)
      if (r !== undefined && typeof (r as Promise<void>).then === 'function') {
        ;(r as Promise<void>).then(undefined, (e: unknown) => this.#handlerFailed(e))
      }
    } catch (e) {
      this.#handlerFailed(e)
    }
  }

  #handlerFailed(e: unknown): void {
    this.#stats.recordError()
    this.#emit('Error', `Message handler failed: ${e instanceof Error ? e.message : String(e)}`)
  }
}
