// Socket: what every backend shares. Receive: one native call per batch into the socket's cache (or a caller's
// PacketBatch), packets copied (af_packet, pcap) or placed (af_xdp) into buffers of the socket's Context, taken
// from a stash of free descriptors JS refills from the pool. Transmit: JS writes frames where the backend says
// (TX ring frame, UMEM buffer, staging slot), native code submits a batch and kicks. Readiness: one uv_poll per fd,
// one callback per wake-up; events, promises and an async iterator on top.
import { EventEmitter } from 'node:events'
import { errnoException, socketError } from '@x/native'
import { type Payload, type Token, token } from '@x/ring'
import type { PacketBatch } from './batch.js'
import { N, type NativeSocket, type PollCallback } from './binding.js'
import type { Context } from './context.js'
import { closedError, NethunsError } from './errors.js'
import { INFO_VIRTUAL, type Metadata, type MetaReader } from './metadata.js'

const W = N('META_WORDS')
const M_CAPLEN = N('M_CAPLEN')
const M_INFO = N('M_INFO')
const S_STASH = N('S_STASH')
const S_CACHE_EMPTY = N('S_CACHE_EMPTY')
const S_STALLED = N('S_STALLED')
const S_EOF = N('S_EOF')
const S_TX_ERRNO = N('S_TX_ERRNO')
const READABLE = N('UV_READABLE')
const WRITABLE = N('UV_WRITABLE')
const C = {
  received: N('C_RECEIVED'),
  bytes: N('C_BYTES'),
  kernelDrops: N('C_KERNEL_DROPS'),
  filtered: N('C_FILTERED'),
  sent: N('C_SENT'),
  txBytes: N('C_TX_BYTES'),
  txInvalid: N('C_TX_INVALID'),
  rxInvalid: N('C_RX_INVALID'),
  freeze: N('C_FREEZE'),
  ifDrops: N('C_IF_DROPS'),
  fillRingEmpty: N('C_FILL_EMPTY'),
  kernelSeen: N('C_KERNEL_SEEN'),
} as const

export type BackendName = 'af_packet' | 'af_xdp' | 'pcap' | 'netmap'

/**
 * A user-space filter with C nethuns's contract: > 0 deliver, 0 drop (the buffer goes straight back), < 0 deliver
 * the header only (a "virtual packet": metadata with `virtual: true` and an empty payload).
 */
export type FilterFn<M extends Metadata = Metadata> = (bytes: Uint8Array, meta: M) => number

/** Counters since the socket opened (kernel statistics folded in on each call). */
export interface SocketStats {
  /** Packets delivered by recv/recvToken/recvBatch (and drained into the cache). */
  received: number
  /** Bytes of those packets (captured length). */
  bytes: number
  /** Packets the kernel (or libpcap) dropped: ring full, no fill buffers, socket buffer. */
  kernelDrops: number
  /** Packets a user-space filter dropped (JS filter, BPF on af_xdp). */
  filtered: number
  /** Frames the kernel finished sending. */
  sent: number
  txBytes: number
  /** Frames the kernel refused (TP_STATUS_WRONG_FORMAT, XDP tx_invalid_descs). */
  txInvalid: number
  /** XDP rx_invalid_descs. */
  rxInvalid: number
  /** TPACKET_V3 tp_freeze_q_cnt. */
  freeze: number
  /** libpcap ps_ifdrop. */
  ifDrops: number
  /** XDP rx_fill_ring_empty_descs. */
  fillRingEmpty: number
  /** Packets the kernel saw for this socket (PACKET_STATISTICS tp_packets, drops included). */
  kernelSeen: number
}

export interface SocketEvents {
  /** Packets are waiting: call recv()/recvBatch() until they return nothing. */
  readable: []
  /** The TX ring has room again. */
  writable: []
  error: [Error]
  /** An offline capture has delivered its last packet. */
  end: []
  close: []
}

const kOnPoll = Symbol('nethuns.onPoll')

/** Late binding between a native object (made first) and the Socket that receives its callbacks. */
export interface PollRelay {
  target: { [kOnPoll](status: number, events: number, drained: number): void } | null
  readonly callback: PollCallback
}

export function pollRelay(): PollRelay {
  const relay: PollRelay = {
    target: null,
    callback: (status, events, drained) => relay.target?.[kOnPoll](status, events, drained),
  }
  return relay
}

/** How a backend lays out transmission (see Socket's protected tx* members). */
export interface TxSetup {
  /** Where frames are written (a TX ring mapping, the UMEM, a staging area). */
  readonly bytes: Uint8Array
  /** Largest frame. */
  readonly maxLen: number
  /** Frame lengths of a submit batch, read natively. */
  readonly lens: Uint32Array
}

export interface SocketInit<M extends Metadata> {
  readonly portspec: string
  readonly queue: number | null
  readonly context: Context
  readonly native: NativeSocket
  readonly relay: PollRelay
  readonly reader: MetaReader<M>
  readonly batchSize: number
  readonly stashSize: number
  readonly filter?: FilterFn<M> | null
  readonly tx?: TxSetup | null
  /** Receiving is off (tx_only mode, or a transmit-only backend). */
  readonly noRx?: boolean
  /** False for sources without a pollable fd (capture files): wake-ups are scheduled with setImmediate. */
  readonly pollable?: boolean
  /** After a wake-up that drained less than a batch, re-arm polling only after this many ms (0: at once). */
  readonly coalesceMs?: number
}

interface Waiter {
  resolve(): void
  reject(e: unknown): void
}

/** The base class of AfPacketSocket, AfXdpSocket and PcapSocket. */
export abstract class Socket<M extends Metadata = Metadata>
  extends EventEmitter<SocketEvents>
  implements Disposable, AsyncIterable<[Payload, M]>
{
  abstract readonly backend: BackendName
  readonly portspec: string
  /** The queue bound (af_xdp), or null for "any queue" (af_packet, pcap). */
  readonly queue: number | null
  /** Packets per native receive call (the cache's capacity). */
  readonly batchSize: number

  protected readonly native: NativeSocket
  protected readonly state = new Int32Array(N('STATE_WORDS'))
  protected readonly counters = new Float64Array(N('COUNTER_WORDS'))
  protected readonly tx: TxSetup | null

  readonly #ctx: Context
  readonly #reader: MetaReader<M>
  readonly #stash: Uint32Array
  readonly #descs: Uint32Array
  readonly #meta: Uint32Array
  readonly #noRx: boolean
  readonly #pollable: boolean
  readonly #coalesceMs: number
  #coalesce: ReturnType<typeof setTimeout> | null = null
  #immediate: ReturnType<typeof setImmediate> | null = null
  #ended = false
  #filter: FilterFn<M> | null
  #head = 0
  #count = 0
  #closed = false
  #pollEvents = 0
  #needReadable = true
  #stalled = false
  #stallWait = false
  #rxWaiters: Waiter[] = []
  #txWaiters: Waiter[] = []
  #txPending = 0
  #txWritable = 0
  #reserved = -1
  #userRef = true
  /** PacketBatch.release() on this thread: buffers back into the stash (LIFO), no atomics. */
  readonly #recycler = (descs: Uint32Array, n: number): number => {
    if (this.#closed || this.#noRx) return 0
    const have = this.state[S_STASH]
    const m = Math.min(n, this.#stash.length - have)
    if (m <= 0) return 0
    this.#stash.set(m === descs.length ? descs : descs.subarray(0, m), have)
    this.state[S_STASH] = have + m
    return m
  }

  protected constructor(init: SocketInit<M>) {
    super()
    this.portspec = init.portspec
    this.queue = init.queue
    this.batchSize = init.batchSize
    this.native = init.native
    this.tx = init.tx ?? null
    this.#ctx = init.context
    this.#reader = init.reader
    this.#filter = init.filter ?? null
    this.#noRx = init.noRx === true
    this.#pollable = init.pollable !== false
    this.#coalesceMs = init.coalesceMs ?? 0
    this.#stash = new Uint32Array(init.stashSize)
    this.#descs = new Uint32Array(init.batchSize)
    this.#meta = new Uint32Array(init.batchSize * W)
    this.state[S_CACHE_EMPTY] = 1
    const pool = this.#ctx.pool
    if (!this.#noRx) {
      this.native.attach_rx(
        new Uint8Array(pool.buffer, pool.byteOffset, pool.bufSize * pool.count),
        pool.bufSize,
        this.#stash,
        this.state,
        this.#descs,
        this.#meta,
        this.counters,
      )
      this.refill()
    }
    init.relay.target = this
    const plain = this as unknown as EventEmitter
    plain.on('newListener', (ev: string | symbol) => {
      if (ev === 'readable' || ev === 'writable') queueMicrotask(() => this.#updatePoll())
    })
    plain.on('removeListener', (ev: string | symbol) => {
      if (ev === 'readable' || ev === 'writable') this.#updatePoll()
    })
  }

  /** The socket's Context (nethuns `context()`): its buffer pool, poolId and `packet(token)`. */
  context(): Context {
    return this.#ctx
  }

  get closed(): boolean {
    return this.#closed
  }

  /** True at the end of an offline capture once every packet was received. */
  get eof(): boolean {
    return this.state[S_EOF] !== 0 && this.#head >= this.#count
  }

  /** The socket's fd (for poll loops of your own), or -1 once closed. */
  get fd(): number {
    return this.#closed ? -1 : this.native.fd()
  }

  /** Replaces the user-space filter (null removes it). */
  setFilter(filter: FilterFn<M> | null): void {
    this.#filter = filter
  }

  // --- receive -------------------------------------------------------------------------------------------------

  /** Tops the stash of free descriptors up from the pool. */
  protected refill(): void {
    const have = this.state[S_STASH]
    const cap = this.#stash.length
    if (have * 2 > cap) return
    const n = this.#ctx.pool.allocBatch(have === 0 ? this.#stash : this.#stash.subarray(have), cap - have)
    this.state[S_STASH] = have + n
  }

  #live(): void {
    if (this.#closed) throw closedError(`${this.backend} socket '${this.portspec}'`)
  }

  /** Ensures the cache holds a packet; false when there is none right now. */
  #fill(): boolean {
    if (this.#head < this.#count) return true
    if (this.#closed || this.#noRx) return false
    this.state[S_CACHE_EMPTY] = 1
    this.refill()
    for (;;) {
      const n = this.native.rx(this.batchSize)
      this.onReceived()
      if (n < 0) throw errnoException(n, `${this.backend} receive`)
      this.#afterReceive()
      if (n === 0) {
        this.#head = this.#count = 0
        this.#needReadable = true
        this.#checkEnd()
        if (this.#rxWaiters.length > 0 || this.listenerCount('readable') > 0) this.#updatePoll()
        return false
      }
      const kept = this.#filter === null ? n : this.#applyFilter(this.#descs, this.#meta, 0, n)
      if (kept === 0) continue
      this.#head = 0
      this.#count = kept
      this.state[S_CACHE_EMPTY] = 0
      return true
    }
  }

  #afterReceive(): void {
    if (this.state[S_STALLED] !== 0 && this.state[S_STASH] === 0) {
      this.refill()
      if (this.state[S_STASH] === 0) this.#stalled = true
    } else {
      this.#stalled = false
    }
  }

  /** Runs the JS filter over records [from, from + n): drops, marks virtual packets, compacts. The kept count. */
  #applyFilter(descs: Uint32Array, meta: Uint32Array, from: number, n: number): number {
    const f = this.#filter!
    const pool = this.#ctx.pool
    let k = from
    for (let i = from; i < from + n; i++) {
      const b = i * W
      const bytes = new Uint8Array(pool.buffer, pool.byteOffset + descs[i] * pool.bufSize, meta[b + M_CAPLEN])
      const r = f(bytes, this.#reader(meta, b))
      if (r === 0) {
        pool.release(descs[i])
        this.counters[C.filtered] += 1
        continue
      }
      if (r < 0) {
        meta[b + M_CAPLEN] = 0
        meta[b + M_INFO] |= INFO_VIRTUAL
      }
      if (k !== i) {
        descs[k] = descs[i]
        meta.copyWithin(k * W, b, b + W)
      }
      k++
    }
    return k - from
  }

  #take(): number {
    const i = this.#head++
    if (this.#head >= this.#count) this.state[S_CACHE_EMPTY] = 1
    return i
  }

  #checkEnd(): void {
    if (!this.#ended && this.state[S_EOF] !== 0 && this.#head >= this.#count) {
      this.#ended = true
      queueMicrotask(() => this.emit('end'))
    }
  }

  /** The next packet as a Payload (release it!) and its metadata, or null when none is waiting. */
  recv(): [Payload, M] | null {
    this.#live()
    if (!this.#fill()) return null
    const i = this.#take()
    const b = i * W
    const p = this.#ctx.pool.packet(token(this.#descs[i], this.#meta[b + M_CAPLEN], this.#ctx.poolId))
    return [p, this.#reader(this.#meta, b)]
  }

  /** The next packet as a Token (consume it with `context().packet(token)`, in any thread), or null. */
  recvToken(): [Token, M] | null {
    this.#live()
    if (!this.#fill()) return null
    const i = this.#take()
    const b = i * W
    return [token(this.#descs[i], this.#meta[b + M_CAPLEN], this.#ctx.poolId), this.#reader(this.#meta, b)]
  }

  /**
   * Receives up to `max` packets into a caller-owned batch (appending to what it holds): the count added. One
   * native call per batch, no object per packet. Release the batch (or take() its packets) when done.
   */
  recvBatch(batch: PacketBatch<Metadata>, max: number = batch.capacity - batch.count): number {
    this.#live()
    batch.bindTo(this.#ctx, this.#reader, this.#recycler)
    let room = Math.min(max, batch.capacity - batch.count)
    let added = 0
    // Packets a wake-up already drained into the cache go first.
    while (room > 0 && this.#head < this.#count) {
      const take = Math.min(room, this.#count - this.#head)
      const to = batch.count + added
      batch.descs.set(this.#descs.subarray(this.#head, this.#head + take), to)
      batch.meta.set(this.#meta.subarray(this.#head * W, (this.#head + take) * W), to * W)
      this.#head += take
      added += take
      room -= take
    }
    if (this.#head >= this.#count) this.state[S_CACHE_EMPTY] = 1
    while (room > 0 && !this.#noRx) {
      this.refill()
      const to = batch.count + added
      const n = this.native.rx(
        Math.min(room, this.#stash.length),
        to === 0 ? batch.descs : batch.descs.subarray(to),
        to === 0 ? batch.meta : batch.meta.subarray(to * W),
      )
      this.onReceived()
      if (n < 0) throw errnoException(n, `${this.backend} receive`)
      this.#afterReceive()
      if (n === 0) break
      const kept = this.#filter === null ? n : this.#applyFilter(batch.descs, batch.meta, to, n)
      added += kept
      room -= kept
      if (this.state[S_STASH] === 0 && this.state[S_STALLED] !== 0) break
    }
    batch.count += added
    if (added === 0) {
      this.#needReadable = true
      this.#checkEnd()
      if (this.#rxWaiters.length > 0 || this.listenerCount('readable') > 0) this.#updatePoll()
    }
    return added
  }

  /** Resolves when recv() has a packet (or at the end of an offline capture); rejects when the socket closes. */
  readable(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(closedError(`${this.backend} socket '${this.portspec}'`))
    if (this.#noRx) {
      return Promise.reject(
        new NethunsError('ERR_NETHUNS_DIRECTION', `${this.backend} socket '${this.portspec}' does not receive`),
      )
    }
    if (this.#fill() || this.eof) return Promise.resolve()
    return this.#wait(this.#rxWaiters, signal)
  }

  #wait(list: Waiter[], signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const onAbort = (): void => {
        const i = list.indexOf(w)
        if (i >= 0) list.splice(i, 1)
        this.#updatePoll()
        reject(signal!.reason)
      }
      const w: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      list.push(w)
      this.#updatePoll()
    })
  }

  /** Every packet until close() (or the end of an offline capture). Release each payload. */
  async *[Symbol.asyncIterator](): AsyncGenerator<[Payload, M], void, undefined> {
    for (;;) {
      const r = this.#closed ? null : this.recv()
      if (r !== null) {
        yield r
        continue
      }
      if (this.#closed || this.eof) return
      try {
        await this.readable()
      } catch (e) {
        if (this.#closed) return
        throw e
      }
    }
  }

  /**
   * Batches until close() or EOF: the same PacketBatch each time, released automatically when the loop asks for
   * the next one (take() packets to keep them).
   */
  async *batches<B extends PacketBatch<Metadata>>(batch: B): AsyncGenerator<B, void, undefined> {
    try {
      for (;;) {
        batch.release()
        const n = this.#closed ? 0 : this.recvBatch(batch)
        if (n > 0) {
          yield batch
          continue
        }
        if (this.#closed || this.eof) return
        try {
          await this.readable()
        } catch (e) {
          if (this.#closed) return
          throw e
        }
      }
    } finally {
      batch.release()
    }
  }

  // --- readiness -----------------------------------------------------------------------------------------------

  /**
   * Arms or disarms the fd's uv_poll for what is wanted. Dropping interest is lazy (`lazy`): the handle stays armed,
   * unref'd, until the next wake-up stops it, so a loop of readable() waits costs no epoll_ctl per wake-up. A stall
   * stops at once (the fd is level-triggered and would wake the loop for nothing).
   */
  #updatePoll(lazy = true): void {
    if (this.#closed) return
    const read =
      !this.#noRx &&
      !this.#stalled &&
      this.#coalesce === null &&
      this.state[S_EOF] === 0 &&
      (this.#rxWaiters.length > 0 || (this.#needReadable && this.listenerCount('readable') > 0))
    const write = this.#txWaiters.length > 0 || this.listenerCount('writable') > 0
    if (!this.#pollable) {
      if ((read || write) && this.#immediate === null) {
        this.#immediate = setImmediate(() => {
          this.#immediate = null
          if (this.#closed) return
          this.#wakeIfReady()
          this.#updatePoll()
        })
      }
      return
    }
    const ev = (read ? READABLE : 0) | (write ? WRITABLE : 0)
    if (ev === this.#pollEvents) {
      if (ev !== 0 && this.#userRef) this.native.ref()
      return
    }
    if (
      lazy &&
      (ev & ~this.#pollEvents) === 0 &&
      !this.#stalled &&
      this.#coalesce === null &&
      this.state[S_EOF] === 0
    ) {
      if (ev === 0) this.native.unref() // keep it armed, but do not keep the process alive for it
      return
    }
    this.#pollEvents = ev
    const r = ev === 0 ? this.native.poll_stop() : this.native.poll_start(ev)
    if (r < 0) this.#fail(errnoException(r, 'uv_poll_start'))
    if (ev !== 0 && this.#userRef) this.native.ref()
    if (this.#stalled && (this.#rxWaiters.length > 0 || this.listenerCount('readable') > 0)) void this.#awaitBuffers()
  }

  /** Every buffer is held by the application: wait (without polling the fd) until one comes back. */
  async #awaitBuffers(): Promise<void> {
    if (this.#stallWait) return
    this.#stallWait = true
    try {
      while (this.#stalled && !this.#closed) {
        const d = await this.#ctx.pool.allocAsync(50)
        if (d < 0) continue
        if (this.#closed) {
          this.#ctx.pool.release(d)
          return
        }
        const have = this.state[S_STASH]
        if (have < this.#stash.length) {
          this.#stash[have] = d
          this.state[S_STASH] = have + 1
        } else {
          this.#ctx.pool.release(d)
        }
        this.#stalled = false
        this.onBuffersBack()
      }
    } finally {
      this.#stallWait = false
    }
    if (!this.#closed) {
      this.#wakeIfReady()
      this.#updatePoll()
    }
  }

  #wakeIfReady(): void {
    if (!this.#fill() && !this.eof) return
    this.#needReadable = false
    const ws = this.#rxWaiters
    this.#rxWaiters = []
    for (const w of ws) w.resolve()
    this.emit('readable')
  }

  [kOnPoll](status: number, events: number, drained: number): void {
    if (this.#closed) return
    try {
      this.#onPoll(status, events, drained)
    } catch (e) {
      this.#fail(e as Error)
    }
  }

  #onPoll(status: number, events: number, drained: number): void {
    if (status < 0) {
      const own = this.pollFailure(status)
      if (own !== null) {
        this.#pollEvents = 0
        this.#fail(own)
        return
      }
      let err = status
      try {
        const so = socketError(this.native.fd())
        if (so > 0) err = -so
      } catch {
        // not a socket (a pcap fd that is not one)
      }
      this.#pollEvents = 0
      this.#fail(errnoException(err, 'poll'))
      return
    }
    this.onReceived()
    if (drained > 0) {
      this.#afterReceive()
      const kept = this.#filter === null ? drained : this.#applyFilter(this.#descs, this.#meta, 0, drained)
      this.#head = 0
      this.#count = kept
      this.state[S_CACHE_EMPTY] = kept === 0 ? 1 : 0
    } else if (this.state[S_STALLED] !== 0) {
      this.#afterReceive()
    }
    if (events & READABLE) {
      this.#wakeIfReady()
      // Interrupt coalescing in user space: a partial batch means packets trickle in one wake-up each; let the ring
      // collect them for coalesceMs instead (the kernel's own batching, TPACKET_V3 blocks, does this for af_packet).
      if (this.#coalesceMs > 0 && drained < this.batchSize && this.#coalesce === null) {
        this.#coalesce = setTimeout(() => {
          this.#coalesce = null
          if (this.#closed) return
          this.#wakeIfReady()
          this.#updatePoll(false)
        }, this.#coalesceMs)
        if (!this.#userRef) this.#coalesce.unref()
      }
    }
    if (events & WRITABLE && this.#txWaiters.length + this.listenerCount('writable') > 0) {
      const ws = this.#txWaiters
      this.#txWaiters = []
      for (const w of ws) w.resolve()
      this.emit('writable')
    }
    this.#updatePoll(false)
  }

  #fail(e: Error): void {
    const ws = [...this.#rxWaiters, ...this.#txWaiters]
    this.#rxWaiters = []
    this.#txWaiters = []
    for (const w of ws) w.reject(e)
    if (this.listenerCount('error') > 0) this.emit('error', e)
    else if (ws.length === 0) throw e
  }

  /** Keeps the event loop alive while waiting (the default). */
  ref(): this {
    this.#userRef = true
    if (!this.#closed && this.#pollEvents !== 0) this.native.ref()
    return this
  }

  /** Lets the process exit while this socket waits for packets. */
  unref(): this {
    this.#userRef = false
    if (!this.#closed) this.native.unref()
    return this
  }

  // --- transmit ------------------------------------------------------------------------------------------------

  /** Frames JS may write now (pending ones included). */
  protected abstract txAvail(): number
  /** Byte offset in tx.bytes of pending frame k, or -1 if there is no buffer for it. */
  protected abstract txOffset(k: number): number
  /** Submits pending frames [0, n) and kicks the kernel when `kick`; n or -errno. */
  protected abstract txSubmit(n: number, kick: boolean): number

  #txLive(): TxSetup {
    this.#live()
    if (this.tx === null) {
      throw new NethunsError('ERR_NETHUNS_DIRECTION', `${this.backend} socket '${this.portspec}' cannot transmit`)
    }
    return this.tx
  }

  #tooBig(len: number, tx: TxSetup): NethunsError {
    return new NethunsError('ERR_NETHUNS_TOO_BIG', `Too big packet: ${len} (at most ${tx.maxLen} bytes)`, {
      kind: 'TooBigPacket',
      size: len,
    })
  }

  #slot(): number {
    if (this.#txPending >= this.#txWritable) {
      this.#txWritable = this.txAvail()
      if (this.#txPending >= this.#txWritable) return -1
    }
    return this.txOffset(this.#txPending)
  }

  /**
   * Copies a frame into the next free TX slot: false when the ring is full (flush() and retry, or await
   * writable()). Frames go out at flush().
   */
  send(bytes: Uint8Array): boolean {
    const tx = this.#txLive()
    const len = bytes.byteLength
    if (len > tx.maxLen) throw this.#tooBig(len, tx)
    if (this.#reserved >= 0) throw new NethunsError('ERR_NETHUNS_FLAGS', 'commitTx() the reserved frame first')
    const off = this.#slot()
    if (off < 0) return false
    tx.bytes.set(bytes, off)
    tx.lens[this.#txPending++] = len
    return true
  }

  /** Sends frames[0, n) (copies) and flushes: how many were queued (fewer when the ring filled up). */
  sendBatch(frames: ArrayLike<Uint8Array>, n: number = frames.length): number {
    let k = 0
    while (k < n && this.send(frames[k])) k++
    this.flush()
    return k
  }

  /**
   * Zero-copy TX (C nethuns `get_buf_addr` + `send_slot`): a view of the next free frame (write the packet into
   * it), or null when the ring is full. commitTx(len) queues it.
   */
  reserveTx(): Uint8Array | null {
    const tx = this.#txLive()
    if (this.#reserved >= 0) return tx.bytes.subarray(this.#reserved, this.#reserved + tx.maxLen)
    const off = this.#slot()
    if (off < 0) return null
    this.#reserved = off
    return tx.bytes.subarray(off, off + tx.maxLen)
  }

  /** Queues the frame from reserveTx() with `len` bytes. */
  commitTx(len: number): void {
    const tx = this.#txLive()
    if (this.#reserved < 0) throw new NethunsError('ERR_NETHUNS_FLAGS', 'commitTx() without reserveTx()')
    if (!Number.isInteger(len) || len < 0) throw new RangeError(`length must be a non-negative integer, got ${len}`)
    if (len > tx.maxLen) throw this.#tooBig(len, tx)
    this.#reserved = -1
    tx.lens[this.#txPending++] = len
  }

  /** Frames queued and not yet flushed. */
  get pending(): number {
    return this.#txPending
  }

  /** Submits the queued frames and kicks the kernel (nethuns `flush()`). */
  flush(): void {
    if (this.#closed || this.tx === null) return
    const n = this.#txPending
    this.#txPending = 0
    this.#txWritable = 0
    this.state[S_TX_ERRNO] = 0
    const r = this.txSubmit(n, true)
    if (r < 0) throw errnoException(r, `${this.backend} send`)
    const err = this.state[S_TX_ERRNO]
    if (err !== 0) {
      this.state[S_TX_ERRNO] = 0
      throw errnoException(-err, `${this.backend} send (kick)`)
    }
  }

  /** Resolves when send() can queue a frame again. */
  writable(signal?: AbortSignal): Promise<void> {
    this.#txLive()
    if (this.#txPending < this.txAvail()) return Promise.resolve()
    return this.#wait(this.#txWaiters, signal)
  }

  /** send(), flushing and waiting for room when the ring is full. */
  async sendAsync(bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
    while (!this.send(bytes)) {
      this.flush()
      if (this.send(bytes)) return
      await this.writable(signal)
    }
  }

  // --- stats, close --------------------------------------------------------------------------------------------

  stats(): SocketStats {
    if (!this.#closed) this.native.stats()
    const c = this.counters
    return {
      received: c[C.received],
      bytes: c[C.bytes],
      kernelDrops: c[C.kernelDrops],
      filtered: c[C.filtered],
      sent: c[C.sent],
      txBytes: c[C.txBytes],
      txInvalid: c[C.txInvalid],
      rxInvalid: c[C.rxInvalid],
      freeze: c[C.freeze],
      ifDrops: c[C.ifDrops],
      fillRingEmpty: c[C.fillRingEmpty],
      kernelSeen: c[C.kernelSeen],
    }
  }

  /** Backend hook: the error behind a failed wake-up (status < 0), when the backend knows it better than errno. */
  protected pollFailure(_status: number): Error | null {
    return null
  }

  /** Backend hook run by close() after the native close (e.g. releasing TX buffers never submitted). */
  protected onClose(): void {}

  /** Backend hook run after every native receive (af_xdp releases frames a BPF filter dropped). */
  protected onReceived(): void {}

  /** Backend hook run when buffers came back after a stall (af_xdp refills the fill ring). */
  protected onBuffersBack(): void {}

  /**
   * Stops polling, unmaps the rings, closes the fd; pending waits reject with ERR_NETHUNS_CLOSED and iterators end.
   * Payloads already received stay valid (their Context outlives the socket). Idempotent.
   */
  close(): void {
    if (this.#closed) return
    try {
      this.native.stats()
    } catch {
      // the statistics are best effort at close
    }
    this.#closed = true
    this.#stalled = false
    if (this.#immediate !== null) clearImmediate(this.#immediate)
    this.#immediate = null
    if (this.#coalesce !== null) clearTimeout(this.#coalesce)
    this.#coalesce = null
    this.native.close()
    this.onClose()
    const pool = this.#ctx.pool
    const cached = this.#count - this.#head
    if (cached > 0) pool.releaseBatch(this.#descs.subarray(this.#head, this.#count), cached)
    this.#head = this.#count = 0
    const stashed = this.state[S_STASH]
    if (stashed > 0) pool.releaseBatch(this.#stash, stashed)
    this.state[S_STASH] = 0
    const e = closedError(`${this.backend} socket '${this.portspec}'`)
    const ws = [...this.#rxWaiters, ...this.#txWaiters]
    this.#rxWaiters = []
    this.#txWaiters = []
    for (const w of ws) w.reject(e)
    this.emit('close')
  }

  [Symbol.dispose](): void {
    this.close()
  }
}
