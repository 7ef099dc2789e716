// Batched datagram receive: recvmmsg(2) drains up to `slots` datagrams into one buffer in one call.
// Everything lives in buffers allocated once per batch; views handed out are valid until the next recvMmsg.
// DatagramReceiver drains from a uv_poll callback in C and calls JS once per batch.
import { binding, K, type NativeDatagramReceiver } from './binding.js'
import { errnoException, type SystemError, XNativeError } from './errors.js'
import { type FdLike, fdOf } from './fd.js'

export interface DatagramBatchOptions {
  /** Datagrams per call (default 64, at most 256). */
  slots?: number
  /** Bytes per datagram slot (default 65536: any UDP payload fits). Longer datagrams are cut (truncated(i)). */
  slotSize?: number
  /** Record source addresses (default true). */
  addresses?: boolean
}

/** The buffers of one recvmmsg batch. After `recvMmsg` returned n > 0, slots 0…n-1 hold the datagrams. */
export class DatagramBatch {
  readonly slots: number
  readonly slotSize: number
  /** slots × slotSize bytes; datagram i starts at i × slotSize. */
  readonly buffer: Uint8Array
  /** Per slot: [bytes, msg_flags, source address length]. */
  readonly meta: Int32Array
  /** slots × nameSize bytes of source sockaddrs, or null. */
  readonly names: Uint8Array | null
  readonly nameSize: number
  /** Datagrams of the last successful recvMmsg. */
  count = 0
  /** [0]: when the last receive returned them, in ns of process.hrtime.bigint()'s clock (CLOCK_MONOTONIC). */
  readonly time = new BigInt64Array(1)
  readonly #views: (Uint8Array | undefined)[]
  readonly #addrs: (Uint8Array | undefined)[]

  constructor(options: DatagramBatchOptions = {}) {
    const slots = options.slots ?? 64
    const slotSize = options.slotSize ?? 65536
    if (!Number.isInteger(slots) || slots < 1 || slots > 256) {
      throw new XNativeError('ERR_OUT_OF_RANGE', `slots must be 1…256, got ${slots}`)
    }
    if (!Number.isInteger(slotSize) || slotSize < 1) {
      throw new XNativeError('ERR_OUT_OF_RANGE', `slotSize must be a positive integer, got ${slotSize}`)
    }
    this.slots = slots
    this.slotSize = slotSize
    this.buffer = new Uint8Array(slots * slotSize)
    this.meta = new Int32Array(slots * 3)
    this.nameSize = K('sizeof_sockaddr_storage')
    this.names = options.addresses === false ? null : new Uint8Array(slots * this.nameSize)
    this.#views = new Array(slots)
    this.#addrs = new Array(slots)
  }

  /**
   * The whole slot i as a view, made once and reused (no allocation per datagram): the first length(i) bytes are
   * the datagram. Valid until the next receive.
   */
  slot(i: number): Uint8Array {
    let v = this.#views[i]
    if (v === undefined) {
      v = this.buffer.subarray(i * this.slotSize, (i + 1) * this.slotSize)
      this.#views[i] = v
    }
    return v
  }

  /**
   * The whole source-address slot i (nameSize bytes: the sockaddr, then zero padding), made once and reused; the
   * kernel accepts it as a sendmsg destination. address(i) is the exact-length view.
   */
  addressSlot(i: number): Uint8Array {
    if (this.names === null) throw new XNativeError('ERR_INVALID_ARG_VALUE', 'batch was made without addresses')
    let v = this.#addrs[i]
    if (v === undefined) {
      v = this.names.subarray(i * this.nameSize, (i + 1) * this.nameSize)
      this.#addrs[i] = v
    }
    return v
  }

  /** Byte offset of datagram i in `buffer`. */
  offset(i: number): number {
    return i * this.slotSize
  }

  /** Length of datagram i (capped at slotSize). */
  length(i: number): number {
    return this.meta[3 * i]!
  }

  /** True when datagram i was longer than its slot (MSG_TRUNC). */
  truncated(i: number): boolean {
    return (this.meta[3 * i + 1]! & K('MSG_TRUNC')) !== 0
  }

  /** A view of datagram i (valid until the next recvMmsg). */
  data(i: number): Uint8Array {
    const o = i * this.slotSize
    return this.buffer.subarray(o, o + this.meta[3 * i]!)
  }

  /** A view of the source sockaddr of datagram i (parseSockaddr decodes it; sendMsg `to` accepts it). */
  address(i: number): Uint8Array {
    if (this.names === null) throw new XNativeError('ERR_INVALID_ARG_VALUE', 'batch was made without addresses')
    const o = i * this.nameSize
    return this.names.subarray(o, o + Math.min(this.meta[3 * i + 2]!, this.nameSize))
  }
}

/**
 * recvmmsg(2) (MSG_DONTWAIT) into `batch` → datagrams received, or -errno (-EAGAIN when none is queued; the hot
 * path never throws for it). One syscall drains up to `max` (default batch.slots) datagrams: a caller with room
 * for fewer passes it, so nothing is read that it would have to drop.
 */
export function recvMmsg(fd: FdLike, batch: DatagramBatch, flags = 0, max = batch.slots): number {
  const slots = Math.min(Math.max(Math.trunc(max), 1), batch.slots)
  const n = binding.recvmmsg(
    fdOf(fd),
    batch.buffer,
    0,
    slots * batch.slotSize,
    batch.slotSize,
    batch.meta,
    batch.names,
    batch.nameSize,
    flags,
    batch.time,
  )
  batch.count = Math.max(n, 0)
  return n
}

export interface DatagramReceiverOptions {
  /** Keep the event loop alive while receiving (default true). */
  ref?: boolean
}

/**
 * Receives into `batch` whenever `fd` is readable: the native poll callback drains with recvmmsg (up to four full
 * batches per wake-up) and calls `onBatch(n)` once per batch — the datagrams are slots 0…n-1 of the batch, valid
 * until onBatch returns. Receive errors (and POLLERR, as SO_ERROR's cause) go to `onError`; after POLLERR libuv
 * has stopped the handle, start() resumes it. close() before closing the fd.
 */
export class DatagramReceiver implements Disposable {
  readonly fd: number
  readonly batch: DatagramBatch
  #native: NativeDatagramReceiver | null

  constructor(
    fd: FdLike,
    batch: DatagramBatch,
    onBatch: (n: number) => void,
    onError: (err: SystemError) => void,
    options: DatagramReceiverOptions = {},
  ) {
    this.fd = fdOf(fd)
    this.batch = batch
    this.#native = new binding.DatagramReceiver(
      this.fd,
      batch.buffer,
      0,
      batch.buffer.byteLength,
      batch.slotSize,
      batch.meta,
      batch.names,
      batch.nameSize,
      (n) => {
        if (n > 0) {
          batch.count = n
          onBatch(n)
        } else onError(errnoException(n, 'recvmmsg'))
      },
      batch.time,
    )
    if (options.ref === false) this.#native.unref()
  }

  get closed(): boolean {
    return this.#native === null
  }

  /** Starts (or resumes) receiving. */
  start(): void {
    const r = this.#live().start()
    if (r < 0) throw errnoException(r, 'uv_poll_start')
  }

  /** Stops receiving until start(). */
  stop(): void {
    this.#live().stop()
  }

  ref(): this {
    this.#native?.ref()
    return this
  }

  unref(): this {
    this.#native?.unref()
    return this
  }

  /** Stops and closes the poll handle (not the fd). Idempotent. */
  close(): void {
    const n = this.#native
    if (n === null) return
    this.#native = null
    n.close()
  }

  [Symbol.dispose](): void {
    this.close()
  }

  #live(): NativeDatagramReceiver {
    if (this.#native === null) throw new XNativeError('ERR_CLOSED', 'receiver is closed')
    return this.#native
  }
}
