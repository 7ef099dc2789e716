// The host end of the socket multiplexer (GIO domain 0x43): each guest-side connection is a Node Duplex on the host
// (connectUnix / connectTcp). The handler answers every 0x43 yield with the next command batch — queued CONNECTs,
// SENDs and CLOSEs, and a RECEIVE for every stream whose reader wants data — written straight into rx and bounded by
// its length; it reads the guest's responses (@x/framing's cmio-mux-response.ts) out of tx. When a yield brings nothing new and nothing
// is queued, the reply is held up to `holdMs` (or until a stream queues something): while a manual yield is held the
// guest does not run, so this is a long poll, not a busy loop.
import { Duplex } from 'node:stream'
import {
  encodeMuxMessageInto,
  forEachMuxResponse,
  MUX_BATCH_ERROR,
  MUX_MAX_PATH,
  type MuxMessageInit,
  type MuxResponse,
  MuxStatus,
  MuxType,
  muxMessageSize,
} from '@x/framing'
import { errnoException } from '@x/native'
import { Domain } from '../constants.js'
import type { CmioRequest, CmioResponse, CmioSession, YieldHandler } from './types.js'

export interface SocketMuxOptions {
  /** Longest a reply with nothing in it is held (default 1 ms). */
  holdMs?: number
  /** Bytes sent but not yet acknowledged per stream before its writes wait (default 1 MiB). */
  window?: number
  /** Largest SEND command (default 256 KiB; bounded by the rx length). */
  maxSend?: number
  /** GIO response code of the replies (default 0x43; never 0 — v0.21 refuses reason 0 outside rx-accepted). */
  replyReason?: number
}

type Family = 'unix' | 'tcp'

interface Command {
  init: MuxMessageInit
  size: number
  /** Called once the command is in a reply. */
  sent?: () => void
}

export class MuxStream extends Duplex {
  readonly socketId: number
  readonly family: Family
  readonly remote: string
  connected = false
  /** @internal */ wantRead = false
  /** @internal */ receivePending = false
  readonly #mux: SocketMuxHost
  #inflight = 0
  #blocked: (() => void) | null = null
  #finalCb: ((e?: Error | null) => void) | null = null
  #closed = false

  /** @internal use SocketMuxHost.connectUnix / connectTcp */
  constructor(mux: SocketMuxHost, id: number, family: Family, remote: string) {
    super({ allowHalfOpen: true })
    this.#mux = mux
    this.socketId = id
    this.family = family
    this.remote = remote
  }

  get #types(): { send: number; receive: number; close: number } {
    return this.family === 'unix'
      ? { send: MuxType.UNIX_SEND, receive: MuxType.UNIX_RECEIVE, close: MuxType.UNIX_CLOSE }
      : { send: MuxType.TCP_SEND, receive: MuxType.TCP_RECEIVE, close: MuxType.TCP_CLOSE }
  }

  /** @internal */ receiveType(): number {
    return this.#types.receive
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const max = this.#mux.maxSend
    for (let o = 0; o < chunk.byteLength; o += max) {
      const data = chunk.subarray(o, Math.min(chunk.byteLength, o + max))
      this.#inflight += data.byteLength
      this.#mux.queue(this, { type: this.#types.send as 0x02, socketId: this.socketId, data })
    }
    if (this.#inflight <= this.#mux.window) cb()
    else this.#blocked = () => cb()
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#finalCb = cb
    this.#mux.queue(this, { type: this.#types.close as 0x04, socketId: this.socketId, data: Uint8Array.of(1) })
  }

  override _read(): void {
    if (this.wantRead) return
    this.wantRead = true
    this.#mux.kick()
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.#closed) {
      this.#closed = true
      this.#mux.queue(this, { type: this.#types.close as 0x04, socketId: this.socketId }, true)
    }
    this.#mux.forget(this)
    const b = this.#blocked
    this.#blocked = null
    b?.()
    cb(err)
  }

  /** @internal a response for this stream */
  onResponse(r: MuxResponse): void {
    const t = this.#types
    if (r.type === MuxType.UNIX_CONNECT || r.type === MuxType.TCP_CONNECT) {
      if (r.status === MuxStatus.OK) {
        this.connected = true
        this.emit('connect')
      } else this.#fail(r.status, 'connect')
    } else if (r.type === t.send) {
      if (r.status !== MuxStatus.OK) this.#fail(r.status, 'send')
    } else if (r.type === t.receive) {
      this.receivePending = false
      if (r.status === MuxStatus.END) {
        this.wantRead = false
        this.push(null)
      } else if (r.status !== MuxStatus.OK) this.#fail(r.status, 'recv')
      else if (r.data.byteLength > 0) {
        // the data is a view of tx, rewritten by the guest's next yield: copy it out
        if (!this.push(Buffer.from(r.data))) this.wantRead = false
      }
    } else if (r.type === t.close) {
      if (r.status !== MuxStatus.OK && !this.destroyed) this.#fail(r.status, 'close')
      const cb = this.#finalCb
      this.#finalCb = null
      cb?.()
    }
  }

  /** @internal bytes of a SEND acknowledged */
  acked(n: number): void {
    this.#inflight -= n
    if (this.#blocked && this.#inflight <= this.#mux.window) {
      const b = this.#blocked
      this.#blocked = null
      b()
    }
  }

  #fail(status: number, syscall: string): void {
    this.#closed = status !== MuxStatus.OK && syscall === 'connect' // nothing to close on the guest
    this.destroy(errnoException(status, syscall, this.remote))
  }
}

interface SocketMuxEvents {
  /** The guest answered a malformed command batch (a bug on this side) or sent a malformed response batch. */
  protocolError: [Error]
}

export class SocketMuxHost {
  readonly holdMs: number
  readonly window: number
  readonly maxSend: number
  readonly replyReason: number
  readonly #streams = new Map<number, MuxStream>()
  readonly #commands: Command[] = []
  /** SEND bytes per stream, in order, waiting for their acknowledgement. */
  readonly #sendLengths = new Map<number, number[]>()
  #nextId = 1
  #kick: (() => void) | null = null
  #session: CmioSession | null = null
  readonly #listeners: { [K in keyof SocketMuxEvents]: ((...a: SocketMuxEvents[K]) => void)[] } = { protocolError: [] }
  /** Counters. */
  readonly stats = { yields: 0, held: 0, commands: 0, responses: 0, bytesToGuest: 0, bytesFromGuest: 0 }

  constructor(options: SocketMuxOptions = {}) {
    this.holdMs = options.holdMs ?? 1
    this.window = options.window ?? 1024 * 1024
    this.maxSend = options.maxSend ?? 256 * 1024
    this.replyReason = options.replyReason ?? Domain.SOCKETS
    if (this.replyReason === 0) throw new RangeError('replyReason 0 is refused outside rx-accepted (v0.21)')
  }

  on<K extends keyof SocketMuxEvents>(ev: K, fn: (...a: SocketMuxEvents[K]) => void): this {
    this.#listeners[ev].push(fn)
    return this
  }

  /** A stream to a Unix socket path inside the guest. */
  connectUnix(path: string): MuxStream {
    if (Buffer.byteLength(path) > MUX_MAX_PATH) {
      throw Object.assign(new Error(`ENAMETOOLONG: path over ${MUX_MAX_PATH} bytes (sun_path)`), {
        code: 'ENAMETOOLONG',
      })
    }
    const s = new MuxStream(this, this.#nextId++, 'unix', path)
    this.#streams.set(s.socketId, s)
    this.queue(s, { type: MuxType.UNIX_CONNECT, socketId: s.socketId, path })
    return s
  }

  /** A stream to an IPv4 TCP address inside the guest (the protocol carries IPv4 only). */
  connectTcp(address: string, port: number): MuxStream {
    const s = new MuxStream(this, this.#nextId++, 'tcp', `${address}:${port}`)
    const init: MuxMessageInit = { type: MuxType.TCP_CONNECT, socketId: s.socketId, address, port }
    muxMessageSize(init) // validates the address and port now
    this.#streams.set(s.socketId, s)
    this.queue(s, init)
    return s
  }

  /** Open streams. */
  get streams(): ReadonlyMap<number, MuxStream> {
    return this.#streams
  }

  /** @internal */ queue(s: MuxStream, init: MuxMessageInit, evenIfGone = false): void {
    if (!evenIfGone && !this.#streams.has(s.socketId)) return
    const size = muxMessageSize(init)
    const cmd: Command = { init, size }
    if (init.type === MuxType.UNIX_SEND || init.type === MuxType.TCP_SEND) {
      const n = init.data?.byteLength ?? 0
      cmd.sent = () => {
        const l = this.#sendLengths.get(s.socketId)
        if (l === undefined) this.#sendLengths.set(s.socketId, [n])
        else l.push(n)
      }
    }
    this.#commands.push(cmd)
    this.kick()
  }

  /** @internal */ forget(s: MuxStream): void {
    this.#streams.delete(s.socketId)
    this.#sendLengths.delete(s.socketId)
  }

  /** @internal wakes a held reply */
  kick(): void {
    const k = this.#kick
    this.#kick = null
    k?.()
  }

  /** The YieldHandler for domain 0x43 (route other reasons elsewhere). */
  readonly handler: YieldHandler = (req, session) => this.#serve(req, session)

  /** Ends every stream with ECONNRESET (the guest went away). */
  reset(reason = 'the guest went away'): void {
    for (const s of [...this.#streams.values()]) s.destroy(errnoException(104, 'recv', reason))
    this.#streams.clear()
    this.#commands.length = 0
    this.#sendLengths.clear()
  }

  async #serve(req: CmioRequest, session: CmioSession): Promise<CmioResponse> {
    if (this.#session !== session) {
      if (this.#session !== null) this.reset()
      this.#session = session
      session.signal.addEventListener('abort', () => this.reset(), { once: true })
    }
    this.stats.yields++
    const news = this.#readResponses(req.data)
    // standing RECEIVEs alone are no reason to answer at once: hold unless something came in or is queued
    if (this.#commands.length === 0 && !news && this.holdMs > 0) {
      this.stats.held++
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, this.holdMs)
        function done(): void {
          clearTimeout(t)
          session.signal.removeEventListener('abort', done)
          resolve()
        }
        this.#kick = done
        session.signal.addEventListener('abort', done, { once: true })
      })
      this.#kick = null
      if (session.ended) return { reason: this.replyReason }
    }
    const n = this.#writeCommands(session.rx)
    return { reason: this.replyReason, length: n }
  }

  /** Applies the guest's responses; true if any carried something (data, a status change, an error). */
  #readResponses(batch: Uint8Array): boolean {
    if (batch.byteLength === 0) return false
    let news = false
    try {
      this.stats.responses += forEachMuxResponse(batch, (r) => {
        if (r.type === MUX_BATCH_ERROR) {
          news = true
          this.#emit('protocolError', new Error(`guest: ${Buffer.from(r.data).toString()}`))
          return
        }
        const s = this.#streams.get(r.socketId)
        const isReceive = r.type === MuxType.UNIX_RECEIVE || r.type === MuxType.TCP_RECEIVE
        if (!isReceive || r.data.byteLength > 0 || r.status !== MuxStatus.OK) news = true
        this.stats.bytesFromGuest += isReceive ? r.data.byteLength : 0
        if (s === undefined) return
        if (r.type === MuxType.UNIX_SEND || r.type === MuxType.TCP_SEND) {
          const l = this.#sendLengths.get(r.socketId)
          s.acked(l?.shift() ?? 0)
        }
        s.onResponse(r)
      })
    } catch (e) {
      this.#emit('protocolError', e as Error)
      return true
    }
    return news
  }

  /** Writes queued commands, then a RECEIVE per stream that wants data, into rx; returns the bytes. */
  #writeCommands(rx: Uint8Array): number {
    let p = 0
    let i = 0
    const limit = rx.byteLength
    for (; i < this.#commands.length; i++) {
      const c = this.#commands[i]!
      if (p + c.size > limit) break
      p += encodeMuxMessageInto(rx, p, c.init)
      c.sent?.()
      if (c.init.type === MuxType.UNIX_SEND || c.init.type === MuxType.TCP_SEND) {
        this.stats.bytesToGuest += c.init.data?.byteLength ?? 0
      }
    }
    this.stats.commands += i
    this.#commands.splice(0, i)
    for (const s of this.#streams.values()) {
      if (!s.wantRead || s.receivePending || p + 9 > limit) continue
      p += encodeMuxMessageInto(rx, p, { type: s.receiveType() as 0x03, socketId: s.socketId })
      s.receivePending = true
      this.stats.commands++
    }
    return p
  }

  #emit<K extends keyof SocketMuxEvents>(ev: K, ...a: SocketMuxEvents[K]): void {
    for (const f of this.#listeners[ev]) f(...a)
  }
}
