// The channel API (nethuns-rs `create_with_channel`, removed there in 2026-01, kept here): a socket plus a pusher
// and a popper over an @x/ring Channel of token batches, for producer/consumer worker threads. Zero-copy: only
// (desc, len, poolId) records cross; the payload bytes stay in the socket's shared Context.
import { Channel, type ChannelDescriptor, type Payload, RingError, TOKEN_WORDS, type Token } from '@x/ring'
import type { PacketBatch } from './batch.js'
import { N } from './binding.js'
import { Context, type ContextDescriptor } from './context.js'

const W = N('META_WORDS')
const CAPLEN = N('M_CAPLEN')
const INF = Number.POSITIVE_INFINITY

export interface ChannelOptions {
  /** Packets per batch (nethuns-rs DEFAULT_BATCH_SIZE = 32). */
  batchSize?: number
  /** Batches the channel holds (rounded up to a power of two). Default 64. */
  capacity?: number
}

/** What `pusher.share()` / `popper.share()` return: post it to a worker, `attach` it there. */
export interface NethunsChannelDescriptor {
  readonly kind: 'x-nethuns/channel'
  readonly channel: ChannelDescriptor
  readonly context: ContextDescriptor
}

function wrongPayload(p: Payload, ctx: Context): RingError {
  return new RingError(
    'ERR_FOREIGN_POOL',
    `Wrong payload: pool ${p.poolId} pushed into a channel of pool ${ctx.poolId}`,
  )
}

/** The producing end (nethuns-rs `NethunsPusher`). */
export class NethunsPusher {
  readonly context: Context
  readonly #channel: Channel
  readonly #words: Uint32Array

  constructor(context: Context, channel: Channel) {
    this.context = context
    this.#channel = channel
    this.#words = new Uint32Array(channel.batchSize * TOKEN_WORDS)
  }

  static attach(desc: NethunsChannelDescriptor): NethunsPusher {
    return new NethunsPusher(Context.attach(desc.context), Channel.attach(desc.channel))
  }

  share(): NethunsChannelDescriptor {
    return { kind: 'x-nethuns/channel', channel: this.#channel.share(), context: this.context.share() }
  }

  get batchSize(): number {
    return this.#channel.batchSize
  }

  #encode(batch: readonly Payload[]): number {
    const n = batch.length
    if (n < 1 || n > this.#channel.batchSize) {
      throw new RingError('ERR_INVALID_ARG', `a batch holds 1 to ${this.#channel.batchSize} payloads, got ${n}`)
    }
    const w = this.#words
    const pool = this.context.poolId
    for (let i = 0; i < n; i++) {
      const p = batch[i]
      if (p.poolId !== pool) throw wrongPayload(p, this.context)
      if (p.released) throw new RingError('ERR_RELEASED', `payload of buffer ${p.desc} was released`)
      w[i * 3] = p.desc
      w[i * 3 + 1] = p.len
      w[i * 3 + 2] = pool
    }
    return n
  }

  /**
   * Queues a batch of payloads (they are handed off: do not release them). False when the channel is full — the
   * batch is given back, still yours (nethuns-rs `Err(batch)`). Throws RingError ERR_FOREIGN_POOL ("Wrong payload")
   * for a payload of another Context, ERR_CLOSED once closed.
   */
  push(batch: readonly Payload[]): boolean {
    const n = this.#encode(batch)
    if (!this.#channel.pusher.tryPush(this.#words, n)) return false
    for (const p of batch) p.intoToken()
    return true
  }

  /** push(), waiting (Atomics.wait: worker threads) up to `timeoutMs` while full. */
  pushWait(batch: readonly Payload[], timeoutMs = INF): boolean {
    const n = this.#encode(batch)
    if (!this.#channel.pusher.push(this.#words, n, timeoutMs)) return false
    for (const p of batch) p.intoToken()
    return true
  }

  /** push(), awaiting (Atomics.waitAsync) up to `timeoutMs` while full. */
  async pushAsync(batch: readonly Payload[], timeoutMs = INF): Promise<boolean> {
    const n = this.#encode(batch)
    const words = this.#words.slice(0, n * TOKEN_WORDS)
    if (!(await this.#channel.pusher.pushAsync(words, n, timeoutMs))) return false
    for (const p of batch) p.intoToken()
    return true
  }

  /**
   * Queues every packet of a PacketBatch without making an object per packet; on success the batch no longer owns
   * them (it is empty). False when full (the batch keeps them).
   */
  pushBatch(batch: PacketBatch): boolean {
    const n = batch.count
    if (n === 0) return true
    if (batch.context !== null && batch.context.poolId !== this.context.poolId) {
      throw new RingError('ERR_FOREIGN_POOL', `Wrong payload: a batch of pool ${batch.context.poolId}`)
    }
    if (n > this.#channel.batchSize) {
      throw new RingError('ERR_INVALID_ARG', `batch of ${n} packets exceeds the channel's ${this.#channel.batchSize}`)
    }
    const w = this.#words
    const pool = this.context.poolId
    let k = 0
    for (let i = 0; i < n; i++) {
      const d = batch.descs[i]
      if (d === 0xffffffff) continue // taken
      w[k * 3] = d
      w[k * 3 + 1] = batch.meta[i * W + CAPLEN]
      w[k * 3 + 2] = pool
      k++
    }
    if (k > 0 && !this.#channel.pusher.tryPush(w, k)) return false
    batch.forget()
    return true
  }

  /** Queues tokens (the caller's ownership moves to the channel). False when full. */
  pushTokens(tokens: readonly Token[]): boolean {
    for (const t of tokens) {
      if (t.poolId !== this.context.poolId) {
        throw new RingError('ERR_FOREIGN_POOL', `Wrong payload: token of pool ${t.poolId}`)
      }
    }
    return this.#channel.pusher.tryPushTokens(tokens)
  }

  /** Resolves true when a batch fits (or the channel closed), false after `timeoutMs`. */
  writable(timeoutMs = INF): Promise<boolean> {
    return this.#channel.pusher.writable(timeoutMs)
  }

  /** Blocks (Atomics.wait: workers) until a batch fits; false after `timeoutMs`. */
  waitWritable(timeoutMs = INF): boolean {
    return this.#channel.pusher.waitWritable(timeoutMs)
  }

  /** Closes the channel for everyone: poppers drain what is queued, then get null. */
  close(): void {
    this.#channel.close()
  }
}

/** The consuming end (nethuns-rs `NethunsPopper`); `share()` + `attach()` clone it into workers. */
export class NethunsPopper implements AsyncIterable<Payload[]> {
  readonly context: Context
  readonly #channel: Channel
  readonly #words: Uint32Array

  constructor(context: Context, channel: Channel) {
    this.context = context
    this.#channel = channel
    this.#words = new Uint32Array(channel.batchSize * TOKEN_WORDS)
  }

  static attach(desc: NethunsChannelDescriptor): NethunsPopper {
    return new NethunsPopper(Context.attach(desc.context), Channel.attach(desc.channel))
  }

  share(): NethunsChannelDescriptor {
    return { kind: 'x-nethuns/channel', channel: this.#channel.share(), context: this.context.share() }
  }

  #decode(words: Uint32Array, n: number): Payload[] | null {
    if (n < 0) return null
    const out = new Array<Payload>(n)
    const ctx = this.context
    for (let i = 0; i < n; i++) {
      out[i] = ctx.packet({ desc: words[i * 3], len: words[i * 3 + 1], poolId: words[i * 3 + 2] })
    }
    return out
  }

  /** A batch if one is queued, `[]` if none, `null` once closed and drained. */
  tryPop(): Payload[] | null {
    return this.#decode(this.#words, this.#channel.popper.tryPop(this.#words))
  }

  /** Blocks (Atomics.wait: worker threads) for a batch: `[]` on timeout, `null` once closed and drained. */
  pop(timeoutMs = INF): Payload[] | null {
    return this.#decode(this.#words, this.#channel.popper.pop(this.#words, timeoutMs))
  }

  /** Awaits (Atomics.waitAsync) a batch: `[]` on timeout, `null` once closed and drained. */
  async popAsync(timeoutMs = INF): Promise<Payload[] | null> {
    const words = new Uint32Array(this.#channel.batchSize * TOKEN_WORDS)
    return this.#decode(words, await this.#channel.popper.popAsync(words, timeoutMs))
  }

  /** Raw token batches (no Payload objects): `[]` when empty now, `null` when closed and drained. */
  tryPopTokens(): Token[] | null {
    return this.#channel.popper.tryPopTokens()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Payload[], void, undefined> {
    for (;;) {
      const b = await this.popAsync()
      if (b === null) return
      if (b.length > 0) yield b
    }
  }

  get done(): boolean {
    return this.#channel.done
  }
}

/** A pusher and a popper over a new Channel for `context` (no socket needed). */
export function channelFor(
  context: Context,
  options: ChannelOptions = {},
): { pusher: NethunsPusher; popper: NethunsPopper } {
  const ch = new Channel({ batchSize: options.batchSize ?? 32, capacity: options.capacity ?? 64 })
  return { pusher: new NethunsPusher(context, ch), popper: new NethunsPopper(context, ch) }
}

export interface WithChannel<S> {
  socket: S
  pusher: NethunsPusher
  popper: NethunsPopper
}

/** Adds the two ends of a channel over the socket's Context (closing the socket if that fails). */
export function withChannel<S extends { context(): Context; close(): void }>(
  socket: S,
  options: ChannelOptions = {},
): WithChannel<S> {
  try {
    return { socket, ...channelFor(socket.context(), options) }
  } catch (e) {
    socket.close()
    throw e
  }
}
