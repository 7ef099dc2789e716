// channel.ts: Channel, a bounded multi-producer multi-consumer queue of batches of u32 records (Tokens by default)
// in a SharedArrayBuffer, with Pusher and Popper ends that can live in different worker threads.

import { RingError } from './errors.js'
import { decodeTokens, encodeTokens, TOKEN_WORDS, type Token } from './token.js'
import { checkInt, isSharedArrayBuffer, nextPowerOfTwo, roundUp, type U32Array } from './util.js'
import { ring, ringAll, waitAsync, waitSync } from './wait.js'

// Layout (Int32 word indices; see README "Channel layout").
const MAGIC = 0x58524331 // 'XRC1'
const VERSION = 1
const H_MAGIC = 0
const H_VERSION = 1
const H_CAPACITY = 2
const H_BATCH = 3
const H_WORDS = 4
const H_SLOT_WORDS = 5
const H_CLOSED = 6
const ENQ = 16 // push position (batches, free-running u32); INFLIGHT at 17: pushers between their closed check and publish
const INFLIGHT = 17
const DEQ = 32 // pop position (batches, free-running u32)
const NOT_EMPTY = 48 // doorbell poppers sleep on: seq 48, waiters 49
const NOT_FULL = 64 // doorbell pushers sleep on: seq 64, waiters 65
/** Byte offset of slot 0 in a Channel buffer. */
export const CHANNEL_DATA_OFFSET = 512
const DATA = CHANNEL_DATA_OFFSET / 4
/** Words before the records in a slot: `[seq, count]`. */
const SLOT_HEADER = 2

const INF = Number.POSITIVE_INFINITY
// Copies of at least this many words go through TypedArray.prototype.set (a memmove); shorter ones are a loop.
const COPY_WITH_SET = 64

export interface ChannelOptions {
  /** Maximum records per batch (default 32, nethuns' DEFAULT_BATCH_SIZE). */
  readonly batchSize?: number
  /** Batches the channel holds; rounded up to a power of two, at least 2 (default 64). */
  readonly capacity?: number
  /** u32 words per record (default TOKEN_WORDS = 3; the token calls need >= 3). */
  readonly recordWords?: number
  /** Polls before a blocking call sleeps (default 256). Per handle, not shared. */
  readonly spin?: number
}

/** What `share()` returns and `attach()` takes: plain data, postMessage-able. */
export interface ChannelDescriptor {
  readonly kind: 'x-ring/channel'
  readonly version: 1
  readonly buffer: SharedArrayBuffer
}

/** Slots: a power of two, at least 2 (a 1-slot Vyukov queue cannot tell full from empty). */
function channelCapacity(requested: number): number {
  return Math.max(2, nextPowerOfTwo(requested))
}

function slotWordsFor(batchSize: number, recordWords: number): number {
  return roundUp(SLOT_HEADER + batchSize * recordWords, 16)
}

/** Shared state and the lock-free operations; Channel, Pusher and Popper are views of one core. */
class ChannelCore {
  readonly buffer: SharedArrayBuffer
  readonly capacity: number
  readonly batchSize: number
  readonly recordWords: number
  readonly spin: number
  readonly i32: Int32Array
  readonly u32: Uint32Array
  readonly #mask: number
  readonly #slotWords: number

  constructor(buffer: SharedArrayBuffer, spin: number) {
    this.buffer = buffer
    this.i32 = new Int32Array(buffer)
    this.u32 = new Uint32Array(buffer)
    this.capacity = this.i32[H_CAPACITY]
    this.batchSize = this.i32[H_BATCH]
    this.recordWords = this.i32[H_WORDS]
    this.#slotWords = this.i32[H_SLOT_WORDS]
    this.#mask = this.capacity - 1
    this.spin = spin
  }

  static create(options: ChannelOptions): ChannelCore {
    if (typeof options !== 'object' || options === null)
      throw new RingError('ERR_INVALID_ARG', 'options must be an object')
    const batchSize = checkInt('batchSize', options.batchSize ?? 32, 1, 1 << 20)
    const capacity = channelCapacity(checkInt('capacity', options.capacity ?? 64, 1, 1 << 24))
    const recordWords = checkInt('recordWords', options.recordWords ?? TOKEN_WORDS, 1, 1 << 16)
    const slotWords = slotWordsFor(batchSize, recordWords)
    const bytes = CHANNEL_DATA_OFFSET + 4 * slotWords * capacity
    if (bytes > 2 ** 32) throw new RingError('ERR_INVALID_ARG', 'channel too large')
    const buffer = new SharedArrayBuffer(bytes)
    const c = new Int32Array(buffer)
    c[H_MAGIC] = MAGIC
    c[H_VERSION] = VERSION
    c[H_CAPACITY] = capacity
    c[H_BATCH] = batchSize
    c[H_WORDS] = recordWords
    c[H_SLOT_WORDS] = slotWords
    for (let i = 0; i < capacity; i++) c[DATA + i * slotWords] = i
    return new ChannelCore(buffer, checkInt('spin', options.spin ?? 256, 0, 1e9))
  }

  static attach(desc: ChannelDescriptor, spin: number | undefined): ChannelCore {
    if (
      typeof desc !== 'object' ||
      desc === null ||
      desc.kind !== 'x-ring/channel' ||
      desc.version !== VERSION ||
      !isSharedArrayBuffer(desc.buffer) ||
      desc.buffer.byteLength < CHANNEL_DATA_OFFSET
    ) {
      throw new RingError('ERR_BAD_DESCRIPTOR', 'not a Channel descriptor (from share())')
    }
    const c = new Int32Array(desc.buffer, 0, DATA)
    const cap = c[H_CAPACITY]
    if (
      c[H_MAGIC] !== MAGIC ||
      c[H_VERSION] !== VERSION ||
      cap < 2 ||
      (cap & (cap - 1)) !== 0 ||
      c[H_BATCH] < 1 ||
      c[H_WORDS] < 1 ||
      c[H_SLOT_WORDS] !== slotWordsFor(c[H_BATCH], c[H_WORDS]) ||
      desc.buffer.byteLength < CHANNEL_DATA_OFFSET + 4 * c[H_SLOT_WORDS] * cap
    ) {
      throw new RingError('ERR_BAD_DESCRIPTOR', 'Channel descriptor does not hold a valid channel')
    }
    return new ChannelCore(desc.buffer, checkInt('spin', spin ?? 256, 0, 1e9))
  }

  share(): ChannelDescriptor {
    return { kind: 'x-ring/channel', version: VERSION, buffer: this.buffer }
  }

  get closed(): boolean {
    return Atomics.load(this.i32, H_CLOSED) !== 0
  }

  /** Closed, no push in flight, nothing queued. */
  get done(): boolean {
    const c = this.i32
    return (
      Atomics.load(c, H_CLOSED) !== 0 &&
      Atomics.load(c, INFLIGHT) === 0 &&
      Atomics.load(c, ENQ) === Atomics.load(c, DEQ)
    )
  }

  get size(): number {
    return (Atomics.load(this.i32, ENQ) - Atomics.load(this.i32, DEQ)) | 0
  }

  close(): void {
    Atomics.store(this.i32, H_CLOSED, 1)
    ringAll(this.i32, NOT_EMPTY)
    ringAll(this.i32, NOT_FULL)
  }

  checkBatch(src: U32Array, n: number, offset: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.batchSize) {
      throw new RingError('ERR_INVALID_ARG', `a batch holds 1 to ${this.batchSize} records, got ${String(n)}`)
    }
    if (!Number.isInteger(offset) || offset < 0 || (offset + n) * this.recordWords > src.length) {
      throw new RingError('ERR_INVALID_ARG', `source too short for ${n} records at offset ${String(offset)}`)
    }
  }

  checkDest(dst: U32Array, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || (offset + this.batchSize) * this.recordWords > dst.length) {
      throw new RingError(
        'ERR_INVALID_ARG',
        `destination must hold a full batch (${this.batchSize} records of ${this.recordWords} words) at offset ${String(offset)}`,
      )
    }
  }

  /** Push one batch (already checked). False when full; throws ERR_CLOSED. */
  tryPush(src: U32Array, n: number, offset: number): boolean {
    const c = this.i32
    Atomics.add(c, INFLIGHT, 1)
    if (Atomics.load(c, H_CLOSED) !== 0) {
      Atomics.sub(c, INFLIGHT, 1)
      ring(c, NOT_EMPTY) // a popper may be waiting for INFLIGHT to drop to see the end
      throw new RingError('ERR_CLOSED', 'push into a closed channel')
    }
    let pos = Atomics.load(c, ENQ)
    let ok = false
    for (;;) {
      const base = DATA + (pos & this.#mask) * this.#slotWords
      const dif = (Atomics.load(c, base) - pos) | 0
      if (dif === 0) {
        const prev = Atomics.compareExchange(c, ENQ, pos, (pos + 1) | 0)
        if (prev === pos) {
          const u = this.u32
          u[base + 1] = n
          const total = n * this.recordWords
          const at = base + SLOT_HEADER
          const from = offset * this.recordWords
          if (total >= COPY_WITH_SET) u.set(src.subarray(from, from + total), at)
          else for (let i = 0; i < total; i++) u[at + i] = src[from + i]
          Atomics.store(c, base, (pos + 1) | 0)
          ok = true
          break
        }
        pos = prev
      } else if (dif < 0) {
        break // full
      } else {
        pos = Atomics.load(c, ENQ)
      }
    }
    Atomics.sub(c, INFLIGHT, 1)
    ring(c, NOT_EMPTY)
    return ok
  }

  /** Pop one batch (dst already checked): record count, 0 when empty, -1 when done. */
  tryPop(dst: U32Array, offset: number): number {
    const c = this.i32
    let pos = Atomics.load(c, DEQ)
    for (;;) {
      const base = DATA + (pos & this.#mask) * this.#slotWords
      const dif = (Atomics.load(c, base) - ((pos + 1) | 0)) | 0
      if (dif === 0) {
        const prev = Atomics.compareExchange(c, DEQ, pos, (pos + 1) | 0)
        if (prev === pos) {
          const u = this.u32
          const n = u[base + 1]
          const total = n * this.recordWords
          const at = base + SLOT_HEADER
          const to = offset * this.recordWords
          if (total >= COPY_WITH_SET) dst.set(u.subarray(at, at + total), to)
          else for (let i = 0; i < total; i++) dst[to + i] = u[at + i]
          Atomics.store(c, base, (pos + this.capacity) | 0)
          ring(c, NOT_FULL)
          return n
        }
        pos = prev
      } else if (dif < 0) {
        return this.done ? -1 : 0
      } else {
        pos = Atomics.load(c, DEQ)
      }
    }
  }

  /** The slot at the push position is free, or the channel is closed. */
  readonly pushReady = (): boolean => {
    const c = this.i32
    const pos = Atomics.load(c, ENQ)
    return Atomics.load(c, DATA + (pos & this.#mask) * this.#slotWords) === pos || Atomics.load(c, H_CLOSED) !== 0
  }

  /** The slot at the pop position holds a batch, or the channel is done. */
  readonly popReady = (): boolean => {
    const c = this.i32
    const pos = Atomics.load(c, DEQ)
    return Atomics.load(c, DATA + (pos & this.#mask) * this.#slotWords) === ((pos + 1) | 0) || this.done
  }

  waitWritable(timeoutMs: number): boolean {
    return waitSync(this.i32, NOT_FULL, this.pushReady, timeoutMs, this.spin)
  }

  writable(timeoutMs: number): Promise<boolean> {
    return waitAsync(this.i32, NOT_FULL, this.pushReady, timeoutMs)
  }

  waitReadable(timeoutMs: number): boolean {
    return waitSync(this.i32, NOT_EMPTY, this.popReady, timeoutMs, this.spin)
  }

  readable(timeoutMs: number): Promise<boolean> {
    return waitAsync(this.i32, NOT_EMPTY, this.popReady, timeoutMs)
  }
}

const kCore = Symbol('core')

function deadlineOf(timeoutMs: number): number {
  return timeoutMs === INF ? INF : performance.now() + timeoutMs
}

function leftUntil(deadline: number): number {
  return deadline === INF ? INF : Math.max(0, deadline - performance.now())
}

function checkTokenWords(core: ChannelCore): void {
  if (core.recordWords < TOKEN_WORDS) {
    throw new RingError(
      'ERR_INVALID_ARG',
      `token calls need recordWords >= ${TOKEN_WORDS}, channel has ${core.recordWords}`,
    )
  }
}

/** What both ends of a channel share: the core over the shared memory, its geometry, its closed state. */
abstract class ChannelEnd {
  protected readonly core: ChannelCore

  /** @internal Use `channel.pusher` / `channel.popper` or `Pusher.attach()` / `Popper.attach()`. */
  constructor(core: { readonly [kCore]: unknown }) {
    this.core = core[kCore] as ChannelCore
  }

  share(): ChannelDescriptor {
    return this.core.share()
  }

  get batchSize(): number {
    return this.core.batchSize
  }

  get recordWords(): number {
    return this.core.recordWords
  }

  get closed(): boolean {
    return this.core.closed
  }
}

/** The producing end. Any number of Pushers (in any threads) may push into one channel. */
export class Pusher extends ChannelEnd {
  #scratch: Uint32Array | undefined

  static attach(desc: ChannelDescriptor, options: { readonly spin?: number } = {}): Pusher {
    return new Pusher({ [kCore]: ChannelCore.attach(desc, options.spin) })
  }

  /** Push one batch of `n` (1..batchSize) records from `src` (record `offset` on). False when full. Throws ERR_CLOSED. */
  tryPush(src: U32Array, n: number, offset = 0): boolean {
    this.core.checkBatch(src, n, offset)
    return this.core.tryPush(src, n, offset)
  }

  /** Push one batch, waiting (Atomics.wait) while full. False after `timeoutMs`. Throws ERR_CLOSED. */
  push(src: U32Array, n: number, timeoutMs = INF, offset = 0): boolean {
    const core = this.core
    core.checkBatch(src, n, offset)
    const deadline = deadlineOf(timeoutMs)
    for (;;) {
      if (core.tryPush(src, n, offset)) return true
      if (!core.waitWritable(leftUntil(deadline))) return core.tryPush(src, n, offset)
    }
  }

  /** Push one batch, awaiting (Atomics.waitAsync) while full. False after `timeoutMs`. Rejects with ERR_CLOSED. */
  async pushAsync(src: U32Array, n: number, timeoutMs = INF, offset = 0): Promise<boolean> {
    const core = this.core
    core.checkBatch(src, n, offset)
    const deadline = deadlineOf(timeoutMs)
    for (;;) {
      if (core.tryPush(src, n, offset)) return true
      if (!(await core.writable(leftUntil(deadline)))) return core.tryPush(src, n, offset)
    }
  }

  #encode(tokens: readonly Token[]): Uint32Array {
    const core = this.core
    checkTokenWords(core)
    if (!Array.isArray(tokens)) throw new RingError('ERR_INVALID_ARG', 'tokens must be an array')
    this.#scratch ??= new Uint32Array(core.batchSize * core.recordWords)
    const s = this.#scratch
    if (tokens.length > core.batchSize) {
      throw new RingError('ERR_INVALID_ARG', `a batch holds 1 to ${core.batchSize} tokens, got ${tokens.length}`)
    }
    if (core.recordWords > TOKEN_WORDS) s.fill(0, 0, tokens.length * core.recordWords)
    encodeTokens(tokens, s, 0, core.recordWords)
    return s
  }

  /** Push a batch of 1..batchSize tokens. False when full (the caller still owns them). Throws ERR_CLOSED. */
  tryPushTokens(tokens: readonly Token[]): boolean {
    return this.tryPush(this.#encode(tokens), tokens.length)
  }

  /** Push a batch of tokens, waiting while full. False after `timeoutMs`. */
  pushTokens(tokens: readonly Token[], timeoutMs = INF): boolean {
    return this.push(this.#encode(tokens), tokens.length, timeoutMs)
  }

  /** Push a batch of tokens, awaiting while full. False after `timeoutMs`. */
  async pushTokensAsync(tokens: readonly Token[], timeoutMs = INF): Promise<boolean> {
    // Encode into a private copy: the scratch buffer could be reused by another call while this one waits.
    const src = this.#encode(tokens).slice(0, tokens.length * this.core.recordWords)
    return this.pushAsync(src, tokens.length, timeoutMs)
  }

  /** Block until a batch fits (or the channel is closed). False after `timeoutMs`. */
  waitWritable(timeoutMs = INF): boolean {
    return this.core.waitWritable(timeoutMs)
  }

  /** Resolve true when a batch fits (or the channel is closed), false after `timeoutMs`. */
  writable(timeoutMs = INF): Promise<boolean> {
    return this.core.writable(timeoutMs)
  }

  /** Close the channel (for every end): further pushes throw ERR_CLOSED; poppers drain, then see the end. */
  close(): void {
    this.core.close()
  }
}

/** The consuming end. Any number of Poppers (in any threads) may pop from one channel; each batch goes to one. */
export class Popper extends ChannelEnd implements AsyncIterable<Uint32Array> {
  #scratch: Uint32Array | undefined

  static attach(desc: ChannelDescriptor, options: { readonly spin?: number } = {}): Popper {
    return new Popper({ [kCore]: ChannelCore.attach(desc, options.spin) })
  }

  /** Closed and drained: every pop returns -1 (null for the token calls). */
  get done(): boolean {
    return this.core.done
  }

  /**
   * Pop one batch into `dst` (which must hold a full batch from record `offset`): the record count, 0 when empty now,
   * -1 when the channel is closed and drained.
   */
  tryPop(dst: U32Array, offset = 0): number {
    this.core.checkDest(dst, offset)
    return this.core.tryPop(dst, offset)
  }

  /** Pop one batch, waiting (Atomics.wait) while empty: the count, 0 on timeout, -1 when closed and drained. */
  pop(dst: U32Array, timeoutMs = INF, offset = 0): number {
    const core = this.core
    core.checkDest(dst, offset)
    const deadline = deadlineOf(timeoutMs)
    for (;;) {
      const n = core.tryPop(dst, offset)
      if (n !== 0) return n
      if (!core.waitReadable(leftUntil(deadline))) return core.tryPop(dst, offset)
    }
  }

  /** Pop one batch, awaiting (Atomics.waitAsync) while empty: the count, 0 on timeout, -1 when closed and drained. */
  async popAsync(dst: U32Array, timeoutMs = INF, offset = 0): Promise<number> {
    const core = this.core
    core.checkDest(dst, offset)
    const deadline = deadlineOf(timeoutMs)
    for (;;) {
      const n = core.tryPop(dst, offset)
      if (n !== 0) return n
      if (!(await core.readable(leftUntil(deadline)))) return core.tryPop(dst, offset)
    }
  }

  #dst(): Uint32Array {
    const core = this.core
    checkTokenWords(core)
    this.#scratch ??= new Uint32Array(core.batchSize * core.recordWords)
    return this.#scratch
  }

  #decode(dst: Uint32Array, n: number): Token[] | null {
    if (n < 0) return null
    return decodeTokens(dst, n, 0, this.core.recordWords)
  }

  /** Pop a batch of tokens: `[]` when empty now, `null` when closed and drained. */
  tryPopTokens(): Token[] | null {
    const dst = this.#dst()
    return this.#decode(dst, this.core.tryPop(dst, 0))
  }

  /** Pop a batch of tokens, waiting while empty: `[]` on timeout, `null` when closed and drained. */
  popTokens(timeoutMs = INF): Token[] | null {
    const dst = this.#dst()
    return this.#decode(dst, this.pop(dst, timeoutMs))
  }

  /** Pop a batch of tokens, awaiting while empty: `[]` on timeout, `null` when closed and drained. */
  async popTokensAsync(timeoutMs = INF): Promise<Token[] | null> {
    checkTokenWords(this.core)
    const dst = new Uint32Array(this.core.batchSize * this.core.recordWords)
    return this.#decode(dst, await this.popAsync(dst, timeoutMs))
  }

  /** Block until a batch is queued (or the channel is done). False after `timeoutMs`. */
  waitReadable(timeoutMs = INF): boolean {
    return this.core.waitReadable(timeoutMs)
  }

  /** Resolve true when a batch is queued (or the channel is done), false after `timeoutMs`. */
  readable(timeoutMs = INF): Promise<boolean> {
    return this.core.readable(timeoutMs)
  }

  /** Each batch as a fresh Uint32Array of `count * recordWords` words, until the channel is closed and drained. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint32Array, void, undefined> {
    const core = this.core
    const dst = new Uint32Array(core.batchSize * core.recordWords)
    for (;;) {
      const n = await this.popAsync(dst)
      if (n < 0) return
      yield dst.slice(0, n * core.recordWords)
    }
  }

  /** Each batch as Token[], until the channel is closed and drained. */
  async *tokens(): AsyncGenerator<Token[], void, undefined> {
    for (;;) {
      const batch = await this.popTokensAsync()
      if (batch === null) return
      yield batch
    }
  }
}

/**
 * A channel of batches: up to `batchSize` records of `recordWords` u32 words per batch (Tokens by default), `capacity`
 * batches queued. Lock-free (one CAS per batch on each side), multi-producer and multi-consumer; `channel.pusher` and
 * `channel.popper` are its ends, and `share()` gives a descriptor any thread can `attach` (as a Channel, Pusher or
 * Popper). A push of a full channel returns false (backpressure) or waits; `close()` lets poppers drain what is
 * queued and then see the end.
 */
export class Channel {
  readonly #core: ChannelCore
  readonly pusher: Pusher
  readonly popper: Popper

  constructor(options: ChannelOptions = {}) {
    const init = options as ChannelOptions & { readonly [kCore]?: ChannelCore }
    this.#core = init[kCore] ?? ChannelCore.create(options)
    this.pusher = new Pusher({ [kCore]: this.#core })
    this.popper = new Popper({ [kCore]: this.#core })
  }

  static attach(desc: ChannelDescriptor, options: { readonly spin?: number } = {}): Channel {
    const init = { [kCore]: ChannelCore.attach(desc, options.spin) }
    return new Channel(init as ChannelOptions)
  }

  /** Bytes of the SharedArrayBuffer of a channel with these options. */
  static byteLength(options: ChannelOptions = {}): number {
    const batchSize = options.batchSize ?? 32
    const capacity = channelCapacity(options.capacity ?? 64)
    return CHANNEL_DATA_OFFSET + 4 * slotWordsFor(batchSize, options.recordWords ?? TOKEN_WORDS) * capacity
  }

  share(): ChannelDescriptor {
    return this.#core.share()
  }

  get buffer(): SharedArrayBuffer {
    return this.#core.buffer
  }

  get batchSize(): number {
    return this.#core.batchSize
  }

  /** Batches the channel holds (a power of two). */
  get capacity(): number {
    return this.#core.capacity
  }

  get recordWords(): number {
    return this.#core.recordWords
  }

  /** Batches queued right now (a snapshot; includes pushes being published and pops being copied out). */
  get size(): number {
    return this.#core.size
  }

  get closed(): boolean {
    return this.#core.closed
  }

  get done(): boolean {
    return this.#core.done
  }

  close(): void {
    this.#core.close()
  }
}
