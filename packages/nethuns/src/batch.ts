// PacketBatch: caller-owned arrays a socket receives into (recvBatch): one descriptor and one metadata record per
// packet, no object per packet. The batch owns its buffers until release() (or take(i) hands one off as a Token).
import { type Payload, RingError, type Token, token } from '@x/ring'
import { N } from './binding.js'
import type { Context } from './context.js'
import type { Metadata, MetaReader } from './metadata.js'

const W = N('META_WORDS')
const CAPLEN = N('M_CAPLEN')
const LEN = N('M_LEN')
const SEC = N('M_SEC')
const NSEC = N('M_NSEC')
const TAKEN = 0xffffffff

/** Takes up to n buffers listed in descs back (a socket's stash); returns how many it took. */
export type Recycler = (descs: Uint32Array, n: number) => number

export class PacketBatch<M extends Metadata = Metadata> implements Disposable {
  readonly capacity: number
  /** Buffer descriptor of packet i. */
  readonly descs: Uint32Array
  /** META_WORDS u32 per packet (caplen, len, sec, nsec, rxhash, vlan tci, vlan tpid, info). */
  readonly meta: Uint32Array
  /** Packets in the batch. */
  count = 0
  #ctx: Context | null = null
  #reader: MetaReader<M> | null = null
  #recycle: Recycler | null = null
  #scratch: Uint32Array

  constructor(capacity = 64) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 20) {
      throw new RangeError(`batch capacity must be an integer in [1, 2^20], got ${capacity}`)
    }
    this.capacity = capacity
    this.descs = new Uint32Array(capacity)
    this.meta = new Uint32Array(capacity * W)
    this.#scratch = new Uint32Array(capacity)
  }

  /** The Context the buffers belong to (set by the socket that filled the batch). */
  get context(): Context | null {
    return this.#ctx
  }

  /** @internal Called by the socket before filling the batch; `recycle` takes buffers back into its stash. */
  bindTo(ctx: Context, reader: MetaReader<M>, recycle: Recycler | null = null): void {
    if (this.#ctx !== null && this.#ctx !== ctx && this.count > 0) {
      throw new RangeError('batch holds packets of another context: release() it first')
    }
    this.#ctx = ctx
    this.#reader = reader
    this.#recycle = recycle
  }

  #check(i: number): void {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`packet index ${i} is not in [0, ${this.count})`)
    if (this.descs[i] === TAKEN) throw new RingError('ERR_RELEASED', `packet ${i} of the batch was taken`)
  }

  /** Bytes captured of packet i. */
  len(i: number): number {
    return this.meta[i * W + CAPLEN]
  }

  /** Length on the wire of packet i. */
  wireLen(i: number): number {
    return this.meta[i * W + LEN]
  }

  sec(i: number): number {
    return this.meta[i * W + SEC]
  }

  nsec(i: number): number {
    return this.meta[i * W + NSEC]
  }

  /** A zero-copy view of packet i (valid until the batch is released). */
  bytes(i: number): Uint8Array {
    this.#check(i)
    const p = this.#ctx!.pool
    return new Uint8Array(p.buffer, p.byteOffset + this.descs[i] * p.bufSize, this.meta[i * W + CAPLEN])
  }

  /** The metadata of packet i as an object. */
  metadata(i: number): M {
    this.#check(i)
    return this.#reader!(this.meta, i * W)
  }

  /** The token of packet i; ownership stays with the batch (see take()). */
  token(i: number): Token {
    this.#check(i)
    return token(this.descs[i], this.meta[i * W + CAPLEN], this.#ctx!.poolId)
  }

  /** Hands packet i off as a Token (post it to a worker, consume it later): release() skips it. */
  take(i: number): Token {
    const t = this.token(i)
    this.descs[i] = TAKEN
    return t
  }

  /** Hands packet i off as a Payload (it owns the buffer now). */
  payload(i: number): Payload {
    return this.#ctx!.packet(this.take(i))
  }

  /**
   * Returns every buffer still owned by the batch and empties the batch. On the socket's own thread the buffers go
   * straight back to the socket's stash (last in, first out: no atomics, buffers still in cache); what does not
   * fit goes to the Context's free list.
   */
  release(): void {
    const n = this.count
    this.count = 0
    if (n === 0 || this.#ctx === null) return
    const s = this.#scratch
    let k = 0
    for (let i = 0; i < n; i++) if (this.descs[i] !== TAKEN) s[k++] = this.descs[i]
    if (k === 0) return
    const kept = this.#recycle === null ? 0 : this.#recycle(s, k)
    if (kept < k) this.#ctx.pool.releaseBatch(kept === 0 ? s : s.subarray(kept), k - kept)
  }

  /** Empties the batch without releasing: its buffers are owned elsewhere now (a channel pushed them). */
  forget(): void {
    this.count = 0
  }

  [Symbol.dispose](): void {
    this.release()
  }
}
