// The guest end of the socket multiplexer (GIO domain 0x43; tapcmio's `unix` mode, unix_tcp_socket.rs): every
// 0x43 yield carries the responses that are ready, and its reply carries the host's next command batch, which runs
// against guest-local Unix and TCP sockets (node:net, non-blocking and event-driven while the async yield is out).
// Fixed upstream bugs: commands are parsed by their real size (@x/framing), each gets an explicit status
// (@x/framing's cmio-mux-response.ts), a failed connect or write is a status rather than the end of the program, paths are bounded by
// sun_path, responses are bounded by the tx length (the rest waits for the next yield), every reply is processed,
// and a malformed batch gets a BATCH_ERROR response while the bridge keeps running.
import { createConnection, type Socket } from 'node:net'
import {
  forEachMuxMessage,
  MUX_BATCH_ERROR,
  MUX_MAX_PATH,
  MUX_RESPONSE_HEADER,
  type MuxMessage,
  MuxStatus,
  MuxType,
  muxAddress,
  writeMuxResponseHeader,
} from '@x/framing'
import type { Cmio } from '../cmio.js'
import { Domain } from '../constants.js'
import { Errno, errnoOf } from '../errors.js'

export interface SocketBridgeOptions {
  /** Most bytes one RECEIVE response carries (default 256 KiB). */
  maxReceive?: number
  /** Bytes buffered per guest socket before it is paused until the host reads (default 1 MiB). */
  bufferLimit?: number
  /** GIO domain (default 0x43). */
  domain?: number
}

export interface SocketBridgeStats {
  yields: number
  commands: number
  responses: number
  bytesToHost: number
  bytesFromHost: number
  batchErrors: number
  open: number
}

interface Pending {
  type: number
  id: number
  status: number
  data?: Uint8Array
  /** A RECEIVE: data is taken from the socket when the response is written. */
  receive?: GuestSocket
}

class GuestSocket {
  readonly chunks: Buffer[] = []
  buffered = 0
  ended = false
  error = 0
  readonly id: number
  readonly tcp: boolean
  readonly sock: Socket
  readonly limit: number
  constructor(id: number, tcp: boolean, sock: Socket, limit: number) {
    this.id = id
    this.tcp = tcp
    this.sock = sock
    this.limit = limit
    sock.on('data', (b: Buffer) => {
      this.chunks.push(b)
      this.buffered += b.byteLength
      if (this.buffered >= this.limit) sock.pause()
    })
    sock.on('end', () => {
      this.ended = true
    })
  }

  /** Moves up to `max` buffered bytes into dst at offset; returns how many. */
  take(dst: Uint8Array, offset: number, max: number): number {
    let n = 0
    while (n < max && this.chunks.length > 0) {
      const c = this.chunks[0]!
      const k = Math.min(c.byteLength, max - n)
      dst.set(k === c.byteLength ? c : c.subarray(0, k), offset + n)
      n += k
      if (k === c.byteLength) this.chunks.shift()
      else this.chunks[0] = c.subarray(k)
    }
    this.buffered -= n
    if (this.buffered < this.limit / 2 && this.sock.isPaused() && !this.sock.destroyed) this.sock.resume()
    return n
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
const enc = new TextEncoder()

function isTcpType(t: number): boolean {
  return t >= MuxType.TCP_CONNECT
}

export class SocketBridge {
  readonly #cmio: Cmio
  readonly #domain: number
  readonly #maxReceive: number
  readonly #limit: number
  readonly #sockets = new Map<number, GuestSocket>()
  readonly #queue: Pending[] = []
  readonly stats: SocketBridgeStats = {
    yields: 0,
    commands: 0,
    responses: 0,
    bytesToHost: 0,
    bytesFromHost: 0,
    batchErrors: 0,
    open: 0,
  }

  constructor(cmio: Cmio, options: SocketBridgeOptions = {}) {
    this.#cmio = cmio
    this.#domain = options.domain ?? Domain.SOCKETS
    this.#maxReceive = options.maxReceive ?? 256 * 1024
    this.#limit = options.bufferLimit ?? 1024 * 1024
  }

  /** Yields until `signal` aborts or the device fails (the error is thrown); closes every guest socket at the end. */
  async run(signal?: AbortSignal): Promise<void> {
    try {
      while (!signal?.aborted) await this.step()
    } finally {
      this.close()
    }
  }

  /** One round: responses out, the reply's commands run. */
  async step(): Promise<void> {
    const c = this.#cmio
    const n = this.#writeResponses(c.tx, c.getTxLength())
    const r = await c.manualAsync(this.#domain, n)
    this.stats.yields++
    this.#execute(c.rx.subarray(0, r.length))
  }

  /** Destroys every guest socket. */
  close(): void {
    for (const s of this.#sockets.values()) s.sock.destroy()
    this.#sockets.clear()
    this.stats.open = 0
  }

  #respond(type: number, id: number, status: number, data?: Uint8Array): void {
    this.#queue.push({ type, id, status, data })
  }

  #writeResponses(tx: Uint8Array, limit: number): number {
    let p = 0
    let i = 0
    for (; i < this.#queue.length; i++) {
      const q = this.#queue[i]!
      const room = limit - p - MUX_RESPONSE_HEADER
      if (room < 0) break
      if (q.receive !== undefined) {
        const s = q.receive
        let status = MuxStatus.OK as number
        let n = 0
        if (s.buffered > 0) n = s.take(tx, p + MUX_RESPONSE_HEADER, Math.min(room, this.#maxReceive))
        else if (s.error) status = s.error
        else if (s.ended) status = MuxStatus.END
        if (n === 0 && s.buffered > 0) break // no room for any data: next yield
        writeMuxResponseHeader(tx, p, q.type, q.id, status, n)
        this.stats.bytesToHost += n
        p += MUX_RESPONSE_HEADER + n
      } else {
        const len = q.data?.byteLength ?? 0
        if (len > room) break
        writeMuxResponseHeader(tx, p, q.type, q.id, q.status, len)
        if (q.data) tx.set(q.data, p + MUX_RESPONSE_HEADER)
        p += MUX_RESPONSE_HEADER + len
      }
    }
    this.stats.responses += i
    this.#queue.splice(0, i)
    return p
  }

  #execute(batch: Uint8Array): void {
    if (batch.byteLength === 0) return
    try {
      this.stats.commands += forEachMuxMessage(batch, (m) => this.#command(m))
    } catch (e) {
      this.stats.batchErrors++
      const msg = enc.encode(`malformed command batch: ${(e as Error).message}`.slice(0, 1024))
      this.#respond(MUX_BATCH_ERROR, 0, Errno.EBADMSG, msg)
    }
  }

  #command(m: MuxMessage): void {
    const id = m.socketId
    switch (m.type) {
      case MuxType.UNIX_CONNECT:
      case MuxType.TCP_CONNECT:
        this.#connect(m)
        return
      default: {
        const s = this.#sockets.get(id)
        if (s === undefined) {
          this.#respond(m.type, id, Errno.EBADF)
          return
        }
        if (s.tcp !== isTcpType(m.type)) {
          this.#respond(m.type, id, Errno.EPROTOTYPE)
          return
        }
        if (m.type === MuxType.UNIX_SEND || m.type === MuxType.TCP_SEND) this.#send(s, m.type, m.data)
        else if (m.type === MuxType.UNIX_RECEIVE || m.type === MuxType.TCP_RECEIVE) {
          this.#queue.push({ type: m.type, id, status: 0, receive: s })
        } else this.#close(s, m.type, m.data)
      }
    }
  }

  #connect(m: MuxMessage): void {
    const id = m.socketId
    const type = m.type
    if (this.#sockets.has(id)) {
      this.#respond(type, id, Errno.EEXIST)
      return
    }
    let sock: Socket
    if (m.type === MuxType.UNIX_CONNECT) {
      if (m.path.byteLength > MUX_MAX_PATH || m.path.byteLength === 0) {
        this.#respond(type, id, m.path.byteLength === 0 ? Errno.ENOENT : Errno.ENAMETOOLONG)
        return
      }
      let path: string
      try {
        path = utf8.decode(m.path)
      } catch {
        this.#respond(type, id, Errno.EINVAL)
        return
      }
      sock = createConnection({ path, allowHalfOpen: true })
    } else if (m.type === MuxType.TCP_CONNECT) {
      sock = createConnection({ host: muxAddress(m), port: m.port, allowHalfOpen: true, noDelay: true })
    } else return
    const s = new GuestSocket(id, m.type === MuxType.TCP_CONNECT, sock, this.#limit)
    this.#sockets.set(id, s)
    this.stats.open = this.#sockets.size
    const onError = (e: Error): void => {
      sock.off('connect', onConnect)
      this.#sockets.delete(id)
      this.stats.open = this.#sockets.size
      this.#respond(type, id, errnoOf(e))
    }
    const onConnect = (): void => {
      sock.off('error', onError)
      sock.on('error', (e) => {
        s.error = errnoOf(e)
      })
      this.#respond(type, id, MuxStatus.OK)
    }
    sock.once('error', onError)
    sock.once('connect', onConnect)
  }

  #send(s: GuestSocket, type: number, data: Uint8Array): void {
    this.stats.bytesFromHost += data.byteLength
    if (s.error) {
      this.#respond(type, s.id, s.error)
      return
    }
    // rx is rewritten by the next reply: node:net may hold the chunk, so copy it
    s.sock.write(Buffer.from(data), (err) => this.#respond(type, s.id, err ? errnoOf(err) : MuxStatus.OK))
  }

  #close(s: GuestSocket, type: number, data: Uint8Array): void {
    if (data.byteLength === 1 && data[0] === 1) {
      // extension: CLOSE with data [1] half-closes (shutdown(SHUT_WR)); the socket stays readable
      s.sock.end()
      this.#respond(type, s.id, MuxStatus.OK)
      return
    }
    s.sock.destroy()
    this.#sockets.delete(s.id)
    this.stats.open = this.#sockets.size
    // RECEIVEs already queued for this socket answer END
    this.#respond(type, s.id, MuxStatus.OK)
  }
}
