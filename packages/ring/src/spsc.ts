// spsc.ts: SpscRing, a single-producer single-consumer ring of fixed-size u32 records in a SharedArrayBuffer.

import { RingError } from './errors.js'
import { checkInt, isSharedArrayBuffer, nextPowerOfTwo, type U32Array } from './util.js'
import { ring, ringAll, waitAsync, waitSync } from './wait.js'

// Layout (Int32 word indices; see README "SpscRing layout").
const MAGIC = 0x58525331 // 'XRS1'
const VERSION = 1
const H_MAGIC = 0
const H_VERSION = 1
const H_CAPACITY = 2
const H_WORDS = 3
const H_CLOSED = 4
const WRITE = 16 // producer index (records pushed, free-running u32), own cache line
const READ = 32 // consumer index (records popped, free-running u32), own cache line
const NOT_EMPTY = 48 // doorbell the consumer sleeps on: seq 48, waiters 49
const NOT_FULL = 64 // doorbell the producer sleeps on: seq 64, waiters 65
/** Byte offset of record 0 in an SpscRing buffer. */
export const SPSC_DATA_OFFSET = 512

const MAX_CAPACITY = 1 << 30
// Copies of at least this many words go through TypedArray.prototype.set (a memmove); shorter ones are a loop.
const COPY_WITH_SET = 64
const INF = Number.POSITIVE_INFINITY

export interface SpscOptions {
  /** Records the ring holds; rounded up to a power of two. */
  readonly capacity: number
  /** u32 words per record (default 1; a Token is TOKEN_WORDS = 3). */
  readonly recordWords?: number
  /** Polls before a blocking call sleeps (default 256). Per handle, not shared. */
  readonly spin?: number
}

const kAttach = Symbol('attach')
type SpscInit = SpscOptions & { readonly [kAttach]?: SharedArrayBuffer }

/** What `ring.share()` returns and `SpscRing.attach()` takes: plain data, postMessage-able. */
export interface SpscDescriptor {
  readonly kind: 'x-ring/spsc'
  readonly version: 1
  readonly buffer: SharedArrayBuffer
}

/**
 * A bounded single-producer single-consumer queue of records of `recordWords` u32 words. Give one handle to the
 * producer thread and one (`attach(share())`) to the consumer thread; each side keeps a cached copy of the other
 * side's index and publishes its own index once per call, so `pushBatch`/`popBatch` cost two atomic operations per
 * batch, not per record.
 *
 * - non-blocking: `tryPush`/`tryPop` (one u32), `pushBatch`/`popBatch` (many records)
 * - blocking (Atomics.wait; allowed on Node's main thread but it blocks the event loop): `push`/`pop`,
 *   `pushBatchWait`/`popBatchWait`
 * - async (Atomics.waitAsync): `readable()`/`writable()`, `popAsync`, `pushBatchAsync`/`popBatchAsync`
 *
 * Sleepers are woken only if they said they sleep (a doorbell word), so a busy ring makes no notify calls.
 * `close()` (by the producer, after its last push) lets the consumer drain what is left and then see the end.
 */
export class SpscRing {
  readonly buffer: SharedArrayBuffer
  /** Records the ring holds (a power of two). */
  readonly capacity: number
  readonly recordWords: number
  readonly #ctl: Int32Array
  readonly #data: Uint32Array
  readonly #mask: number
  readonly #spin: number
  #readCache: number
  #writeCache: number

  /** Bytes of the SharedArrayBuffer of a ring of `capacity` (rounded up to a power of two) records. */
  static byteLength(capacity: number, recordWords = 1): number {
    return SPSC_DATA_OFFSET + 4 * nextPowerOfTwo(capacity) * recordWords
  }

  constructor(options: SpscOptions) {
    const attachTo = (options as SpscInit)[kAttach]
    if (attachTo !== undefined) {
      this.buffer = attachTo
      const c = new Int32Array(attachTo, 0, SPSC_DATA_OFFSET / 4)
      this.capacity = c[H_CAPACITY]
      this.recordWords = c[H_WORDS]
    } else {
      if (typeof options !== 'object' || options === null) throw new RingError('ERR_INVALID_ARG', 'options required')
      this.capacity = nextPowerOfTwo(checkInt('capacity', options.capacity, 1, MAX_CAPACITY))
      this.recordWords = checkInt('recordWords', options.recordWords ?? 1, 1, 1 << 16)
      const bytes = SPSC_DATA_OFFSET + 4 * this.capacity * this.recordWords
      if (bytes > 2 ** 32) throw new RingError('ERR_INVALID_ARG', 'ring too large')
      this.buffer = new SharedArrayBuffer(bytes)
    }
    this.#spin = checkInt('spin', options.spin ?? 256, 0, 1e9)
    this.#ctl = new Int32Array(this.buffer, 0, SPSC_DATA_OFFSET / 4)
    this.#data = new Uint32Array(this.buffer, SPSC_DATA_OFFSET, this.capacity * this.recordWords)
    this.#mask = this.capacity - 1
    if (attachTo === undefined) {
      const c = this.#ctl
      c[H_MAGIC] = MAGIC
      c[H_VERSION] = VERSION
      c[H_CAPACITY] = this.capacity
      c[H_WORDS] = this.recordWords
      Atomics.store(c, H_CLOSED, 0)
    }
    this.#readCache = Atomics.load(this.#ctl, READ)
    this.#writeCache = Atomics.load(this.#ctl, WRITE)
  }

  /** Attach to a ring created in another thread (`ring.share()` there). */
  static attach(desc: SpscDescriptor, options: { readonly spin?: number } = {}): SpscRing {
    if (
      typeof desc !== 'object' ||
      desc === null ||
      desc.kind !== 'x-ring/spsc' ||
      desc.version !== VERSION ||
      !isSharedArrayBuffer(desc.buffer) ||
      desc.buffer.byteLength < SPSC_DATA_OFFSET
    ) {
      throw new RingError('ERR_BAD_DESCRIPTOR', 'not an SpscRing descriptor (from ring.share())')
    }
    const c = new Int32Array(desc.buffer, 0, SPSC_DATA_OFFSET / 4)
    const cap = c[H_CAPACITY]
    const words = c[H_WORDS]
    if (
      c[H_MAGIC] !== MAGIC ||
      c[H_VERSION] !== VERSION ||
      cap < 1 ||
      (cap & (cap - 1)) !== 0 ||
      words < 1 ||
      desc.buffer.byteLength < SPSC_DATA_OFFSET + 4 * cap * words
    ) {
      throw new RingError('ERR_BAD_DESCRIPTOR', 'SpscRing descriptor does not hold a valid ring')
    }
    const init: SpscInit = { capacity: cap, recordWords: words, spin: options.spin, [kAttach]: desc.buffer }
    return new SpscRing(init)
  }

  share(): SpscDescriptor {
    return { kind: 'x-ring/spsc', version: VERSION, buffer: this.buffer }
  }

  /** Records queued right now (a snapshot). */
  get size(): number {
    return (Atomics.load(this.#ctl, WRITE) - Atomics.load(this.#ctl, READ)) | 0
  }

  /** Free record slots right now (a snapshot). */
  get free(): number {
    return this.capacity - this.size
  }

  get closed(): boolean {
    return Atomics.load(this.#ctl, H_CLOSED) !== 0
  }

  /** Closed and drained: nothing more will come. */
  get done(): boolean {
    const c = this.#ctl
    return Atomics.load(c, H_CLOSED) !== 0 && Atomics.load(c, WRITE) === Atomics.load(c, READ)
  }

  /** Mark the ring closed and wake both sides. Pushes then throw ERR_CLOSED; pops drain, then report the end. */
  close(): void {
    Atomics.store(this.#ctl, H_CLOSED, 1)
    ringAll(this.#ctl, NOT_EMPTY)
    ringAll(this.#ctl, NOT_FULL)
  }

  #checkOpen(): void {
    if (Atomics.load(this.#ctl, H_CLOSED) !== 0) throw new RingError('ERR_CLOSED', 'push into a closed ring')
  }

  #checkSingle(): void {
    if (this.recordWords !== 1) {
      throw new RingError(
        'ERR_INVALID_ARG',
        `single-value push/pop need recordWords 1 (this ring has ${this.recordWords}); use the batch calls`,
      )
    }
  }

  // ---- producer side ----

  /** Push one u32 (rings of 1-word records). False when full; throws ERR_CLOSED after close(). */
  tryPush(value: number): boolean {
    this.#checkSingle()
    this.#checkOpen()
    const c = this.#ctl
    const w = Atomics.load(c, WRITE)
    let used = (w - this.#readCache) | 0
    if (used >= this.capacity || used < 0) {
      this.#readCache = Atomics.load(c, READ)
      used = (w - this.#readCache) | 0
      if (used >= this.capacity) return false
    }
    this.#data[w & this.#mask] = value
    Atomics.store(c, WRITE, (w + 1) | 0)
    ring(c, NOT_EMPTY)
    return true
  }

  /**
   * Push up to `n` records from `src` (record `offset` onwards, `recordWords` words each), publishing the write index
   * once. Returns how many were pushed (0 when full). Throws ERR_CLOSED after close().
   */
  pushBatch(src: U32Array, n: number, offset = 0): number {
    this.#checkOpen()
    const words = this.recordWords
    const c = this.#ctl
    const cap = this.capacity
    const w = Atomics.load(c, WRITE)
    let free = cap - ((w - this.#readCache) | 0)
    if (free < n || free > cap) {
      this.#readCache = Atomics.load(c, READ)
      free = cap - ((w - this.#readCache) | 0)
    }
    let k = Math.min(n, free)
    const fit = Math.floor(src.length / words) - offset
    if (k > fit) k = fit
    if (k <= 0) return 0
    const data = this.#data
    const total = k * words
    const start = (w & this.#mask) * words
    const first = Math.min(total, cap * words - start)
    const s = offset * words
    if (total >= COPY_WITH_SET) {
      data.set(src.subarray(s, s + first), start)
      if (total > first) data.set(src.subarray(s + first, s + total), 0)
    } else {
      for (let i = 0; i < first; i++) data[start + i] = src[s + i]
      for (let i = first; i < total; i++) data[i - first] = src[s + i]
    }
    Atomics.store(c, WRITE, (w + k) | 0)
    ring(c, NOT_EMPTY)
    return k
  }

  /** Push one u32, waiting (Atomics.wait) while full. False after `timeoutMs`. Throws ERR_CLOSED. */
  push(value: number, timeoutMs = INF): boolean {
    const deadline = timeoutMs === INF ? INF : performance.now() + timeoutMs
    for (;;) {
      if (this.tryPush(value)) return true
      const left = deadline === INF ? INF : Math.max(0, deadline - performance.now())
      if (!this.waitWritable(1, left)) return this.tryPush(value)
    }
  }

  /** Push all `n` records, waiting while full. Returns how many were pushed (< n only on timeout). Throws ERR_CLOSED. */
  pushBatchWait(src: U32Array, n: number, timeoutMs = INF, offset = 0): number {
    const deadline = timeoutMs === INF ? INF : performance.now() + timeoutMs
    let done = 0
    for (;;) {
      done += this.pushBatch(src, n - done, offset + done)
      if (done >= n) return done
      const left = deadline === INF ? INF : Math.max(0, deadline - performance.now())
      if (!this.waitWritable(1, left)) return done + this.pushBatch(src, n - done, offset + done)
    }
  }

  /** Async pushBatchWait: awaits `writable()` while full. */
  async pushBatchAsync(src: U32Array, n: number, timeoutMs = INF, offset = 0): Promise<number> {
    const deadline = timeoutMs === INF ? INF : performance.now() + timeoutMs
    let done = 0
    for (;;) {
      done += this.pushBatch(src, n - done, offset + done)
      if (done >= n) return done
      const left = deadline === INF ? INF : Math.max(0, deadline - performance.now())
      if (!(await this.writable(1, left))) return done + this.pushBatch(src, n - done, offset + done)
    }
  }

  #writableReady(minFree: number): () => boolean {
    const want = Math.min(Math.max(minFree, 1), this.capacity)
    return () => this.free >= want || this.closed
  }

  /** Block until at least `minFree` slots are free (or the ring is closed). False after `timeoutMs`. */
  waitWritable(minFree = 1, timeoutMs = INF): boolean {
    return waitSync(this.#ctl, NOT_FULL, this.#writableReady(minFree), timeoutMs, this.#spin)
  }

  /** Resolve true when at least `minFree` slots are free (or the ring is closed), false after `timeoutMs`. */
  writable(minFree = 1, timeoutMs = INF): Promise<boolean> {
    return waitAsync(this.#ctl, NOT_FULL, this.#writableReady(minFree), timeoutMs)
  }

  // ---- consumer side ----

  /** Pop one u32 (rings of 1-word records), or -1 when empty. */
  tryPop(): number {
    this.#checkSingle()
    const c = this.#ctl
    const r = Atomics.load(c, READ)
    if (r === this.#writeCache) {
      this.#writeCache = Atomics.load(c, WRITE)
      if (r === this.#writeCache) return -1
    }
    const v = this.#data[r & this.#mask]
    Atomics.store(c, READ, (r + 1) | 0)
    ring(c, NOT_FULL)
    return v
  }

  /** Pop up to `max` records into `dst` (record `offset` onwards), publishing the read index once. Returns the count. */
  popBatch(dst: U32Array, max: number, offset = 0): number {
    const words = this.recordWords
    const c = this.#ctl
    const cap = this.capacity
    const r = Atomics.load(c, READ)
    let avail = (this.#writeCache - r) | 0
    if (avail < max || avail > cap) {
      this.#writeCache = Atomics.load(c, WRITE)
      avail = (this.#writeCache - r) | 0
    }
    let k = Math.min(max, avail)
    const fit = Math.floor(dst.length / words) - offset
    if (k > fit) k = fit
    if (k <= 0) return 0
    const data = this.#data
    const total = k * words
    const start = (r & this.#mask) * words
    const first = Math.min(total, cap * words - start)
    const d = offset * words
    if (total >= COPY_WITH_SET) {
      dst.set(data.subarray(start, start + first), d)
      if (total > first) dst.set(data.subarray(0, total - first), d + first)
    } else {
      for (let i = 0; i < first; i++) dst[d + i] = data[start + i]
      for (let i = first; i < total; i++) dst[d + i] = data[i - first]
    }
    Atomics.store(c, READ, (r + k) | 0)
    ring(c, NOT_FULL)
    return k
  }

  /** Pop one u32, waiting (Atomics.wait) while empty. -1 on timeout or when closed and drained (see `done`). */
  pop(timeoutMs = INF): number {
    const v = this.tryPop()
    if (v >= 0) return v
    this.waitReadable(timeoutMs)
    return this.tryPop()
  }

  /** Wait until a record is available, then pop up to `max`. Returns the count, 0 on timeout, -1 when done. */
  popBatchWait(dst: U32Array, max: number, timeoutMs = INF, offset = 0): number {
    const deadline = timeoutMs === INF ? INF : performance.now() + timeoutMs
    for (;;) {
      const k = this.popBatch(dst, max, offset)
      if (k > 0 || max <= 0) return k
      if (this.done) return this.popBatch(dst, max, offset) || -1
      const left = deadline === INF ? INF : Math.max(0, deadline - performance.now())
      if (!this.waitReadable(left)) return this.popBatch(dst, max, offset)
    }
  }

  /** Async pop of one u32: -1 on timeout or when done. */
  async popAsync(timeoutMs = INF): Promise<number> {
    const v = this.tryPop()
    if (v >= 0) return v
    await this.readable(timeoutMs)
    return this.tryPop()
  }

  /** Async popBatchWait: the count, 0 on timeout, -1 when closed and drained. */
  async popBatchAsync(dst: U32Array, max: number, timeoutMs = INF, offset = 0): Promise<number> {
    const deadline = timeoutMs === INF ? INF : performance.now() + timeoutMs
    for (;;) {
      const k = this.popBatch(dst, max, offset)
      if (k > 0 || max <= 0) return k
      if (this.done) return this.popBatch(dst, max, offset) || -1
      const left = deadline === INF ? INF : Math.max(0, deadline - performance.now())
      if (!(await this.readable(left))) return this.popBatch(dst, max, offset)
    }
  }

  readonly #readableReady = (): boolean => this.size > 0 || this.closed

  /** Block until a record is available or the ring is closed. False after `timeoutMs`. */
  waitReadable(timeoutMs = INF): boolean {
    return waitSync(this.#ctl, NOT_EMPTY, this.#readableReady, timeoutMs, this.#spin)
  }

  /** Resolve true when a record is available or the ring is closed, false after `timeoutMs` (Atomics.waitAsync). */
  readable(timeoutMs = INF): Promise<boolean> {
    return waitAsync(this.#ctl, NOT_EMPTY, this.#readableReady, timeoutMs)
  }
}
