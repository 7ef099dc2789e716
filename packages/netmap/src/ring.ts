// ring.ts: TxRing / RxRing / Frame over a RingView, the one ring-walking code path of both backends (netmap-rs's
// API: send, reserveBatch/commit, recv, recvBatch, sync). Only head and cur are written; tail is the kernel's.
import { EventEmitter } from 'node:events'
import { setImmediate as yieldTurn } from 'node:timers/promises'
import { NS_MOREFRAG, type RingView } from '@x/ring'
import { NetmapError } from './errors.js'

/** The promise a wait returns when it is already over (no allocation on the hot path); compared by identity. */
export const RESOLVED: Promise<void> = Promise.resolve()

/** What a backend gives a ring: the sync and a readiness wait. */
export interface RingDriver {
  sync(): void
  /** Resolves when a sync would make progress (packets for RX, space for TX). */
  wait(signal?: AbortSignal): Promise<void>
  /** Would a sync make progress right now? */
  ready(): boolean
}

export interface RingEvents {
  /** RX: packets are waiting (after a sync); TX: slots are free. Level-triggered: drain, or it fires again. */
  readable: []
  writable: []
  error: [Error]
}

abstract class Ring extends EventEmitter<RingEvents> {
  readonly view: RingView
  readonly index: number
  readonly numSlots: number
  readonly bufSize: number
  protected readonly driver: RingDriver
  // The ring's memory for loops that walk the slots themselves, as netmap's C programs do (see "Walking a ring
  // yourself" in the README): slot k's buffer is u8[bufBase + slots[4k] * bufSize …], its length
  // slots[4k + 1] & 0xffff and its flags slots[4k + 1] >>> 16 (little-endian hosts); head/cur/tail are `view`'s.
  /** The whole region (every ring and buffer of the port), as bytes. */
  readonly u8: Uint8Array
  /** Byte offset in `u8` of buffer 0: NETMAP_BUF(ring, i) is `bufBase + i * bufSize`. */
  readonly bufBase: number
  /** The slot array as 32-bit words, 4 per slot: buf_idx at [4k], len | flags << 16 at [4k + 1], ptr at [4k + 2…3]. */
  readonly slots: Uint32Array

  #watch: AbortController | null = null

  constructor(view: RingView, index: number, driver: RingDriver) {
    super()
    this.view = view
    this.index = index
    this.numSlots = view.numSlots
    this.bufSize = view.nrBufSize
    this.driver = driver
    this.u8 = new Uint8Array(view.buffer)
    this.bufBase = view.byteOffset + view.bufOfs
    this.slots = new Uint32Array(view.buffer, view.byteOffset + 256, this.numSlots * 4)
  }

  /** NIOCTXSYNC / NIOCRXSYNC for this ring (shm: the ported kernel sync; prologue violations throw SyncError). */
  sync(): void {
    this.driver.sync()
  }

  protected abstract readonly eventName: 'readable' | 'writable'
  protected abstract waitReady(signal: AbortSignal): Promise<void>

  /** Starts or stops the readiness loop as listeners come and go (a wait on the doorbell, never a busy loop). */
  protected watchEvents(): void {
    const self = this as EventEmitter
    self.on('newListener', (ev: string | symbol) => {
      if (ev === this.eventName && this.#watch === null) queueMicrotask(() => this.#loop())
    })
    self.on('removeListener', (ev: string | symbol) => {
      if (ev === this.eventName && this.listenerCount(ev) === 0) {
        this.#watch?.abort()
        this.#watch = null
      }
    })
  }

  async #loop(): Promise<void> {
    if (this.#watch !== null || this.listenerCount(this.eventName) === 0) return
    const ac = new AbortController()
    this.#watch = ac
    try {
      while (!ac.signal.aborted) {
        await this.waitReady(ac.signal)
        if (ac.signal.aborted) break
        this.emit(this.eventName as 'readable')
        await yieldTurn() // level-triggered: let other work run before re-checking
      }
    } catch (err) {
      if (!ac.signal.aborted) this.emit('error', err as Error)
    } finally {
      if (this.#watch === ac) this.#watch = null
    }
  }

  /** Stops the readiness loop (close() of the port does it too). */
  stopEvents(): void {
    this.#watch?.abort()
    this.#watch = null
  }

  /** nm_ring_space. */
  get space(): number {
    return this.view.space()
  }

  /** Byte offset in `u8` of slot `slot`'s buffer (NETMAP_BUF(ring, ring->slot[slot].buf_idx)). */
  slotBufOffset(slot: number): number {
    return this.bufBase + this.view.bufIdx(slot) * this.bufSize
  }
}

/** A view of the slots `reserveBatch` handed out; fill them with `packet(i, len)`, then `commit(k)`. */
export class BatchReservation {
  readonly count: number
  readonly #ring: TxRing
  readonly #first: number
  #done = false

  /** @internal */
  constructor(ring: TxRing, first: number, count: number) {
    this.#ring = ring
    this.#first = first
    this.count = count
  }

  /** Sets slot i's length and returns a writable view of its buffer (zero-copy). */
  packet(i: number, len: number): Uint8Array {
    if (this.#done) throw new NetmapError('InsufficientSpace', 'reservation already committed')
    if (!(i >= 0 && i < this.count)) throw new NetmapError('InvalidRingIndex', `packet ${i} of ${this.count}`)
    return this.#ring.slotView(this.#ring.view.advance(this.#first, i), len)
  }

  /** Publishes the first k (default all) packets: head = cur = first + k. Does not sync. */
  commit(k = this.count): void {
    if (this.#done) return
    if (!(k >= 0 && k <= this.count)) throw new NetmapError('InsufficientSpace', `commit ${k} of ${this.count}`)
    this.#done = true
    this.#ring.advance(k)
  }
}

export class TxRing extends Ring {
  protected readonly eventName = 'writable'

  constructor(view: RingView, index: number, driver: RingDriver) {
    super(view, index, driver)
    this.watchEvents()
  }

  protected waitReady(signal: AbortSignal): Promise<void> {
    return this.ready(1, signal)
  }

  /** The largest packet `send` takes: NETMAP_MAX_FRAGS buffers chained with NS_MOREFRAG. */
  get maxPayloadSize(): number {
    return this.bufSize * 64
  }

  /**
   * Copies one packet into the slot(s) at head and advances head and cur (no sync). Packets larger than a buffer
   * take several slots chained with NS_MOREFRAG. Returns false when the ring has too few free slots (the
   * netmap-rs WouldBlock, without allocating an Error); throws PacketTooLarge above `maxPayloadSize`.
   */
  send(bytes: Uint8Array): boolean {
    const len = bytes.byteLength
    const v = this.view
    const bs = this.bufSize
    if (len <= bs) {
      const head = v.head
      if (head === v.tail) return false
      this.u8.set(bytes, this.slotBufOffset(head))
      v.setLen(head, len)
      v.setSlotFlags(head, 0)
      const next = head + 1 === this.numSlots ? 0 : head + 1
      v.head = next
      v.cur = next
      return true
    }
    if (len > this.maxPayloadSize)
      throw new NetmapError('PacketTooLarge', `packet of ${len} bytes exceeds ${this.maxPayloadSize}`)
    const frags = Math.ceil(len / bs)
    if (v.space() < frags) return false
    let head = v.head
    for (let f = 0, o = 0; f < frags; f++, o += bs) {
      const n = Math.min(bs, len - o)
      this.u8.set(bytes.subarray(o, o + n), this.slotBufOffset(head))
      v.setLen(head, n)
      v.setSlotFlags(head, f < frags - 1 ? NS_MOREFRAG : 0)
      head = v.next(head)
    }
    v.head = head
    v.cur = head
    return true
  }

  /** send(), throwing WouldBlock instead of returning false. */
  sendOrThrow(bytes: Uint8Array): void {
    if (!this.send(bytes)) throw new NetmapError('WouldBlock', 'TX ring is full')
  }

  /** Reserves up to n free slots from head (fewer when the ring has less space; count 0 when full). */
  reserveBatch(n: number): BatchReservation {
    return new BatchReservation(this, this.view.head, Math.min(n, this.view.space()))
  }

  /** @internal */
  slotView(slot: number, len: number): Uint8Array {
    if (!(len >= 0 && len <= this.bufSize))
      throw new NetmapError('PacketTooLarge', `packet of ${len} bytes exceeds the ${this.bufSize}-byte buffer`)
    this.view.setLen(slot, len)
    this.view.setSlotFlags(slot, 0)
    return new Uint8Array(this.u8.buffer, this.slotBufOffset(slot), len)
  }

  /** @internal head = cur = head + k. */
  advance(k: number): void {
    const h = this.view.advance(this.view.head, k)
    this.view.head = h
    this.view.cur = h
  }

  /**
   * Zero-allocation batch fill: calls fill(u8, offset, slotIndex) for up to n free slots, which writes the packet at
   * u8[offset…] and returns its length; then head/cur advance. Returns the count. (For benchmarks and pkt-gen.)
   */
  fill(n: number, fill: (u8: Uint8Array, offset: number, i: number) => number): number {
    const v = this.view
    const count = Math.min(n, v.space())
    const s32 = this.slots
    const u8 = this.u8
    const base = this.bufBase
    const bs = this.bufSize
    const ns = this.numSlots
    let h = v.head
    for (let i = 0; i < count; i++) {
      const len = fill(u8, base + s32[h * 4]! * bs, i)
      s32[h * 4 + 1] = len & 0xffff // len, flags = 0
      h = h + 1 === ns ? 0 : h + 1
    }
    v.head = h
    v.cur = h
    return count
  }

  /** Resolves when the ring has at least `min` free slots (syncing as it goes; no allocation when it has them). */
  ready(min = 1, signal?: AbortSignal): Promise<void> {
    try {
      this.sync()
      if (this.space >= min) return RESOLVED
      const w = this.driver.wait(signal)
      if (w === RESOLVED) {
        this.sync()
        if (this.space >= min) return RESOLVED
      }
      return this.#readyWait(min, signal, w)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async #readyWait(min: number, signal: AbortSignal | undefined, w: Promise<void>): Promise<void> {
    for (;;) {
      await w
      this.sync()
      if (this.space >= min) return
      w = this.driver.wait(signal)
    }
  }
}

/** One received packet. `payload()` is a zero-copy view valid until the next RX sync; `copy()` keeps it. */
export class Frame {
  readonly #u8: Uint8Array
  readonly #off: number
  readonly length: number
  readonly #parts: readonly [number, number][] | null

  /** @internal */
  constructor(u8: Uint8Array, off: number, length: number, parts: readonly [number, number][] | null = null) {
    this.#u8 = u8
    this.#off = off
    this.length = length
    this.#parts = parts
  }

  get isEmpty(): boolean {
    return this.length === 0
  }

  /** The bytes, zero-copy for a one-slot packet (a copy for a NS_MOREFRAG chain). Valid until the next sync. */
  payload(): Uint8Array {
    if (this.#parts === null) return new Uint8Array(this.#u8.buffer, this.#off, this.length)
    return this.copy()
  }

  /** A copy that outlives the ring. */
  copy(): Uint8Array {
    const out = new Uint8Array(this.length)
    if (this.#parts === null) out.set(new Uint8Array(this.#u8.buffer, this.#off, this.length))
    else {
      let o = 0
      for (const [off, n] of this.#parts) {
        out.set(new Uint8Array(this.#u8.buffer, off, n), o)
        o += n
      }
    }
    return out
  }
}

export class RxRing extends Ring {
  protected readonly eventName = 'readable'

  constructor(view: RingView, index: number, driver: RingDriver) {
    super(view, index, driver)
    this.watchEvents()
  }

  protected waitReady(signal: AbortSignal): Promise<void> {
    return this.ready(signal)
  }

  /**
   * The packet at head, or null when head == tail (call sync() first). Advances head and cur past it: the slot
   * goes back at the next sync, which is also when `payload()` stops being valid. A NS_MOREFRAG chain is one Frame.
   */
  recv(): Frame | null {
    const v = this.view
    const head = v.head
    const tail = v.tail
    if (head === tail) return null
    const len = v.len(head)
    if ((v.slotFlags(head) & NS_MOREFRAG) === 0) {
      const next = head + 1 === this.numSlots ? 0 : head + 1
      v.head = next
      v.cur = next
      return new Frame(this.u8, this.slotBufOffset(head), len)
    }
    const parts: [number, number][] = []
    let total = 0
    let k = head
    for (;;) {
      if (k === tail)
        throw new NetmapError('SyncError', 'NS_MOREFRAG chain not complete (the pipe publishes whole packets)')
      const n = v.len(k)
      parts.push([this.slotBufOffset(k), n])
      total += n
      const more = (v.slotFlags(k) & NS_MOREFRAG) !== 0
      k = v.next(k)
      if (!more) break
    }
    v.head = k
    v.cur = k
    return new Frame(this.u8, parts[0]![0], total, parts)
  }

  /** Up to `max` frames (or as many as fit in `out`, filled from index 0): the count. */
  recvBatch(out: Frame[] | number): Frame[] {
    const max = typeof out === 'number' ? out : out.length
    const res: Frame[] = []
    for (let i = 0; i < max; i++) {
      const f = this.recv()
      if (f === null) break
      res.push(f)
    }
    return res
  }

  /**
   * Zero-allocation drain of up to `max` slots: calls fn(u8, offset, len) for each, advances head/cur. Returns the
   * count. Each slot is one call, so a NS_MOREFRAG chain (a packet longer than a buffer: pipes whose sender chains,
   * NIC ports with an MTU above ~2026) comes as its fragments (the flag in `view.slotFlags(slot)`); `recv` reassembles.
   * (For benchmarks and pkt-gen, whose packets fit a buffer.)
   */
  drain(max: number, fn: (u8: Uint8Array, offset: number, len: number) => void): number {
    const v = this.view
    const count = Math.min(max, v.space())
    const s32 = this.slots
    const u8 = this.u8
    const base = this.bufBase
    const bs = this.bufSize
    const ns = this.numSlots
    let h = v.head
    for (let i = 0; i < count; i++) {
      const w = h * 4
      fn(u8, base + s32[w]! * bs, s32[w + 1]! & 0xffff)
      h = h + 1 === ns ? 0 : h + 1
    }
    v.head = h
    v.cur = h
    return count
  }

  /**
   * Deferred release: hold the frames returned since `mark()` by moving cur only; `release()` then sets head = cur.
   * Here: peek at the slot `i` places after head without consuming it (one slot: a NS_MOREFRAG fragment when the
   * packet is longer than a buffer).
   */
  peek(i = 0): Frame | null {
    const v = this.view
    if (i >= v.space()) return null
    const k = v.advance(v.head, i)
    return new Frame(this.u8, this.slotBufOffset(k), v.len(k))
  }

  /** Releases n slots from head (after peek): head = cur = head + n. */
  release(n: number): void {
    if (!(n >= 0 && n <= this.view.space()))
      throw new NetmapError('InvalidRingIndex', `release ${n} of ${this.view.space()}`)
    const h = this.view.advance(this.view.head, n)
    this.view.head = h
    this.view.cur = h
  }

  /** Resolves when the ring holds a packet (syncing as it goes; no allocation when it does). */
  ready(signal?: AbortSignal): Promise<void> {
    try {
      this.sync()
      if (this.space > 0) return RESOLVED
      const w = this.driver.wait(signal)
      if (w === RESOLVED) {
        this.sync()
        if (this.space > 0) return RESOLVED
      }
      return this.#readyWait(signal, w)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  async #readyWait(signal: AbortSignal | undefined, w: Promise<void>): Promise<void> {
    for (;;) {
      await w
      this.sync()
      if (this.space > 0) return
      w = this.driver.wait(signal)
    }
  }

  /** The next packet, waiting (no busy loop) if none is there. */
  async next(signal?: AbortSignal): Promise<Frame> {
    for (;;) {
      const f = this.recv()
      if (f) return f
      await this.ready(signal)
    }
  }

  /** Frames as they arrive, forever (break to stop). Each frame is valid until the iteration after the next sync. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Frame, void, undefined> {
    for (;;) {
      const f = this.recv()
      if (f) yield f
      else await this.ready()
    }
  }
}
