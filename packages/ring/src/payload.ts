// payload.ts: Payload, an owned view of one pool buffer that goes back to the pool on release() or dispose.

import { RingError } from './errors.js'
import type { BufferPool } from './pool.js'
import { type Token, token } from './token.js'

const OWNED = 0
const RELEASED = 1
const HANDED_OFF = 2

interface LeakInfo {
  readonly poolId: number
  readonly desc: number
}

// A leak detector only: it warns, it never releases (GC timing would decide when buffers come back, and a buffer a
// worker still uses through a token would be recycled under it).
const leaks = new FinalizationRegistry<LeakInfo>((info) => {
  process.emitWarning(
    `payload of buffer ${info.desc} of pool ${info.poolId} was garbage-collected without release(); the buffer is leaked`,
    { code: 'X_RING_PAYLOAD_LEAK', type: 'RingLeakWarning' },
  )
})

/**
 * `len` bytes of buffer `desc`, owned until `release()` (or `[Symbol.dispose]()`, or `intoToken()`). Create with
 * `pool.packet(token)` or `pool.allocPayload(len)`, not with `new`.
 *
 * `bytes` is a zero-copy Uint8Array over the pool memory: once the payload is released the buffer may be reused by
 * anyone, so do not keep `bytes` (or subarrays of it) beyond `release()`.
 */
export class Payload implements Disposable {
  readonly desc: number
  readonly len: number
  readonly poolId: number
  readonly #pool: BufferPool
  readonly #bytes: Uint8Array
  #state = OWNED

  /** @internal Use `pool.packet(token)` or `pool.allocPayload()`. */
  constructor(pool: BufferPool, desc: number, len: number, bytes: Uint8Array) {
    this.#pool = pool
    this.desc = desc
    this.len = len
    this.poolId = pool.poolId
    this.#bytes = bytes
    if (pool.detectLeaks) leaks.register(this, { poolId: pool.poolId, desc }, this)
  }

  /** The payload bytes (zero-copy). Throws ERR_RELEASED once the payload no longer owns its buffer. */
  get bytes(): Uint8Array {
    if (this.#state !== OWNED) throw new RingError('ERR_RELEASED', `payload of buffer ${this.desc} was released`)
    return this.#bytes
  }

  /** True once released or handed off with `intoToken()`. */
  get released(): boolean {
    return this.#state !== OWNED
  }

  /** The token naming this payload; ownership stays with the payload (see `intoToken`). */
  get token(): Token {
    return token(this.desc, this.len, this.poolId)
  }

  /** Return the buffer to its pool. A second call throws ERR_DOUBLE_RELEASE. */
  release(): void {
    if (this.#state !== OWNED) {
      const why = this.#state === RELEASED ? 'released twice' : 'released after intoToken()'
      throw new RingError('ERR_DOUBLE_RELEASE', `payload of buffer ${this.desc} of pool ${this.poolId} ${why}`)
    }
    this.#state = RELEASED
    if (this.#pool.detectLeaks) leaks.unregister(this)
    this.#pool.release(this.desc)
  }

  /** Give up ownership without releasing: the returned token now owns the buffer (e.g. to post it to a worker). */
  intoToken(): Token {
    if (this.#state !== OWNED) throw new RingError('ERR_RELEASED', `payload of buffer ${this.desc} was released`)
    this.#state = HANDED_OFF
    if (this.#pool.detectLeaks) leaks.unregister(this)
    return token(this.desc, this.len, this.poolId)
  }

  /** Release if still owned; a no-op after `release()` or `intoToken()`. */
  [Symbol.dispose](): void {
    if (this.#state === OWNED) this.release()
  }
}
