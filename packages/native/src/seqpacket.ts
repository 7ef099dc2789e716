// AF_UNIX SOCK_SEQPACKET for Node: message-boundary sockets with fd passing, the transport of vrtd and cmio.
// Event-driven on an FdWatcher (no polling loop). Messages are copied out of one reused receive buffer
// (a protocol message must outlive the next read); fds arrive as OwnedFds.
import { EventEmitter } from 'node:events'
import { lstatSync, unlinkSync } from 'node:fs'
import { K } from './binding.js'
import { errnoException, negErrno, XNativeError } from './errors.js'
import type { FdLike, OwnedFd } from './fd.js'
import { sendMsg } from './msg.js'
import { MsgArena } from './msg-arena.js'
import { sockaddrUn } from './sockaddr.js'
import { accept, bind, connect, listen, type PeerCred, peerCred, socket, socketError, socketpair } from './socket.js'
import { FdWatcher } from './watcher.js'

const { EAGAIN, EMSGSIZE } = negErrno

export type UnixAddress = string | { abstract: string }

export interface SeqpacketMessage {
  data: Uint8Array
  fds: OwnedFd[]
  /** The message was longer than maxMessageSize; the rest was discarded by the kernel. */
  truncated: boolean
}

export interface SeqpacketSocketOptions {
  /** Receive buffer per message (default 65536); longer messages arrive truncated. */
  maxMessageSize?: number
  /** Most fds one message may carry (default 8); more is an EMSGSIZE error for that message. */
  maxFds?: number
  /** Messages queued while nobody reads before reading pauses (default 256): backpressure to the peer. */
  highWaterMark?: number
}

interface SocketEvents {
  newListener: [eventName: string | symbol, listener: (...args: any[]) => void]
  message: [SeqpacketMessage]
  error: [Error]
  end: []
  close: []
}

/**
 * A connected SEQPACKET socket. Read with `for await (const m of sock)`, `await sock.recv()` or
 * `sock.on('message')`; write with `send()` (false when the socket buffer is full) or `await write()`.
 * A zero-length read is the peer's close (SEQPACKET cannot tell it from an empty message: do not send those).
 */
export class SeqpacketSocket extends EventEmitter<SocketEvents> implements Disposable, AsyncIterable<SeqpacketMessage> {
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  /** The receive area (maxMessageSize) and up to maxFds fds per message; the addon checked it once. */
  readonly #io: MsgArena
  readonly #hwm: number
  #queue: SeqpacketMessage[] = []
  #waiters: { resolve: (m: SeqpacketMessage | null) => void; reject: (e: Error) => void }[] = []
  #writers: (() => void)[] = []
  #ended = false
  #closed = false

  /** Adopts a connected SEQPACKET socket fd (made non-blocking). */
  constructor(fd: OwnedFd, options: SeqpacketSocketOptions = {}) {
    super()
    this.#fd = fd
    fd.setNonBlocking(true)
    // as before the arena: maxFds clamped to 0…253 (SCM_MAX_FD), a message size of at least 1 byte
    const maxFds = Math.min(Math.max(Math.trunc(options.maxFds ?? 8), 0), 253) || 0
    const recvSize = Math.min(Math.max(Math.trunc(options.maxMessageSize ?? 65536), 1), 1 << 30) || 65536
    this.#io = new MsgArena({ recvSize, sendSize: 1, maxFds })
    this.#hwm = options.highWaterMark ?? 256
    this.#watcher = new FdWatcher(fd)
    this.#watcher.on('readable', () => this.#drain())
    this.#watcher.on('writable', () => this.#onWritable())
    this.#watcher.on('error', (e) => this.#fail(e))
    this.on('newListener', (ev) => {
      if (ev === 'message') queueMicrotask(() => this.#flow())
    })
  }

  /** Connects to a listening SEQPACKET socket; rejects with ENOENT/ECONNREFUSED/EACCES at once. */
  static async connect(
    address: UnixAddress,
    options: SeqpacketSocketOptions & { signal?: AbortSignal } = {},
  ): Promise<SeqpacketSocket> {
    options.signal?.throwIfAborted()
    const fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    try {
      const r = connect(fd, sockaddrUn(address))
      if (r < 0) {
        const w = new FdWatcher(fd)
        try {
          await w.wait('writable', options.signal)
        } finally {
          w.close()
        }
        const so = socketError(fd)
        if (so !== 0) throw errnoException(-so, 'connect')
      }
      return new SeqpacketSocket(fd, options)
    } catch (e) {
      fd.close()
      throw e
    }
  }

  /** A connected pair in this process (socketpair). */
  static pair(options: SeqpacketSocketOptions = {}): [SeqpacketSocket, SeqpacketSocket] {
    const [a, b] = socketpair(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    return [new SeqpacketSocket(a, options), new SeqpacketSocket(b, options)]
  }

  get fd(): number {
    return this.#fd.fd
  }

  get closed(): boolean {
    return this.#closed
  }

  /** SO_PEERCRED of the peer (as of connect). */
  peerCred(): PeerCred {
    return peerCred(this.#fd)
  }

  /**
   * Sends one message (with fds in SCM_RIGHTS). true when sent, false when the socket buffer is full (wait for
   * 'drain' or use write()). Throws EPIPE/ECONNRESET and the like, and ERR_CLOSED after close().
   */
  send(data: ArrayBufferView, fds?: readonly FdLike[]): boolean {
    if (this.#closed) throw new XNativeError('ERR_CLOSED', 'socket is closed')
    const r = sendMsg(this.#fd, data, { fds })
    if (r >= 0) return true
    if (r === EAGAIN) return false
    throw errnoException(r, 'sendmsg')
  }

  /** Sends one message, waiting for room when the socket buffer is full. */
  async write(data: ArrayBufferView, fds?: readonly FdLike[], signal?: AbortSignal): Promise<void> {
    while (!this.send(data, fds)) {
      signal?.throwIfAborted()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal!.reason)
        signal?.addEventListener('abort', onAbort, { once: true })
        this.#writers.push(() => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        })
        this.#updateInterest()
      })
      if (this.#closed) throw new XNativeError('ERR_CLOSED', 'socket is closed')
    }
  }

  /** The next message, or null once the peer has closed. */
  recv(): Promise<SeqpacketMessage | null> {
    const m = this.#queue.shift()
    if (m) {
      this.#updateInterest()
      return Promise.resolve(m)
    }
    if (this.#ended || this.#closed) {
      this.close()
      return Promise.resolve(null)
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject })
      this.#updateInterest()
    })
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SeqpacketMessage> {
    for (;;) {
      const m = await this.recv()
      if (m === null) return
      yield m
    }
  }

  /** Closes the socket (and any fds still queued in unread messages). Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher.close()
    this.#fd.close()
    for (const m of this.#queue.splice(0)) for (const f of m.fds) f.close()
    for (const w of this.#waiters.splice(0)) w.resolve(null)
    for (const w of this.#writers.splice(0)) w()
    this.emit('close')
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #flow(): void {
    while (this.#queue.length > 0 && this.listenerCount('message') > 0) this.emit('message', this.#queue.shift()!)
    this.#updateInterest()
  }

  #updateInterest(): void {
    if (this.#closed) return
    const flowing = this.listenerCount('message') > 0
    const readable = !this.#ended && (flowing || this.#waiters.length > 0 || this.#queue.length < this.#hwm)
    const wantRead = readable && (flowing || this.#waiters.length > 0)
    this.#watcher.watch({ readable: wantRead, writable: this.#writers.length > 0 })
  }

  #drain(): void {
    const io = this.#io
    for (let budget = 64; budget > 0 && !this.#closed && !this.#ended; budget--) {
      const n = io.recv(this.#fd)
      if (n === EAGAIN) break
      if (n === EMSGSIZE) {
        // this message's fds were refused and closed; the socket goes on
        this.#deliverError(
          errnoException(n, 'recvmsg', '(control data truncated, MSG_CTRUNC: received fds were closed)'),
        )
        continue
      }
      if (n < 0) {
        this.#fail(MsgArena.recvError(n))
        return
      }
      const fds = io.takeFds()
      if (n === 0 && fds.length === 0) {
        this.#end()
        return
      }
      this.#deliver({ data: io.recvBuffer.slice(0, n), fds, truncated: io.truncated })
    }
    this.#updateInterest()
  }

  #deliver(m: SeqpacketMessage): void {
    const w = this.#waiters.shift()
    if (w) w.resolve(m)
    else if (this.listenerCount('message') > 0) this.emit('message', m)
    else this.#queue.push(m)
  }

  #deliverError(e: Error): void {
    const w = this.#waiters.shift()
    if (w) w.reject(e)
    else this.emit('error', e)
  }

  #end(): void {
    this.#ended = true
    for (const w of this.#waiters.splice(0)) w.resolve(null)
    this.emit('end')
    if (this.#queue.length === 0) this.close()
    else this.#updateInterest()
  }

  #fail(e: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(e)
    if (this.listenerCount('error') > 0) this.emit('error', e)
    this.close()
  }

  #onWritable(): void {
    const ws = this.#writers.splice(0)
    this.#updateInterest()
    for (const w of ws) w()
  }
}

/** Removes a socket file left at path (never a regular file or anything else that is not a socket). */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path)
  } catch {
    // nothing there
  }
}

interface ServerEvents {
  connection: [SeqpacketSocket]
  error: [Error]
  close: []
}

export interface SeqpacketServerOptions extends SeqpacketSocketOptions {
  backlog?: number
  /** Remove a stale socket file (only a socket) at the path before binding (default false: EADDRINUSE). */
  unlinkExisting?: boolean
}

/** A listening SEQPACKET socket: 'connection' per accepted peer. */
export class SeqpacketServer extends EventEmitter<ServerEvents> implements Disposable {
  readonly #fd: OwnedFd
  readonly #watcher: FdWatcher
  readonly #path: string | null
  readonly #options: SeqpacketSocketOptions
  #closed = false

  private constructor(fd: OwnedFd, path: string | null, options: SeqpacketSocketOptions) {
    super()
    this.#fd = fd
    this.#path = path
    this.#options = options
    this.#watcher = new FdWatcher(fd, { readable: true })
    this.#watcher.on('readable', () => this.#accept())
    this.#watcher.on('error', (e) => this.emit('error', e))
  }

  static listen(address: UnixAddress, options: SeqpacketServerOptions = {}): SeqpacketServer {
    const fd = socket(K('AF_UNIX'), K('SOCK_SEQPACKET'))
    try {
      const addr = sockaddrUn(address)
      if (typeof address === 'string' && options.unlinkExisting) removeStaleSocket(address)
      bind(fd, addr)
      listen(fd, options.backlog ?? 128)
      return new SeqpacketServer(fd, typeof address === 'string' ? address : null, options)
    } catch (e) {
      fd.close()
      throw e
    }
  }

  /** Adopts an inherited listening socket (systemd socket activation: fd 3 onwards, LISTEN_FDS). */
  static fromFd(fd: OwnedFd, options: SeqpacketSocketOptions = {}): SeqpacketServer {
    fd.setNonBlocking(true)
    return new SeqpacketServer(fd, null, options)
  }

  get fd(): number {
    return this.#fd.fd
  }

  #accept(): void {
    for (let i = 0; i < 64 && !this.#closed; i++) {
      let c: OwnedFd | null
      try {
        c = accept(this.#fd)
      } catch (e) {
        this.emit('error', e as Error)
        return
      }
      if (c === null) return
      this.emit('connection', new SeqpacketSocket(c, this.#options))
    }
  }

  /** Stops listening; removes the socket file it created. Accepted sockets stay open. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#watcher.close()
    this.#fd.close()
    if (this.#path !== null) {
      try {
        unlinkSync(this.#path)
      } catch {}
    }
    this.emit('close')
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
