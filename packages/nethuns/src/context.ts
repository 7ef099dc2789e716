// Context: the nethuns Context over an @x/ring BufferPool. Every packet a socket receives lives in one buffer of
// its Context; a Token names it ({desc, len, poolId}, postable to workers), a Payload owns it until release().
import { BufferPool, type Payload, type PoolDescriptor, type Token } from '@x/ring'

/** What `context.share()` returns and `Context.attach()` takes (plain data, postMessage-able). */
export interface ContextDescriptor {
  readonly kind: 'x-nethuns/context'
  readonly pool: PoolDescriptor
}

export class Context {
  readonly pool: BufferPool

  constructor(pool: BufferPool) {
    this.pool = pool
  }

  /** A Context over a new shared pool of `count` buffers of `bufSize` bytes. */
  static create(bufSize: number, count: number): Context {
    return new Context(new BufferPool({ bufSize, count }))
  }

  /** The same Context in another thread (from `context.share()`). */
  static attach(desc: ContextDescriptor): Context {
    return new Context(BufferPool.attach(desc.pool))
  }

  share(): ContextDescriptor {
    return { kind: 'x-nethuns/context', pool: this.pool.share() }
  }

  /** Unique id carried by every Token of this Context. */
  get poolId(): number {
    return this.pool.poolId
  }

  /** Bytes per buffer. */
  get bufferSize(): number {
    return this.pool.bufSize
  }

  /** True if the token belongs to this Context (nethuns-rs `check_token`). */
  checkToken(t: Token): boolean {
    return this.pool.checkToken(t)
  }

  /**
   * The Payload a token names; it owns the buffer until `release()`. Throws RingError ERR_FOREIGN_POOL for a token
   * of another Context (nethuns-rs panics "Invalid token"), ERR_STALE_TOKEN for one already released.
   */
  packet(t: Token): Payload {
    return this.pool.packet(t)
  }

  /** Returns buffer `desc` to the pool (any thread, any order). */
  release(desc: number): void {
    this.pool.release(desc)
  }

  /** Releases the buffer a token names (checks the pool first). */
  releaseToken(t: Token): void {
    this.pool.releaseToken(t)
  }

  /** A view of `size` bytes of buffer `desc`, no ownership check (nethuns-rs `unsafe_buffer`). */
  unsafeBuffer(desc: number, size: number = this.pool.bufSize): Uint8Array {
    return this.pool.view(desc, size)
  }
}

/** nethuns-rs `Token::consume`: the Payload of `t` in `ctx`. */
export function consume(t: Token, ctx: Context): Payload {
  return ctx.packet(t)
}
