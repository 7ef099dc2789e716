// pool.ts: BufferPool (the nethuns "Context"): fixed-size buffers in one (Shared)ArrayBuffer, a poolId and a free
// list that any thread holding the pool may allocate from and release into.

import { threadId } from 'node:worker_threads'
import { RingError } from './errors.js'
import { Payload } from './payload.js'
import { type Token, token } from './token.js'
import { checkInt, isArrayBufferLike, isSharedArrayBuffer, nextPowerOfTwo, type U32Array } from './util.js'
import { ring, waitAsync, waitSync } from './wait.js'

// Control block layout (Int32 word indices; see README "BufferPool control block").
const MAGIC = 0x58525031 // 'XRP1'
const VERSION = 1
const H_MAGIC = 0
const H_VERSION = 1
const H_POOL_ID = 2
const H_BUF_SIZE = 3
const H_COUNT = 4
const H_CAP = 5
const H_RESERVED = 6
const H_BYTE_OFFSET = 7
const ENQ = 16 // release position (free-running u32), own cache line
const DEQ = 32 // alloc position (free-running u32), own cache line
const BELL = 48 // doorbell for allocWait/allocAsync: seq at 48, waiters at 49
const CELLS = 64 // cap cells of [seq, desc]

/** Per-buffer state word values. */
export const BUFFER_FREE = 0
export const BUFFER_ALLOCATED = 1
export const BUFFER_RESERVED = 2

const MAX_COUNT = 1 << 28
const MAX_BUF_SIZE = 0x7fffffff

/** Cells of the free list: a power of two >= count, and >= 2 (a 1-cell Vyukov queue cannot tell full from empty). */
function freeListCapacity(count: number): number {
  return Math.max(2, nextPowerOfTwo(count))
}

/** Bytes of the control block of a pool of `count` buffers. */
export function poolControlByteLength(count: number): number {
  return 4 * (CELLS + 2 * freeListCapacity(count) + count)
}

export interface PoolOptions {
  /** Bytes per buffer. */
  readonly bufSize: number
  /** Number of buffers. */
  readonly count: number
  /**
   * Memory holding the buffers (e.g. an mmap'd UMEM region). Default: a new SharedArrayBuffer (or ArrayBuffer when
   * `shared` is false) of `bufSize * count` bytes. Buffer `desc` is at `byteOffset + desc * bufSize`.
   */
  readonly buffer?: ArrayBuffer | SharedArrayBuffer
  /** Offset of buffer 0 in `buffer`. Default 0. */
  readonly byteOffset?: number
  /** Without `buffer`: allocate SharedArrayBuffers (default true). With `buffer`: ignored (shared iff it is a SAB). */
  readonly shared?: boolean
  /** Use this poolId instead of a generated one (u32). */
  readonly poolId?: number
  /** Descriptors `[0, reserved)` are never handed out nor accepted (netmap reserves buffers 0 and 1). Default 0. */
  readonly reserved?: number
  /** Start with every buffer allocated (owned by a ring, say) instead of free; `release()` hands them in. */
  readonly startAllocated?: boolean
  /** Warn (process warning X_RING_PAYLOAD_LEAK) when a Payload is garbage-collected unreleased. Default: env X_RING_DETECT_LEAKS=1. */
  readonly detectLeaks?: boolean
  /** Spins before sleeping in `allocWait`. Default 64. */
  readonly spin?: number
}

/** What `pool.share()` returns and `BufferPool.attach()` takes: plain data, postMessage-able. */
export interface PoolDescriptor {
  readonly kind: 'x-ring/pool'
  readonly version: 1
  readonly poolId: number
  readonly bufSize: number
  readonly count: number
  readonly buffer: SharedArrayBuffer
  readonly byteOffset: number
  readonly control: SharedArrayBuffer
}

export interface AttachOptions {
  readonly detectLeaks?: boolean
  readonly spin?: number
}

// Pool ids: (threadId mod 2^16) << 16 | per-thread sequence (1..65535). Unique within a process while fewer than
// 65536 threads have been started and a thread creates fewer than 65536 pools; never 0.
let poolSeq = 0
function nextPoolId(): number {
  poolSeq = poolSeq === 0xffff ? 1 : poolSeq + 1
  return (((threadId & 0xffff) << 16) | poolSeq) >>> 0
}

const kAttach = Symbol('attach')
type Init = PoolOptions & { readonly [kAttach]?: PoolDescriptor }

const envDetectLeaks = process.env.X_RING_DETECT_LEAKS === '1'

/**
 * Fixed-size buffers plus a lock-free free list (a bounded MPMC queue of descriptors, Vyukov-style, and an Int32
 * state word per buffer for double-release detection), all in shared memory: `alloc` and `release` may be called
 * from any thread that holds the pool (`share()` / `attach()`), concurrently.
 */
export class BufferPool {
  /** Unique id (u32) carried by every Token of this pool. */
  readonly poolId: number
  readonly bufSize: number
  readonly count: number
  /** Descriptors below this are reserved. */
  readonly reserved: number
  /** Memory holding the buffers. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer
  /** Offset of buffer 0 in `buffer`. */
  readonly byteOffset: number
  /** The control block (free list and states). */
  readonly control: ArrayBuffer | SharedArrayBuffer
  /** True when both `buffer` and `control` are SharedArrayBuffers (the pool can be shared with workers). */
  readonly shared: boolean
  readonly detectLeaks: boolean
  /** All buffers as one Uint8Array (`bytes[pool.offsetOf(desc) - pool.byteOffset]` is the first byte of `desc`). */
  readonly bytes: Uint8Array
  readonly #ctl: Int32Array
  readonly #mask: number
  readonly #cap: number
  readonly #states: number
  readonly #spin: number
  #scratch = new Uint32Array(64)

  constructor(options: PoolOptions) {
    const init = options as Init
    const desc = init[kAttach]
    if (desc !== undefined) {
      this.poolId = desc.poolId
      this.bufSize = desc.bufSize
      this.count = desc.count
      this.buffer = desc.buffer
      this.byteOffset = desc.byteOffset
      this.control = desc.control
      this.#ctl = new Int32Array(desc.control)
      this.reserved = this.#ctl[H_RESERVED]
    } else {
      if (typeof options !== 'object' || options === null) throw new RingError('ERR_INVALID_ARG', 'options required')
      this.bufSize = checkInt('bufSize', options.bufSize, 1, MAX_BUF_SIZE)
      this.count = checkInt('count', options.count, 1, MAX_COUNT)
      this.reserved = checkInt('reserved', options.reserved ?? 0, 0, this.count - 1)
      this.poolId = options.poolId === undefined ? nextPoolId() : checkInt('poolId', options.poolId, 0, 0xffffffff)
      const bytes = this.bufSize * this.count
      if (options.buffer !== undefined) {
        if (!isArrayBufferLike(options.buffer)) {
          throw new RingError('ERR_INVALID_ARG', 'buffer must be an ArrayBuffer or SharedArrayBuffer')
        }
        this.buffer = options.buffer
        this.byteOffset = checkInt('byteOffset', options.byteOffset ?? 0, 0, Number.MAX_SAFE_INTEGER)
        if (this.byteOffset + bytes > options.buffer.byteLength) {
          throw new RingError(
            'ERR_INVALID_ARG',
            `byteOffset ${this.byteOffset} + bufSize ${this.bufSize} * count ${this.count} exceeds buffer of ${options.buffer.byteLength} bytes`,
          )
        }
      } else {
        if (options.byteOffset !== undefined && options.byteOffset !== 0) {
          throw new RingError('ERR_INVALID_ARG', 'byteOffset needs a buffer')
        }
        this.buffer = options.shared === false ? new ArrayBuffer(bytes) : new SharedArrayBuffer(bytes)
        this.byteOffset = 0
      }
      const ctlBytes = poolControlByteLength(this.count)
      this.control = isSharedArrayBuffer(this.buffer) ? new SharedArrayBuffer(ctlBytes) : new ArrayBuffer(ctlBytes)
      this.#ctl = new Int32Array(this.control)
    }
    this.shared = isSharedArrayBuffer(this.buffer) && isSharedArrayBuffer(this.control)
    this.#cap = freeListCapacity(this.count)
    this.#mask = this.#cap - 1
    this.#states = CELLS + 2 * this.#cap
    this.#spin = checkInt('spin', options.spin ?? 64, 0, 1e9)
    this.detectLeaks = options.detectLeaks ?? envDetectLeaks
    this.bytes = new Uint8Array(this.buffer, this.byteOffset, this.bufSize * this.count)
    if (desc === undefined) this.#format(options.startAllocated === true)
  }

  #format(startAllocated: boolean): void {
    const c = this.#ctl
    c[H_MAGIC] = MAGIC
    c[H_VERSION] = VERSION
    c[H_POOL_ID] = this.poolId | 0
    c[H_BUF_SIZE] = this.bufSize
    c[H_COUNT] = this.count
    c[H_CAP] = this.#cap
    c[H_RESERVED] = this.reserved
    c[H_BYTE_OFFSET] = this.byteOffset | 0
    for (let i = 0; i < this.#cap; i++) c[CELLS + 2 * i] = i
    for (let d = 0; d < this.reserved; d++) c[this.#states + d] = BUFFER_RESERVED
    let pos = 0
    for (let d = this.reserved; d < this.count; d++) {
      if (startAllocated) {
        c[this.#states + d] = BUFFER_ALLOCATED
      } else {
        c[this.#states + d] = BUFFER_FREE
        c[CELLS + 2 * pos + 1] = d
        c[CELLS + 2 * pos] = pos + 1
        pos++
      }
    }
    Atomics.store(c, DEQ, 0)
    Atomics.store(c, ENQ, pos)
  }

  /** Attach to a pool shared by another thread: same poolId, same buffers, same free list. */
  static attach(desc: PoolDescriptor, options: AttachOptions = {}): BufferPool {
    if (
      typeof desc !== 'object' ||
      desc === null ||
      desc.kind !== 'x-ring/pool' ||
      desc.version !== VERSION ||
      !isSharedArrayBuffer(desc.buffer) ||
      !isSharedArrayBuffer(desc.control)
    ) {
      throw new RingError('ERR_BAD_DESCRIPTOR', 'not a BufferPool descriptor (from pool.share())')
    }
    const c = new Int32Array(desc.control)
    if (
      c.length < CELLS ||
      c[H_MAGIC] !== MAGIC ||
      c[H_VERSION] !== VERSION ||
      c[H_POOL_ID] >>> 0 !== desc.poolId ||
      c[H_BUF_SIZE] !== desc.bufSize ||
      c[H_COUNT] !== desc.count ||
      c[H_CAP] !== freeListCapacity(desc.count) ||
      c[H_BYTE_OFFSET] !== (desc.byteOffset | 0) ||
      desc.control.byteLength < poolControlByteLength(desc.count) ||
      desc.byteOffset + desc.bufSize * desc.count > desc.buffer.byteLength
    ) {
      throw new RingError('ERR_BAD_DESCRIPTOR', 'BufferPool descriptor does not match its control block')
    }
    const init: Init = { bufSize: desc.bufSize, count: desc.count, ...options, [kAttach]: desc }
    return new BufferPool(init)
  }

  /** A plain descriptor to post to a worker (`BufferPool.attach(desc)` there). Needs SharedArrayBuffers. */
  share(): PoolDescriptor {
    if (!isSharedArrayBuffer(this.buffer) || !isSharedArrayBuffer(this.control)) {
      throw new RingError('ERR_NOT_SHARED', 'a pool over a non-shared ArrayBuffer cannot be shared with other threads')
    }
    return {
      kind: 'x-ring/pool',
      version: VERSION,
      poolId: this.poolId,
      bufSize: this.bufSize,
      count: this.count,
      buffer: this.buffer,
      byteOffset: this.byteOffset,
      control: this.control,
    }
  }

  /** Free buffers right now (a snapshot; includes releases still being published). */
  get available(): number {
    return (Atomics.load(this.#ctl, ENQ) - Atomics.load(this.#ctl, DEQ)) | 0
  }

  /**
   * Take a free buffer: its descriptor, or -1 when none is free. Under concurrent releases it may return -1 while a
   * release is half-published (a few instructions); treat -1 as "empty now".
   */
  tryAlloc(): number {
    const c = this.#ctl
    let pos = Atomics.load(c, DEQ)
    for (;;) {
      const cell = CELLS + ((pos & this.#mask) << 1)
      const dif = (Atomics.load(c, cell) - ((pos + 1) | 0)) | 0
      if (dif === 0) {
        const prev = Atomics.compareExchange(c, DEQ, pos, (pos + 1) | 0)
        if (prev === pos) {
          const desc = c[cell + 1]
          Atomics.store(c, cell, (pos + this.#cap) | 0)
          Atomics.store(c, this.#states + desc, BUFFER_ALLOCATED)
          return desc
        }
        pos = prev
      } else if (dif < 0) {
        return -1
      } else {
        pos = Atomics.load(c, DEQ)
      }
    }
  }

  /** Take a free buffer; throws ERR_POOL_EMPTY when none is free. */
  alloc(): number {
    const d = this.tryAlloc()
    if (d < 0) throw new RingError('ERR_POOL_EMPTY', `pool ${this.poolId}: all ${this.count} buffers are in use`)
    return d
  }

  /** Take up to `max` free buffers into `dst` with one CAS; returns how many. */
  allocBatch(dst: U32Array, max: number = dst.length): number {
    const c = this.#ctl
    const n0 = Math.min(max, dst.length)
    if (n0 <= 0) return 0
    let pos = Atomics.load(c, DEQ)
    for (;;) {
      let n = 0
      while (n < n0) {
        const cell = CELLS + (((pos + n) & this.#mask) << 1)
        if (Atomics.load(c, cell) !== ((pos + n + 1) | 0)) break
        n++
      }
      if (n === 0) {
        const cell = CELLS + ((pos & this.#mask) << 1)
        const dif = (Atomics.load(c, cell) - ((pos + 1) | 0)) | 0
        if (dif < 0) return 0
        pos = Atomics.load(c, DEQ)
        continue
      }
      const prev = Atomics.compareExchange(c, DEQ, pos, (pos + n) | 0)
      if (prev !== pos) {
        pos = prev
        continue
      }
      for (let i = 0; i < n; i++) {
        const cell = CELLS + (((pos + i) & this.#mask) << 1)
        const desc = c[cell + 1]
        dst[i] = desc
        Atomics.store(c, cell, (pos + i + this.#cap) | 0)
        Atomics.store(c, this.#states + desc, BUFFER_ALLOCATED)
      }
      return n
    }
  }

  /** Block (Atomics.wait) until a buffer is free; its descriptor, or -1 after `timeoutMs`. */
  allocWait(timeoutMs: number = Number.POSITIVE_INFINITY): number {
    let d = this.tryAlloc()
    if (d >= 0) return d
    const ready = (): boolean => {
      d = this.tryAlloc()
      return d >= 0
    }
    return waitSync(this.#ctl, BELL, ready, timeoutMs, this.#spin) ? d : -1
  }

  /** Resolve with a free buffer's descriptor when one is released (Atomics.waitAsync), or -1 after `timeoutMs`. */
  async allocAsync(timeoutMs: number = Number.POSITIVE_INFINITY): Promise<number> {
    let d = this.tryAlloc()
    if (d >= 0) return d
    const ready = (): boolean => {
      d = this.tryAlloc()
      return d >= 0
    }
    return (await waitAsync(this.#ctl, BELL, ready, timeoutMs)) ? d : -1
  }

  #descError(desc: number): RingError | undefined {
    if (Number.isInteger(desc) && desc >= this.reserved && desc < this.count) return undefined
    return new RingError(
      'ERR_BAD_DESC',
      `pool ${this.poolId}: buffer descriptor ${String(desc)} is not in [${this.reserved}, ${this.count})`,
    )
  }

  #checkDesc(desc: number): void {
    const e = this.#descError(desc)
    if (e !== undefined) throw e
  }

  /** Flip `desc` from allocated to free; an error (not thrown) if it is not a valid allocated buffer. */
  #markFree(desc: number): RingError | undefined {
    const e = this.#descError(desc)
    if (e !== undefined) return e
    if (Atomics.compareExchange(this.#ctl, this.#states + desc, BUFFER_ALLOCATED, BUFFER_FREE) !== BUFFER_ALLOCATED) {
      return new RingError('ERR_DOUBLE_RELEASE', `pool ${this.poolId}: buffer ${desc} released but not allocated`)
    }
    return undefined
  }

  #publish(pos: number, desc: number): void {
    const c = this.#ctl
    const cell = CELLS + ((pos & this.#mask) << 1)
    // The cell's previous occupant (position pos - cap) has been claimed by an allocator that may not have stored
    // the cell's new seq yet: wait for it (a few instructions unless that thread was preempted).
    let spins = 0
    while (Atomics.load(c, cell) !== pos) {
      if (++spins > 1000 && this.shared) Atomics.wait(c, cell, Atomics.load(c, cell), 0.05)
    }
    c[cell + 1] = desc
    Atomics.store(c, cell, (pos + 1) | 0)
  }

  /** Return buffer `desc` to the free list, from any thread. Throws ERR_BAD_DESC, ERR_DOUBLE_RELEASE. */
  release(desc: number): void {
    const e = this.#markFree(desc)
    if (e !== undefined) throw e
    this.#publish(Atomics.add(this.#ctl, ENQ, 1), desc)
    ring(this.#ctl, BELL)
  }

  /**
   * Return the first `n` buffers listed in `src` with one atomic add for the batch. Every valid descriptor is
   * released; if some were not (ERR_BAD_DESC, ERR_DOUBLE_RELEASE), the first such error is thrown afterwards.
   */
  releaseBatch(src: U32Array, n: number = src.length): void {
    const m = Math.min(n, src.length)
    if (this.#scratch.length < m) this.#scratch = new Uint32Array(Math.max(m, 2 * this.#scratch.length))
    const good = this.#scratch
    let ok = 0
    let error: RingError | undefined
    for (let i = 0; i < m; i++) {
      const d = src[i] >>> 0
      const e = this.#markFree(d)
      if (e === undefined) good[ok++] = d
      else error ??= e
    }
    if (ok > 0) {
      const pos = Atomics.add(this.#ctl, ENQ, ok)
      for (let i = 0; i < ok; i++) this.#publish((pos + i) | 0, good[i])
      ring(this.#ctl, BELL)
    }
    if (error !== undefined) throw error
  }

  /** True if `t` belongs to this pool (poolId check only). */
  checkToken(t: Token): boolean {
    return t.poolId === this.poolId
  }

  #checkToken(t: Token): void {
    if (typeof t !== 'object' || t === null) throw new RingError('ERR_INVALID_ARG', 'token must be an object')
    if (t.poolId !== this.poolId) {
      throw new RingError('ERR_FOREIGN_POOL', `token of pool ${String(t.poolId)} given to pool ${this.poolId}`)
    }
    this.#checkDesc(t.desc)
    if (!Number.isInteger(t.len) || t.len < 0 || t.len > this.bufSize) {
      throw new RingError('ERR_BAD_LENGTH', `token length ${String(t.len)} is not in [0, ${this.bufSize}]`)
    }
  }

  /** Release the buffer a token names (checks poolId first: ERR_FOREIGN_POOL). */
  releaseToken(t: Token): void {
    this.#checkToken(t)
    this.release(t.desc)
  }

  /** A token for `len` bytes of allocated buffer `desc` of this pool. */
  token(desc: number, len: number = this.bufSize): Token {
    const t = token(desc, len, this.poolId)
    this.#checkToken(t)
    return t
  }

  /**
   * The Payload a token names: checks the poolId (ERR_FOREIGN_POOL), the descriptor (ERR_BAD_DESC), the length
   * (ERR_BAD_LENGTH) and that the buffer is allocated (ERR_STALE_TOKEN). The payload owns the buffer.
   */
  packet(t: Token): Payload {
    this.#checkToken(t)
    if (Atomics.load(this.#ctl, this.#states + t.desc) !== BUFFER_ALLOCATED) {
      throw new RingError('ERR_STALE_TOKEN', `pool ${this.poolId}: token names free buffer ${t.desc}`)
    }
    return new Payload(this, t.desc, t.len, new Uint8Array(this.buffer, this.byteOffset + t.desc * this.bufSize, t.len))
  }

  /** Allocate a buffer as a Payload of `len` bytes; throws ERR_POOL_EMPTY. */
  allocPayload(len: number = this.bufSize): Payload {
    if (!Number.isInteger(len) || len < 0 || len > this.bufSize) {
      throw new RingError('ERR_BAD_LENGTH', `length ${String(len)} is not in [0, ${this.bufSize}]`)
    }
    const d = this.alloc()
    return new Payload(this, d, len, new Uint8Array(this.buffer, this.byteOffset + d * this.bufSize, len))
  }

  /** Byte offset of buffer `desc` in `pool.buffer`. */
  offsetOf(desc: number): number {
    this.#checkDesc(desc)
    return this.byteOffset + desc * this.bufSize
  }

  /** A Uint8Array over the first `len` bytes of buffer `desc` (no ownership check). */
  view(desc: number, len: number = this.bufSize): Uint8Array {
    this.#checkDesc(desc)
    if (!Number.isInteger(len) || len < 0 || len > this.bufSize) {
      throw new RingError('ERR_BAD_LENGTH', `length ${String(len)} is not in [0, ${this.bufSize}]`)
    }
    return new Uint8Array(this.buffer, this.byteOffset + desc * this.bufSize, len)
  }

  /** State word of buffer `desc`: BUFFER_FREE, BUFFER_ALLOCATED or BUFFER_RESERVED. */
  state(desc: number): number {
    if (!Number.isInteger(desc) || desc < 0 || desc >= this.count) {
      throw new RingError('ERR_BAD_DESC', `buffer descriptor ${String(desc)} is not in [0, ${this.count})`)
    }
    return Atomics.load(this.#ctl, this.#states + desc)
  }

  isAllocated(desc: number): boolean {
    return this.state(desc) === BUFFER_ALLOCATED
  }
}
