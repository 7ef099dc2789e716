// Batched datagram send: sendmmsg(2) sends a SendBatch — datagrams packed back to back in one buffer, each with its
// own fds — in one call. Used to answer (or issue) a burst of messages with one syscall instead of one each.
import { binding } from './binding.js'
import { XNativeError } from './errors.js'
import { type FdLike, fdOf } from './fd.js'

export interface SendBatchOptions {
  /** Most datagrams per batch (default 64, at most 256). */
  capacity?: number
  /** Bytes for all datagrams together (default 256 KiB). */
  bytes?: number
  /** Most fds over the whole batch (default 64). */
  maxFds?: number
}

/**
 * Datagrams waiting to be sent together. add() copies the bytes and records the fd *numbers*: the fds must stay open
 * until the batch is sent (or cleared). After sendMmsg sent n, consume(n) drops them and keeps the rest in order.
 */
export class SendBatch {
  readonly capacity: number
  readonly buffer: Uint8Array
  readonly lens: Int32Array
  readonly fdCounts: Int32Array
  readonly fds: Int32Array
  /** Datagrams in the batch. */
  count = 0
  /** Bytes used in `buffer`. */
  used = 0
  /** fds used in `fds`. */
  fdsUsed = 0

  constructor(options: SendBatchOptions = {}) {
    const capacity = options.capacity ?? 64
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 256) {
      throw new XNativeError('ERR_OUT_OF_RANGE', `capacity must be 1…256, got ${capacity}`)
    }
    this.capacity = capacity
    this.buffer = new Uint8Array(options.bytes ?? 256 * 1024)
    this.lens = new Int32Array(capacity)
    this.fdCounts = new Int32Array(capacity)
    this.fds = new Int32Array(options.maxFds ?? 64)
  }

  /** Appends one datagram; false (nothing added) when the batch has no room for it. */
  add(data: ArrayBufferView, fds?: readonly FdLike[]): boolean {
    const k = fds?.length ?? 0
    if (
      this.count >= this.capacity ||
      this.used + data.byteLength > this.buffer.length ||
      this.fdsUsed + k > this.fds.length
    ) {
      return false
    }
    this.buffer.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.used)
    this.lens[this.count] = data.byteLength
    this.fdCounts[this.count] = k
    for (let i = 0; i < k; i++) this.fds[this.fdsUsed + i] = fdOf(fds![i]!)
    this.used += data.byteLength
    this.fdsUsed += k
    this.count++
    return true
  }

  /** Drops the first n datagrams (the ones sendMmsg sent). */
  consume(n: number): void {
    if (n >= this.count) {
      this.clear()
      return
    }
    let bytes = 0
    let fdn = 0
    for (let i = 0; i < n; i++) {
      bytes += this.lens[i]!
      fdn += this.fdCounts[i]!
    }
    this.buffer.copyWithin(0, bytes, this.used)
    this.lens.copyWithin(0, n, this.count)
    this.fdCounts.copyWithin(0, n, this.count)
    this.fds.copyWithin(0, fdn, this.fdsUsed)
    this.count -= n
    this.used -= bytes
    this.fdsUsed -= fdn
  }

  clear(): void {
    this.count = 0
    this.used = 0
    this.fdsUsed = 0
  }
}

/**
 * sendmmsg(2) of the whole batch (MSG_NOSIGNAL) → datagrams sent (a prefix: consume() them), or -errno (-EAGAIN
 * when the socket buffer had no room for the first). The hot path never throws for a socket error.
 */
export function sendMmsg(fd: FdLike, batch: SendBatch, flags = 0): number {
  if (batch.count === 0) return 0
  return binding.sendmmsg(
    fdOf(fd),
    batch.buffer,
    0,
    batch.used,
    batch.lens,
    batch.count,
    batch.fdsUsed > 0 ? batch.fds : null,
    batch.fdsUsed > 0 ? batch.fdCounts : null,
    flags,
  )
}
