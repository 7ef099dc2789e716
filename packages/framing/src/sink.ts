/**
 * Output side of the file writers: a sink (a function or anything with `write()`, such as a Node Writable) fed
 * with chunks the writer batches up. Every chunk handed to the sink is a fresh buffer the sink may keep: the writer
 * never writes into it again.
 */

import { FramingError } from './errors.js'

/** Where a writer's bytes go: a function, or an object with `write(chunk)` (and optionally `end()`), e.g. a Node
 * `Writable`. A `false` return (a Writable's backpressure signal) is passed on by `writePacket()`/`flush()`. */
export type ByteSink = ((chunk: Uint8Array) => unknown) | { write(chunk: Uint8Array): unknown; end?(): unknown }

export const DEFAULT_BUFFER_SIZE = 64 * 1024

export class ChunkedOutput {
  private readonly sink: ByteSink
  private readonly size: number
  private buf: Uint8Array
  private used = 0
  private closed = false
  /** Bytes handed to the writer so far (flushed or not). */
  bytes = 0

  constructor(sink: ByteSink, bufferSize = DEFAULT_BUFFER_SIZE) {
    if (typeof sink !== 'function' && (sink === null || typeof sink !== 'object' || typeof sink.write !== 'function')) {
      throw new FramingError('ERR_BAD_VALUE', 'sink must be a function or have a write() method')
    }
    if (!Number.isInteger(bufferSize) || bufferSize < 64) {
      throw new FramingError('ERR_BAD_VALUE', 'bufferSize must be an integer ≥ 64')
    }
    this.sink = sink
    this.size = bufferSize
    this.buf = new Uint8Array(0)
  }

  /** Room for `n` bytes: returns the buffer and the offset to write them at; then call `commit(n)`. */
  reserve(n: number): [Uint8Array, number] {
    if (this.closed) throw new FramingError('ERR_BAD_STATE', 'writer is closed')
    if (this.buf.length - this.used < n) {
      this.flush()
      this.buf = new Uint8Array(Math.max(n, this.size))
    }
    return [this.buf, this.used]
  }

  /** Marks `n` reserved bytes written; returns false if the sink asked to slow down. */
  commit(n: number): boolean {
    this.used += n
    this.bytes += n
    return this.used >= this.buf.length ? this.flush() : true
  }

  /** Hands the buffered bytes to the sink; returns false if it asked to slow down. */
  flush(): boolean {
    if (this.used === 0) return true
    const chunk = this.used === this.buf.length ? this.buf : this.buf.subarray(0, this.used)
    this.buf = new Uint8Array(0)
    this.used = 0
    const s = this.sink
    const r = typeof s === 'function' ? s(chunk) : s.write(chunk)
    return r !== false
  }

  /** Flushes and, if `end` and the sink has `end()`, ends it. Idempotent. */
  close(end: boolean): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    const s = this.sink
    if (end && typeof s !== 'function' && typeof s.end === 'function') s.end()
  }

  get isClosed(): boolean {
    return this.closed
  }
}
