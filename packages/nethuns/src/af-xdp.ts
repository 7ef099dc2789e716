// af_xdp backend: an AF_XDP socket whose UMEM is the page-aligned window of a SharedArrayBuffer that is also the
// Context (buffer d = UMEM frame d, payload at frame + 256), so received payloads are zero-copy and their tokens
// can be consumed in any worker. Copy mode in SKB (generic) or DRV (native) XDP; XDP_ZEROCOPY where the driver has
// it. The XSKMAP redirect program is shared per interface and detached with the last socket (xdp-program.ts).
import { errnoException, ifNameToIndex, negErrno } from '@x/native'
import { BufferPool } from '@x/ring'
import { binding, N, type NativeAfXdp } from './binding.js'
import { type ChannelOptions, type WithChannel, withChannel } from './channel.js'
import { Context } from './context.js'
import { NethunsError, wrapSystemError } from './errors.js'
import { compileFilter } from './filter.js'
import { type AfXdpFlags, type ResolvedAfXdpFlags, resolveAfXdpFlags } from './flags.js'
import { type AfXdpMeta, readAfXdpMeta } from './metadata.js'
import { interfaceOf } from './portspec.js'
import { pollRelay, Socket } from './socket.js'
import { registerXsk, type XskRegistration } from './xdp-program.js'

const HEADROOM = N('XDP_HEADROOM')
const PAGE = N('PAGE_SIZE')
const S_COMPLETED = N('S_COMPLETED')
const { EBUSY } = negErrno

let warnedAnyQueue = false

/** Sleeps the thread (control path only: a bind retried through EBUSY). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

export interface AfXdpCreateFlags extends AfXdpFlags {
  /** How long bind() retries through EBUSY (a queue whose previous socket just closed). Default 3000 ms. */
  bindRetryMs?: number
}

export class AfXdpSocket extends Socket<AfXdpMeta> {
  readonly backend = 'af_xdp' as const
  readonly flags: Readonly<ResolvedAfXdpFlags>
  readonly ifindex: number
  /** True when the kernel put the socket in zero-copy mode (XDP_OPTIONS). */
  readonly zeroCopy: boolean
  /** Times bind() met EBUSY before it succeeded. */
  readonly bindRetries: number
  readonly #nat: NativeAfXdp
  readonly #pool: BufferPool
  readonly #txDescs: Uint32Array
  readonly #releases: Uint32Array
  #txAlloc = 0
  /** Completed TX frames kept for the next sends (LIFO, no atomics); the rest go back to the pool. */
  readonly #txFree: Uint32Array
  #txFreeN = 0
  #registration: XskRegistration | null = null

  private constructor(
    portspec: string,
    queue: number,
    ifindex: number,
    flags: ResolvedAfXdpFlags,
    nat: NativeAfXdp,
    relay: ReturnType<typeof pollRelay>,
    memory: SharedArrayBuffer,
    pool: BufferPool,
    bind: () => { retries: number },
  ) {
    const tx = flags.txSize > 0
    super({
      portspec,
      queue,
      context: new Context(pool),
      native: nat,
      relay,
      reader: readAfXdpMeta,
      batchSize: flags.batchSize,
      stashSize: flags.stashSize,
      coalesceMs: flags.coalesceMs,
      filter: flags.filterFn,
      noRx: flags.rxSize === 0,
      tx: tx
        ? { bytes: new Uint8Array(memory), maxLen: flags.frameSize - HEADROOM, lens: new Uint32Array(flags.txSize) }
        : null,
    })
    this.flags = flags
    this.ifindex = ifindex
    this.#nat = nat
    this.#pool = pool
    this.#txDescs = new Uint32Array(Math.max(flags.txSize, 1))
    this.#releases = new Uint32Array(flags.compSize + flags.batchSize)
    this.#txFree = new Uint32Array(tx ? Math.min(flags.txSize, 256) : 0)
    nat.attach_tx(this.#txDescs, this.tx?.lens ?? new Uint32Array(1), this.#releases, this.state, this.counters)
    // Give the kernel its fill buffers before bind: until then it would drop (rx_fill_ring_empty_descs).
    if (flags.rxSize > 0) {
      for (let i = 0; i < flags.fillSize; i += this.flags.stashSize) {
        this.refill()
        if (nat.fill() === 0) break
      }
    }
    this.bindRetries = bind().retries
    this.zeroCopy = nat.zero_copy()
  }

  /**
   * Opens queue `queue` of interface `portspec` (null: queue 0, with a warning, as C nethuns does silently).
   * Throws NethunsError: ERR_NETHUNS_FLAGS, EOPNOTSUPP (XDP_ZEROCOPY on a driver without it), EBUSY/EEXIST
   * (another XDP program on the interface), EPERM, ENODEV, EAFNOSUPPORT.
   */
  static create(portspec: string, queue: number | null = null, flags: AfXdpCreateFlags = {}): AfXdpSocket {
    const name = interfaceOf(portspec, 'af_xdp')
    if (queue === null || queue === undefined) {
      if (!warnedAnyQueue) {
        warnedAnyQueue = true
        process.emitWarning('af_xdp binds one queue: queue null (any) means queue 0', { code: 'X_NETHUNS_ANY_QUEUE' })
      }
      queue = 0
    }
    if (!Number.isInteger(queue) || queue < 0 || queue > 0xffff) {
      throw new NethunsError('ERR_NETHUNS_QUEUE', `af_xdp queue must be an integer in [0, 65535], got ${String(queue)}`)
    }
    const f = resolveAfXdpFlags(flags)
    let ifindex: number
    try {
      ifindex = ifNameToIndex(name)
    } catch (e) {
      throw wrapSystemError(e, portspec, 'af_xdp: cannot open')
    }
    const prog = f.filter === null ? null : compileFilter(f.filter)
    const memory = new SharedArrayBuffer(f.numFrames * f.frameSize + 2 * PAGE)
    const relay = pollRelay()
    let nat: NativeAfXdp
    try {
      nat = new binding.AfXdp(
        new Uint8Array(memory),
        f.frameSize,
        f.numFrames,
        f.fillSize,
        f.compSize,
        f.rxSize,
        f.txSize,
        f.timestamp ? N('XDP_OPT_TIMESTAMP') : 0,
        relay.callback,
      )
    } catch (e) {
      throw wrapSystemError(e, portspec, 'af_xdp: cannot open')
    }
    const q = queue
    let registration: XskRegistration | null = null
    try {
      if (prog !== null) nat.set_filter(prog)
      // Buffer d of the pool is UMEM frame d, seen from where copy mode puts the packet.
      const pool = new BufferPool({
        bufSize: f.frameSize,
        count: f.numFrames,
        buffer: memory,
        byteOffset: nat.umem_offset() + HEADROOM,
      })
      const bind = (): { retries: number } => {
        const deadline = performance.now() + f.bindRetryMs
        let retries = 0
        for (;;) {
          const r = nat.bind(ifindex, q, f.bindFlags)
          if (r === 0) break
          if (r === EBUSY && performance.now() < deadline) {
            retries++
            sleepSync(Math.min(50 * retries, 200))
            continue
          }
          throw errnoException(r, 'bind(AF_XDP)')
        }
        // TX-only sockets need no program.
        if (f.rxSize > 0) registration = registerXsk(name, ifindex, q, nat.fd(), f.xdpMode, portspec)
        return { retries }
      }
      const s = new AfXdpSocket(portspec, q, ifindex, f, nat, relay, memory, pool, bind)
      s.#registration = registration
      return s
    } catch (e) {
      ;(registration as XskRegistration | null)?.release()
      nat.close()
      throw wrapSystemError(e, portspec, 'af_xdp: cannot open')
    }
  }

  #reap(): void {
    const n = this.state[S_COMPLETED]
    if (n === 0) return
    this.state[S_COMPLETED] = 0
    const keep = Math.min(n, this.#txFree.length - this.#txFreeN)
    if (keep > 0) {
      this.#txFree.set(
        keep === this.#releases.length ? this.#releases : this.#releases.subarray(0, keep),
        this.#txFreeN,
      )
      this.#txFreeN += keep
    }
    if (keep < n) this.#pool.releaseBatch(this.#releases.subarray(keep, n), n - keep)
  }

  protected override onReceived(): void {
    this.#reap()
  }

  protected override onBuffersBack(): void {
    this.refill()
    this.#nat.fill()
  }

  /** nethuns-rs `create_with_channel`: the socket and a pusher/popper over its Context, for worker threads. */
  static createWithChannel(
    portspec: string,
    queue: number | null = null,
    flags: AfXdpCreateFlags = {},
    options: ChannelOptions = {},
  ): WithChannel<AfXdpSocket> {
    return withChannel(AfXdpSocket.create(portspec, queue, flags), options)
  }

  protected txAvail(): number {
    const n = this.#nat.tx_avail()
    this.#reap()
    return n
  }

  protected txOffset(k: number): number {
    if (k < this.#txAlloc) return this.#pool.byteOffset + this.#txDescs[k] * this.#pool.bufSize
    let d = this.#txFreeN > 0 ? this.#txFree[--this.#txFreeN] : this.#pool.tryAlloc()
    if (d < 0) {
      this.#nat.tx_avail() // reaps completions
      this.#reap()
      d = this.#pool.tryAlloc()
      if (d < 0) return -1
    }
    this.#txDescs[k] = d
    this.#txAlloc = k + 1
    return this.#pool.byteOffset + d * this.#pool.bufSize
  }

  protected txSubmit(n: number, kick: boolean): number {
    const r = this.#nat.tx_submit(n, kick ? 1 : 0)
    this.#reap()
    const taken = Math.max(r, 0)
    // Frames the ring did not take are dropped (their buffers back to the pool); a reserved frame moves to slot 0.
    if (taken < n) this.#pool.releaseBatch(this.#txDescs.subarray(taken, n), n - taken)
    this.#txDescs.copyWithin(0, n, this.#txAlloc)
    this.#txAlloc -= n
    return r
  }

  protected override onClose(): void {
    this.#registration?.release()
    this.#registration = null
    if (this.#txAlloc > 0) this.#pool.releaseBatch(this.#txDescs, this.#txAlloc)
    this.#txAlloc = 0
    if (this.#txFreeN > 0) this.#pool.releaseBatch(this.#txFree, this.#txFreeN)
    this.#txFreeN = 0
  }

  override close(): void {
    // Take the socket out of the XSKMAP before its fd closes (the kernel would drop the entry anyway).
    if (!this.closed) {
      this.#registration?.release()
      this.#registration = null
    }
    super.close()
  }
}
